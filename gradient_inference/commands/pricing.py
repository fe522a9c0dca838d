"""What each Gradient model costs: fresh cache, else the Model Catalog (with a DigitalOcean token), else the
live docs page, else the bundled snapshot."""

from __future__ import annotations

import os

from gradient_inference.cli import base as cli

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


DEFAULT_PRICING_URL = "https://docs.digitalocean.com/products/inference/details/pricing/"
MARKDOWN_NAME = "index.html.md"  # the docs publish every page as markdown at its URL + this name
MOVED_FROM = ("/products/inference/", "/products/gradient-ai-platform/")  # where these docs lived until 2026


def build_parser() -> cli.ArgumentParser:
    parser = cli.new_parser("gradient-pricing", "Show Gradient serverless inference prices (USD).", api=False)
    parser.add_argument("--model", metavar="QUERY", help="case-insensitive filter on model, provider or API id")
    parser.add_argument("--no-cache", action="store_true", help="do not read the cache (still refreshes it)")
    parser.add_argument("--offline", action="store_true", help="no network: cache, then the bundled snapshot")
    parser.add_argument(
        "--pricing-url",
        help=f"pricing page tried first, markdown then HTML (env GRADIENT_PRICING_URL); then {DEFAULT_PRICING_URL}",
    )
    parser.add_argument(
        "--cache-dir", help="cache folder (env GRADIENT_CACHE_DIR, default ~/.cache/gradient-inference)"
    )
    parser.add_argument(
        "--timeout", type=cli.positive_float, default=10.0, help="seconds for each live source (default 10)"
    )
    return parser


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


def load_prices(args) -> dict[str, Any]:
    """Fresh cache, then the catalog (with a token), then the docs page, then an expired cache newer than the
    snapshot, then the snapshot."""
    from gradient_inference.prices import table as gp

    cached = None if args.no_cache else gp.read_cache(args.cache_dir, max_age=float("inf"))  # read once, fresh or not
    with_token = not args.offline and any(os.environ.get(n, "").strip() for n in gp.CATALOG_TOKEN_ENVS)
    if cached and cached["age_seconds"] < gp.CACHE_MAX_AGE and (cached.get("origin") == "catalog" or not with_token):
        return {**cached, "source": "cache"}
    problem = "offline"
    if not args.offline:
        from gradient_inference.prices import catalog
        from gradient_inference.prices.docs_page import PageNotUnderstood, fetch_live

        try:
            url, models = catalog.fetch_catalog(args.timeout)
            return _fresh_table("catalog", url, models, args.cache_dir)
        except catalog.CatalogUnavailable as exc:
            if exc.warn:
                cli.note(f"catalog prices unavailable: {exc}; trying the pricing page")
            cli.debug(f"catalog skipped: {exc}")
        try:
            url, models = fetch_live(sources(args.pricing_url), args.timeout)
            return _fresh_table("live", url, models, args.cache_dir)
        except PageNotUnderstood as exc:
            problem = str(exc)
    snap = gp.read_snapshot()
    if cached and (snap is None or cached["fetched_at"][:10] >= str(snap.get("snapshot_date"))):
        # An expired live scrape is still newer than the bundled snapshot.
        cli.note(f"live prices unavailable ({problem}); using cached prices {gp.format_age(cached['age_seconds'])} old")
        return {**cached, "source": "cache"}
    if snap is None:
        raise cli.CliError(f"no prices: {problem}, and the bundled snapshot is missing", kind="no_prices")
    if not args.offline:
        cli.note(f"live prices unavailable ({problem}); using the bundled snapshot of {snap.get('snapshot_date')}")
    return {**snap, "source": "snapshot", "fetched_at": snap.get("snapshot_date")}


def _fresh_table(origin: str, url: str, models: list[dict[str, Any]], cache_dir: str | None) -> dict[str, Any]:
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
        cli.note(f"could not write the price cache ({exc.strerror})")
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


def price_rows(parser: cli.ArgumentParser, args) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the price table, its rows matching --model); gradient-mcp's get_prices tool calls this too."""
    args.pricing_url = args.pricing_url or os.environ.get("GRADIENT_PRICING_URL")
    if args.pricing_url and not args.pricing_url.startswith(("https://", "http://")):
        parser.error(f"--pricing-url (or GRADIENT_PRICING_URL) must be an http(s) URL, got {args.pricing_url!r}")
    table = load_prices(args)
    picked = select(table["models"], args.model)
    if any("catalog_id" in m for m in picked):
        from gradient_inference.prices import catalog

        catalog.batch_prices(picked, args.cache_dir, fetch=False)  # batch rates the card cache already holds
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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    table, models = price_rows(parser, args)
    if args.json:
        cli.print_json(as_json(table, models))
        return 0
    if not models:
        cli.note(f"no model matches {args.model!r}")
    else:
        rows = [
            [m["provider"], m["model"], _money(m["input_price"]), _money(m["output_price"]), m["unit"] or ""]
            for m in models
        ]
        cli.print_table(rows, ["provider", "model", "input $/1M", "output $/1M", "unit"])
    print(_source_line(table))
    return 0


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


def _money(value: Any) -> str:
    from gradient_inference.spend.report import dollars

    return "-" if value is None else dollars(value)


def _source_line(table: dict[str, Any]) -> str:
    from gradient_inference.prices import table as gp

    if table["source"] == "cache":
        return f"source: cache, {gp.format_age(table.get('age_seconds', 0))} old ({table.get('source_url')})"
    if table["source"] == "snapshot":
        return f"source: bundled snapshot of {table.get('snapshot_date')} ({table.get('source_url')})"
    return f"source: {table['source']}, {table.get('source_url')}"


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
