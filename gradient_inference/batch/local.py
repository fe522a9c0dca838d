"""gradient-batch run: every line of a JSONL file sent from this machine, many at once, resumable.

The output is locked for the run (files.lock_output); commands/batch.py's cmd_run removes the lock as it ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

from gradient_inference.cli import base as cli

PROG = "gradient-batch"


@contextlib.contextmanager
def interrupts(limiter):
    """The first Ctrl-C stops new requests and lets the ones in flight finish; the second stops at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum, frame):
        if limiter.interrupted:
            raise KeyboardInterrupt
        limiter.interrupt()
        cli.note("stopping: waiting for the replies in flight (Ctrl-C again to stop at once)")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_lines(parser, args, call, line_defaults, finish) -> int:
    """The run; line_defaults(args) and finish(args, summary, budget_reached) are commands/batch.py's."""
    from gradient_inference.prices.book import CostBook

    if args.input == "-" and not args.output:
        parser.error("--output is required when INPUT is '-' (stdin)")
    from gradient_inference.batch import lines as jl
    from gradient_inference.files import output as files

    output = args.output or jl.default_output(args.input)
    files.check_output_arg(output)
    if not args.dry_run:
        files.lock_output(output)  # two runs on one output would send every line twice
    source = jl.open_input(args.input)
    from gradient_inference.llm import server_tools

    defaults = line_defaults(args)
    defaults["tools"] = server_tools.tools_from_args(args, defaults["api"], dry_run=args.dry_run)
    done = jl.done_hashes(output)  # the startup cost of every rerun: one cheap pass over OUT, then the input
    info = jl.scan(source, defaults, done)
    costs = CostBook(args.cache_dir)
    if args.max_cost is not None or args.settings.budget is not None:  # neither can bound what it cannot price
        costs.require_prices(info["models"], "a budget" if args.max_cost is None else "--max-cost")
    if not info["todo"]:
        done = None  # nothing left to send: free it before the HTTP modules load
    todo = jl.jobs(source, defaults, done) if info["todo"] else iter(())

    from gradient_inference.network import api as net

    base = args.settings.base_url
    if args.dry_run:
        first = next(todo, None)
        print(net.curl_command("POST", base + first["path"], first["body"]) if first else "# nothing left to send")
        return 0
    key = net.api_key(base, given=args.settings.api_key)
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    from gradient_inference.batch import runner as runner
    from gradient_inference.llm import apis
    from gradient_inference.pipeline.chat import reply_cost
    from gradient_inference.spend import budget

    cap, window = args.max_cost, budget.check(call)  # at or past a budget: exit 1 before sending
    if window is not None:  # the budget's rest bounds this run as --max-cost does
        cap = window["left"] if cap is None else min(cap, window["left"])
    session = net.open_session(args.max_retries, pool_size=args.concurrency, retry_429=False)
    limiter = runner.Limiter(args.concurrency, cap)
    args.budget_window = window
    progress = runner.Progress(info["count"], info["skipped"], PROG, show=not args.json)
    writer = jl.ResultWriter(output)
    spent: list[float] = []
    from gradient_inference.history import record

    history = record.Batcher(args.settings)  # one row per line, written 200 rows (or 1 s) at a time

    def work(job: dict) -> tuple[dict, float | None]:
        seen: dict = {}
        began = time.monotonic()
        row = {"requested_model": job["model"], "messages": job["body"].get("messages"), "extra": {"line": job["id"]}}
        try:
            data = runner.post(session, base + job["path"], headers, job["body"], args.timeout, limiter, seen)
            reply = apis.module(job["api"]).parse_reply(data)
        except cli.CliError as err:
            history.add("batch", job["path"], error=err, wall_ms=(time.monotonic() - began) * 1000, **row)
            return jl.error_line(job["id"], err), None
        reply["model"] = reply["model"] or job["model"]
        if job["model"].startswith("router:"):
            reply["requested_model"], reply["route"] = job["model"], seen.get("x-model-router-selected-route")
        tools = job["body"].get("tools") or defaults["tools"]
        cost = reply_cost(args.settings, reply, job["model"], None, tools, price=costs.cost)  # chat's own rule
        history.add("batch", job["path"], reply=reply, cost=cost, wall_ms=(time.monotonic() - began) * 1000, **row)
        return jl.ok_line(job["id"], reply, cost), cost["usd"] if cost else None

    def done(line: dict) -> None:
        writer.write(line)
        progress.update(line["ok"])
        if line.get("cost"):
            spent.append(line["cost"]["usd"])
        elif line["ok"]:
            unpriced.append(1)

    unpriced: list[int] = []
    started = time.monotonic()
    with interrupts(limiter):
        try:
            abandoned = runner.run_all(todo, work, done, limiter, args.concurrency, drain_seconds=args.timeout + 1)
        except KeyboardInterrupt:  # the second Ctrl-C: stop at once
            abandoned = None
    if limiter.interrupted:
        writer.close()  # waits for a line being written; any later reply is dropped, never half-written
        history.close()
        progress.close()
        held = jl.count_lines(output)
        if abandoned is None:
            what = "stopped at once; replies in flight were not waited for"
        elif abandoned:
            what = f"{abandoned} replies still in flight after {args.timeout + 1:g}s were not waited for"
        else:
            what = "every reply in flight was written"
        cli.note(f"interrupted ({what}); {output} holds {held} result lines; rerun the same command to continue")
        sys.stdout.flush()
        sys.stderr.flush()
        files.unlock_outputs()
        os._exit(cli.EXIT_INTERRUPTED)  # threads still waiting on a socket are abandoned, not joined
    writer.close()
    history.close()
    progress.close()
    summary = {
        "total": info["count"],
        "ok": progress.ok,
        "failed": progress.failed,
        "skipped": info["skipped"],
        "seconds": round(time.monotonic() - started, 3),
        "cost_usd": round(sum(spent), 8) if spent else None,
        "cost_unknown": len(unpriced),
        "output": output,
    }
    return finish(args, summary, limiter.stopped == "budget")
