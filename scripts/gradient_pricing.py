#!/usr/bin/env python3
"""What each Gradient model costs: fresh cache, else the live docs page, else the bundled snapshot."""

from __future__ import annotations

import os
import re
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gradient_common as gc  # noqa: E402

PAGE_CAP = 8 * 1024 * 1024
MONEY = r"\$\s*(\d[\d,]*(?:\.\d+)?)([^$]*)"  # a pattern string: re compiles it on first use, not at start-up
HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]


def build_parser() -> gc.ArgumentParser:
    parser = gc.new_parser("gradient-pricing", "Show Gradient serverless inference prices (USD).", api=False)
    parser.add_argument("--model", metavar="QUERY", help="case-insensitive filter on model, provider or API id")
    parser.add_argument("--no-cache", action="store_true", help="do not read the cache (still refreshes it)")
    parser.add_argument("--offline", action="store_true", help="no network: cache, then the bundled snapshot")
    parser.add_argument(
        "--pricing-url", help=f"pricing page (env GRADIENT_PRICING_URL, default {gc.DEFAULT_PRICING_URL})"
    )
    parser.add_argument(
        "--cache-dir", help="cache folder (env GRADIENT_CACHE_DIR, default ~/.cache/gradient-inference)"
    )
    parser.add_argument(
        "--timeout", type=gc.positive_float, default=10.0, help="seconds for the live fetch (default 10)"
    )
    return parser


# ---------------------------------------------------------------- parsing the docs page


class PageNotUnderstood(Exception):
    """The page had no recognisable pricing table."""


def parse_pricing(page: str) -> list[dict[str, Any]]:
    """Price rows from any layout we know: tabs or headings, HTML or markdown tables,
    one price cell or separate Input/Output columns."""
    rows = [row for table in _html_tables(page) for row in _price_rows(*table)]
    if not rows and "|" in page:  # the docs also serve pages as markdown (index.html.md)
        rows = [row for table in _markdown_tables(page) for row in _price_rows(*table)]
    if not rows:
        raise PageNotUnderstood("no pricing table found on the page")
    return rows


def _html_tables(page: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(provider, header cells, body rows) of each HTML table."""
    from bs4 import BeautifulSoup, SoupStrainer

    try:
        import lxml  # noqa: F401  (several times faster than html.parser when present)

        parser = "lxml"
    except ImportError:
        parser = "html.parser"
    # Only what names a provider and the tables themselves: the navigation sidebar is never built.
    keep = SoupStrainer(["table", "label", "input", *HEADINGS])
    soup = BeautifulSoup(page, parser, parse_only=keep)
    tables = []
    for table in soup.find_all("table"):
        rows = [
            [" ".join(td.get_text(" ", strip=True).split()) for td in tr.find_all(["td", "th"])]
            for tr in table.find_all("tr")
        ]
        if len(rows) >= 2:
            tables.append((_provider_of(table, soup), rows[0], rows[1:]))
    return tables


def _markdown_tables(page: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """(provider, header cells, body rows) of each markdown pipe table; provider = the heading above it."""
    tables: list[tuple[str, list[str], list[list[str]]]] = []
    heading, block = "", []
    for line in [*page.splitlines(), ""]:
        stripped = line.strip()
        if stripped.startswith("|"):
            cells = [
                re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", c).replace("*", "").strip()
                for c in stripped.strip("|").split("|")
            ]
            if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):  # skip the |---| separator row
                block.append(cells)
            continue
        if len(block) >= 2:
            tables.append((heading, block[0], block[1:]))
        block = []
        if stripped.startswith("#"):
            heading = stripped.lstrip("#").strip()
    return tables


def _price_rows(provider: str, header: list[str], body: list[list[str]]) -> list[dict[str, Any]]:
    """Rows of one table that carry a price; the table must look like a pricing table by its header."""
    header = [h.lower() for h in header]
    if not any(re.search(r"model|name|price|input|output|cost|rate|token|usage|inference", h) for h in header):
        return []
    model_col = next((i for i, h in enumerate(header) if re.search(r"model|name", h)), 0)
    in_col = next((i for i, h in enumerate(header) if "input" in h and "cache" not in h), None)
    out_col = next((i for i, h in enumerate(header) if "output" in h), None)
    cached_col = next((i for i, h in enumerate(header) if "cache" in h), None)
    found = []
    for cells in body:
        if len(cells) <= model_col or not cells[model_col] or "$" not in " ".join(cells):
            continue
        if in_col is not None or out_col is not None:
            columns = {"input_price": in_col, "output_price": out_col, "cached_input_price": cached_col}
            price = _column_prices(cells, header, columns)
        else:
            price = _cell_prices([c for i, c in enumerate(cells) if i != model_col])
        if price and (price["input_price"] is not None or price["output_price"] is not None):
            found.append({"provider": provider, "model": cells[model_col], **price})
    return found


def _cell_prices(cells: list[str]) -> dict[str, Any] | None:
    """Prices from cells that say what they are; several bare per-token prices read as input, output, cached."""
    parsed = [p for p in map(parse_price_text, cells) if p]
    if not parsed:
        return None
    bare = [c for c in cells if re.search(MONEY, c) and not re.search(r"input|output|prompt|completion|cache", c, re.I)]
    if len(parsed) > 1 and len(bare) == len(parsed) and "token" in parsed[0]["unit"]:
        values = [p["input_price"] for p in parsed]
        return {
            "input_price": values[0],
            "output_price": values[1],
            "cached_input_price": values[2] if len(values) > 2 else None,
            "unit": parsed[0]["unit"],
        }
    return parsed[0]


def _column_prices(cells: list[str], header: list[str], columns: dict[str, int | None]) -> dict[str, Any] | None:
    """Separate Input / Output / Cached columns holding '$0.10': the unit comes from cell or header words."""
    prices: dict[str, float] = {}
    unit = None
    for key, col in columns.items():
        match = re.search(MONEY, cells[col]) if col is not None and col < len(cells) else None
        if match:
            scale, this_unit = _unit_of(f"{match.group(2)} {header[col]}".lower())
            unit = unit or this_unit
            prices[key] = round(float(match.group(1).replace(",", "")) * scale, 10)
    if "input_price" not in prices and "output_price" not in prices:
        return None
    return {
        "input_price": prices.get("input_price"),
        "output_price": prices.get("output_price"),
        "cached_input_price": prices.get("cached_input_price"),
        "unit": unit or "per 1M tokens",
    }


def parse_price_text(text: str) -> dict[str, Any] | None:
    """'$0.10 per 1M input tokens / $0.70 per 1M output tokens', '$0.65 per 1M tokens', '$0.04 per image'."""
    prices: dict[str, float] = {}
    plain: list[float] = []
    unit = None
    for amount, words in re.findall(MONEY, text):
        words = words.lower()
        scale, this_unit = _unit_of(words)
        unit = unit or this_unit
        value = round(float(amount.replace(",", "")) * scale, 10)
        if "cache" in words:
            prices.setdefault("cached", value)
        elif "input" in words or "prompt" in words:
            prices.setdefault("input", value)
        elif "output" in words or "completion" in words:
            prices.setdefault("output", value)
        else:
            plain.append(value)
    if not prices and not plain:
        return None
    unit = unit or "per 1M tokens"
    if plain and "input" not in prices and "output" not in prices:
        if "token" in unit:  # one price for all tokens, or two plain prices in input/output order
            prices["input"], prices["output"] = plain[0], plain[1] if len(plain) > 1 else plain[0]
        else:  # per image / per second: the price of what is generated
            prices["output"] = plain[0]
    return {
        "input_price": prices.get("input"),
        "output_price": prices.get("output"),
        "cached_input_price": prices.get("cached"),
        "unit": unit,
    }


def _unit_of(words: str) -> tuple[float, str | None]:
    """(multiplier to USD per 1M tokens, unit label) from the words after a price."""
    if "token" in words:
        if re.search(r"1\s*k\b|1,000\b(?!,)|thousand", words):
            return 1000.0, "per 1M tokens"
        if re.search(r"1\s*m\b|million|1,000,000", words):
            return 1.0, "per 1M tokens"
        if re.search(r"per\s+token", words):
            return 1_000_000.0, "per 1M tokens"
        return 1.0, "per 1M tokens"
    match = re.search(r"(?:per|/)\s*(image|second|minute|hour|request|step|megapixel|character)", words)
    return (1.0, f"per {match.group(1)}") if match else (1.0, None)


def _provider_of(table, soup) -> str:
    """The tab label or nearest heading before the table."""
    marker = table.find_previous(["input", "label", *HEADINGS])
    if marker is None:
        return ""
    if marker.name == "input" and marker.get("id"):
        label = soup.find("label", attrs={"for": marker["id"]})
        marker = label or marker
    text = marker.get_text(" ", strip=True) if marker.name != "input" else marker.get("value", "")
    return " ".join(text.split())


# ---------------------------------------------------------------- sources


def fetch_live(url: str, timeout: float) -> list[dict[str, Any]]:
    """GET the docs page (redirects followed, body capped) and parse it. Sends no API key."""
    import requests

    session = gc.open_session(max_retries=1)
    gc.debug(f"> GET {url}")
    try:
        resp = session.get(url, timeout=(timeout, timeout), stream=True, headers={"Accept": "text/html"})
    except requests.exceptions.RequestException as exc:
        raise PageNotUnderstood(f"cannot fetch the pricing page ({type(exc).__name__})") from None
    gc.debug(f"< {resp.status_code} {resp.url}")
    if resp.status_code >= 400:
        resp.close()
        raise PageNotUnderstood(f"the pricing page answered HTTP {resp.status_code}")
    try:
        body = gc.read_body(resp, cap=PAGE_CAP)
    except gc.CliError as err:
        raise PageNotUnderstood(err.message) from None
    return parse_pricing(body.decode(resp.encoding or "utf-8", "replace"))


def load_prices(args) -> dict[str, Any]:
    """Fresh cache, then live, then an expired cache newer than the snapshot, then the snapshot."""
    cached = None if args.no_cache else gc.read_cache(args.cache_dir, max_age=float("inf"))  # read once, fresh or not
    if cached and cached["age_seconds"] < gc.CACHE_MAX_AGE:
        return {**cached, "source": "cache"}
    url = args.pricing_url or os.environ.get("GRADIENT_PRICING_URL") or gc.DEFAULT_PRICING_URL
    problem = "offline"
    if not args.offline:
        try:
            models = fetch_live(url, args.timeout)
            import datetime as dt

            now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            table = {"source": "live", "fetched_at": now, "source_url": url, "models": models}
            try:
                gc.write_cache({k: v for k, v in table.items() if k != "source"}, args.cache_dir)
            except OSError as exc:
                gc.note(f"could not write the price cache ({exc.strerror})")
            return table
        except PageNotUnderstood as exc:
            problem = str(exc)
    snap = gc.read_snapshot()
    if cached and (snap is None or cached["fetched_at"][:10] >= str(snap.get("snapshot_date"))):
        # An expired live scrape is still newer than the bundled snapshot.
        gc.note(f"live prices unavailable ({problem}); using cached prices {gc.format_age(cached['age_seconds'])} old")
        return {**cached, "source": "cache"}
    if snap is None:
        raise gc.CliError(f"no prices: {problem}, and the bundled snapshot is missing", kind="no_prices")
    if not args.offline:
        gc.note(f"live prices unavailable ({problem}); using the bundled snapshot of {snap.get('snapshot_date')}")
    return {**snap, "source": "snapshot", "fetched_at": snap.get("snapshot_date")}


def select(models: list[dict[str, Any]], query: str | None) -> list[dict[str, Any]]:
    if not query:
        return models
    q = query.lower()
    hits = [m for m in models if any(q in str(m.get(k) or "").lower() for k in ("model", "provider", "api_id"))]
    if not hits:  # an API id such as llama3.3-70b-instruct still finds "Llama 3.3 Instruct-70B"
        row = gc.match_price(query, models)
        hits = [row] if row else []
    return hits


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = gc.parse(parser, argv)
    table = load_prices(args)
    keys = ("provider", "model", "input_price", "output_price", "unit")
    models = [{k: m.get(k) for k in keys} | _extras(m) for m in select(table["models"], args.model)]
    if args.json:
        gc.print_json(
            {
                "source": table["source"],
                "fetched_at": table.get("fetched_at"),
                "source_url": table.get("source_url"),
                "models": models,
            }
        )
        return 0
    if not models:
        gc.note(f"no model matches {args.model!r}")
    else:
        rows = [
            [m["provider"], m["model"], _money(m["input_price"]), _money(m["output_price"]), m["unit"] or ""]
            for m in models
        ]
        gc.print_table(rows, ["provider", "model", "input $/1M", "output $/1M", "unit"])
    print(_source_line(table))
    return 0


def _extras(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("cached_input_price", "api_id") if row.get(k) is not None}


def _money(value: Any) -> str:
    return "-" if value is None else f"{value:g}"


def _source_line(table: dict[str, Any]) -> str:
    if table["source"] == "cache":
        return f"source: cache, {gc.format_age(table.get('age_seconds', 0))} old ({table.get('source_url')})"
    if table["source"] == "snapshot":
        return f"source: bundled snapshot of {table.get('snapshot_date')} ({table.get('source_url')})"
    return f"source: live, {table.get('source_url')}"


def run() -> None:
    gc.run(main)


if __name__ == "__main__":
    run()
