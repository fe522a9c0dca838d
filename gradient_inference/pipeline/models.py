"""Listing models (GET /models), optionally with their prices from the offline price table."""

from __future__ import annotations

from gradient_inference.errors import GradientError
from gradient_inference.pipeline.call import Call

TYPE_CHECKING = False
if TYPE_CHECKING:
    from gradient_inference.pipeline.settings import Settings


def list_models(
    settings: Settings, query: str | None = None, with_prices: bool = False, command: str | None = None
) -> tuple[list[dict], dict | None] | None:
    """(models sorted by id, filtered by a case-insensitive substring of id or owner, with input_price,
    output_price and price_unit when asked; the price table or None); None on a dry run."""
    from gradient_inference.network import api as net

    with Call(settings, command) as call:
        resp = net.api_request(call, "GET", "/models")
        if resp is None:
            return None
        data = net.read_json(resp)
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise GradientError("the response has no 'data' list of models", kind="bad_response")
    models = [m for m in entries if isinstance(m, dict) and isinstance(m.get("id"), str)]
    if query:
        q = query.lower()
        models = [m for m in models if q in m["id"].lower() or q in str(m.get("owned_by", "")).lower()]
    models.sort(key=lambda m: m["id"])
    prices = None
    if with_prices:
        from gradient_inference.prices import table as prices_table

        prices = prices_table.offline_prices(settings.cache_dir)
        rows = prices["models"] if prices else []
        for model in models:
            row = prices_table.match_price(model["id"], rows)
            model["input_price"] = row.get("input_price") if row else None
            model["output_price"] = row.get("output_price") if row else None
            model["price_unit"] = row.get("unit") if row else None
            model["unit_price"], model["unit_price_per"] = prices_table.unit_price(row) or (None, None)
    return models, prices
