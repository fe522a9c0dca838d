"""Prices from DigitalOcean's Model Catalog API, the official source, when a DigitalOcean API token is set.

GET {GRADIENT_CATALOG_URL}?page=N&limit=100 lists every model with `pricing` (apiModelPricing); the card
GET {URL}/{id} adds `pricing_detail.variants[]`, whose MODEL_BILLING_MODE_BATCH variant holds batch rates.
The token (genai:read scope) goes only to the catalog URL, over https (plain http only to loopback); the
model access key never goes there. Imported only when prices are fetched or batch rates are looked up.
"""

from __future__ import annotations

import os
import time

from gradient_inference.cli.base import debug

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_CATALOG_URL = "https://api.digitalocean.com/v2/gen-ai/models/catalog"
PAGE_LIMIT = 100
MAX_PAGES = 50  # bounded: 5,000 models is far past the catalog's size
BODY_CAP = 8 * 1024 * 1024
CARDS_FORMAT = "gradient-inference-catalog-cards/1"
BATCH_MODE = "MODEL_BILLING_MODE_BATCH"


class CatalogUnavailable(Exception):
    """The catalog could not be used; the next price source is tried. `warn` is said once on stderr."""

    def __init__(self, reason: str, warn: bool = False) -> None:
        super().__init__(reason)
        self.warn = warn


def token() -> tuple[str, str] | None:
    """(variable name, token) of the first DigitalOcean API token set, or None."""
    from gradient_inference.prices.table import CATALOG_TOKEN_ENVS

    for name in CATALOG_TOKEN_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            return name, value
    return None


def catalog_url() -> str:
    """The catalog list URL; CatalogUnavailable unless https (plain http only to loopback)."""
    from urllib.parse import urlsplit

    from gradient_inference.network.api import is_loopback

    url = (os.environ.get("GRADIENT_CATALOG_URL") or DEFAULT_CATALOG_URL).rstrip("/")
    parts = urlsplit(url)
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname))):
        raise CatalogUnavailable("GRADIENT_CATALOG_URL must be https:// (plain http only to loopback)", warn=True)
    return url


def _get(session, url: str, params: dict | None, timeout: float) -> Any:
    """One authorised GET of the catalog: the parsed JSON, or CatalogUnavailable."""
    import json

    import requests

    from gradient_inference.network import api as net

    name, value = token() or ("", "")
    debug(f"> GET {url} (Authorization: Bearer ${name})")
    try:
        resp = session.get(
            url,
            params=params,
            timeout=(timeout, timeout),
            stream=True,
            allow_redirects=False,  # a redirect could carry the token to another host
            headers={"Authorization": f"Bearer {value}", "Accept": "application/json"},
        )
    except requests.exceptions.RequestException as exc:
        raise CatalogUnavailable(f"cannot reach the catalog ({type(exc).__name__})") from None
    debug(f"< {resp.status_code} {url}")
    if resp.status_code in (401, 403):
        resp.close()
        raise CatalogUnavailable(
            f"the catalog refused {name} (HTTP {resp.status_code}); check its genai:read scope", True
        )
    if resp.status_code != 200:
        resp.close()
        raise CatalogUnavailable(f"catalog HTTP {resp.status_code}")
    try:
        return json.loads(net.read_body(resp, cap=BODY_CAP))
    except Exception:
        raise CatalogUnavailable("the catalog sent a body that is not JSON") from None


def fetch_catalog(timeout: float) -> tuple[str, list[dict[str, Any]]]:
    """(URL, price rows) from every page of the catalog, or CatalogUnavailable."""
    from gradient_inference.network import api as net

    if token() is None:
        raise CatalogUnavailable("no DIGITALOCEAN_TOKEN")
    url = catalog_url()
    session = net.open_session(max_retries=0)  # the next source is the retry
    rows: list[dict[str, Any]] = []
    for page in range(1, MAX_PAGES + 1):
        data = _get(session, url, {"page": page, "limit": PAGE_LIMIT}, timeout)
        entries = data.get("data") if isinstance(data, dict) else None
        meta = data.get("meta") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not isinstance(meta, dict):
            raise CatalogUnavailable(f"catalog page {page} has no data/meta")
        rows += [row for row in map(price_row, entries) if row]
        pages = meta.get("pages")
        if not entries or not isinstance(pages, int) or page >= pages:  # a next page when meta.page < meta.pages
            break
    if not rows:
        raise CatalogUnavailable("the catalog lists no priced models")
    return url, rows


def _num(prices: dict, name: str) -> float | None:
    """A price field; zero or missing (proto-JSON leaves zeros out) means none listed."""
    value = prices.get(name)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


UNIT_PRICES = (  # (apiModelPricing field, our key, unit) for models billed per unit, not per token
    ("price_per_image", "image_price", "per image"),
    ("price_per_megapixel", "megapixel_price", "per megapixel"),
    ("price_per_second", "second_price", "per second"),
    ("price_per_thousand_characters", "thousand_characters_price", "per 1K characters"),
    ("price_per_video", "video_price", "per video"),
    ("price_per_audio", "audio_price", "per audio"),
)


def price_row(entry: Any) -> dict[str, Any] | None:
    """A catalog entry (apiModelCatalogEntry) as a price row: api_id is its model_id."""
    if not isinstance(entry, dict) or not isinstance(entry.get("model_id"), str):
        return None
    p = entry.get("pricing") if isinstance(entry.get("pricing"), dict) else {}
    row: dict[str, Any] = {
        "provider": entry.get("creator") or "",
        "model": entry.get("name") or entry["model_id"],
        "api_id": entry["model_id"],
        "catalog_id": entry.get("id"),
        "input_price": _num(p, "input_price_per_million") or _num(p, "text_input_price_per_million"),
        "output_price": _num(p, "output_price_per_million") or _num(p, "text_output_price_per_million"),
        "unit": "per 1M tokens",
        "cached_input_price": _num(p, "cache_read_input_price_per_million"),
        "cache_write_5m_price": _num(p, "cache_write_5m_input_price_per_million"),
        "cache_write_1h_price": _num(p, "cache_write_1h_input_price_per_million"),
        "image_input_price": _num(p, "image_input_price_per_million"),
        "image_output_price": _num(p, "image_output_price_per_million"),
    }
    for field, key, unit in UNIT_PRICES:
        if _num(p, field) is not None:
            row[key] = _num(p, field)
            if row["input_price"] is None and row["output_price"] is None:
                row["unit"] = unit
    if row["input_price"] is None and row["unit"] == "per 1M tokens" and row["image_output_price"] is None:
        return None  # nothing priced
    return {k: v for k, v in row.items() if v is not None}


# ---------------------------------------------------------------- batch rates from the cards


def _cards_file(explicit_dir: str | None) -> str:
    from gradient_inference.prices import table as gp

    return os.path.join(gp.cache_dir(explicit_dir), "catalog-cards.json")


def _read_cards(explicit_dir: str | None) -> dict[str, Any]:
    import json

    try:
        with open(_cards_file(explicit_dir), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    cards = data.get("cards") if isinstance(data, dict) and data.get("format") == CARDS_FORMAT else None
    return cards if isinstance(cards, dict) else {}


def _write_cards(cards: dict[str, Any], explicit_dir: str | None) -> None:
    import json
    import tempfile

    path = _cards_file(explicit_dir)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cards-", suffix=".tmp", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp made it 0600
            json.dump({"format": CARDS_FORMAT, "cards": cards}, fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def batch_variant(card: Any) -> dict[str, float] | None:
    """{batch_input_price, batch_output_price} from a card's BATCH variant (the standard tier first)."""
    detail = card.get("pricing_detail") if isinstance(card, dict) else None
    variants = detail.get("variants") if isinstance(detail, dict) else None
    batch = [v for v in variants or [] if isinstance(v, dict) and v.get("mode") == BATCH_MODE]
    batch.sort(
        key=lambda v: v.get("tier") not in (None, "MODEL_PRICING_TIER_STANDARD", "MODEL_PRICING_TIER_UNSPECIFIED")
    )
    for variant in batch:
        prices = variant.get("prices") if isinstance(variant.get("prices"), dict) else {}
        inp, out = _num(prices, "input_price_per_million"), _num(prices, "output_price_per_million")
        if inp is not None:
            return {"batch_input_price": inp, "batch_output_price": out or 0.0}
    return None


def batch_prices(
    rows: list[dict[str, Any]], explicit_dir: str | None = None, timeout: float = 10.0, fetch: bool = True
) -> None:
    """Add batch_input_price/batch_output_price to these rows from their cards: cached 24 h, fetched (only
    for these rows) when a token is set. A card that cannot be read leaves its row at serverless rates."""
    from gradient_inference.prices import table as gp

    cards, now, changed = _read_cards(explicit_dir), time.time(), False
    session = None
    for row in rows:
        cid = row.get("catalog_id")
        if not isinstance(cid, str) or "batch_input_price" in row:
            continue
        cached = cards.get(cid)
        if not (isinstance(cached, dict) and 0 <= now - cached.get("fetched_epoch", -1e18) < gp.CACHE_MAX_AGE):
            if not fetch or token() is None:
                continue
            try:
                from urllib.parse import quote

                from gradient_inference.network import api as net

                session = session or net.open_session(max_retries=1)
                data = _get(session, f"{catalog_url()}/{quote(cid, safe='')}", None, timeout)
            except CatalogUnavailable as exc:
                debug(f"catalog card {cid}: {exc}")
                continue
            card = data.get("data") if isinstance(data, dict) else None
            cached = {"fetched_epoch": now, "batch": batch_variant(card)}
            cards[cid], changed = cached, True
        row.update(cached.get("batch") or {})
    if changed:
        try:
            _write_cards(cards, explicit_dir)
        except OSError as exc:
            debug(f"could not write the catalog card cache ({exc.strerror})")


def batch_row(row: dict[str, Any] | None, explicit_dir: str | None = None) -> dict[str, Any] | None:
    """The price row at batch rates (input and output; no cache rates), or None when none is known."""
    if row is None:
        return None
    batch_prices([row], explicit_dir)
    if row.get("batch_input_price") is None:
        return None
    plain = {k: v for k, v in row.items() if not k.startswith(("cache", "batch"))}
    return plain | {"input_price": row["batch_input_price"], "output_price": row.get("batch_output_price")}
