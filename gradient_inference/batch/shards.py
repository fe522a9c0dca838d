"""A job's batches after submit: status, cancel, results (merged into one file) and --wait, by manifest.

Every shard's last known status and request counts go back into the manifest (atomically). Results
are appended to OUT as `run`'s lines; an id already in OUT is never written again, and a shard is
recorded as downloaded to OUT only once all its lines are there, so a failed download is retried
on the next run and nothing already written is lost.
"""

from __future__ import annotations

import os
import sys

from gradient_inference.batch import job as manifests
from gradient_inference.batch import lines as jl
from gradient_inference.batch import remote as api
from gradient_inference.cli import base as cli
from gradient_inference.cli.base import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def refresh(args, call, session, manifest: dict, path: str, shard: dict) -> dict | None:
    """GET the shard's batch and record its status; None for a shard with no batch yet."""
    if not shard.get("batch_id"):
        return None
    batch = api.get(args, call, session, f"/batches/{shard['batch_id']}")
    shard.update(status=batch.get("status"), request_counts=batch.get("request_counts"))
    return batch


def totals(shards: list[dict]) -> dict[str, int]:
    counts = {"total": 0, "completed": 0, "failed": 0}
    for shard in shards:
        for name in counts:
            counts[name] += ((shard.get("request_counts") or {}).get(name)) or 0
    return counts


def finished(shard: dict) -> bool:
    return shard.get("status") in api.TERMINAL


def status(args, call, session, manifest: dict, path: str) -> dict[str, Any]:
    batches = [refresh(args, call, session, manifest, path, s) for s in manifest["shards"]]
    manifests.save(path, manifest)
    shards = manifest["shards"]
    done = sum(finished(s) for s in shards)
    return {"job": path, "batches": batches, "finished": done, "shards": len(shards), "total": totals(shards)}


def cancel(args, call, session, manifest: dict, path: str) -> list[dict]:
    """Cancel every shard not yet finished (a 409, already finished, is not an error here)."""
    out = []
    for shard in manifest["shards"]:
        batch = refresh(args, call, session, manifest, path, shard)
        if batch is None or finished(shard):
            out.append(batch)
            continue
        try:
            batch = api.get(args, call, session, f"/batches/{shard['batch_id']}/cancel", "POST")
        except CliError as err:
            if err.status != 409:
                manifests.save(path, manifest)
                raise
            batch = refresh(args, call, session, manifest, path, shard)
        shard.update(status=batch.get("status"), request_counts=batch.get("request_counts"))
        out.append(batch)
    manifests.save(path, manifest)
    return out


class Merge:
    """Appends results of many batches to one OUT, each id once, with run's counters."""

    def __init__(self, output: str, costs) -> None:
        self.output, self.costs = output, costs
        self.present = set(jl.read_results(output))
        self.writer = None  # opened at the first line, so a batch with nothing ready leaves no file
        self.ok = self.failed = self.skipped = 0
        self.spent: list[float] = []

    def batch(self, args, call, session, bid: str) -> list[str]:
        """Append one batch's result lines; returns the ids its files held."""
        links = api.result_urls(args, call, session, bid)
        seen, spent, bases, tokens = [], [], set(), [0, 0]
        for key, what in (("output_file_url", "output file"), ("error_file_url", "error file")):
            for raw in api.file_lines(links[key], what, args.timeout) if links.get(key) else ():
                line = api.normalise(raw, self.costs)
                seen.append(line["id"])
                if line.get("cost"):  # the batch's own spend, whether or not OUT has the line already
                    spent.append(line["cost"]["usd"])
                    bases.add(line.get("cost_basis"))
                    usage = line.get("usage") or {}
                    tokens = [
                        tokens[0] + (usage.get("input_tokens") or 0),
                        tokens[1] + (usage.get("output_tokens") or 0),
                    ]
                if line["id"] in self.present:
                    self.skipped += 1
                    continue
                self.writer = self.writer or jl.ResultWriter(self.output)
                self.writer.write(line)
                self.present.add(line["id"])
                if line["ok"]:
                    self.ok += 1
                else:
                    self.failed += 1
                if line.get("cost"):
                    self.spent.append(line["cost"]["usd"])
        from gradient_inference.spend import report

        basis = "batch" if bases == {"batch"} else "serverless"  # a mix is labelled by its dearer part
        report.record_batch_spend(call.settings, bid, round(sum(spent), 8) if spent else None, tuple(tokens), basis)
        return seen

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def summary(self, **extra: Any) -> dict[str, Any]:
        out = {**extra, "total": self.ok + self.failed + self.skipped, "ok": self.ok, "failed": self.failed}
        out.update({"skipped": self.skipped, "seconds": None, "output": self.output})
        out["cost_usd"] = round(sum(self.spent), 8) if self.spent else None  # at batch rates where the catalog has them
        return out


def download_finished(args, call, session, manifest: dict, path: str, merge: Merge, fresh: bool = True) -> list[str]:
    """Fetch every finished shard not yet downloaded to OUT (`fresh`: asking first how the others are);
    returns the problems, one per shard left for a later run."""
    target = os.path.abspath(merge.output)
    problems = []
    for shard in manifest["shards"]:
        if target in (shard.get("downloaded") or []) and os.path.exists(merge.output):
            continue
        if fresh and not finished(shard):
            refresh(args, call, session, manifest, path, shard)
        if not shard.get("batch_id") or not finished(shard):
            problems.append(f"shard {shard['index']} not finished ({shard.get('status') or 'not submitted'})")
            continue
        try:
            seen = merge.batch(args, call, session, shard["batch_id"])
        except CliError as err:
            if err.kind == "no_results":  # ended failed/expired/cancelled before any result: nothing will come
                shard["downloaded"] = [*(shard.get("downloaded") or []), target]
                manifests.save(path, manifest)
            problems.append(f"shard {shard['index']}: {err.message}")
            continue
        if manifests.ids_digest(set(seen)) != shard["ids_digest"]:
            cli.note(f"shard {shard['index']}: its result files hold {len(set(seen))} of {shard['lines']} ids")
        shard["downloaded"] = [*(shard.get("downloaded") or []), target]
        manifests.save(path, manifest)
    return problems


def wait(args, call, session, manifest: dict, path: str, merge: Merge) -> list[str]:
    """Poll every shard until all have ended (1 s, 2 s ... 60 s apart), downloading each as it ends;
    one progress bar over the job's request counts (a line on stderr when it changes, off a terminal or without tqdm)."""
    import time

    bar, shown, delay = None, "", 1.0
    shards = manifest["shards"]
    if not args.json and sys.stderr.isatty():
        try:
            from tqdm import tqdm
        except ImportError:  # a checkout run without tqdm: the plain lines below instead of a bar
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=totals(shards)["total"] or None, unit="req", file=sys.stderr, dynamic_ncols=True)
    try:
        while True:
            last = None
            for shard in shards:
                if not finished(shard):
                    last = refresh(args, call, session, manifest, path, shard)
            manifests.save(path, manifest)
            counts = totals(shards)
            if bar is not None:
                bar.total = counts["total"]
                bar.update(counts["completed"] + counts["failed"] - bar.n)
            else:
                text = job_progress(shards, counts, last)
                if text != shown and not args.json:
                    cli.note(text)
                    shown = text
            if all(finished(s) for s in shards):
                break
            download_finished_quietly(args, call, session, manifest, path, merge)
            time.sleep(delay)
            delay = min(60.0, delay * 2)
    finally:
        if bar is not None:
            bar.close()
    return download_finished(args, call, session, manifest, path, merge, fresh=False)


def download_finished_quietly(args, call, session, manifest, path, merge) -> None:
    """While waiting: fetch the shards that have ended; what is left (or fails) is fetched at the end."""
    if any(
        finished(s) and os.path.abspath(merge.output) not in (s.get("downloaded") or []) for s in manifest["shards"]
    ):
        download_finished(args, call, session, manifest, path, merge, fresh=False)


def job_progress(shards: list[dict], counts: dict[str, int], last: dict | None) -> str:
    if len(shards) == 1 and last is not None:
        return api.progress_text(last)
    done = sum(finished(s) for s in shards)
    return (
        f"{done}/{len(shards)} batches ended: {counts['completed']}/{counts['total']} done, {counts['failed']} failed"
    )
