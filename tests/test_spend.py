"""gradient-usage over the history in every grouping, and budgets that stop the next call and a batch mid-run."""

from __future__ import annotations

import calendar
import json
import os
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT
from history_db import rows as history_rows

sys.path.insert(0, str(ROOT))
from gradient_inference.spend import budget  # noqa: E402

CALL_COST = (12 * 0.1 + 5 * 0.7) / 1e6  # the fake's chat usage at the snapshot's gpt-oss-120b prices
DAY = 86400


def seed(data_dir: Path, rows: list[dict]) -> None:
    """Write calls rows through the store, as the commands would."""
    old = os.environ.get("GRADIENT_DATA_DIR")
    os.environ["GRADIENT_DATA_DIR"] = str(data_dir)
    try:
        from gradient_inference.history import store

        store.write([{"ok": 1, **row} for row in rows])
    finally:
        os.environ["GRADIENT_DATA_DIR"] = old or ""


def call(ts, command="chat", model="m1", cost=None, inp=10, out=5, **extra):
    return {
        "ts": ts,
        "command": command,
        "model": model,
        "input_tokens": inp,
        "output_tokens": out,
        "cost_usd": cost,
    } | extra


@pytest.fixture
def history(data_dir):
    now = time.time()
    seed(
        data_dir,
        [
            call(now - 60, cost=0.5),
            call(now - 120, model="m2", cost=None),  # priced nowhere: unpriced, never 0
            call(now - 180, command="image", model="img", cost=0.04, inp=0, out=0),
            call(now - 240, command="models", model=None, cost=None, extra='{"method": "GET"}'),  # bills nothing
            call(now - 300, ok=0, error_type="server_error", cost=None),  # a failure bills nothing
            call(now - 310, command="batch", endpoint="/batches/files", model=None, inp=0, out=0),  # billed per batch
            call(now - 3 * DAY, cost=1.25),
            call(now - 40 * DAY, cost=100.0),  # outside 30d
        ],
    )
    return now


@pytest.mark.parametrize("by", ["day", "model", "command"])
def test_usage_groups_and_counts_unpriced_calls(run, history, by):
    r = run("usage", "--by", by, "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["by"] == by and set(data) == {"since", "by", "rows", "total_usd"}
    assert data["total_usd"] == pytest.approx(1.79)
    assert sum(row["calls"] for row in data["rows"]) == 7
    assert sum(row["unpriced_calls"] for row in data["rows"]) == 1
    assert all(
        set(row) == {"key", "calls", "input_tokens", "output_tokens", "usd", "unpriced_calls"} for row in data["rows"]
    )
    keys = {row["key"]: row for row in data["rows"]}
    if by == "model":
        assert keys["m2"]["usd"] is None and keys["m2"]["unpriced_calls"] == 1  # unknown, not $0
        assert keys["m1"]["usd"] == pytest.approx(1.75) and keys["m1"]["calls"] == 3
    if by == "command":
        assert keys["image"]["usd"] == pytest.approx(0.04) and keys["models"]["unpriced_calls"] == 0
    if by == "day":
        assert len(keys) == 2 and list(keys) == sorted(keys)
        today = time.strftime("%Y-%m-%d", time.gmtime(history - 60))
        assert today in keys


def test_usage_since_and_the_human_table_with_bars_and_budget(run, history):
    month = run("usage", "--since", "30d", "--json").json()
    assert month["total_usd"] == pytest.approx(1.79)
    day = run("usage", "--since", "24h", "--json", "--budget", "10/month").json()
    assert day["total_usd"] == pytest.approx(0.54)
    assert day["budget"]["usd"] == 10 and day["budget"]["period"] == "month" and day["budget"]["left"] < 10
    human = run("usage", "--by", "model", env={"GRADIENT_BUDGET": "2/day", "COLUMNS": "120"})
    assert human.code == 0 and "█" in human.out and "1 calls of unknown cost not counted" in human.out
    assert "budget $2/day" in human.out and "left" in human.out
    assert run("usage", "--since", "yesterday").code == 2


def test_usage_without_history_is_empty(run):
    data = run("usage", "--json").json()
    assert data["rows"] == [] and data["total_usd"] == 0


def test_budget_windows_are_calendar_utc():
    wednesday = calendar.timegm((2026, 7, 15, 13, 30, 0))
    assert budget.window_start("day", wednesday) == calendar.timegm((2026, 7, 15, 0, 0, 0))
    assert budget.window_start("week", wednesday) == calendar.timegm((2026, 7, 13, 0, 0, 0))  # Monday
    assert budget.window_start("month", wednesday) == calendar.timegm((2026, 7, 1, 0, 0, 0))
    assert budget.parse("$5/day") == (5.0, "day") and budget.parse("2.5 / Week") == (2.5, "week")


@pytest.mark.parametrize("text", ["5", "5/year", "-1/day", "0/day", "five/day", "5/day/x"])
def test_a_malformed_budget_is_exit_2_before_sending(run, server, text):
    r = run("chat", "--prompt", "hi", "--budget", text)
    assert r.code == 2 and server.requests == []


# Every command that calls the API, on paths that send no POST (reads, dry runs) as well as paid calls.
BUDGET_COMMANDS = [
    ("models",),
    ("models", "--dry-run"),
    ("chat", "--prompt", "hi", "--dry-run"),
    ("embed", "hi"),
    ("image", "--prompt", "a cat", "--dry-run"),
    ("audio", "--text", "hello", "--dry-run"),
    ("batch", "list"),
    ("batch", "submit", "prompts.jsonl"),  # it used to write its manifest first
    ("batch", "run", "prompts.jsonl"),
    ("batch", "status", "00000000-0000-4000-8000-000000000000"),
    ("usage",),
]


@pytest.mark.parametrize("where", ["flag", "env"])
@pytest.mark.parametrize("argv", BUDGET_COMMANDS, ids=lambda a: "-".join(a[:2]))
def test_a_malformed_budget_is_exit_2_on_every_command_nothing_sent_or_written(run, server, tmp_path, argv, where):
    flag = ["--budget", "junk"] if where == "flag" else []
    if argv[0] == "batch":  # the flag belongs to the subcommand
        args = [argv[0], argv[1], *flag, *argv[2:]]
    else:
        args = [*argv, *flag]
    (tmp_path / "prompts.jsonl").write_text('{"id": "1", "prompt": "hi"}\n')
    before = set(os.listdir(tmp_path))
    r = run(*args, "--json", env={"GRADIENT_BUDGET": "junk"} if where == "env" else None)
    assert r.code == 2 and "budget" in r.err_json()["error"]["message"], r.err
    assert r.out == "" and server.requests == [] and set(os.listdir(tmp_path)) == before


def test_a_budget_refuses_a_call_it_cannot_price_before_sending(run, server):
    r = run("chat", "--prompt", "hi", "--model", "llama3.3-70b-no-price", "--budget", "5/day", "--json")
    assert r.code == 2 and r.err_json()["error"]["type"] == "unknown_price" and server.requests == []
    assert "llama3.3-70b-no-price" in r.err_json()["error"]["message"]


def test_a_budget_with_history_off_is_exit_2(run, server):
    r = run("chat", "--prompt", "hi", env={"GRADIENT_BUDGET": "5/day", "GRADIENT_HISTORY": "off"})
    assert r.code == 2 and "history" in r.err and server.requests == []
    assert run("chat", "--prompt", "hi", "--no-history", "--budget", "5/day").code == 2


def test_a_budget_stops_the_next_call_and_sends_nothing(run, server, data_dir):
    seed(data_dir, [call(time.time() - 5, cost=1.0 - CALL_COST / 2)])
    first = run("chat", "--prompt", "hi", "--json", "--budget", "1/day")
    assert first.code == 0, first.err  # under the budget: sent, and its cost recorded
    assert len(server.requests) == 1
    second = run("chat", "--prompt", "hi", "--json", env={"GRADIENT_BUDGET": "1/day"})
    assert second.code == 1 and len(server.requests) == 1
    error = second.err_json()["error"]
    assert (
        error["type"] == "budget_exceeded" and "$1/day" in error["message"] and "$1.00000235 spent" in error["message"]
    )
    assert run("chat", "--prompt", "hi", "--budget", "2/day").code == 0  # a higher budget lets it through
    assert run("embed", "hi", "--budget", "1/day").code == 1  # every API command checks
    assert len(history_rows(data_dir)) == 3


def test_a_batch_stops_starting_lines_at_the_budget_then_a_rerun_sends_nothing(run, server, data_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"p{i}", "prompt": f"q {i}"}) + "\n" for i in range(30)))
    limit = f"{10.5 * CALL_COST:.10f}/day"
    r = run("batch", "run", str(src), "--concurrency", "1", "--json", "--budget", limit)
    assert r.code == 1 and r.err_json()["error"]["type"] == "budget_exceeded"
    assert 9 <= len(server.requests) <= 10 and r.json()["ok"] == len(server.requests)
    sent = len(server.requests)
    # the rerun counts the first run's recorded spend: half a call is left, so at most one more line starts
    again = run("batch", "run", str(src), "--json", "--budget", limit)
    assert again.code == 1 and again.err_json()["error"]["type"] == "budget_exceeded"
    assert len(server.requests) <= sent + 1
    sent = len(server.requests)
    third = run("batch", "run", str(src), "--json", "--budget", limit)  # at or past the budget: nothing sent
    assert third.code == 1 and third.err_json()["error"]["type"] == "budget_exceeded"
    assert len(server.requests) == sent


def test_a_chat_on_an_unpriced_model_says_its_cost_is_unknown(run, server, cache_dir):
    from gradient_inference.prices import table

    rows = [m for m in json.loads((ROOT / "snapshots" / "pricing.json").read_text())["models"]
            if m.get("api_id") == "openai-gpt-oss-120b"]  # fmt: skip
    cache_dir.mkdir(parents=True, exist_ok=True)
    fresh = {"format": table.CACHE_FORMAT, "fetched_at": "2026-01-01T00:00:00+00:00", "fetched_epoch": time.time()}
    (cache_dir / "pricing.json").write_text(json.dumps({**fresh, "source_url": "u", "models": rows}))
    r = run("chat", "--prompt", "hi", "--model", "anthropic-claude-sonnet-4")
    assert r.code == 0 and "cost unknown: no price listed for anthropic-claude-sonnet-4" in r.err, r.err


def test_a_batch_run_with_a_budget_refuses_a_model_it_cannot_price(run, server, tmp_path):
    (tmp_path / "in.jsonl").write_text('{"id": "1", "prompt": "hi", "model": "llama3.3-70b-no-price"}\n')
    r = run("batch", "run", "in.jsonl", "--budget", "5/day", "--json")
    assert r.code == 2 and r.err_json()["error"]["type"] == "unknown_price" and server.requests == []
    assert "llama3.3-70b-no-price" in r.err_json()["error"]["message"]


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_usage_table_fits_the_terminal_width(run, history, columns):
    for by in ("day", "model", "command"):
        r = run("usage", "--by", by, "--budget", "0.00001/day", env={"COLUMNS": str(columns)})
        assert r.code == 0, r.err
        table = r.out.splitlines()[:-2]  # the total and budget lines are sentences, not the table
        assert max(len(line) for line in table) <= columns, (columns, r.out)
        assert "█" in r.out
        if columns >= 120:
            assert max(len(line) for line in table) >= columns - 2  # the bars take the room there is
        assert "budget $0.00001/day" in r.out and "e-05" not in r.out
