"""What each Gradient model costs: fresh cache, else the Model Catalog (with a DigitalOcean token), else the
live docs page, else the bundled snapshot."""

from __future__ import annotations

import os

from gradient_inference.cli import base as cli

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_PRICING_URL = "https://docs.digitalocean.com/products/inference/details/pricing/"  # prices/lookup's; --help


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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    from gradient_inference.prices import lookup

    pricing_url = args.pricing_url or os.environ.get("GRADIENT_PRICING_URL")
    if pricing_url and not pricing_url.startswith(("https://", "http://")):
        parser.error(f"--pricing-url (or GRADIENT_PRICING_URL) must be an http(s) URL, got {pricing_url!r}")
    query = lookup.PriceQuery(args.model, args.offline, args.no_cache, pricing_url, args.timeout, args.cache_dir)
    table, models = lookup.price_rows(query, warn=cli.note)
    if args.json:
        cli.print_json(lookup.as_json(table, models))
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
