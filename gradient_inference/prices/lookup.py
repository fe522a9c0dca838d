"""Where a price table comes from when asked for one: fresh cache, else the Model Catalog (with a DigitalOcean
token), else the live docs page, else an expired cache newer than the snapshot, else the bundled snapshot."""

from __future__ import annotations

import os

from gradient_inference.cli.base import debug

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

DEFAULT_PRICING_URL = "https://docs.digitalocean.com/products/inference/details/pricing/"
MARKDOWN_NAME = "index.html.md"  # the docs publish every page as markdown at its URL + this name
MOVED_FROM = ("/products/inference/", "/products/gradient-ai-platform/")  # where these docs lived until 2026
PAGE_TIMEOUT = 10.0  # seconds for each live source (gradient-pricing --timeout's default)


class PriceQuery:
    """What gradient-pricing, the get_prices tool and Client.prices ask for (a plain class: dataclasses costs a
    cached lookup more than the lookup itself)."""

    def __init__(
        self,
        model: str | None = None,  # case-insensitive filter on model, provider or API id
        offline: bool = False,
        no_cache: bool = False,
        pricing_url: str | None = None,
        timeout: float = 120.0,
        cache_dir: str | None = None,
    ) -> None:
        self.model, self.offline, self.no_cache = model, offline, no_cache
        self.pricing_url, self.timeout, self.cache_dir = pricing_url, timeout, cache_dir


def _ignore(message: str) -> None:
    pass


# ---------------------------------------------------------------- sources


def sources(explicit: str | None) -> list[tuple[str, bool]]:
    """(URL, is markdown) in the order tried: the explicit page, then the default page, each as markdown,
    as HTML and, for a page under products/inference/, at its old gradient-ai-platform address."""
    from urllib.parse import urlsplit

    found: dict[str, bool] = {}
    for page in filter(None, (explicit, DEFAULT_PRICING_URL)):
        parts = urlsplit(page)
        md, html = _renditions(parts.path)
        old = html.replace(*MOVED_FROM, 1) if MOVED_FROM[0] in html else None
        for path, markdown in ((md, True), (html, False), (old, False)):
            if path is not None:
                found.setdefault(parts._replace(path=path).geturl(), markdown)
    return list(found.items())


def _renditions(path: str) -> tuple[str, str]:
    """(markdown, HTML) paths of a docs page given by either: /p/ or /p/index.html <-> /p/index.html.md."""
    if path.endswith("/" + MARKDOWN_NAME):
        return path, path.removesuffix(MARKDOWN_NAME)
    if path.endswith("/index.html"):
        return path + ".md", path
    return path.rstrip("/") + "/" + MARKDOWN_NAME, path


def load_prices(query: PriceQuery, warn: Callable[[str], None]) -> dict[str, Any]:
    """Fresh cache, then the catalog (with a token), then the docs page, then an expired cache newer than the
    snapshot, then the snapshot."""
    from gradient_inference.prices import table as gp

    cached = None if query.no_cache else gp.read_cache(query.cache_dir, max_age=float("inf"))  # read once, fresh or not
    with_token = not query.offline and any(os.environ.get(n, "").strip() for n in gp.CATALOG_TOKEN_ENVS)
    if cached and cached["age_seconds"] < gp.CACHE_MAX_AGE and (cached.get("origin") == "catalog" or not with_token):
        return {**cached, "source": "cache"}
    problem = "offline"
    if not query.offline:
        from gradient_inference.prices import catalog
        from gradient_inference.prices.docs_page import PageNotUnderstood, fetch_live

        try:
            url, models = catalog.fetch_catalog(query.timeout)
            return _fresh_table("catalog", url, models, query.cache_dir, warn)
        except catalog.CatalogUnavailable as exc:
            if exc.warn:
                warn(f"catalog prices unavailable: {exc}; trying the pricing page")
            debug(f"catalog skipped: {exc}")
        try:
            url, models = fetch_live(sources(query.pricing_url), query.timeout)
            return _fresh_table("live", url, models, query.cache_dir, warn)
        except PageNotUnderstood as exc:
            problem = str(exc)
    snap = gp.read_snapshot()
    if cached and (snap is None or cached["fetched_at"][:10] >= str(snap.get("snapshot_date"))):
        # An expired live scrape is still newer than the bundled snapshot.
        warn(f"live prices unavailable ({problem}); using cached prices {gp.format_age(cached['age_seconds'])} old")
        return {**cached, "source": "cache"}
    if snap is None:
        from gradient_inference.errors import GradientError

        raise GradientError(f"no prices: {problem}, and the bundled snapshot is missing", kind="no_prices")
    if not query.offline:
        warn(f"live prices unavailable ({problem}); using the bundled snapshot of {snap.get('snapshot_date')}")
    return {**snap, "source": "snapshot", "fetched_at": snap.get("snapshot_date")}


def _fresh_table(origin: str, url: str, models: list[dict[str, Any]], cache_dir: str | None, warn) -> dict[str, Any]:
    """A freshly fetched table, written to the cache (24 h, 0600) with where it came from."""
    import datetime as dt
    import time

    from gradient_inference.prices import table as gp

    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    # fetched_epoch lets a cached lookup tell the cache's age without importing datetime
    table = {"source": origin, "origin": origin, "fetched_at": now, "fetched_epoch": time.time(), "source_url": url}
    table["models"] = models
    try:
        gp.write_cache({k: v for k, v in table.items() if k != "source"}, cache_dir)
    except OSError as exc:
        warn(f"could not write the price cache ({exc.strerror})")
    return table


def select(models: list[dict[str, Any]], query: str | None) -> list[dict[str, Any]]:
    from gradient_inference.prices import table as gp

    if not query:
        return models
    q = query.lower()
    hits = [m for m in models if any(q in str(m.get(k) or "").lower() for k in ("model", "provider", "api_id"))]
    if not hits:  # an API id such as llama3.3-70b-instruct still finds "Llama 3.3 Instruct-70B"
        row = gp.match_price(query, models)
        hits = [row] if row else []
    return hits


def price_rows(query: PriceQuery, warn: Callable[[str], None] = _ignore) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the price table, its rows matching query.model): gradient-pricing, the get_prices tool and Client.prices."""
    table = load_prices(query, warn)
    picked = select(table["models"], query.model)
    if any("catalog_id" in m for m in picked):
        from gradient_inference.prices import catalog

        catalog.batch_prices(picked, query.cache_dir, fetch=False)  # batch rates the card cache already holds
    keys = ("provider", "model", "input_price", "output_price", "unit")
    return table, [{k: m.get(k) for k in keys} | _extras(m) for m in picked]


def as_json(table: dict[str, Any], models: list[dict[str, Any]]) -> dict[str, Any]:
    """What --json prints."""
    return {
        "source": table["source"],
        "fetched_at": table.get("fetched_at"),
        "source_url": table.get("source_url"),
        "models": models,
    }


EXTRA_PRICES = (
    "api_id",
    "cached_input_price",
    "cache_write_5m_price",
    "cache_write_1h_price",
    "batch_input_price",
    "batch_output_price",
    "image_price",
    "audio_price",
)


def _extras(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in EXTRA_PRICES if row.get(k) is not None}
