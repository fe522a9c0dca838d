"""Prices: the cache, the bundled snapshot, the live docs page, matching model ids, and cost."""
