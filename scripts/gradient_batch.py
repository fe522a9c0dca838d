#!/usr/bin/env python3
"""Many prompts at once: `run` sends them from here; `submit` and friends use DigitalOcean Batch Inference."""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gradient_cli as cli  # noqa: E402

DEFAULT_MODEL = "openai-gpt-oss-120b"  # gradient_llm.DEFAULT_MODEL; repeated so --help need not load it
PROG = "gradient-batch"


def build_parser() -> cli.ArgumentParser:
    common = cli.new_parser(PROG, "")  # --json, --base-url, --timeout, --max-retries, --dry-run, --verbose
    parser = cli.ArgumentParser(
        prog=PROG,
        formatter_class=cli._help_formatter,
        description="Run many prompts: `run` sends them now from this machine; `submit` hands them to "
        "DigitalOcean Batch Inference (OpenAI and Anthropic models, cheaper, results within 24 h).",
    )
    subs = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def sub(name: str, help_text: str) -> cli.ArgumentParser:
        sp = subs.add_parser(
            name,
            help=help_text,
            description=help_text,
            parents=[common],
            conflict_handler="resolve",
            formatter_class=cli._help_formatter,
        )
        sp.set_defaults(parser=sp)
        return sp

    run = sub("run", "send every line of a JSONL file now, many at once; resumable")
    run.add_argument("input", metavar="INPUT", help="JSONL file of prompts, or '-' for stdin (then --output)")
    run.add_argument("--output", metavar="OUT", help="results JSONL (default: INPUT with .results.jsonl)")
    run.add_argument("--concurrency", type=cli.positive_int, default=8, help="requests in flight at most (default 8)")
    add_line_defaults(run)
    run.add_argument("--max-cost", type=cli.positive_float, metavar="USD", help="stop starting requests at this cost")
    run.add_argument("--cache-dir", help="pricing cache folder for cost estimates (env GRADIENT_CACHE_DIR)")
    return parser


def add_line_defaults(parser: cli.ArgumentParser) -> None:
    """Settings a simple input line may override."""
    parser.add_argument("--model", type=cli.non_empty, default=DEFAULT_MODEL, help=f"model (default {DEFAULT_MODEL})")
    parser.add_argument("--system", help="system prompt for lines without their own")
    parser.add_argument("--max-tokens", type=cli.positive_int, help="cap on generated tokens per line")
    parser.add_argument("--temperature", type=cli.temperature, help="sampling temperature, 0 to 2")
    parser.add_argument("--responses-api", action="store_true", help="send simple lines to /responses")


def line_defaults(args) -> dict:
    return {
        "model": args.model,
        "system": args.system,
        "max_tokens": args.max_tokens,
        "temperature": args.temperature,
        "api": "responses" if args.responses_api else "chat",
    }


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    return {"run": cmd_run}[args.command](args.parser, args)


# ---------------------------------------------------------------- run


def cmd_run(parser, args) -> int:
    if args.input == "-" and not args.output:
        parser.error("--output is required when INPUT is '-' (stdin)")
    import gradient_files as files
    import gradient_jobs as jl

    output = args.output or jl.default_output(args.input)
    files.check_output_arg(parser, output)
    source = jl.open_input(args.input)
    defaults = line_defaults(args)
    info = jl.scan(source, defaults)
    costs = CostBook(args.cache_dir)
    if args.max_cost is not None:
        costs.require_prices(info["models"])
    finished = {i for i, ok in jl.read_results(output).items() if ok and i in info["ids"]}
    todo = jl.jobs(source, defaults, skip=finished)

    import gradient_http as net

    base = net.base_url(args, parser)
    if args.dry_run:
        first = next(todo, None)
        print(net.curl_command("POST", base + first["path"], first["body"]) if first else "# nothing left to send")
        return 0
    headers = {"Authorization": f"Bearer {net.api_key(base)}", "Accept": "application/json"}
    import gradient_llm as llm
    import gradient_runner as runner

    session = net.open_session(args.max_retries, pool_size=args.concurrency, retry_429=False)
    limiter = runner.Limiter(args.concurrency, args.max_cost)
    progress = runner.Progress(info["count"], len(finished), PROG)
    writer = jl.ResultWriter(output)
    spent: list[float] = []

    def work(job: dict) -> tuple[dict, float | None]:
        try:
            data = runner.post(session, base + job["path"], headers, job["body"], args.timeout, limiter)
            reply = llm.parse_responses(data) if job["api"] == "responses" else llm.parse_chat(data)
        except cli.CliError as err:
            return jl.error_line(job["id"], err), None
        reply["model"] = reply["model"] or job["model"]
        cost = costs.usd(reply["model"], reply["usage"]) or costs.usd(job["model"], reply["usage"])
        return jl.ok_line(job["id"], reply, cost), cost

    def done(line: dict) -> None:
        writer.write(line)
        progress.update(line["ok"])
        if line.get("cost"):
            spent.append(line["cost"])

    started = time.monotonic()
    try:
        runner.run_all(todo, work, done, limiter, args.concurrency)
    except KeyboardInterrupt:
        writer.close()  # waits for a line being written; later replies are dropped, never half-written
        progress.close()
        cli.note(f"interrupted; {progress.ok} finished lines kept in {output}; rerun the same command to continue")
        sys.stderr.flush()
        os._exit(cli.EXIT_INTERRUPTED)  # in-flight requests are abandoned, not waited for
    writer.close()
    progress.close()
    summary = {
        "total": info["count"],
        "ok": progress.ok,
        "failed": progress.failed,
        "skipped": len(finished),
        "seconds": round(time.monotonic() - started, 3),
        "cost_usd": round(sum(spent), 8) if spent else None,
        "output": output,
    }
    return finish(args, summary, limiter.stopped == "budget")


def finish(args, summary: dict, budget_reached: bool = False) -> int:
    """The summary: a JSON object on stdout with --json, one line on stderr; exit 1 if anything failed."""
    if args.json:
        cli.print_json(summary)
    cost = f"; cost ~${summary['cost_usd']:.4f}" if summary.get("cost_usd") else ""
    seconds = f" in {summary['seconds']:.1f}s" if summary.get("seconds") is not None else ""
    text = (
        f"{summary['ok']} ok, {summary['failed']} failed, {summary['skipped']} skipped{seconds}{cost}; "
        f"results in {summary['output']}"
    )
    if budget_reached:
        raise cli.CliError(
            f"budget of ${args.max_cost:g} reached, no new requests started: {text}; "
            "rerun with a higher --max-cost to continue",
            kind="budget_reached",
        )
    if summary["failed"]:
        raise cli.CliError(f"{text}; rerun the same command to retry the failed lines", kind="lines_failed")
    cli.note(text)
    return 0


class CostBook:
    """Per-call USD from cached or bundled prices, each model matched once."""

    def __init__(self, cache_dir: str | None) -> None:
        import gradient_prices as prices

        self.prices, self.table, self.rows = prices, prices.offline_prices(cache_dir), {}

    def row(self, model: str):
        if model not in self.rows:
            rows = self.table["models"] if self.table else []
            self.rows[model] = self.prices.match_price(model, rows)
        return self.rows[model]

    def usd(self, model: str, usage: dict) -> float | None:
        return self.prices.estimate_cost(usage, self.row(model)) if model else None

    def require_prices(self, models: set[str]) -> None:
        unknown = sorted(m for m in models if self.usd(m, {"input_tokens": 1, "output_tokens": 1}) is None)
        if unknown:
            raise cli.CliError(
                f"--max-cost needs a known price, and there is none for {', '.join(unknown)} "
                "(refresh prices with gradient-pricing)",
                kind="unknown_price",
                exit_code=cli.EXIT_USAGE,
            )


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
