"""gradient-logs over real history files: listing, filters, search (FTS5 and its LIKE fallback), a conversation
turn by turn, one call whole, the path, and an empty history."""

from __future__ import annotations

import json
import sqlite3

import pytest


def test_no_history_is_an_empty_list(run, data_dir):
    assert run("logs").code == 0 and run("logs").out == ""
    r = run("logs", "--json")
    assert r.code == 0 and r.json() == []
    assert run("logs", "--jsonl").out == "" and run("logs", "-q", "x", "--json").json() == []
    assert not (data_dir / "history.db").exists()  # reading creates nothing


def test_path_prints_the_database_path(run, data_dir):
    assert run("logs", "path").out == f"{data_dir / 'history.db'}\n"
    assert run("logs", "path", "--json").json() == {"path": str(data_dir / "history.db")}


@pytest.fixture
def recorded(run, server):
    server.queue("/v1/chat/completions", {"status": 400, "json": {"error": {"message": "no", "type": "invalid"}}})
    run("chat", "--prompt", "broken request")
    run("chat", "--prompt", "tell me about droplets", "--model", "llama3.3-70b-instruct")
    run("chat", "--prompt", "and kubernetes", "-c")
    run("models")


def test_recent_calls_newest_first_in_a_table(run, recorded):
    r = run("logs")
    assert r.code == 0, r.err
    body = r.out.splitlines()[2:]
    assert len(body) == 4 and body[0].split()[3] == "models" and "and kubernetes" in body[1]
    assert "llama3.3-70b-instruct" in body[2] and "[invalid] broken request" in body[3]
    assert "tokens" in r.out.splitlines()[0] and "$" in body[1]
    assert len(run("logs", "-n", "2").out.splitlines()) == 4


def test_filters(run, recorded):
    def ids(*args):
        return [row["id"] for row in run("logs", "--json", *args).json()]

    assert ids() == [4, 3, 2, 1]
    assert ids("--command", "chat") == [3, 2, 1]
    assert ids("--errors") == [1]
    assert ids("--model", "llama3.3-70b-instruct") == [3, 2]
    assert ids("--since", "2h") == [4, 3, 2, 1] and ids("--since", "2999-01-01") == []
    assert ids("-n", "1") == [4]
    jsonl = [json.loads(line) for line in run("logs", "--jsonl").out.splitlines()]
    assert [row["id"] for row in jsonl] == [4, 3, 2, 1] and jsonl[1]["reply"]["content"] == "echo: and kubernetes"


@pytest.mark.parametrize("fts", ["1", "0"])
def test_search_prompts_and_replies(run, server, data_dir, fts):
    env = {"GRADIENT_TEST_NO_FTS": "1"} if fts == "0" else {}
    run("chat", "--prompt", "tell me about droplets", env=env)
    run("chat", "--prompt", "something else", env=env)
    with sqlite3.connect(data_dir / "history.db") as conn:
        has_fts = conn.execute("SELECT count(*) FROM sqlite_master WHERE name='calls_fts'").fetchone()[0]
    assert has_fts == (fts == "1")
    found = run("logs", "-q", "droplets", "--json", env=env).json()
    assert [row["prompt"] for row in found] == ["tell me about droplets"]
    assert [row["id"] for row in run("logs", "-q", "echo: something", "--json", env=env).json()] == [2]
    assert run("logs", "-q", '100% "quoted_', "--json", env=env).json() == []
    assert "droplets" in run("logs", "-q", "droplets", env=env).out


def test_a_conversation_turn_by_turn(run, recorded):
    cid = run("logs", "--json", "-n", "1", "--command", "chat").json()[0]["conversation_id"]
    r = run("logs", "--conversation", cid)
    assert r.code == 0
    assert r.out.index("user: tell me about droplets") < r.out.index("assistant: echo: and kubernetes")
    assert [row["id"] for row in run("logs", "--conversation", cid, "--json").json()] == [2, 3]


def test_show_one_call_whole(run, recorded):
    r = run("logs", "show", "2")
    assert r.code == 0 and "prompt: tell me about droplets" in r.out and '"content": "echo: tell' in r.out
    data = run("logs", "show", "2", "--json").json()
    assert data["id"] == 2 and data["messages"] == [{"role": "user", "content": "tell me about droplets"}]


@pytest.mark.parametrize(
    "args",
    [["show"], ["frobnicate"], ["--since", "yesterday"], ["-n", "0"], ["show", "x"]],
)
def test_bad_input_exits_2(run, recorded, args):
    r = run("logs", *args)
    assert r.code == 2, r


def test_a_file_that_is_not_sqlite_is_an_error_and_left_alone(run, data_dir):
    data_dir.mkdir()
    (data_dir / "history.db").write_bytes(b"notes")
    r = run("logs", "--json")
    assert r.code == 1 and r.err_json()["error"]["type"] == "history_error"
    assert (data_dir / "history.db").read_bytes() == b"notes"


@pytest.mark.parametrize("args", [["show", "999999"], ["--conversation", "c_nope"]])
def test_a_missing_call_or_conversation_fails_with_one_line(run, recorded, args):
    r = run("logs", *args)
    assert r.code == 1 and "no " in r.err and args[-1] in r.err and r.out == ""
    assert run("logs", *args, "--json").err_json()["error"]["type"] == "not_found"


@pytest.mark.parametrize("args", [["show", "42"], ["--conversation", "c_nope"]])
def test_a_missing_call_or_conversation_without_any_history_fails_too(run, data_dir, args):
    r = run("logs", *args)
    assert r.code == 1 and "no history yet" in r.err and r.out == ""
    assert not (data_dir / "history.db").exists()
