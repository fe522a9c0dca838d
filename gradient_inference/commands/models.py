"""List the models Gradient serverless inference offers (GET /models)."""

from __future__ import annotations

from gradient_inference.cli import base as cli


def build_parser() -> cli.ArgumentParser:
    parser = cli.new_parser("gradient-models", "List the models available to your Gradient model access key.")
    parser.add_argument("--filter", metavar="QUERY", help="case-insensitive substring of the model id or owner")
    parser.add_argument(
        "--prices", action="store_true", help="add input/output USD per 1M tokens (from the price cache or snapshot)"
    )
    parser.add_argument("--cache-dir", help="pricing cache folder (env GRADIENT_CACHE_DIR)")
    return parser


def created_date(epoch: object) -> str:
    if not isinstance(epoch, (int, float)) or epoch <= 0:
        return ""
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d")


def fetch_models(parser: cli.ArgumentParser, args) -> tuple[list[dict], dict | None] | None:
    """(models sorted by id and filtered, with their prices if asked; the price table or None); None on --dry-run.
    gradient-mcp's list_models tool calls this too."""
    from gradient_inference.network import api as net

    resp = net.api_request(args, parser, "GET", "/models")
    if resp is None:  # --dry-run
        return None
    data = net.read_json(resp)
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise cli.CliError("the response has no 'data' list of models", kind="bad_response")
    models = [m for m in entries if isinstance(m, dict) and isinstance(m.get("id"), str)]
    if args.filter:
        query = args.filter.lower()
        models = [m for m in models if query in m["id"].lower() or query in str(m.get("owned_by", "")).lower()]
    models.sort(key=lambda m: m["id"])

    prices = None
    if args.prices:
        from gradient_inference.prices import table as prices_table

        prices = prices_table.offline_prices(args.cache_dir)
        rows = prices["models"] if prices else []
        for model in models:
            row = prices_table.match_price(model["id"], rows)
            model["input_price"] = row.get("input_price") if row else None
            model["output_price"] = row.get("output_price") if row else None
            model["price_unit"] = row.get("unit") if row else None
    return models, prices


def as_json(args, models: list[dict], prices: dict | None) -> dict:
    """What --json prints."""
    out: dict = {"models": models}
    if args.prices:
        out["prices_source"] = prices["source"] if prices else None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    found = fetch_models(parser, args)
    if found is None:  # --dry-run
        return 0
    models, prices = found
    if args.json:
        cli.print_json(as_json(args, models, prices))
        return 0
    headers = ["id", "owner", "created"]
    rows = [[m["id"], m.get("owned_by", ""), created_date(m.get("created"))] for m in models]
    if args.prices:
        headers += ["input $/1M", "output $/1M"]
        for row, m in zip(rows, models):
            row += [_money(m["input_price"]), _money(m["output_price"])]
    if not models:
        cli.note("no models match" if args.filter else "the API listed no models")
        return 0
    cli.print_table(rows, headers)
    if args.prices:
        cli.note(
            f"prices from the {prices['source']} ({prices.get('fetched_at')})" if prices else "no prices available"
        )
    return 0


def _money(value: object) -> str:
    from gradient_inference.spend.report import dollars

    return "-" if value is None else dollars(value)


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
