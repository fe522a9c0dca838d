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


def as_json(args, models: list[dict], prices: dict | None) -> dict:
    """What --json prints."""
    out: dict = {"models": models}
    if args.prices:
        out["prices_source"] = prices["source"] if prices else None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    from gradient_inference.pipeline.models import list_models

    found = list_models(args.settings, args.filter, args.prices)
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


def _money(value: object) -> str:
    from gradient_inference.spend.report import dollars

    return "-" if value is None else dollars(value)


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
