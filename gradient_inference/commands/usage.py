"""What the calls recorded in the local history cost: spend per day, model or command, and the budget's rest."""

from __future__ import annotations

from gradient_inference.cli import base as cli

GROUPINGS = ("day", "model", "command")


def build_parser() -> cli.ArgumentParser:
    parser = cli.new_parser("gradient-usage", "Show what recorded calls cost (USD), from the local history.", api=False)
    parser.add_argument("--since", default="7d", metavar="24h|7d|30d|YYYY-MM-DD", help="calls since (default 7d)")
    parser.add_argument(
        "--by", choices=GROUPINGS, default="day", help="group by UTC day, model or command (default day)"
    )
    parser.add_argument("--budget", metavar="USD/PERIOD", help="show this budget's rest (env GRADIENT_BUDGET)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    from gradient_inference.spend import report

    out = report.usage_report(args.settings, args.since, args.by)
    if args.json:
        cli.print_json(out)
        return 0
    rows, window = out["rows"], out.get("budget")
    if not rows:
        from gradient_inference.history import store

        cli.note(f"no calls recorded since {out['since']} ({store.db_path(args.settings.data_dir)})")
    else:
        print_rows(rows, args.by)
    unpriced = sum(row["unpriced_calls"] for row in rows)
    print(
        f"total ~${out['total_usd']:.4f} since {out['since']}"
        + (f"; {unpriced} calls of unknown cost not counted" if unpriced else "")
    )
    if window is not None:
        from gradient_inference.spend.report import dollars

        print(
            f"budget ${dollars(window['usd'])}/{window['period']}: ${window['spent']:.4f} spent this {window['period']} "
            f"(UTC), ${window['left']:.4f} left"
        )
    return 0


def print_rows(rows: list[dict], by: str) -> None:
    """A table with a bar per row, the bars as long as the terminal's width (COLUMNS) leaves room for."""
    import shutil

    headers = [by, "calls", "in tokens", "out tokens", "USD", "unpriced"]
    table = [
        [row["key"], row["calls"], row["input_tokens"], row["output_tokens"], _usd(row["usd"]), row["unpriced_calls"]]
        for row in rows
    ]
    from tabulate import tabulate

    plain = tabulate(table, headers=headers, tablefmt="simple", disable_numparse=True)
    room = shutil.get_terminal_size((100, 24)).columns - max(map(len, plain.splitlines())) - 2  # 2 between columns
    if room >= 4:  # too narrow for a bar: the numbers only
        top = max((row["usd"] or 0.0) for row in rows) or 1.0
        for line, row in zip(table, rows):
            line.append("█" * round(room * (row["usd"] or 0.0) / top))
        headers.append("")
    cli.print_table(table, headers)


def _usd(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
