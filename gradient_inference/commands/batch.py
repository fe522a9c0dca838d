"""Many prompts at once: `run` sends them from here; `submit` and friends use DigitalOcean Batch Inference."""

from __future__ import annotations

import os

from gradient_inference.cli import base as cli

DEFAULT_MODEL = "openai-gpt-oss-120b"  # llm/completions.DEFAULT_MODEL; repeated so --help need not load it
PROG = "gradient-batch"
STATUSES = ("validating", "in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled")


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
    cli.add_server_tool_flags(run)  # the same server-side tools for every line
    run.add_argument("--max-cost", type=cli.positive_float, metavar="USD", help="stop starting requests at this cost")
    run.add_argument("--cache-dir", help="pricing cache folder for cost estimates (env GRADIENT_CACHE_DIR)")

    submit = sub("submit", "hand a JSONL file to DigitalOcean Batch Inference (OpenAI and Anthropic models)")
    submit.add_argument("input", metavar="INPUT", help="JSONL file of prompts (same formats as run), or '-'")
    add_line_defaults(submit)
    submit.add_argument("--manifest", metavar="PATH", help="job manifest (default INPUT.batch.json); rerun resumes")
    submit.add_argument("--wait", action="store_true", help="poll until every batch ends, downloading the results")
    submit.add_argument("--output", metavar="OUT", help="results JSONL with --wait (default BATCH_ID.results.jsonl)")
    submit.add_argument("--cache-dir", help="pricing cache folder for cost estimates (env GRADIENT_CACHE_DIR)")
    target_help = "batch id, or a job manifest (INPUT.batch.json)"
    for name, text in (
        ("status", "show a batch's or a job's status and request counts"),
        ("cancel", "cancel a batch, or every unfinished batch of a job"),
    ):
        sub(name, text).add_argument("target", metavar="ID_OR_MANIFEST", type=batch_target, help=target_help)
    results = sub("results", "download a finished batch's (or job's) results as run's result lines")
    results.add_argument("target", metavar="ID_OR_MANIFEST", type=batch_target, help=target_help)
    results.add_argument("--output", metavar="OUT", help="results JSONL (default BATCH_ID.results.jsonl)")
    results.add_argument("--cache-dir", help="pricing cache folder for cost estimates (env GRADIENT_CACHE_DIR)")
    listing = sub("list", "list batches, newest first, every page")
    listing.add_argument("--limit", type=cli.positive_int, default=20, help="most batches to show (default 20)")
    listing.add_argument("--status", choices=STATUSES, help="only batches in this status")
    return parser


def batch_target(text: str) -> tuple[str, str]:
    """('batch', id) for a UUID (the spec's batch ids), ('job', path) for a manifest file; else a usage error."""
    import re

    if re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", text.strip()):
        return "batch", text.strip().lower()
    if os.path.isfile(text):
        return "job", text
    raise cli.argparse.ArgumentTypeError(f"not a batch id (a UUID) or a manifest file: {text!r}")


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
    from gradient_inference.pipeline.call import Call

    with Call(args.settings) as call:  # the history rows of every request the subcommand sends
        return commands[args.command](args.parser, args, call)


# ---------------------------------------------------------------- run


def cmd_run(parser, args, call) -> int:
    from gradient_inference.batch import local
    from gradient_inference.files import output as files

    try:
        return local.run_lines(parser, args, call, line_defaults, finish)
    finally:  # ended, failed or interrupted: the lock file goes with the run
        files.unlock_outputs()


# ---------------------------------------------------------------- submit, status, results, cancel, list


def cmd_submit(parser, args, call) -> int:
    from gradient_inference.batch import job
    from gradient_inference.batch import lines as jl
    from gradient_inference.files import output as files

    if args.output:
        files.check_output_arg(args.output)
    manifest_path = args.manifest or job.default_manifest(args.input)
    files.check_output_arg(manifest_path)
    source = jl.open_input(args.input)
    info = jl.scan(source, line_defaults(args))
    manifest = job.submit(args, call, source, line_defaults(args), info, manifest_path)
    if manifest is None:  # --dry-run
        return 0
    shards, key = manifest["shards"], manifest["key"]
    first = shards[0]
    if not args.wait:
        if args.json:
            shown = {"batch_id": first["batch_id"], "status": first["status"], "provider": key["provider"]}
            shown.update({"endpoint": key["endpoint"], "total": info["count"], "job": manifest_path})
            cli.print_json({**shown, "batches": [{"batch_id": s["batch_id"], "lines": s["lines"]} for s in shards]})
        else:
            for s in shards:
                print(
                    s["batch_id"] if len(shards) == 1 else f"{s['batch_id']}  lines {s['first_line']}-{s['last_line']}"
                )
        target = manifest_path if len(shards) > 1 else first["batch_id"]
        cli.note(
            f"submitted {info['count']} requests in {len(shards)} batch{'es' if len(shards) > 1 else ''}; "
            f"job manifest {manifest_path}; next: {PROG} status {target}, then {PROG} results {target}"
        )
        return 0
    if not args.json:
        cli.note(
            f"submitted {info['count']} requests in {len(shards)} batch(es), job manifest {manifest_path}; "
            "waiting (Ctrl-C stops waiting, not the batches)"
        )
    return job_results(args, call, manifest, manifest_path, wait=True)


def job_results(args, call, manifest: dict, path: str, wait: bool = False) -> int:
    """Every finished shard's results merged into OUT; exit 1 while any shard is unfinished."""
    from gradient_inference.batch import shards as jobs
    from gradient_inference.network import api as net

    session = net.open_session(args.max_retries)
    first = manifest["shards"][0]
    output = args.output or f"{first['batch_id'] or 'job'}.results.jsonl"
    merge = jobs.Merge(output, cost_book(args.cache_dir))
    try:
        problems = (jobs.wait if wait else jobs.download_finished)(args, call, session, manifest, path, merge)
    finally:
        merge.close()
    statuses = {s.get("status") for s in manifest["shards"]}
    summary = merge.summary(batch_id=first["batch_id"], status=statuses.pop() if len(statuses) == 1 else "mixed")
    summary.update(job=path, shards=len(manifest["shards"]), unfinished=len(problems))
    if problems:
        if args.json:
            cli.print_json(summary)
        raise cli.CliError(
            f"{len(problems)} of {len(manifest['shards'])} batches have no results in {output} yet "
            f"({'; '.join(problems[:3])}); {summary['ok']} ok and {summary['failed']} failed lines written; "
            f"rerun {PROG} results {path} later",
            kind="results_not_ready",
        )
    return finish(args, summary)


def cmd_results(parser, args, call) -> int:
    from gradient_inference.files import output as files
    from gradient_inference.network import api as net

    if args.output:
        files.check_output_arg(args.output)
    kind, target = args.target
    if kind == "job":
        from gradient_inference.batch import job

        manifest = job.load(target, required=True)
        if args.dry_run:
            bid = manifest["shards"][0].get("batch_id")
            print(net.curl_command("GET", args.settings.base_url + f"/batches/{bid}/results"))
            return 0
        return job_results(args, call, manifest, target)
    if args.dry_run:
        print(net.curl_command("GET", args.settings.base_url + f"/batches/{target}/results"))
        return 0
    return download(args, call, net.open_session(args.max_retries), target, None)


def download(args, call, session, bid: str, status: str | None) -> int:
    """One batch's results to OUT as run's lines: appended whole, an id already in OUT is not written again."""
    from gradient_inference.batch import shards as jobs

    merge = jobs.Merge(args.output or f"{bid}.results.jsonl", cost_book(args.cache_dir))
    try:
        merge.batch(args, call, session, bid)
    finally:
        merge.close()
    return finish(args, merge.summary(batch_id=bid, status=status))


def cmd_status(parser, args, call) -> int:
    return show_batch(args, call, "GET", "/batches/{}")


def cmd_cancel(parser, args, call) -> int:
    return show_batch(args, call, "POST", "/batches/{}/cancel")


def show_batch(args, call, method: str, path: str) -> int:
    from gradient_inference.batch import remote as api
    from gradient_inference.network import api as net

    kind, target = args.target
    if kind == "job":
        return show_job(args, call, method, target)
    if args.dry_run:
        print(net.curl_command(method, args.settings.base_url + path.format(target)))
        return 0
    batch = api.get(args, call, net.open_session(args.max_retries), path.format(target), method)
    if args.json:
        cli.print_json(batch)
    else:
        print(f"{batch.get('batch_id')}  {api.progress_text(batch)}")
    return 0


def show_job(args, call, method: str, path: str) -> int:
    from gradient_inference.batch import job
    from gradient_inference.batch import remote as api
    from gradient_inference.batch import shards as jobs
    from gradient_inference.network import api as net

    manifest = job.load(path, required=True)
    if args.dry_run:
        bid = manifest["shards"][0].get("batch_id")
        print(net.curl_command(method, args.settings.base_url + f"/batches/{bid}" + ("/cancel" * (method == "POST"))))
        return 0
    session = net.open_session(args.max_retries)
    if method == "POST":
        jobs.cancel(args, call, session, manifest, path)
    shown = jobs.status(args, call, session, manifest, path)
    if args.json:
        cli.print_json(shown)
        return 0
    for shard, batch in zip(manifest["shards"], shown["batches"]):
        where = f"lines {shard['first_line']}-{shard['last_line']}"
        print(f"{shard['batch_id'] or '-'}  {api.progress_text(batch) if batch else 'not submitted'}  ({where})")
    counts = shown["total"]
    print(
        f"total  {shown['finished']}/{shown['shards']} batches ended: {counts['completed']}/{counts['total']} done, "
        f"{counts['failed']} failed"
    )
    return 0


def cmd_list(parser, args, call) -> int:
    from gradient_inference.batch import remote as api
    from gradient_inference.network import api as net

    if args.dry_run:
        print(net.curl_command("GET", args.settings.base_url + api.list_path(args.limit, args.status, None)))
        return 0
    batches = api.list_all(args, call, net.open_session(args.max_retries), args.limit, args.status)
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
    if summary.get("cost_unknown"):
        cost += f"; cost unknown for {summary['cost_unknown']} line{'s' if summary['cost_unknown'] > 1 else ''}"
    text = (
        f"{summary['ok']} ok, {summary['failed']} failed, {summary['skipped']} skipped{seconds}{cost}; "
        f"results in {summary['output']}"
    )
    window = getattr(args, "budget_window", None)
    from gradient_inference.spend.report import dollars

    if budget_reached and window is not None and (args.max_cost is None or window["left"] < args.max_cost):
        raise cli.CliError(
            f"budget of ${dollars(window['usd'])}/{window['period']} reached, no new requests started: {text}",
            kind="budget_exceeded",
        )
    if budget_reached:
        raise cli.CliError(
            f"budget of ${dollars(args.max_cost)} reached, no new requests started: {text}; "
            "rerun with a higher --max-cost to continue",
            kind="budget_reached",
        )
    if summary["failed"]:
        raise cli.CliError(f"{text}; rerun the same command to retry the failed lines", kind="lines_failed")
    cli.note(text)
    return 0


def cost_book(cache_dir: str | None):
    from gradient_inference.prices.book import CostBook

    return CostBook(cache_dir)


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
