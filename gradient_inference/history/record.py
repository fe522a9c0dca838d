"""What calls record: one row per API request, kept on its pipeline Call while the call runs and written in one
transaction when the call ends (Call.close calls flush), so history costs a call one small write after its answer.

network/api.py's api_request opens a row for every request it sends (status, request id, wall time);
the operation that knows more (the reply, usage, cost, messages) adds it with update(resp, ...). Nothing here
ever raises: a history fault becomes one warning. No key or header is ever recorded.
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

TEXT_COLUMNS = ("prompt", "messages", "reply")


def _json(value: Any, keys: list[str] | None = None) -> str | None:
    import json

    return None if value is None else cli.redact(json.dumps(value, ensure_ascii=False), keys)


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
    keys: list[str] | None = None,
) -> dict[str, Any]:
    """A calls row from what a command knows; text left out in 'usage' mode. `keys`: cli.secrets(), when the
    caller makes many rows in one environment."""
    usage = (reply or {}).get("usage") or {}
    cost = cost if cost is not None else (reply or {}).get("cost")
    keys = cli.secrets() if keys is None else keys  # scanning the environment once per row, not per field
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
        "cost": _json(cost, keys),
        "wall_ms": wall_ms,
        "first_token_ms": first_token_ms,
        "conversation_id": conversation_id,
        "batch_id": batch_id,
        "extra": _json(extra, keys),
    }
    if history_mode == "on":
        text = prompt if prompt is not None else _prompt_of(None, messages)
        row["prompt"] = cli.redact(text, keys) if text is not None else None
        row["messages"] = _json(messages, keys)
        if reply is not None and ("content" in reply or "tool_calls" in reply):
            row["reply"] = _json({k: reply.get(k) for k in ("content", "tool_calls", "reasoning")}, keys)
    return row


def call(settings, command: str, endpoint: str, *, requested_model, **fields: Any) -> None:
    """Record one call now, in its own transaction (see make_row for the fields). Never raises; respects the
    mode; a fault is one warning through settings.warn."""
    if settings.history == "off":
        return
    row = make_row(command, endpoint, requested_model=requested_model, history_mode=settings.history, **fields)
    calls(settings, [row])


def calls(settings, rows: list[dict]) -> None:
    """Many rows (from make_row) in one transaction. Never raises."""
    if not rows or settings.history == "off":
        return
    try:
        store.write(rows, folder=settings.data_dir)
    except store.HistoryError as exc:
        settings.warn(f"warning: history not recorded: {exc}")
    except Exception as exc:  # the store must never cost an answer
        settings.warn(f"warning: history not recorded: {type(exc).__name__}")


# ---------------------------------------------------------------- rows api_request opens


def open_row(call, method: str, path: str, body: Any, url: str | None) -> dict[str, Any] | None:
    """A row on the call for a request about to be sent (None when history is off); written when the call closes."""
    history_mode = call.settings.history
    if history_mode == "off":
        return None
    model = body.get("model") or body.get("model_id") if isinstance(body, dict) else None
    extra = {"method": method} if method != "POST" else {}
    if url:
        from urllib.parse import urlsplit

        extra["host"] = urlsplit(url).hostname
    row = make_row(call.command, path, requested_model=model, extra=extra or None, history_mode=history_mode)
    if history_mode == "on":
        row["prompt"] = _prompt_of(body, body.get("messages") if isinstance(body, dict) else None)
    row["_started"], row["_mode"], row["_open"] = time.monotonic(), history_mode, True
    call.rows.append(row)
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


def save_conversation(call, conversation_id: str, api: str, model: str, head: list, turn: list) -> None:
    """This call's turn of a conversation, appended with the call's rows; head is what a new conversation starts
    with (ignored when it exists). Not in 'usage' mode: it is all text."""
    if call.settings.history == "on":
        call.conversations.append({
            "id": conversation_id, "updated": time.time(), "api": api, "model": model,
            "head": _json(head), "turn": _json(turn),
        })  # fmt: skip


def flush(call, err: BaseException | None = None) -> str | None:
    """Write the call's rows; the warning text on a fault (None when fine). Rows still open get err's type."""
    rows = [row for row in call.rows if row.get("_started")]
    conversations = call.conversations if err is None else []
    call.rows, call.conversations = [], []
    if not rows and not conversations:
        return None
    for row in rows:
        if row.pop("_open", False) and err is not None:
            kind = getattr(err, "kind", None) or "interrupted"
            row.update(ok=0, error_type=kind)
        for name in ("_started", "_mode", "_open"):
            row.pop(name, None)
    try:
        store.write(rows, conversations, folder=call.settings.data_dir)
    except store.HistoryError as exc:
        return str(exc)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


class Batcher:
    """Rows from many threads, written every `size` rows or `interval` seconds in one transaction each
    (gradient-batch run); one connection, so 2,000 lines cost a handful of commits."""

    def __init__(self, settings, size: int = 200, interval: float = 1.0) -> None:
        self.settings, self.mode = settings, settings.history
        self.size, self.interval = size, interval
        self.rows: list[dict] = []
        self.lock, self.write_lock = threading.Lock(), threading.Lock()
        self.last, self.conn, self.broken = time.monotonic(), None, False
        self.keys = cli.secrets()  # one environment for the whole run

    def add(self, command: str, endpoint: str, **fields: Any) -> None:
        if self.mode == "off" or self.broken:
            return
        row = make_row(command, endpoint, history_mode=self.mode, keys=self.keys, **fields)
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
                self.conn = self.conn or store.connect(folder=self.settings.data_dir)
                store.write(rows, conn=self.conn)
            except store.HistoryError as exc:
                self.broken = True
                self.settings.warn(f"warning: history not recorded: {exc}")
            except Exception as exc:
                self.broken = True
                self.settings.warn(f"warning: history not recorded: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        self._write()
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def new_conversation_id() -> str:
    return "c_" + os.urandom(8).hex()
