"""What gradient-logs reads from the history: recent calls with filters, a full-text search (FTS5, or LIKE
where this SQLite has none), one conversation's calls, and one call whole."""

from __future__ import annotations

import re
import time

from gradient_inference.history import store

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from typing import Any

JSON_COLUMNS = ("cost", "messages", "reply", "extra")
LIST_COLUMNS = (
    "id", "ts", "command", "endpoint", "requested_model", "model", "ok", "error_type", "http_status",
    "input_tokens", "output_tokens", "cost_usd", "wall_ms", "conversation_id", "substr(prompt, 1, 200) AS prompt",
)  # fmt: skip
UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def since_ts(text: str, now: float | None = None) -> float:
    """Epoch seconds for '30m', '2h', '7d', '1w' (ago) or 'YYYY-MM-DD' (local midnight); ValueError otherwise."""
    match = re.fullmatch(r"(\d+)\s*([mhdw])", text.strip().lower())
    if match:
        return (now or time.time()) - int(match.group(1)) * UNITS[match.group(2)]
    try:
        return time.mktime(time.strptime(text.strip(), "%Y-%m-%d"))
    except ValueError:
        raise ValueError(f"--since must be like 2h, 7d or YYYY-MM-DD, got {text!r}") from None


def recent(
    conn: sqlite3.Connection,
    limit: int,
    *,
    since: float | None = None,
    model: str | None = None,
    command: str | None = None,
    errors: bool = False,
    text: str | None = None,
    full: bool = False,
) -> list[dict[str, Any]]:
    """Calls newest first, filtered; `full` reads every column (JSON output), else what a table shows."""
    where, params = [], []
    if since is not None:
        where.append("ts >= ?")
        params.append(since)
    if model:
        where.append("(model = ? OR requested_model = ?)")
        params += [model, model]
    if command:
        where.append("command = ?")
        params.append(command)
    if errors:
        where.append("ok = 0")
    if text:
        if store.has_fts(conn):
            where.append("id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?)")
            params.append('"' + text.replace('"', '""') + '"')  # one phrase: no FTS query syntax to trip on
        else:
            pattern = "%" + re.sub(r"([%_\\])", r"\\\1", text) + "%"
            where.append("(prompt LIKE ? ESCAPE '\\' OR reply LIKE ? ESCAPE '\\')")
            params += [pattern, pattern]
    columns = "*" if full else ", ".join(LIST_COLUMNS)
    sql = f"SELECT {columns} FROM calls {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id DESC LIMIT ?"
    return _rows(conn.execute(sql, (*params, limit)))


def conversation(conn: sqlite3.Connection, conversation_id: str) -> list[dict[str, Any]]:
    """A conversation's calls, oldest first."""
    return _rows(conn.execute("SELECT * FROM calls WHERE conversation_id = ? ORDER BY id", (conversation_id,)))


def one(conn: sqlite3.Connection, call_id: int) -> dict[str, Any] | None:
    rows = _rows(conn.execute("SELECT * FROM calls WHERE id = ?", (call_id,)))
    return rows[0] if rows else None


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    import json

    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, values)) for values in cursor.fetchall()]
    for row in rows:
        for name in JSON_COLUMNS:
            if isinstance(row.get(name), str):
                try:
                    row[name] = json.loads(row[name])
                except ValueError:
                    pass
    return rows
