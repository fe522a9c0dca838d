"""Reading the history file the commands write, as any sqlite3 client would."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def rows(data_dir: Path, where: str = "1") -> list[dict]:
    path = data_dir / "history.db"
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM calls WHERE {where} ORDER BY id")]
    finally:
        conn.close()


def raw_bytes(data_dir: Path) -> bytes:
    """The database and its WAL as bytes: what a text search of the disk would find."""
    return b"".join(p.read_bytes() for p in data_dir.glob("history.db*"))
