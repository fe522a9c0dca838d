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
            model["unit_price"], model["unit_price_per"] = unit_price(row) or (None, None)
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
            if m["unit_price"] is not None:  # billed per image, audio clip...: "$0.04/image"
                row += ["-", f"${_money(m['unit_price'])}/{m['unit_price_per']}"]
            else:
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


def _money(value: object) -> str:
    from gradient_inference.spend.report import dollars

    return "-" if value is None else dollars(value)


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
