"""Prices: the cache, the bundled snapshot, matching API model ids to price rows, and cost.

Needs neither requests nor bs4: a cost estimate or a cached lookup reads files only.
"""

from __future__ import annotations

import os
import re
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CACHE_MAX_AGE = 24 * 3600
CACHE_FORMAT = "gradient-inference-pricing/1"
CATALOG_TOKEN_ENVS = ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_ACCESS_TOKEN")  # doctl's name second


def cache_dir(explicit: str | None = None) -> str:
    if explicit or os.environ.get("GRADIENT_CACHE_DIR"):
        return os.path.expanduser(explicit or os.environ["GRADIENT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gradient-inference")


def cache_file(explicit: str | None = None) -> str:
    return os.path.join(cache_dir(explicit), "pricing.json")


def snapshot_file() -> str | None:
    """The bundled snapshot: in snapshots/ of a checkout, under share/ when pip-installed."""
    share = os.path.join("share", "gradient-inference", "snapshots", "pricing.json")
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for path in (os.path.join(checkout, "snapshots", "pricing.json"), os.path.join(sys.prefix, share)):
        if os.path.isfile(path):
            return path
    import site
    import sysconfig  # only here: importing it costs more than a whole cost estimate

    for base in (sysconfig.get_path("data"), site.USER_BASE or ""):
        if base and os.path.isfile(os.path.join(base, share)):
            return os.path.join(base, share)
    return None


def valid_price_table(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("models"), list)
        and bool(data["models"])
        and all(isinstance(m, dict) and isinstance(m.get("model"), str) for m in data["models"])
    )


def read_cache(explicit_dir: str | None = None, max_age: float = CACHE_MAX_AGE) -> dict | None:
    """A fresh cache written by us, or None (missing, stale, corrupt or foreign caches are ignored)."""
    import json

    try:
        with open(cache_file(explicit_dir), encoding="utf-8") as fh:
            data = json.load(fh)
        epoch = data.get("fetched_epoch")
        if isinstance(epoch, (int, float)) and not isinstance(epoch, bool):
            age = time.time() - epoch  # written beside fetched_at: no datetime import on a cached lookup
        else:
            import datetime as dt

            fetched = dt.datetime.fromisoformat(data["fetched_at"])
            age = (dt.datetime.now(dt.timezone.utc) - fetched).total_seconds()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if data.get("format") != CACHE_FORMAT or not valid_price_table(data) or not 0 <= age < max_age:
        return None
    data["age_seconds"] = age
    return data


def write_cache(table: dict, explicit_dir: str | None = None) -> str:
    """Write atomically with mode 0600: a temp file in the same folder, then rename."""
    import json
    import tempfile

    path = cache_file(explicit_dir)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".pricing-", suffix=".tmp", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp already made it 0600
            json.dump({**table, "format": CACHE_FORMAT}, fh, indent=1)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_snapshot() -> dict | None:
    import json

    path = snapshot_file()
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if valid_price_table(data) else None


def offline_prices(explicit_dir: str | None = None, use_cache: bool = True) -> dict | None:
    """Prices without touching the network: fresh cache first, then the bundled snapshot."""
    cached = read_cache(explicit_dir) if use_cache else None
    if cached:
        return {**cached, "source": "cache"}
    snap = read_snapshot()
    if snap:
        return {**snap, "source": "snapshot", "fetched_at": snap.get("snapshot_date")}
    return None


PROVIDER_WORDS = {
    "openai",
    "anthropic",
    "meta",
    "mistral",
    "mistralai",
    "deepseek",
    "alibaba",
    "google",
    "nvidia",
    "xai",
    "cohere",
    "digitalocean",
    "latest",
}
LOOSE_WORDS = {"instruct", "chat", "it", "preview", "versatile", "model", "v"}
SIZE = re.compile(r"\d+(?:\.\d+)?[bmke]")  # 70b, 128e
SIZE_OR_DATE = re.compile(SIZE.pattern + r"|\d{4,8}")  # and 2407, 20250514


def model_tokens(name: str) -> frozenset[str]:
    """Order-free tokens of a model name: 'Llama 3.3 Instruct-70B' == 'llama3.3-70b-instruct'."""
    text = re.sub(r"(?<=[a-z])(?=\d)", " ", name.lower())  # llama3.3 -> llama 3.3, v3.2 -> v 3.2
    tokens = re.findall(r"\d+(?:\.\d+)*[a-z]*|[a-z]+", text)
    return frozenset(t for t in tokens if t not in PROVIDER_WORDS)


def _core_tokens(tokens: frozenset[str]) -> frozenset[str]:
    """Tokens without sizes, dates and filler words: 'gemma-4-31B-it' -> {gemma, 4}."""
    return frozenset(t for t in tokens if t not in LOOSE_WORDS and not SIZE_OR_DATE.fullmatch(t))


def _sizes_differ(a: frozenset[str], b: frozenset[str]) -> bool:
    """Both names give a size and they differ: gpt-oss-20b is not priced like gpt-oss-120b."""
    sizes_a, sizes_b = ({t for t in x if SIZE.fullmatch(t)} for x in (a, b))
    return bool(sizes_a and sizes_b and sizes_a != sizes_b)


def match_price(model_id: str, rows: list[dict]) -> dict | None:
    """The price row for an API model id, or None unless exactly one row is a confident match.

    Tried in order: the row's recorded api_id, the same name tokens in any order, then the same
    tokens ignoring dates, words like 'instruct' and sizes one side leaves out (two different sizes never
    match). Ambiguity means no match, never a guess.
    """
    wanted = model_id.strip().lower()
    if not wanted:
        return None
    for row in rows:
        if str(row.get("api_id") or "").lower() == wanted or str(row.get("model", "")).lower() == wanted:
            return row
    tokens = model_tokens(wanted)
    for key in (lambda t: t, _core_tokens):
        target = key(tokens)
        found = [
            r
            for r in rows
            if target
            and key(row_tokens := model_tokens(str(r.get("model", "")))) == target
            and not _sizes_differ(tokens, row_tokens)
        ]
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


def estimate_cost(usage: dict, row: dict | None) -> float | None:
    """USD for a call: uncached input + cache reads + cache writes + output, each at its own price.

    Reads cost the listed cached price (else the input price); writes their listed 5-minute or 1-hour
    price, else 1.25x input (5 minutes, also for writes the usage does not split) or 2x input (1 hour).
    A row without an output price (embedding models) prices calls that produce no output tokens at $0 for
    output; a price the call needs and the row lacks makes the cost unknown (None), never an exception.
    """
    out = usage.get("output_tokens") or 0
    if not row or row.get("input_price") is None or (row.get("output_price") is None and out > 0):
        return None
    if "token" not in str(row.get("unit") or "per 1M tokens").lower():
        return None
    inp_price = row["input_price"]
    inp = usage.get("input_tokens") or 0
    cached = min(usage.get("cached_tokens") or 0, inp)
    w1h = min(usage.get("cache_write_1h_tokens") or 0, inp - cached)
    writes = max(usage.get("cache_write_tokens") or 0, (usage.get("cache_write_5m_tokens") or 0) + w1h)
    w5m = max(0, min(writes - w1h, inp - cached - w1h))  # an unsplit write counts as 5-minute
    rates = (
        (inp - cached - w5m - w1h, inp_price),
        (cached, _price(row, "cached_input_price", inp_price)),
        (w5m, _price(row, "cache_write_5m_price", 1.25 * inp_price)),
        (w1h, _price(row, "cache_write_1h_price", 2 * inp_price)),
        (out, row.get("output_price") or 0),
    )
    return round(sum(n * price for n, price in rates) / 1_000_000, 8)


def _price(row: dict, key: str, otherwise: float) -> float:
    value = row.get(key)
    return otherwise if value is None else value


def format_age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def find_price(model: str, explicit_dir: str | None = None) -> dict | None:
    """The offline price row for a model, or None when it has none."""
    prices = offline_prices(explicit_dir)
    return match_price(str(model or ""), prices["models"]) if prices else None


def call_cost(model: str, usage: dict, explicit_dir: str | None = None) -> dict | None:
    """{usd, source, price_model} for one call from cached or bundled prices (never live), or None."""
    prices = offline_prices(explicit_dir)
    row = match_price(str(model or ""), prices["models"]) if prices else None
    return cost_object(usage, row, prices["source"] if prices else "")


def cost_object(usage: dict, row: dict | None, source: str) -> dict | None:
    """The one cost shape every command reports: {usd, source, price_model}, or None when unpriced."""
    usd = estimate_cost(usage, row)
    return None if usd is None else {"usd": usd, "source": source, "price_model": row["model"]}


def media_cost(model: str, counts: dict[str, float | None], usage: Any = None, explicit_dir: str | None = None):
    """(cost object or None, why unpriced) for an image or audio call, from cached or bundled prices.

    `counts`: units the call bought, e.g. {"image": 2} or {"audio": 1, "second": 30, "thousand_characters": 0.4};
    the first the row has a price for wins. Token-priced image models (gpt-image-1) use the usage instead:
    text input, image input and image output tokens (images_usage.yml)."""
    prices = offline_prices(explicit_dir)
    row = match_price(str(model or ""), prices["models"]) if prices else None
    if row is None:
        return None, f"no price listed for {model}"
    for unit, count in counts.items():
        price = row.get(f"{unit}_price")
        if price is None and str(row.get("unit") or "") == f"per {unit}":  # a docs-page row: "$0.04 per image"
            price = row.get("output_price") or row.get("input_price")
        if price is not None and count is not None:
            return {"usd": round(count * price, 8), "source": prices["source"], "price_model": row["model"]}, ""
    if isinstance(usage, dict) and row.get("image_output_price") is not None:
        details = usage.get("input_tokens_details") if isinstance(usage.get("input_tokens_details"), dict) else {}
        image_in = details.get("image_tokens") or 0
        text_in = details.get("text_tokens", (usage.get("input_tokens") or 0) - image_in) or 0
        rates = (
            (text_in, row.get("input_price") or 0),
            (image_in, _price(row, "image_input_price", row.get("input_price") or 0)),
            (usage.get("output_tokens") or 0, row["image_output_price"]),
        )
        usd = round(sum(n * p for n, p in rates) / 1_000_000, 8)
        return {"usd": usd, "source": prices["source"], "price_model": row["model"]}, ""
    return None, f"{row['model']} has no price for this kind of call"


UNIT_PRICES = (("image_price", "image"), ("megapixel_price", "megapixel"), ("second_price", "second"))
UNIT_PRICES += (("thousand_characters_price", "1K characters"), ("video_price", "video"), ("audio_price", "audio"))


def unit_price(row: dict | None) -> tuple[float, str] | None:
    """(USD, per what) for a model billed per image, second, audio clip...; None for token prices."""
    if not row:
        return None
    for key, per in UNIT_PRICES:
        if row.get(key) is not None:
            return row[key], per
    unit = str(row.get("unit") or "")
    value = row.get("output_price") or row.get("input_price")  # a docs-page row: "$0.04 per image"
    if unit.startswith("per ") and "token" not in unit and value is not None:
        return value, unit[4:]
    return None
