"""Many requests at once: a thread pool under an adaptive in-flight limit, a budget, and progress.

The limit follows AIMD, as TCP does: a 429 halves it (at most once per cool-down, so one burst of
429s counts once), each success raises it by 1/limit (about +1 per round of successes), never above
--concurrency. A 429 never fails a line: the request waits for Retry-After and is sent again.

Ctrl-C (Limiter.interrupt) stops new requests; the ones in flight are waited for (bounded), and a line that
is only waiting out a 429 is dropped unsent, so every request sent has its reply written and recorded.
"""

from __future__ import annotations

import random
import sys
import threading
import time

from gradient_inference.cli import base as cli
from gradient_inference.cli.base import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, Callable

RATE_LIMIT_TRIES = 50  # 429s tolerated per line; a server that never lets up still ends the run
RETRY_AFTER_CAP = 60.0
DECREASE_COOLDOWN = 1.0  # seconds between two halvings
PROGRESS_EVERY = 5.0  # seconds between progress lines when stderr is not a terminal


class Limiter:
    """The in-flight limit and the budget; state shared by the submitting thread and the workers."""

    def __init__(self, ceiling: int, budget: float | None = None) -> None:
        self.ceiling, self.limit, self.inflight = ceiling, float(ceiling), 0
        self.budget, self.spent, self.dearest = budget, 0.0, None
        self.cond = threading.Condition()
        self.last_cut = 0.0
        self.stopped: str | None = None  # "budget" or "interrupted" once no new request may start

    def interrupt(self) -> None:
        """No new request from now on. Safe from a signal handler: a plain assignment, no lock taken."""
        self.stopped = "interrupted"

    @property
    def interrupted(self) -> bool:
        return self.stopped == "interrupted"

    def acquire(self) -> bool:
        """Wait for a free slot; False when the budget forbids another request or the run was interrupted."""
        with self.cond:
            while True:
                if self.interrupted:
                    return False
                if self.budget is not None and not self._affordable():
                    if self.inflight == 0:  # nothing left to finish that could make room
                        self.stopped = "budget"
                        return False
                elif self.inflight < max(1, int(self.limit)):
                    self.inflight += 1
                    return True
                self.cond.wait(0.25)  # a timeout keeps Ctrl-C prompt in the main thread

    def pause(self, seconds: float) -> None:
        """Sleep, cut short by an interrupt."""
        end = time.monotonic() + seconds
        while not self.interrupted and time.monotonic() < end:
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    def _affordable(self) -> bool:
        if self.dearest is None:  # no price seen yet: one request at a time until one is
            return self.inflight == 0
        return self.spent + (self.inflight + 1) * self.dearest <= self.budget

    def release(self, cost: float | None) -> None:
        with self.cond:
            self.inflight -= 1
            if cost is not None:
                self.spent += cost
                self.dearest = max(cost, self.dearest or 0.0)
            self.cond.notify_all()

    def rate_limited(self) -> None:
        with self.cond:
            now = time.monotonic()
            if now - self.last_cut >= DECREASE_COOLDOWN:
                self.limit = max(1.0, self.limit / 2)
                self.last_cut = now
                cli.debug(f"429: in-flight limit lowered to {int(self.limit)}")

    def succeeded(self) -> None:
        with self.cond:
            self.limit = min(float(self.ceiling), self.limit + 1 / self.limit)
            self.cond.notify_all()


class Abandoned(Exception):
    """A line given up unsent after an interrupt: it gets no result line and no history row."""


def retry_after(value: str | None, attempt: int) -> float:
    """Seconds to wait after a 429: Retry-After (seconds or HTTP date, capped), else jittered backoff."""
    if value:
        try:
            return min(RETRY_AFTER_CAP, max(0.0, float(value)))
        except ValueError:
            import email.utils

            try:
                when = email.utils.parsedate_to_datetime(value).timestamp()
                return min(RETRY_AFTER_CAP, max(0.0, when - time.time()))
            except (TypeError, ValueError):
                pass
    return min(8.0, 0.5 * 2**attempt) * (0.5 + random.random() / 2)


def post(
    session, url: str, headers: dict[str, str], body: Any, timeout: float, limiter: Limiter, seen: dict | None = None
) -> Any:
    """POST and return the JSON reply; waits out 429s (lowering the limit), other errors raise CliError.
    `seen`, when given, receives the reply's headers (lower-cased names)."""
    import requests

    from gradient_inference.network import api as net

    for attempt in range(RATE_LIMIT_TRIES + 1):
        if limiter.interrupted and attempt:  # only waiting out a 429: nothing was billed, so nothing is lost
            raise Abandoned
        try:
            resp = session.post(url, json=body, headers=headers, stream=True, timeout=(timeout, timeout))
        except requests.exceptions.RequestException as exc:
            what = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "connection failed"
            raise CliError(f"request {what}", kind="timeout" if "timed" in what else "connection_error") from None
        if resp.status_code == 429 and attempt < RATE_LIMIT_TRIES:
            wait = retry_after(resp.headers.get("retry-after"), attempt)
            resp.close()
            limiter.rate_limited()
            cli.debug(f"429 on {url}; waiting {wait:.2f}s")
            limiter.pause(wait)
            continue
        if resp.status_code >= 400:
            retries = getattr(getattr(resp.raw, "retries", None), "history", ()) or ()
            raise net.error_for(resp, len(retries) + 1)
        data = net.read_json(resp)
        if seen is not None:
            seen.update((name.lower(), value) for name, value in resp.headers.items())
        limiter.succeeded()
        return data
    raise AssertionError("unreachable")


def run_all(
    jobs: Iterable[dict],
    work: Callable[[dict], tuple[dict, float | None]],
    done: Callable[[dict], None],
    limiter: Limiter,
    threads: int,
    drain_seconds: float = 60.0,
) -> int:
    """work(job) -> (result line, cost) on a pool of `threads`, at most limiter.limit at once; done(line)
    is called as each finishes. The input is pulled one job at a time, so memory stays flat.

    After limiter.interrupt(), no job starts and the ones in flight get up to drain_seconds to finish.
    Returns how many were still in flight when that ran out (0 when all finished)."""
    from concurrent.futures import ThreadPoolExecutor, wait

    pending: set = set()

    def task(job: dict) -> None:
        line, cost = None, None
        try:
            if limiter.interrupted:  # queued, never started: not sent
                return
            line, cost = work(job)
        except Abandoned:
            return
        finally:
            limiter.release(cost)
        done(line)

    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="batch")
    for job in jobs:
        if not limiter.acquire():
            break
        future = pool.submit(task, job)
        pending.add(future)
        future.add_done_callback(pending.discard)
    deadline = None
    while pending:
        if limiter.interrupted and deadline is None:
            deadline = time.monotonic() + drain_seconds
        if deadline is not None and time.monotonic() >= deadline:
            pool.shutdown(wait=False, cancel_futures=True)
            return len(pending)
        finished, _ = wait(list(pending), timeout=0.25)  # short waits keep Ctrl-C prompt
        for future in finished:
            future.result()  # a bug in work() surfaces here, not silently
    pool.shutdown()
    return 0


class Progress:
    """A tqdm bar on a terminal (when tqdm is installed); otherwise a plain line on stderr at most every few
    seconds; nothing with show=False (--json, where stderr carries only an error object)."""

    def __init__(self, total: int, skipped: int, prog: str, show: bool = True) -> None:
        self.total, self.ok, self.failed, self.prog, self.show = total, 0, 0, prog, show
        self.started = self.last = time.monotonic()
        self.bar = None
        if show and sys.stderr.isatty():
            try:
                from tqdm import tqdm
            except ImportError:  # a checkout run without tqdm: the plain lines below instead of a bar
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, initial=skipped, unit="req", file=sys.stderr, dynamic_ncols=True)
        self.done = skipped
        self.lock = threading.Lock()

    def update(self, ok: bool) -> None:
        with self.lock:
            self.done += 1
            self.ok += ok
            self.failed += not ok
            if self.bar is not None:
                self.bar.set_postfix(ok=self.ok, failed=self.failed, refresh=False)
                self.bar.update(1)
            elif self.show and time.monotonic() - self.last >= PROGRESS_EVERY:
                self.last = time.monotonic()
                rate = (self.ok + self.failed) / max(1e-9, self.last - self.started)
                eta = (self.total - self.done) / rate if rate else 0
                print(
                    f"{self.prog}: {self.done}/{self.total} done, {self.failed} failed, {rate:.1f}/s, ETA {eta:.0f}s",
                    file=sys.stderr,
                    flush=True,
                )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
