"""Fetching DigitalOcean's pricing page from the first source that works, and reading prices out of it: HTML tables (tabs or headings) or markdown tables.

Any layout we know: one price cell or separate Input/Output columns, per 1K, 1M or single tokens,
per image or per second. Imported only on the live path, since it needs bs4.
"""

from __future__ import annotations

import re

from gradient_inference.cli.base import CliError, debug

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MIN_MODELS = 10  # a source with fewer models priced per token is a stub or a moved page: try the next
PAGE_CAP = 8 * 1024 * 1024
MONEY = r"\$\s*(\d[\d,]*(?:\.\d+)?)([^$]*)"  # a pattern string: re compiles it on first use, not at start-up
HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]


class PageNotUnderstood(Exception):
    """The page had no recognisable pricing table."""


def fetch_live(urls: list[tuple[str, bool]], timeout: float) -> tuple[str, list[dict[str, Any]]]:
    """(address used, rows) of the first source with a plausible table, all through one session."""
    from gradient_inference.network import api as net

    session = net.open_session(max_retries=0)  # the next source is the retry
    failures = []
    for n, (url, markdown) in enumerate(urls, 1):
        debug(f"pricing source {n}/{len(urls)}: > GET {url}")
        try:
            used, rows = fetch_source(session, url, markdown, timeout)
        except PageNotUnderstood as exc:
            debug(f"pricing source {n} failed: {exc}")
            failures.append(f"{url}: {exc}")
            continue
        debug(f"pricing source {n} used: {len(rows)} rows from {used}")
        return used, rows
    raise PageNotUnderstood(f"all {len(urls)} pricing sources failed; first: {failures[0]}")


def fetch_source(session, url: str, markdown: bool, timeout: float) -> tuple[str, list[dict[str, Any]]]:
    """GET one source (redirects followed, body capped, no API key) and parse it, or PageNotUnderstood."""
    import requests

    from gradient_inference.network import api as net

    accept = "text/markdown, text/plain;q=0.9" if markdown else "text/html"
    try:
        resp = session.get(url, timeout=(timeout, timeout), stream=True, headers={"Accept": accept})
    except requests.exceptions.RequestException as exc:
        if isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc).lower():
            raise PageNotUnderstood(f"timed out after {timeout:g}s") from None
        raise PageNotUnderstood(f"cannot fetch it ({type(exc).__name__})") from None
    for hop in resp.history:
        debug(f"< {hop.status_code} redirect to {hop.headers.get('location')}")
    ctype = resp.headers.get("content-type", "")
    debug(f"< {resp.status_code} {ctype or '-'} {resp.url}")
    if resp.status_code >= 400:
        resp.close()
        raise PageNotUnderstood(f"HTTP {resp.status_code}")
    try:
        body = net.read_body(resp, cap=PAGE_CAP)
    except CliError as err:
        raise PageNotUnderstood(err.message) from None
    # requests assumes ISO-8859-1 for text/* without a charset; the docs are UTF-8.
    page = body.decode(resp.encoding if "charset=" in ctype.lower() else "utf-8", "replace")
    if markdown and ("html" in ctype.lower() or page.lstrip()[:9].lower().startswith(("<!doctype", "<html"))):
        raise PageNotUnderstood("an HTML page where markdown was expected")
    rows = parse_pricing(page, markdown=markdown)
    if token_models(rows) < MIN_MODELS:
        raise PageNotUnderstood(f"only {token_models(rows)} models priced per token (fewer than {MIN_MODELS})")
    return resp.url, rows


def parse_pricing(page: str, markdown: bool = False) -> list[dict[str, Any]]:
    """Price rows from any layout we know: tabs or headings, HTML or markdown tables,
    one price cell or separate Input/Output columns. `markdown`: read only pipe tables (no bs4 import)."""
    rows = [] if markdown else [row for table in _html_tables(page) for row in _price_rows(*table)]
    if not rows and "|" in page:  # the docs also serve pages as markdown (index.html.md)
        rows = [row for table in _markdown_tables(page) for row in _price_rows(*table)]
    if not rows:
        raise PageNotUnderstood("no pricing table found on the page")
    return rows


def token_models(rows: list[dict[str, Any]]) -> int:
    """How many distinct models have a per-token price (image and audio rows do not count)."""
    return len({row["model"] for row in rows if "token" in (row.get("unit") or "")})


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
