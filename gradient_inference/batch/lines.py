"""Batch lines: reading and checking an input file, writing result lines, and resuming from them.

Shared by `gradient-batch run` (requests sent from here) and `gradient-batch submit` (DigitalOcean
Batch Inference). The input is read twice, never held whole: `scan` checks every line before
anything is sent, then `jobs` streams them again. Results are appended one whole line at a time.

A job is a dict: id, model, api ('chat' | 'responses'), path, body (the serverless request), and for
simple lines also messages, system, max_tokens, temperature (so submit can build Anthropic lines).
"""

from __future__ import annotations

import os
import threading
import time

from gradient_inference.cli import base as cli
from gradient_inference.cli.base import EXIT_USAGE, CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO, Any

OPENAI_URLS = {"/v1/chat/completions": "chat", "/v1/responses": "responses"}
SIMPLE_OVERRIDES = ("model", "system", "max_tokens", "temperature")
RECORD_END = b"\x1e\n"  # ends a crash fragment: ASCII record separator, then a newline
FSYNC_INTERVAL = 1.0  # seconds; every line is flushed at once, fsync (survives power loss) at most this often


def bad_input(message: str) -> CliError:
    return CliError(message, kind="invalid_input", exit_code=EXIT_USAGE)


# ---------------------------------------------------------------- input


def open_input(path: str) -> IO[bytes]:
    """The input as a seekable binary file; stdin is spooled to a temporary file so it can be read twice."""
    import sys
    import tempfile

    if path == "-":
        spool = tempfile.TemporaryFile()
        while chunk := sys.stdin.buffer.read(1 << 20):
            spool.write(chunk)
        spool.seek(0)
        return spool
    try:
        return open(path, "rb")
    except OSError as exc:
        raise bad_input(f"cannot read {path}: {exc.strerror or exc}") from None


def _objects(fh: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line."""
    import json

    fh.seek(0)
    for number, raw in enumerate(fh, 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError:
            raise bad_input(f"line {number} is not valid JSON") from None
        if not isinstance(obj, dict):
            raise bad_input(f"line {number} is not a JSON object")
        yield number, obj


def to_job(obj: dict[str, Any], number: int, defaults: dict[str, Any]) -> dict[str, Any]:
    """One input line as a job; a bad line raises an exit-2 error naming its number."""
    if any(k in obj for k in ("custom_id", "url", "body", "method")):
        return _openai_line(obj, number, defaults)
    from gradient_inference.llm import apis
    from gradient_inference.llm import conversation as conv

    where = f"line {number}"
    job_id = obj.get("id", f"line-{number}")
    if isinstance(job_id, int) and not isinstance(job_id, bool):
        job_id = str(job_id)
    if not isinstance(job_id, str) or not job_id.strip():
        raise bad_input(f"{where}: id must be a non-empty string")
    settings = {name: obj.get(name, defaults.get(name)) for name in SIMPLE_OVERRIDES}
    _check_settings(settings, where)
    if "prompt" in obj and "messages" in obj:
        raise bad_input(f"{where}: give prompt or messages, not both")
    if "prompt" in obj:
        if not isinstance(obj["prompt"], str) or not obj["prompt"].strip():
            raise bad_input(f"{where}: prompt must be a non-empty string")
        messages = [{"role": "user", "content": obj["prompt"]}]
    elif "messages" in obj:
        try:
            messages = conv.check_messages(obj["messages"])
        except ValueError as exc:
            raise bad_input(f"{where}: {exc}") from None
    else:
        raise bad_input(f"{where} has no prompt, messages or body")
    api = defaults.get("api", "chat")
    path, body = apis.module(api).build_request(
        settings["model"],
        messages,
        instructions=settings["system"],
        max_tokens=settings["max_tokens"],
        temperature=settings["temperature"],
        tools=defaults.get("tools") or None,
    )
    return {"id": job_id, "api": api, "path": path, "body": body, "messages": messages, **settings}


def _check_settings(settings: dict[str, Any], where: str) -> None:
    if not isinstance(settings["model"], str) or not settings["model"].strip():
        raise bad_input(f"{where}: model must be a non-empty string")
    if settings["system"] is not None and not isinstance(settings["system"], str):
        raise bad_input(f"{where}: system must be a string")
    tokens = settings["max_tokens"]
    if tokens is not None and (not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 1):
        raise bad_input(f"{where}: max_tokens must be a positive integer")
    temp = settings["temperature"]
    if temp is not None and (not isinstance(temp, (int, float)) or isinstance(temp, bool) or not 0 <= temp <= 2):
        raise bad_input(f"{where}: temperature must be a number from 0 to 2")


def _openai_line(obj: dict[str, Any], number: int, defaults: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI batch line {custom_id, method, url, body}, sent as its body says."""
    from gradient_inference.llm import conversation as conv

    where = f"line {number}"
    job_id, body = obj.get("custom_id"), obj.get("body")
    if not isinstance(job_id, str) or not job_id.strip():
        raise bad_input(f"{where}: custom_id must be a non-empty string")
    if obj.get("method", "POST") != "POST":
        raise bad_input(f"{where}: method must be POST")
    if obj.get("url") not in OPENAI_URLS:
        raise bad_input(f"{where}: url must be one of {', '.join(OPENAI_URLS)}")
    if not isinstance(body, dict):
        raise bad_input(f"{where} has no prompt, messages or body")
    if body.get("stream"):
        raise bad_input(f"{where}: streaming bodies are not supported in a batch")
    body = {**body, "model": body.get("model") or defaults.get("model")}
    if not isinstance(body["model"], str) or not body["model"].strip():
        raise bad_input(f"{where}: body.model must be a non-empty string")
    api = OPENAI_URLS[obj["url"]]
    if defaults.get("tools"):  # server-side tool flags apply to every line
        body["tools"] = [*(body.get("tools") or []), *defaults["tools"]]
    if api == "chat":
        try:
            conv.check_messages(body.get("messages"))
        except ValueError as exc:
            raise bad_input(f"{where}: body.messages: {exc}") from None
    elif not body.get("input"):
        raise bad_input(f"{where}: body.input is required for /v1/responses")
    return {"id": job_id, "model": body["model"], "api": api, "path": obj["url"][len("/v1") :], "body": body}


ID_BITS = (1 << 60) - 1  # hashes cut to 60 bits are the smallest ints past 2^30 (32 bytes, not 40)


def id_hash(job_id: Any) -> int:
    """A non-negative 60-bit hash of a string id; -1 (never a done id) for anything else."""
    return hash(job_id) & ID_BITS if isinstance(job_id, str) else -1


def line_id(obj: dict[str, Any], number: int) -> Any:
    """The id to_job would give this line, without building its request (None when it has none)."""
    if any(k in obj for k in ("custom_id", "url", "body", "method")):
        return obj.get("custom_id")
    job_id = obj.get("id", f"line-{number}")
    return str(job_id) if isinstance(job_id, int) and not isinstance(job_id, bool) else job_id


def scan(fh: IO[bytes], defaults: dict[str, Any], done: dict[int, bool] | None = None) -> dict[str, Any]:
    """Check every line before anything is sent: {count, todo, skipped, models, apis}.

    `done` (from done_hashes, resuming): hash(id) -> False for ids already finished. Those lines are only
    checked for duplicates and marked True in place (no new memory) for jobs() to skip; only the rest are
    built and checked in full. Ids (or their hashes) are held, never lines."""
    seen: set[Any] = set()
    models: set[str] = set()
    apis: set[str] = set()
    count = skipped = 0
    for number, obj in _objects(fh):
        count += 1
        if done:
            mark = id_hash(line_id(obj, number))
            met = done.get(mark)
            if met is False:
                done[mark] = True
                skipped += 1
                continue
            if met:
                raise bad_input(f"line {number}: duplicate id {line_id(obj, number)!r}")
        job = to_job(obj, number, defaults)
        key = id_hash(job["id"]) if done else job["id"]
        if key in seen:
            raise bad_input(f"line {number}: duplicate id {job['id']!r}")
        seen.add(key)
        models.add(job["model"])
        apis.add(job["api"])
    if not count:
        raise bad_input("the input is empty: expected JSON lines with a prompt, messages or body")
    return {"count": count, "todo": len(seen), "skipped": skipped, "models": models, "apis": apis}


def jobs(fh: IO[bytes], defaults: dict[str, Any], done: dict[int, bool] | None = None) -> Iterator[dict]:
    """The jobs again, streamed, leaving out the lines scan() marked done."""
    for number, obj in _objects(fh):
        if done and done.get(id_hash(line_id(obj, number))):
            continue
        yield to_job(obj, number, defaults)


def numbered_jobs(fh: IO[bytes], defaults: dict[str, Any]) -> Iterator[tuple[int, dict]]:
    """(line number, job) for every line, streamed."""
    for number, obj in _objects(fh):
        yield number, to_job(obj, number, defaults)


# ---------------------------------------------------------------- results


def default_output(input_path: str) -> str:
    root = input_path[: -len(".jsonl")] if input_path.lower().endswith(".jsonl") else input_path
    return root + ".results.jsonl"


def ok_line(job_id: str, reply: dict[str, Any], cost: dict[str, Any] | None) -> dict[str, Any]:
    line = {
        "id": job_id,
        "ok": True,
        "model": reply.get("model"),
        "content": reply.get("content"),
        "finish_reason": reply.get("finish_reason"),
        "usage": reply.get("usage"),
        "cost": cost,
    }
    for key in ("tool_calls", "citations", "server_tools"):  # only when there are some
        if reply.get(key):
            line[key] = reply[key]
    if "requested_model" in reply:  # a router was asked for
        line["requested_model"], line["route"] = reply["requested_model"], reply["route"]
    return line


def error_line(job_id: str, err: CliError) -> dict[str, Any]:
    message = " ".join(str(err.message).split())
    error = {"type": err.kind, "message": message, "status": err.status, "request_id": err.request_id}
    return {"id": job_id, "ok": False, "error": error}


def _result_lines(path: str) -> Iterator[tuple[str, bool]]:
    """(id, ok) per line of an existing results file, in order; broken lines are left out.

    Lines this module wrote start with {"id": "...", "ok": true|false and end with }: those are read
    without a full JSON parse (the cost of every resume). Anything else, e.g. an id with escapes, is
    parsed in full. A crash fragment never ends with "}": it is closed off with RECORD_END."""
    import json

    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}", kind="read_error") from None
    with fh:
        for raw in fh:
            end = raw.find(b'"', 8)
            if raw.startswith(b'{"id": "') and raw.endswith(b"}\n") and raw.startswith(b'", "ok": ', end):
                job_id = raw[8:end]
                if b"\\" not in job_id:
                    yield job_id.decode("utf-8", "replace"), raw.startswith(b"true", end + 9)
                    continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue  # e.g. the partial last line of a crashed run
            if isinstance(line, dict) and isinstance(line.get("id"), str):
                yield line["id"], line.get("ok") is True


def read_results(path: str) -> dict[str, bool]:
    """id -> ok for an existing results file; the last line per id wins, broken lines are ignored."""
    return dict(_result_lines(path))


def count_lines(path: str) -> int:
    """Whole result lines in a results file (ok or not); crash fragments are not counted."""
    return sum(1 for _ in _result_lines(path))


def done_hashes(path: str) -> dict[int, bool]:
    """hash(id) -> False for every id whose last line in the results file is ok: what a resume skips.
    Hashes, not the ids: a million of them take less memory than the ids themselves. (60-bit hashes: for
    half a million ids left against half a million done, a collision about once in 5 million resumes.)"""
    done: dict[int, bool] = {}
    for job_id, ok in _result_lines(path):
        if ok:
            done[id_hash(job_id)] = False
        else:
            done.pop(id_hash(job_id), None)
    return done


class ResultWriter:
    """Appends whole result lines from many threads: one write per line, flushed at once, fsynced often."""

    def __init__(self, path: str) -> None:
        self.path, self.lock, self.synced = path, threading.Lock(), time.monotonic()
        parent = os.path.dirname(path)
        try:
            if parent:
                os.makedirs(parent, exist_ok=True)
            self.fh = open(path, "ab")
            self._end_partial_line()
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}", kind="write_error") from None

    def _end_partial_line(self) -> None:
        """A crash can leave half a line; RECORD_END closes it off so the next line stays whole, and so it
        can never pass for a whole line (those end with "}")."""
        size = self.fh.seek(0, os.SEEK_END)
        if size:
            with open(self.path, "rb") as check:
                check.seek(size - 1)
                if check.read(1) != b"\n":
                    self.fh.write(RECORD_END)
                    self.fh.flush()

    def write(self, line: dict[str, Any]) -> None:
        import json

        data = (cli.redact(json.dumps(line, ensure_ascii=False)) + "\n").encode("utf-8")
        with self.lock:
            if self.fh.closed:
                return  # closed by Ctrl-C: a late reply is dropped, never half-written
            self.fh.write(data)
            self.fh.flush()
            if time.monotonic() - self.synced >= FSYNC_INTERVAL:
                os.fsync(self.fh.fileno())
                self.synced = time.monotonic()

    def close(self) -> None:
        with self.lock:
            if not self.fh.closed:
                self.fh.flush()
                os.fsync(self.fh.fileno())
                self.fh.close()
