"""Many prompts at once: `run` sends them from here; `submit` and friends use DigitalOcean Batch Inference."""

from __future__ import annotations

import os
import sys
import time

from gradient_inference.cli import base as cli

DEFAULT_MODEL = "openai-gpt-oss-120b"  # llm/completions.DEFAULT_MODEL; repeated so --help need not load it
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

    submit = sub("submit", "hand a JSONL file to DigitalOcean Batch Inference (OpenAI and Anthropic models)")
    submit.add_argument("input", metavar="INPUT", help="JSONL file of prompts (same formats as run), or '-'")
    add_line_defaults(submit)
    submit.add_argument("--wait", action="store_true", help="poll until the batch ends, then download the results")
    submit.add_argument("--output", metavar="OUT", help="results JSONL with --wait (default BATCH_ID.results.jsonl)")
    submit.add_argument("--cache-dir", help="pricing cache folder for cost estimates (env GRADIENT_CACHE_DIR)")
    for name, text in (("status", "show a batch's status and request counts"), ("cancel", "cancel a batch")):
        sub(name, text).add_argument("batch_id", metavar="ID", type=batch_id, help="batch id")
    results = sub("results", "download a finished batch's results as run's result lines")
    results.add_argument("batch_id", metavar="ID", type=batch_id, help="batch id")
    results.add_argument("--output", metavar="OUT", help="results JSONL (default BATCH_ID.results.jsonl)")
    results.add_argument("--cache-dir", help="pricing cache folder for cost estimates (env GRADIENT_CACHE_DIR)")
    sub("list", "list recent batches, newest first")
    return parser


def batch_id(text: str) -> str:
    """Batch ids are UUIDs in the spec; anything else is a usage error, not a 404."""
    import re

    if not re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", text.strip()):
        raise cli.argparse.ArgumentTypeError(f"not a batch id (a UUID): {text!r}")
    return text.strip().lower()


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
    commands = {"run": cmd_run, "submit": cmd_submit, "status": cmd_status, "cancel": cmd_cancel}
    commands.update({"results": cmd_results, "list": cmd_list})
    return commands[args.command](args.parser, args)


# ---------------------------------------------------------------- run


def cmd_run(parser, args) -> int:
    if args.input == "-" and not args.output:
        parser.error("--output is required when INPUT is '-' (stdin)")
    from gradient_inference.batch import lines as jl
    from gradient_inference.files import output as files

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

    from gradient_inference.network import api as net

    base = net.base_url(args, parser)
    if args.dry_run:
        first = next(todo, None)
        print(net.curl_command("POST", base + first["path"], first["body"]) if first else "# nothing left to send")
        return 0
    headers = {"Authorization": f"Bearer {net.api_key(base)}", "Accept": "application/json"}
    from gradient_inference.batch import runner as runner
    from gradient_inference.llm import apis

    session = net.open_session(args.max_retries, pool_size=args.concurrency, retry_429=False)
    limiter = runner.Limiter(args.concurrency, args.max_cost)
    progress = runner.Progress(info["count"], len(finished), PROG, show=not args.json)
    writer = jl.ResultWriter(output)
    spent: list[float] = []
    from gradient_inference.history import record

    history = record.Batcher(args)  # one row per line, written 200 rows (or 1 s) at a time

    def work(job: dict) -> tuple[dict, float | None]:
        began = time.monotonic()
        row = {"requested_model": job["model"], "messages": job["body"].get("messages"), "extra": {"line": job["id"]}}
        try:
            data = runner.post(session, base + job["path"], headers, job["body"], args.timeout, limiter)
            reply = apis.module(job["api"]).parse_reply(data)
        except cli.CliError as err:
            history.add("batch", job["path"], error=err, wall_ms=(time.monotonic() - began) * 1000, **row)
            return jl.error_line(job["id"], err), None
        reply["model"] = reply["model"] or job["model"]
        cost = costs.cost(reply["model"], reply["usage"]) or costs.cost(job["model"], reply["usage"])
        history.add("batch", job["path"], reply=reply, cost=cost, wall_ms=(time.monotonic() - began) * 1000, **row)
        return jl.ok_line(job["id"], reply, cost), cost["usd"] if cost else None

    def done(line: dict) -> None:
        writer.write(line)
        progress.update(line["ok"])
        if line.get("cost"):
            spent.append(line["cost"]["usd"])

    started = time.monotonic()
    try:
        runner.run_all(todo, work, done, limiter, args.concurrency)
    except KeyboardInterrupt:
        writer.close()  # waits for a line being written; later replies are dropped, never half-written
        history.close()
        progress.close()
        cli.note(f"interrupted; {progress.ok} finished lines kept in {output}; rerun the same command to continue")
        sys.stderr.flush()
        os._exit(cli.EXIT_INTERRUPTED)  # in-flight requests are abandoned, not waited for
    writer.close()
    history.close()
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


# ---------------------------------------------------------------- submit, status, results, cancel, list


def cmd_submit(parser, args) -> int:
    import tempfile

    from gradient_inference.batch import lines as jl
    from gradient_inference.batch import remote as api
    from gradient_inference.files import output as files
    from gradient_inference.network import api as net

    if args.output:
        files.check_output_arg(parser, args.output)
    source = jl.open_input(args.input)
    defaults = line_defaults(args)
    info = jl.scan(source, defaults)
    if info["count"] > api.MAX_LINES:
        raise jl.bad_input(f"{info['count']} lines is over the batch limit of {api.MAX_LINES:,} lines; split the input")
    provider, endpoint = api.choose(info["models"], info["apis"])
    with tempfile.NamedTemporaryFile(prefix="gradient-batch-", suffix=".jsonl") as staged:
        api.write_provider_file(source, defaults, provider, staged)
        if args.dry_run:
            base = net.base_url(args, parser)
            print(net.curl_command("POST", base + "/batches/files", {"file_name": upload_name(args.input)}))
            return 0
        session = net.open_session(args.max_retries)
        file_id = api.upload(args, parser, session, staged.name, upload_name(args.input))
    batch = api.create(args, parser, session, file_id, provider, endpoint)
    bid = net.require(batch, "batch_id")
    if not args.wait:
        if args.json:
            shown = {"batch_id": bid, "status": batch.get("status"), "provider": provider, "endpoint": endpoint}
            cli.print_json({**shown, "total": info["count"]})
        else:
            print(bid)
        cli.note(f"submitted {info['count']} requests; next: {PROG} status {bid}, then {PROG} results {bid}")
        return 0
    if not args.json:
        cli.note(f"submitted batch {bid} ({info['count']} requests); waiting (Ctrl-C stops waiting, not the batch)")
    batch = api.wait(args, parser, session, bid)
    return download(args, parser, session, bid, batch.get("status"))


def upload_name(path: str) -> str:
    """A file name the spec accepts: at least 7 characters, ending in .jsonl."""
    import re

    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", os.path.basename(path) if path != "-" else "stdin")
    name = re.sub(r"(?i)\.jsonl$", "", stem).strip(".") + ".jsonl"
    return name if len(name) >= 7 else "batch-" + name


def cmd_results(parser, args) -> int:
    from gradient_inference.files import output as files
    from gradient_inference.network import api as net

    if args.output:
        files.check_output_arg(parser, args.output)
    if args.dry_run:
        print(net.curl_command("GET", net.base_url(args, parser) + f"/batches/{args.batch_id}/results"))
        return 0
    return download(args, parser, net.open_session(args.max_retries), args.batch_id, None)


def download(args, parser, session, bid: str, status: str | None) -> int:
    """Results to OUT as run's lines: appended whole, an id already ok there is not written again."""
    from gradient_inference.batch import lines as jl
    from gradient_inference.batch import remote as api

    links = api.result_urls(args, parser, session, bid)
    output = args.output or f"{bid}.results.jsonl"
    already = {i for i, ok in jl.read_results(output).items() if ok}
    writer, costs, counts, spent = jl.ResultWriter(output), CostBook(args.cache_dir), [0, 0, 0], []
    try:
        for key, what in (("output_file_url", "output file"), ("error_file_url", "error file")):
            for raw in api.file_lines(links[key], what, args.timeout) if links.get(key) else ():
                line = api.normalise(raw, costs)
                if line["id"] in already:
                    counts[2] += 1
                    continue
                writer.write(line)
                counts[0 if line["ok"] else 1] += 1
                if line.get("cost"):
                    spent.append(line["cost"]["usd"])
    finally:
        writer.close()
    summary = {"batch_id": bid, "status": status, "total": sum(counts), "ok": counts[0], "failed": counts[1]}
    summary.update({"skipped": counts[2], "seconds": None, "output": output})
    summary["cost_usd"] = round(sum(spent), 8) if spent else None  # at serverless prices; batch bills less
    return finish(args, summary)


def cmd_status(parser, args) -> int:
    return show_batch(parser, args, "GET", f"/batches/{args.batch_id}")


def cmd_cancel(parser, args) -> int:
    return show_batch(parser, args, "POST", f"/batches/{args.batch_id}/cancel")


def show_batch(parser, args, method: str, path: str) -> int:
    from gradient_inference.batch import remote as api
    from gradient_inference.network import api as net

    if args.dry_run:
        print(net.curl_command(method, net.base_url(args, parser) + path))
        return 0
    batch = api.get(args, parser, net.open_session(args.max_retries), path, method)
    if args.json:
        cli.print_json(batch)
    else:
        print(f"{batch.get('batch_id')}  {api.progress_text(batch)}")
    return 0


def cmd_list(parser, args) -> int:
    from gradient_inference.batch import remote as api
    from gradient_inference.network import api as net

    if args.dry_run:
        print(net.curl_command("GET", net.base_url(args, parser) + "/batches"))
        return 0
    batches = net.require(api.get(args, parser, net.open_session(args.max_retries), "/batches"), "data")
    if args.json:
        cli.print_json({"batches": batches})
        return 0
    rows = []
    for b in batches:
        counts = b.get("request_counts") or {}
        done = f"{counts.get('completed') or 0}/{counts.get('total') or 0}"
        rows.append([b.get("batch_id"), b.get("status"), b.get("provider"), b.get("endpoint") or "-", done])
        rows[-1] += [counts.get("failed") or 0, b.get("created_at")]
    cli.print_table(rows, ["batch_id", "status", "provider", "endpoint", "done", "failed", "created_at"])
    return 0


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
    """Per-call cost objects from cached or bundled prices, each model matched once."""

    def __init__(self, cache_dir: str | None) -> None:
        from gradient_inference.prices import table as prices

        self.prices, self.table, self.rows = prices, prices.offline_prices(cache_dir), {}

    def row(self, model: str):
        if model not in self.rows:
            rows = self.table["models"] if self.table else []
            self.rows[model] = self.prices.match_price(model, rows)
        return self.rows[model]

    def cost(self, model: str, usage: dict) -> dict | None:
        """{usd, source, price_model} (prices.cost_object), or None when the model has no known price."""
        return self.prices.cost_object(usage, self.row(model), self.table["source"]) if model and self.table else None

    def require_prices(self, models: set[str]) -> None:
        unknown = sorted(m for m in models if self.cost(m, {"input_tokens": 1, "output_tokens": 1}) is None)
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
