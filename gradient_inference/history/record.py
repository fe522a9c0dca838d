"""What commands record: one row per API call, kept in memory while the command runs and written in one
transaction when it ends (cli.run calls flush), so history costs a call one small write after its answer.

network/api.py's api_request opens a row for every request it sends (status, request id, wall time);
a command that knows more (the reply, usage, cost, messages) adds it with update(resp, ...). Nothing here
ever raises: a history fault becomes one warning line. No key or header is ever recorded.
"""

from __future__ import annotations

import os
import threading
import time

from gradient_inference.cli import base as cli
from gradient_inference.history import store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_pending: list[dict[str, Any]] = []
_conversations: dict[str, dict[str, Any]] = {}
TEXT_COLUMNS = ("prompt", "messages", "reply")


def command_name() -> str:
    prog = cli._state["prog"]
    return prog[len("gradient-") :] if prog.startswith("gradient-") else prog


def _json(value: Any) -> str | None:
    import json

    return None if value is None else cli.redact(json.dumps(value, ensure_ascii=False))


def _prompt_of(body: Any, messages: list | None) -> str | None:
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str):
            return message["content"]
    if isinstance(body, dict):
        for name in ("prompt", "input", "text"):
            if isinstance(body.get(name), str):
                return body[name]
    return None


def make_row(
    command: str,
    endpoint: str,
    *,
    requested_model: str | None,
    reply: dict | None = None,
    error: cli.CliError | None = None,
    wall_ms: float | None = None,
    first_token_ms: float | None = None,
    conversation_id: str | None = None,
    messages: list | None = None,
    cost: dict | None = None,
    batch_id: str | None = None,
    prompt: str | None = None,
    extra: dict | None = None,
    history_mode: str = "on",
) -> dict[str, Any]:
    """A calls row from what a command knows; text left out in 'usage' mode."""
    usage = (reply or {}).get("usage") or {}
    cost = cost if cost is not None else (reply or {}).get("cost")
    row = {
        "ts": time.time(),
        "command": command,
        "endpoint": endpoint,
        "requested_model": requested_model,
        "model": (reply or {}).get("model"),
        "ok": 0 if error else 1,
        "error_type": error.kind if error else None,
        "http_status": error.status if error else None,
        "request_id": error.request_id if error else None,
        "input_tokens": usage.get("input_tokens"),
        "output_tokens": usage.get("output_tokens"),
        "cached_tokens": usage.get("cached_tokens"),
        "reasoning_tokens": usage.get("reasoning_tokens"),
        "cost_usd": cost.get("usd") if isinstance(cost, dict) else None,
        "cost": _json(cost),
        "wall_ms": wall_ms,
        "first_token_ms": first_token_ms,
        "conversation_id": conversation_id,
        "batch_id": batch_id,
        "extra": _json(extra),
    }
    if history_mode == "on":
        text = prompt if prompt is not None else _prompt_of(None, messages)
        row["prompt"] = cli.redact(text) if text is not None else None
        row["messages"] = _json(messages)
        if reply is not None and ("content" in reply or "tool_calls" in reply):
            row["reply"] = _json({k: reply.get(k) for k in ("content", "tool_calls", "reasoning")})
    return row


def call(command: str, endpoint: str, *, requested_model, args=None, **fields: Any) -> None:
    """Record one call now, in its own transaction (see make_row for the fields). Never raises; respects the
    mode; a fault prints one warning line on stderr."""
    history_mode = store.mode(args)
    if history_mode == "off":
        return
    try:
        store.write([make_row(command, endpoint, requested_model=requested_model, history_mode=history_mode, **fields)])
    except store.HistoryError as exc:
        warn(str(exc))
    except Exception as exc:  # the store must never cost an answer
        warn(f"history not recorded: {type(exc).__name__}")


def calls(rows: list[dict]) -> None:
    """Many rows (from make_row) in one transaction. Never raises."""
    if not rows:
        return
    try:
        store.write(rows)
    except store.HistoryError as exc:
        warn(str(exc))
    except Exception as exc:
        warn(f"history not recorded: {type(exc).__name__}")


_warned: list[str] = []


def warn(message: str) -> None:
    """One warning line per run, however many writes fail."""
    if not _warned:
        _warned.append(message)
        if not cli._state.get("in_flush"):
            cli.note(f"warning: history not recorded: {message}")


# ---------------------------------------------------------------- rows api_request opens


def open_row(args, method: str, path: str, body: Any, url: str | None) -> dict[str, Any] | None:
    """A row for a request about to be sent (None when history is off); written at flush."""
    history_mode = store.mode(args)
    if history_mode == "off":
        return None
    model = body.get("model") or body.get("model_id") if isinstance(body, dict) else None
    extra = {"method": method} if method != "POST" else {}
    if url:
        from urllib.parse import urlsplit

        extra["host"] = urlsplit(url).hostname
    row = make_row(command_name(), path, requested_model=model, extra=extra or None, history_mode=history_mode)
    if history_mode == "on":
        row["prompt"] = _prompt_of(body, body.get("messages") if isinstance(body, dict) else None)
    row["_started"], row["_mode"], row["_open"] = time.monotonic(), history_mode, True
    _pending.append(row)
    return row


def answered(row: dict | None, status: int, request_id: str | None) -> None:
    if row is not None:
        row["http_status"], row["request_id"] = status, request_id
        row["wall_ms"] = round((time.monotonic() - row["_started"]) * 1000, 3)


def failed(row: dict | None, err: cli.CliError) -> None:
    if row is not None:
        row.update(ok=0, error_type=err.kind, http_status=err.status, request_id=err.request_id, _open=False)
        row["wall_ms"] = round((time.monotonic() - row["_started"]) * 1000, 3)


def update(resp: Any, *, reply: dict | None = None, messages: list | None = None, **fields: Any) -> None:
    """Add what the command learnt from the reply to the row api_request opened for resp."""
    row = getattr(resp, "history_row", None)
    if row is None:
        return
    done = make_row(row["command"], row["endpoint"], requested_model=row["requested_model"], reply=reply,
                    messages=messages, history_mode=row["_mode"], **fields)  # fmt: skip
    for name, value in done.items():
        if value is not None and name not in ("ts", "ok", "http_status", "request_id", "command", "endpoint"):
            row[name] = value
    row["wall_ms"] = round((time.monotonic() - row["_started"]) * 1000, 3)
    row["_open"] = False


def save_conversation(conversation_id: str, api: str, model: str, messages: list) -> None:
    """The whole conversation so far, upserted with this run's rows (not in 'usage' mode: it is all text)."""
    if store.mode() == "on":
        _conversations[conversation_id] = {
            "id": conversation_id, "updated": time.time(), "api": api, "model": model, "messages": _json(messages)
        }  # fmt: skip


def flush(err: BaseException | None = None) -> str | None:
    """Write this run's rows; the warning text on a fault (None when fine). Rows still open get err's type."""
    rows = [row for row in _pending if row.get("_started")]
    conversations = list(_conversations.values()) if err is None else []
    _pending.clear()
    _conversations.clear()
    if not rows and not conversations:
        return None
    for row in rows:
        if row.pop("_open", False) and err is not None:
            kind = err.kind if isinstance(err, cli.CliError) else "interrupted"
            row.update(ok=0, error_type=kind)
        for name in ("_started", "_mode", "_open"):
            row.pop(name, None)
    cli._state["in_flush"] = True
    try:
        store.write(rows, conversations)
    except store.HistoryError as exc:
        return str(exc)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        cli._state["in_flush"] = False
    return None


def finish(failure: cli.CliError | None, interrupted: bool = False) -> None:
    """cli.run's last step: write the run's calls; a fault is one warning line, or joins failure's one line."""
    warning = flush(failure or (cli.CliError("interrupted", kind="interrupted") if interrupted else None))
    if warning and failure:
        failure.message += f"; history not recorded: {warning}"
    elif warning:
        cli.note(f"warning: history not recorded: {warning}")


class Batcher:
    """Rows from many threads, written every `size` rows or `interval` seconds in one transaction each
    (gradient-batch run); one connection, so 2,000 lines cost a handful of commits."""

    def __init__(self, args, size: int = 200, interval: float = 1.0) -> None:
        self.mode = store.mode(args)
        self.size, self.interval = size, interval
        self.rows: list[dict] = []
        self.lock, self.write_lock = threading.Lock(), threading.Lock()
        self.last, self.conn, self.broken = time.monotonic(), None, False

    def add(self, command: str, endpoint: str, **fields: Any) -> None:
        if self.mode == "off" or self.broken:
            return
        row = make_row(command, endpoint, history_mode=self.mode, **fields)
        with self.lock:
            self.rows.append(row)
            due = len(self.rows) >= self.size or time.monotonic() - self.last >= self.interval
        if due:
            self._write()

    def _write(self) -> None:
        with self.write_lock:
            with self.lock:
                rows, self.rows, self.last = self.rows, [], time.monotonic()
            if not rows or self.broken:
                return
            try:
                self.conn = self.conn or store.connect()
                store.write(rows, conn=self.conn)
            except store.HistoryError as exc:
                self.broken = True
                warn(str(exc))
            except Exception as exc:
                self.broken = True
                warn(f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        self._write()
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def new_conversation_id() -> str:
    return "c_" + os.urandom(8).hex()
