"""Compare models: the same prompts on each, one report of speed (latency, time to first token), cost and quality
(expect checks, a judge model's score), with a recommendation. The work is gradient_inference/compare/."""

from __future__ import annotations

import sys

from gradient_inference.cli import base as cli

PROG = "gradient-compare"


def build_parser() -> cli.ArgumentParser:
    parser = cli.new_parser(PROG, "Run your prompts on several models; report speed, cost and quality side by side.")
    parser.add_argument("input", nargs="?", metavar="INPUT", help="JSONL prompts (id, prompt or messages, system, "
                        "expect); '-' or piped stdin when no --prompt")  # fmt: skip
    parser.add_argument("--model", action="append", type=cli.non_empty, metavar="MODEL",
                        help="a model to compare (give 2 to 16)")  # fmt: skip
    parser.add_argument("--prompt", action="append", metavar="TEXT", help="a prompt (repeatable; ids p1, p2, ...)")
    parser.add_argument("--input", dest="input_file", metavar="FILE", help="same as INPUT")
    parser.add_argument("--api", choices=("chat", "responses", "messages"), default="chat",
                        help="chat: /chat/completions (default); responses: /responses; messages: /messages")  # fmt: skip
    parser.add_argument("--runs", type=cli.positive_int, default=1, help="answers per prompt and model (default 1)")
    parser.add_argument("-c", "--concurrency", type=cli.positive_int, default=8,
                        help="calls in flight at most (default 8)")  # fmt: skip
    parser.add_argument("--system", help="system prompt for every prompt (a line's own system wins)")
    parser.add_argument("--temperature", type=cli.temperature, help="sampling temperature, 0 to 2")
    parser.add_argument("--max-tokens", type=cli.positive_int, help="cap on generated tokens per answer")
    parser.add_argument("--judge", type=cli.non_empty, metavar="MODEL", help="a model that scores each answer 0-10")
    parser.add_argument("--rubric", metavar="TEXT|@FILE", help="what the judge scores on (with --judge)")
    parser.add_argument("--within", type=non_negative_float, metavar="X", help="recommend the cheapest model "
                        "within X of the best quality (default 0.5 score points, or 0.05 of pass rate)")  # fmt: skip
    parser.add_argument("--show-answers", action="store_true", help="print the answers side by side")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table (for an issue or a PR)")
    parser.add_argument("--output", metavar="FILE", help="keep every answer here (JSONL); a rerun sends only "
                        "what is missing")  # fmt: skip
    parser.add_argument("--max-cost", type=cli.positive_float, metavar="USD",
                        help="refuse to start when the estimate is above this")  # fmt: skip
    parser.add_argument("--cache-dir", help="pricing cache folder for costs (env GRADIENT_CACHE_DIR)")
    return parser


def non_negative_float(text: str) -> float:
    value = cli.number(text, float)
    if not 0 <= value < float("inf"):
        raise cli.argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def read_prompts(parser: cli.ArgumentParser, args) -> list[dict]:
    from gradient_inference.compare import prompts
    from gradient_inference.errors import UsageError

    if args.input and args.input_file:
        parser.error("give the input once: INPUT or --input FILE")
    path = args.input or args.input_file
    if path and args.prompt:
        parser.error("give --prompt or an input file, not both")
    if not path and not args.prompt:
        if sys.stdin.isatty():
            parser.error("no prompts: give --prompt TEXT, --input FILE, or JSONL on stdin")
        path = "-"
    try:
        return prompts.from_texts(args.prompt, args.system) if args.prompt else prompts.from_lines(path, args.system)
    except UsageError as err:
        parser.error(err.message)


def read_rubric(parser: cli.ArgumentParser, args) -> str | None:
    if args.rubric is None:
        return None
    if not args.judge:
        parser.error("--rubric needs --judge MODEL")
    if args.rubric.startswith("@"):
        from gradient_inference.files.input import read_file

        text = read_file(args.rubric[1:], "--rubric")
    else:
        text = args.rubric
    if not text.strip():
        parser.error("--rubric is empty")
    return text.strip()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    if args.json and args.markdown:
        parser.error("--json and --markdown cannot be given together")
    models = args.model or []
    if not 2 <= len(models) <= 16:
        parser.error(f"give 2 to 16 models to compare (--model A --model B ...), got {len(models)}")
    prompts = read_prompts(parser, args)
    rubric = read_rubric(parser, args)
    from gradient_inference.compare.running import compare

    report = compare(
        args.settings, models, prompts, api=args.api, runs=args.runs, concurrency=args.concurrency,
        temperature=args.temperature, max_tokens=args.max_tokens, judge=args.judge, rubric=rubric,
        output=args.output, max_cost=args.max_cost, within=args.within,
        progress=not args.json and sys.stderr.isatty(),
    )  # fmt: skip
    if report is None:  # --dry-run
        return 0
    render(args, report)
    failed = report["failed"]
    if failed["calls"]:
        total = sum(f["calls"] for f in report["models"].values()) + ((report["judge"] or {}).get("calls") or 0)
        raise cli.CliError(f"{failed['calls']} of {total} calls failed; first: {failed['first']}", kind="calls_failed")
    return 0


def render(args, report: dict) -> None:
    from gradient_inference.compare import report as shown

    if args.json:
        if not args.show_answers:
            report = {k: v for k, v in report.items() if k != "answers"}
        cli.print_json(report)
        return
    if args.markdown:
        print(cli.redact(shown.markdown(report, args.show_answers)))
        return
    cli.print_table(shown.rows(report), shown.HEADERS)
    runs = f", {report['runs']} runs each" if report["runs"] > 1 else ""
    print(f"\n{report['prompts']} prompts{runs}")
    for line in shown.summary_lines(report):
        print(cli.redact(line))
    print()
    for line in shown.bars(report):
        print(line)
    if args.show_answers:
        print()
        cli.print_table(*shown.answer_table(report))
    sys.stdout.flush()


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
