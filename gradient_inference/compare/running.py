"""Sending a comparison: every (model, prompt, run) answer streamed through the chat pipeline and timed (first text
piece, end), then judged when a judge is asked for; many at once on a thread pool; kept in --output as whole JSONL
lines so that a rerun sends only what is missing. The pipeline writes each call's history row and checks budgets.

Lines of --output: {"kind": "answer", "model", "id", "run", "digest", "ok", ...} and {"kind": "judge", "judge",
"model", "id", "run", "digest", "ok", "score", "reason", ...}; for a key the last line wins, and only ok lines for
the prompt's current text (digest) count as done: failed calls are sent again."""

from __future__ import annotations

import sys
import threading
import time

from gradient_inference.compare.stats import answer_key, judge_key  # the --output file's keys
from gradient_inference.errors import GradientError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gradient_inference.pipeline.settings import Settings

MIN_MODELS, MAX_MODELS = 2, 16
ESTIMATE_OUTPUT_TOKENS = 512  # the --max-cost estimate's output per call when --max-tokens is not given
PROGRESS_FROM = 10  # calls: fewer than this show no progress bar


def compare(
    settings: Settings,
    models: list[str],
    prompts: list[dict[str, Any]],
    *,
    api: str = "chat",
    runs: int = 1,
    concurrency: int = 4,
    temperature: float | None = None,
    max_tokens: int | None = None,
    judge: str | None = None,
    rubric: str | None = None,
    output: str | None = None,
    max_cost: float | None = None,
    within: float | None = None,
    progress: bool = False,
    command: str | None = None,
) -> dict[str, Any] | None:
    """The report (stats.report's dict); None on a dry run. Bad input raises UsageError before anything is sent.
    `command`: the history's command column for every call (default: the settings' surface)."""
    from gradient_inference.compare import stats

    check(models, prompts, api, runs, concurrency, within)
    done = read_output(output) if output else {}
    todo = plan(models, prompts, runs, judge, done)
    estimate = estimate_usd(settings, todo, max_tokens, judge, rubric)
    if max_cost is not None:
        refuse_over(estimate, max_cost)
    if settings.dry_run:
        _dry_run(settings, todo, api, temperature, max_tokens, command)
        return None
    if todo:
        calls = Calls(settings, api, temperature, max_tokens, judge, rubric, command)
        _send(calls, todo, done, output, concurrency, progress)
    return stats.report(models, prompts, runs, done, judge, within, estimate)


def check(models: list[str], prompts: list, api: str, runs: int, concurrency: int, within: float | None) -> None:
    from gradient_inference.pipeline.chat import APIS

    if not MIN_MODELS <= len(models) <= MAX_MODELS:
        raise UsageError(
            f"give {MIN_MODELS} to {MAX_MODELS} models to compare (--model A --model B), got {len(models)}"
        )
    if any(not isinstance(m, str) or not m.strip() for m in models):
        raise UsageError("a model id must be a non-empty string")
    if len(set(models)) != len(models):
        raise UsageError("each model may be given once")
    if not prompts:
        raise UsageError("no prompts: give --prompt TEXT, --input FILE or JSONL on stdin")
    if api not in APIS:
        raise UsageError(f"api must be one of {', '.join(APIS)}, got {api!r}")
    for name, value in (("runs", runs), ("concurrency", concurrency)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UsageError(f"{name} must be a whole number, 1 or more, got {value!r}")
    if within is not None and (not isinstance(within, (int, float)) or within < 0):
        raise UsageError(f"within must be a number, 0 or more, got {within!r}")


def read_output(path: str) -> dict[tuple, dict[str, Any]]:
    """key -> the last line for it in an --output file (missing file: nothing yet; broken lines are skipped)."""
    import json

    found: dict[tuple, dict[str, Any]] = {}
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return found
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        for raw in fh:
            try:
                line = json.loads(raw)
                key = (answer_key(line["model"], line["id"], line["run"]) if line["kind"] == "answer"
                       else judge_key(line["judge"], line["model"], line["id"], line["run"]))  # fmt: skip
            except (ValueError, KeyError, TypeError):
                continue  # e.g. a crash fragment
            found[key] = line
    return found


def is_done(line: dict | None, prompt: dict[str, Any]) -> bool:
    return bool(line and line.get("ok") and line.get("digest") == prompt["digest"])


def plan(models: list[str], prompts: list, runs: int, judge: str | None, done: dict) -> list[dict[str, Any]]:
    """The calls still to make, models interleaved so that each gets its share of the pool from the start."""
    todo = []
    for run in range(1, runs + 1):
        for prompt in prompts:
            for model in models:
                ask = not is_done(done.get(answer_key(model, prompt["id"], run)), prompt)
                grade = bool(judge) and not is_done(done.get(judge_key(judge, model, prompt["id"], run)), prompt)
                if ask or grade:
                    todo.append({"model": model, "prompt": prompt, "run": run, "ask": ask, "grade": grade})
    return todo


def estimate_usd(settings: Settings, todo: list, max_tokens: int | None, judge: str | None, rubric) -> dict:
    """{usd, calls, unknown: [models without a price]} for the calls still to make: prompt characters / 4 tokens
    in, --max-tokens (else 512) out, at the price table's rates; a judge call adds its instructions and an answer."""
    from gradient_inference.compare import prompts as pr
    from gradient_inference.compare import quality
    from gradient_inference.prices import table as prices

    rows: dict[str, dict | None] = {}

    def cost(model: str, chars: int, out: int) -> float | None:
        if model not in rows:
            rows[model] = prices.find_price(model, settings.cache_dir)
        return prices.estimate_cost({"input_tokens": -(-chars // 4), "output_tokens": out}, rows[model])

    total, calls, unknown = 0.0, 0, []
    for item in todo:
        prompt = item["prompt"]
        out = prompt["max_tokens"] or max_tokens or ESTIMATE_OUTPUT_TOKENS
        chars = pr.prompt_chars(prompt)
        parts = [(item["model"], chars, out)] if item["ask"] else []
        if item["grade"]:
            parts.append((judge, quality.judge_chars(chars, out, rubric), quality.JUDGE_MAX_TOKENS))
        for model, sent, got in parts:
            calls += 1
            usd = cost(model, sent, got)
            if usd is None:
                unknown.append(model) if model not in unknown else None
            else:
                total += usd
    return {"usd": round(total, 8), "calls": calls, "unknown_price": unknown}


def refuse_over(estimate: dict, max_cost: float) -> None:
    if estimate["unknown_price"]:
        raise UsageError(
            f"--max-cost: the price of {', '.join(estimate['unknown_price'])} is unknown, so the cost cannot be "
            "bounded; drop --max-cost or choose priced models (gradient-pricing lists them)",
            kind="unknown_price",
        )
    if estimate["usd"] > max_cost:
        raise UsageError(
            f"the estimate for {estimate['calls']} calls is ${estimate['usd']:.6f}, above --max-cost "
            f"${max_cost:g}; nothing was sent (fewer prompts, --runs or --max-tokens lower it)",
            kind="over_max_cost",
        )


def ask_request(model: str, prompt: dict, api: str, temperature, max_tokens):
    from gradient_inference.pipeline.chat import ChatRequest

    return ChatRequest(
        model=model, api=api, messages=prompt["messages"], system=prompt["system"], stream=True,
        temperature=prompt["temperature"] if prompt["temperature"] is not None else temperature,
        max_tokens=prompt["max_tokens"] or max_tokens,
    )  # fmt: skip


def _dry_run(settings: Settings, todo: list, api: str, temperature, max_tokens, command) -> None:
    """Each request as the pipeline shows it on a dry run (the judge's depend on answers, so none are shown)."""
    from gradient_inference.pipeline import chat

    for item in todo:
        if item["ask"]:
            chat.complete(
                settings, ask_request(item["model"], item["prompt"], api, temperature, max_tokens), None, command
            )


def _error(err: BaseException) -> dict[str, Any]:
    if isinstance(err, GradientError):
        return {"type": err.kind, "message": " ".join(err.message.split()), "status": err.status}
    return {"type": "invalid_judge_reply", "message": str(err), "status": None}


class Calls:
    """How each call of one comparison is made: its answers' options, its judge, its history command."""

    def __init__(self, settings: Settings, api: str, temperature, max_tokens, judge, rubric, command) -> None:
        self.settings, self.api, self.temperature, self.max_tokens = settings, api, temperature, max_tokens
        self.judge, self.rubric, self.command = judge, rubric, command

    def ask(self, item: dict) -> dict[str, Any]:
        """One answer, streamed and timed: its --output line."""
        from gradient_inference.pipeline import chat

        prompt = item["prompt"]
        line = {"kind": "answer", "model": item["model"], "id": prompt["id"], "run": item["run"],
                "digest": prompt["digest"]}  # fmt: skip
        first: list[float] = []

        def on_text(piece: str) -> None:
            if not first:
                first.append(time.monotonic())

        request = ask_request(item["model"], prompt, self.api, self.temperature, self.max_tokens)
        start = time.monotonic()
        try:
            reply = chat.complete(self.settings, request, on_text, self.command)
        except GradientError as err:
            return {**line, "ok": False, "error": _error(err)}
        end = time.monotonic()
        return {
            **line, "ok": True, "content": reply["content"], "served_model": reply["model"], "usage": reply["usage"],
            "cost": reply["cost"], "latency_ms": round((end - start) * 1000, 3),
            "ttft_ms": round(((first[0] if first else end) - start) * 1000, 3),
            "finish_reason": reply["finish_reason"],
        }  # fmt: skip

    def grade(self, item: dict, content: str) -> dict[str, Any]:
        """The judge's score of one answer: its --output line."""
        from gradient_inference.compare import quality
        from gradient_inference.pipeline import chat

        prompt, judge = item["prompt"], self.judge
        line = {"kind": "judge", "judge": judge, "model": item["model"], "id": prompt["id"], "run": item["run"],
                "digest": prompt["digest"]}  # fmt: skip
        try:
            request = quality.judge_request(judge, prompt, content, self.rubric)
            reply = chat.complete(self.settings, request, None, self.command)
            score, reason = quality.judge_score(reply["parsed"])
        except (GradientError, ValueError) as err:
            return {**line, "ok": False, "error": _error(err)}
        return {**line, "ok": True, "score": score, "reason": reason, "usage": reply["usage"], "cost": reply["cost"]}


def _send(calls: Calls, todo: list, done: dict, output: str | None, concurrency: int, progress: bool) -> None:
    """Every planned call on a pool of `concurrency` threads; lines go to `done` (and --output) as they end."""
    from concurrent.futures import ThreadPoolExecutor, wait

    from gradient_inference.network import api as net

    settings = calls.settings
    own_session = settings.session is None
    if own_session:
        calls.settings = settings = settings.replace(
            session=net.open_session(settings.max_retries, pool_size=concurrency)
        )
    writer = None
    if output:
        from gradient_inference.batch.lines import ResultWriter

        writer = ResultWriter(output)
    lock, stop = threading.Lock(), threading.Event()
    bar = Progress(sum(i["ask"] + i["grade"] for i in todo), progress)

    def keep(line: dict, key: tuple) -> None:
        with lock:
            done[key] = line
        if writer is not None:
            writer.write(line)
        bar.update()

    def task(item: dict) -> None:
        if stop.is_set():
            return
        prompt, model, run = item["prompt"], item["model"], item["run"]
        key = answer_key(model, prompt["id"], run)
        if item["ask"]:
            keep(calls.ask(item), key)
        answer = done.get(key)
        if item["grade"] and answer and answer.get("ok") and not stop.is_set():
            keep(calls.grade(item, answer["content"] or ""), judge_key(calls.judge, model, prompt["id"], run))

    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="compare")
    try:
        pending = {pool.submit(task, item) for item in todo}
        while pending:
            finished, pending = wait(pending, timeout=0.25)  # short waits keep Ctrl-C prompt
            for future in finished:
                future.result()
    except BaseException:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=not stop.is_set())
        bar.close()
        if writer is not None:
            writer.close()
        if own_session:
            settings.session.close()


class Progress:
    """A tqdm bar on stderr when asked for (a terminal, more than a few calls); a plain line when tqdm is missing."""

    def __init__(self, total: int, show: bool) -> None:
        self.total, self.count, self.bar, self.lock = total, 0, None, threading.Lock()
        self.show = show and total >= PROGRESS_FROM
        if self.show:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self.bar = tqdm(total=total, unit="call", file=sys.stderr, dynamic_ncols=True, leave=False)

    def update(self) -> None:
        if not self.show:
            return
        with self.lock:
            self.count += 1
            if self.bar is not None:
                self.bar.update(1)
            else:
                sys.stderr.write(f"\rgradient-compare: {self.count}/{self.total} calls")
                sys.stderr.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.show and self.count:
            sys.stderr.write("\n")
