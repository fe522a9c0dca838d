"""The history file: where it lives, its schema and migrations, and every way it can fail without costing an answer.

One SQLite file, history.db, in the data folder ($GRADIENT_DATA_DIR, else $XDG_DATA_HOME/gradient-inference,
else ~/.local/share/gradient-inference); folder 0700, file 0600. WAL and a busy timeout let parallel processes
write. sqlite3 is imported only here, inside functions, so --help never loads it.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from typing import Any

FILE_NAME = "history.db"
BUSY_TIMEOUT = 3.0  # seconds a writer waits for another's lock before the call goes unrecorded
SQLITE_MAGIC = b"SQLite format 3\x00"

CALL_COLUMNS = (
    "ts", "command", "endpoint", "requested_model", "model", "ok", "error_type", "http_status", "request_id",
    "input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens", "cost_usd", "cost", "wall_ms",
    "first_token_ms", "conversation_id", "prompt", "messages", "reply", "batch_id", "extra",
)  # fmt: skip

# Forward migrations: MIGRATIONS[n] takes a file at user_version n to n + 1. Never edit one that has shipped.
MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS calls (
        id INTEGER PRIMARY KEY, ts REAL NOT NULL, command TEXT, endpoint TEXT, requested_model TEXT, model TEXT,
        ok INTEGER, error_type TEXT, http_status INTEGER, request_id TEXT, input_tokens INTEGER,
        output_tokens INTEGER, cached_tokens INTEGER, reasoning_tokens INTEGER, cost_usd REAL, cost TEXT,
        wall_ms REAL, first_token_ms REAL, conversation_id TEXT, prompt TEXT, messages TEXT, reply TEXT,
        batch_id TEXT, extra TEXT);
    CREATE INDEX IF NOT EXISTS calls_ts ON calls(ts);
    CREATE INDEX IF NOT EXISTS calls_conversation ON calls(conversation_id) WHERE conversation_id IS NOT NULL;
    CREATE TABLE IF NOT EXISTS conversations (
        id TEXT PRIMARY KEY, created REAL, updated REAL, api TEXT, model TEXT, messages TEXT);
    CREATE INDEX IF NOT EXISTS conversations_updated ON conversations(updated);
    """,
    # Turns are appended, never rewritten, so parallel calls on one conversation all keep theirs; a conversation
    # is its row's messages (the head it started with) followed by its turns in the order they were written.
    """
    CREATE TABLE IF NOT EXISTS conversation_turns (
        id INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, ts REAL NOT NULL, messages TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS conversation_turns_id ON conversation_turns(conversation_id, id);
    """,
)
FTS_SCHEMA = (
    "CREATE VIRTUAL TABLE calls_fts USING fts5(prompt, reply, content='calls', content_rowid='id')",
    "CREATE TRIGGER calls_fts_insert AFTER INSERT ON calls BEGIN "
    "INSERT INTO calls_fts(rowid, prompt, reply) VALUES (new.id, new.prompt, new.reply); END",
    "CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls BEGIN "
    "INSERT INTO calls_fts(calls_fts, rowid, prompt, reply) VALUES ('delete', old.id, old.prompt, old.reply); END",
)


class HistoryError(Exception):
    """The history could not be read or written; the message is the one warning line."""


def data_dir() -> str:
    """The folder from the environment: GRADIENT_DATA_DIR, else the XDG data folder (Settings.data_dir's default)."""
    explicit = os.environ.get("GRADIENT_DATA_DIR")
    if explicit:
        return explicit
    xdg = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(xdg, "gradient-inference")


def db_path(folder: str | None = None) -> str:
    return os.path.join(folder or data_dir(), FILE_NAME)


def fts_wanted() -> bool:
    return os.environ.get("GRADIENT_TEST_NO_FTS") != "1"  # test-only: the LIKE fallback of an SQLite without FTS5


def _busy_timeout() -> float:
    try:
        return float(os.environ.get("GRADIENT_TEST_HISTORY_TIMEOUT") or BUSY_TIMEOUT)  # test-only, to keep tests fast
    except ValueError:
        return BUSY_TIMEOUT


def connect(create: bool = True, folder: str | None = None) -> sqlite3.Connection | None:
    """An open, migrated connection to the history in folder (default: the environment's); None when there is no
    file and create is False. HistoryError on any fault; a file that is not SQLite is left exactly as it is."""
    path = db_path(folder)
    try:
        if not os.path.exists(path):
            if not create:
                return None
            os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # 0600 before sqlite ever opens it
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise HistoryError(f"cannot open {path}: {exc.strerror or exc}") from None
    if head and head != SQLITE_MAGIC:
        raise HistoryError(f"{path} is not an SQLite database; left as it is (move it away to record again)")
    import sqlite3

    try:
        conn = sqlite3.connect(path, timeout=_busy_timeout(), isolation_level=None, check_same_thread=False)
        _no_fsync_per_call(conn, sqlite3)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version < len(MIGRATIONS):
            _migrate(conn)
        return conn
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot use {path}: {exc}") from None


def _no_fsync_per_call(conn: sqlite3.Connection, sqlite3: Any) -> None:
    """A call must not wait on the disk. WAL with synchronous=NORMAL never fsyncs a commit, but the last
    connection to close checkpoints, and that fsyncs (2-30 ms on a busy disk, measured). Where Python can turn
    the checkpoint on close off (3.12+), it does, and the WAL is checkpointed every 1,000 pages instead; older
    Pythons use synchronous=OFF: a crash or Ctrl-C still loses nothing, an OS crash may lose the last calls."""
    option = getattr(sqlite3, "SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE", None)
    if option is not None and hasattr(conn, "setconfig"):
        conn.setconfig(option, True)
        conn.execute("PRAGMA synchronous=NORMAL")
    else:
        conn.execute("PRAGMA synchronous=OFF")


def _migrate(conn: sqlite3.Connection) -> None:
    import sqlite3

    conn.execute("PRAGMA journal_mode=WAL")  # persistent in the file: set once, when it is made
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated meanwhile
        for step in range(version, len(MIGRATIONS)):
            for statement in MIGRATIONS[step].split(";"):
                if statement.strip():
                    conn.execute(statement)
            if step == 0 and fts_wanted():
                try:
                    conn.execute("SAVEPOINT fts")
                    for statement in FTS_SCHEMA:
                        conn.execute(statement)
                    conn.execute("RELEASE fts")
                except sqlite3.OperationalError:  # this SQLite has no FTS5: gradient-logs -q falls back to LIKE
                    conn.execute("ROLLBACK TO fts")
                    conn.execute("RELEASE fts")
        conn.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def has_fts(conn: sqlite3.Connection) -> bool:
    if not fts_wanted():
        return False
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name='calls_fts'").fetchone()
    return row is not None


def write(
    rows: list[dict],
    conversations: list[dict] | None = None,
    conn: sqlite3.Connection | None = None,
    folder: str | None = None,
) -> None:
    """Insert call rows and upsert conversations in one transaction; HistoryError on any fault."""
    import sqlite3

    own = conn is None
    conn = conn or connect(folder=folder)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}) VALUES ({', '.join('?' * len(CALL_COLUMNS))})",
            [tuple(row.get(name) for name in CALL_COLUMNS) for row in rows],
        )
        for c in conversations or []:
            conn.execute(
                "INSERT INTO conversations (id, created, updated, api, model, messages) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET updated=excluded.updated, api=excluded.api, model=excluded.model",
                (c["id"], c["updated"], c["updated"], c.get("api"), c.get("model"), c["head"]),
            )
            conn.execute(
                "INSERT INTO conversation_turns (conversation_id, ts, messages) VALUES (?, ?, ?)",
                (c["id"], c["updated"], c["turn"]),
            )
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise HistoryError(f"cannot write {db_path(folder)}: {exc}") from None
    finally:
        if own:
            conn.close()


def read_conversation(conversation_id: str | None, folder: str | None = None) -> dict[str, Any] | None:
    """{id, api, model, messages} of a conversation (its head, then every turn), or of the most recent with None;
    None when there is none. HistoryError when the file cannot be read."""
    import json
    import sqlite3

    conn = connect(create=False, folder=folder)
    if conn is None:
        return None
    columns = "id, api, model, messages"
    try:
        if conversation_id is None:
            row = conn.execute(f"SELECT {columns} FROM conversations ORDER BY updated DESC LIMIT 1").fetchone()
        else:
            row = conn.execute(f"SELECT {columns} FROM conversations WHERE id=?", (conversation_id,)).fetchone()
        turns = (
            conn.execute(
                "SELECT messages FROM conversation_turns WHERE conversation_id=? ORDER BY id", (row[0],)
            ).fetchall()
            if row
            else []
        )
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot read {db_path(folder)}: {exc}") from None
    finally:
        conn.close()
    if row is None:
        return None
    messages = json.loads(row[3] or "[]")
    for (turn,) in turns:
        messages += json.loads(turn)
    return {"id": row[0], "api": row[1], "model": row[2], "messages": messages}


def spend(since_ts: float, folder: str | None = None) -> float:
    """Recorded USD since a time (known costs only; a batch's spend counted once), for budgets. 0.0 without history."""
    try:
        conn = connect(create=False, folder=folder)
    except HistoryError:
        return 0.0
    if conn is None:
        return 0.0
    try:
        row = conn.execute("SELECT SUM(cost_usd) FROM calls WHERE ts >= ? AND cost_usd IS NOT NULL", (since_ts,))
        return float(row.fetchone()[0] or 0.0)
    finally:
        conn.close()
