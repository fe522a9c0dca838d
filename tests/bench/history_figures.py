"""Figure 8 of bench.py: what the local history costs.

8a one chat call with history on vs GRADIENT_HISTORY=off (both bytecode modes)           <= 1.05x
8b gradient-batch run of 2,000 lines, history on vs off (both bytecode modes)             <= 1.05x
8c gradient-logs -q WORD over 100,000 calls vs a bare sqlite3 script, same search, rows printed <= 1.5x
8d gradient-logs -n 20 over 100,000 calls vs over an empty history                        <= 1.2x
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent.parent
PY = sys.executable
BARE_SEARCH = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
sql = ("SELECT id, ts, command, model, input_tokens, output_tokens, cost_usd, wall_ms, substr(prompt, 1, 200) "
       "FROM calls WHERE id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?) ORDER BY id DESC LIMIT 20")
for row in conn.execute(sql, ('"' + sys.argv[2] + '"',)):
    print(*row)
"""


def fill_history(data_dir: Path, count: int) -> None:
    """`count` recorded chat calls, written by the store itself; 1 in 1,000 mentions 'zebra'."""
    sys.path.insert(0, str(ROOT))
    os.environ["GRADIENT_DATA_DIR"] = str(data_dir)
    from gradient_inference.history import record, store

    rows = []
    for i in range(count):
        word = "zebra" if i % 1000 == 7 else f"topic{i % 997}"
        reply = {"model": "m", "content": f"echo: answer {i}", "usage": {"input_tokens": 10, "output_tokens": 5}}
        messages = [{"role": "user", "content": f"question {i} about {word} and the weather"}]
        rows.append(record.make_row("chat", "/chat/completions", requested_model="m", reply=reply, messages=messages))
    for start in range(0, count, 10_000):
        store.write(rows[start : start + 10_000])
    del os.environ["GRADIENT_DATA_DIR"]


def run_history_figures(
    record: Callable[..., dict[str, Any]],
    interleave: Callable,
    med: Callable,
    timed_run: Callable,
    modes: list[tuple[str, Path, dict[str, str]]],
    tmp: Path,
    batch_rounds: int,
    rounds: int,
) -> None:
    def timer(argv: list[str], env: dict[str, str]) -> Callable[[], float]:
        return lambda: timed_run(argv, env)

    for label, scripts, env in modes:
        on = {**env, "GRADIENT_DATA_DIR": str(tmp / f"h7a-{label}")}
        off = {**env, "GRADIENT_HISTORY": "off"}
        chat = [PY, str(scripts / "gradient_chat.py"), "--prompt", "hi"]
        ours, floor = interleave([timer(chat, on), timer(chat, off)], rounds)
        record(f"8a chat call, history on vs off ({label})", med(ours), med(floor), 1.05)

    lines = tmp / "h7b.jsonl"
    lines.write_text("".join(json.dumps({"id": f"p{i}", "prompt": f"prompt {i}"}) + "\n" for i in range(2000)))
    out = tmp / "h7b.results.jsonl"

    def batch(argv: list[str], run_env: dict[str, str]) -> Callable[[], float]:
        def once() -> float:
            out.unlink(missing_ok=True)  # every run sends all 2,000 lines, none resumed
            return timed_run(argv, run_env)

        return once

    for label, scripts, env in modes:
        argv = [PY, str(scripts / "gradient_batch.py"), "run", str(lines), "--output", str(out), "--json"]
        on = {**env, "GRADIENT_DATA_DIR": str(tmp / f"h7b-{label}")}
        off = {**env, "GRADIENT_HISTORY": "off"}
        ours, floor = interleave([batch(argv, on), batch(argv, off)], batch_rounds)
        record(f"8b batch run of 2,000 lines, history on vs off ({label})", med(ours), med(floor), 1.05)

    big, empty = tmp / "h7-big", tmp / "h7-empty"
    fill_history(big, 100_000)
    fill_history(empty, 0)  # the file and its schema, no rows
    for label, scripts, env in modes:
        logs = [PY, str(scripts / "gradient_logs.py")]
        big_env, empty_env = {**env, "GRADIENT_DATA_DIR": str(big)}, {**env, "GRADIENT_DATA_DIR": str(empty)}
        bare = [PY, "-c", BARE_SEARCH, str(big / "history.db"), "zebra"]
        ours, floor = interleave([timer(logs + ["-q", "zebra"], big_env), timer(bare, env)], rounds)
        record(f"8c gradient-logs -q over 100,000 calls vs bare sqlite3 ({label})", med(ours), med(floor), 1.5)
        full, none = interleave([timer(logs + ["-n", "20"], big_env), timer(logs + ["-n", "20"], empty_env)], rounds)
        record(f"8d gradient-logs -n 20, 100,000 calls vs empty ({label})", med(full), med(none), 1.2)
