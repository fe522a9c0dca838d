"""The local history: a row for every API call of every command, the modes, the file's permissions, parallel
writers, and faults that never cost the answer. Real subprocesses against the loopback fakes, real SQLite files."""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import stat
import subprocess
import sys

import fake_messages
import pytest
from conftest import ROOT
from fake_gradient import API_KEY
from history_db import raw_bytes, rows

CHAT_ENDPOINTS = {"chat": "/chat/completions", "responses": "/responses", "messages": "/messages"}


@pytest.mark.parametrize("api", ["chat", "responses", "messages"])
def test_a_chat_call_is_one_row_with_its_reply_usage_cost_and_conversation(run, server, data_dir, api):
    fake_messages.install(server)
    r = run("chat", "--api", api, "--prompt", "hello droplet", "--system", "terse", "--json")
    assert r.code == 0, r.err
    [row] = rows(data_dir)
    assert row["command"] == "chat" and row["endpoint"] == CHAT_ENDPOINTS[api] and row["ok"] == 1
    assert row["http_status"] == 200 and row["request_id"] and row["wall_ms"] > 0
    assert row["requested_model"] == row["model"] == r.json()["model"]
    assert row["input_tokens"] == r.json()["usage"]["input_tokens"] and row["output_tokens"]
    assert row["cost_usd"] == r.json()["cost"]["usd"] and json.loads(row["cost"]) == r.json()["cost"]
    assert row["prompt"] == "hello droplet" and row["conversation_id"] == r.json()["conversation_id"]
    assert json.loads(row["messages"]) == [
        {"role": "system", "content": "terse"},
        {"role": "user", "content": "hello droplet"},
    ]
    assert json.loads(row["reply"])["content"] == r.json()["content"]


def test_a_streamed_call_records_the_time_to_its_first_token(run, data_dir):
    assert run("chat", "--prompt", "hi", "--stream").code == 0
    [row] = rows(data_dir)
    assert 0 < row["first_token_ms"] <= row["wall_ms"]


def test_an_agent_call_is_recorded_without_its_key(run, data_dir):
    agent = fake_messages.start_agent()
    try:
        env = {"GRADIENT_AGENT_KEY": fake_messages.AGENT_KEY}
        assert run("chat", "--agent-url", agent.root, "--prompt", "refunds?", env=env).code == 0
    finally:
        agent.stop()
    [row] = rows(data_dir)
    assert row["command"] == "chat" and json.loads(row["extra"])["host"] == "127.0.0.2" and row["ok"] == 1
    assert fake_messages.AGENT_KEY.encode() not in raw_bytes(data_dir)


def test_a_failed_call_is_a_row_with_its_error(run, server, data_dir):
    server.queue("/v1/chat/completions", {"status": 400, "json": {"error": {"message": "bad", "type": "invalid"}}})
    assert run("chat", "--prompt", "x").code == 1
    [row] = rows(data_dir)
    assert row["ok"] == 0 and row["http_status"] == 400 and row["error_type"] == "invalid" and row["request_id"]


def test_models_embed_and_image_each_record_their_calls(run, files_host, data_dir, tmp_path):
    assert run("models").code == 0
    assert run("embed", "what is a droplet?").code == 0
    assert run("image", "--prompt", "a fox", "-o", "fox.png").code == 0
    found = [(r["command"], r["endpoint"], r["ok"]) for r in rows(data_dir)]
    assert found == [("models", "/models", 1), ("embed", "/embeddings", 1), ("image", "/images/generations", 1)]
    assert rows(data_dir)[2]["prompt"] == "a fox" and rows(data_dir)[1]["input_tokens"]


def test_audio_records_each_call_of_its_job(run, server, files_host, data_dir):
    assert run("audio", "--text", "Hello there", "--json").code == 0
    found = rows(data_dir)
    assert found and {r["command"] for r in found} == {"audio"} and all(r["ok"] for r in found)
    assert found[0]["requested_model"]


def test_batch_run_records_one_row_per_line(run, data_dir, tmp_path):
    lines = [{"id": f"p{i}", "prompt": f"prompt {i}"} for i in range(30)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert run("batch", "run", "in.jsonl", "--json").code == 0
    found = rows(data_dir)
    assert len(found) == 30 and {r["command"] for r in found} == {"batch"} and all(r["ok"] for r in found)
    assert sorted(json.loads(r["extra"])["line"] for r in found) == sorted(x["id"] for x in lines)
    assert {r["prompt"] for r in found} == {x["prompt"] for x in lines} and found[0]["input_tokens"]


def test_dry_run_no_history_and_off_record_nothing(run, data_dir):
    assert run("chat", "--prompt", "x", "--dry-run").code == 0
    assert run("chat", "--prompt", "x", "--no-history").code == 0
    assert run("models", "--no-history").code == 0
    assert run("chat", "--prompt", "x", env={"GRADIENT_HISTORY": "off"}).code == 0
    assert rows(data_dir) == []


def test_usage_mode_keeps_the_numbers_and_no_text(run, server, data_dir, tmp_path):
    from fake_tools import install

    install(server)
    (tmp_path / "t.json").write_text(json.dumps([{"name": "lookup", "parameters": {"type": "object"}}]))
    env = {"GRADIENT_HISTORY": "usage"}
    r = run("chat", "--prompt", "secret droplet plans", "--tools", "t.json", "--json", env=env)
    assert r.code == 0, r.err
    [row] = rows(data_dir)
    assert row["input_tokens"] is not None and row["ok"] == 1 and row["model"]
    assert row["prompt"] is None and row["messages"] is None and row["reply"] is None
    disk = raw_bytes(data_dir)
    assert b"droplet" not in disk and b"lookup" not in disk
    with sqlite3.connect(data_dir / "history.db") as conn:
        assert conn.execute("SELECT count(*) FROM conversations").fetchone()[0] == 0


def test_no_key_is_ever_stored(run, server, data_dir):
    server.queue("/v1/chat/completions", {"status": 401, "json": {"error": {"message": f"bad key {API_KEY}"}}})
    run("chat", "--prompt", "x")
    run("chat", "--prompt", "y", "--stream")
    assert len(rows(data_dir)) == 2
    assert API_KEY.encode() not in raw_bytes(data_dir) and API_KEY[:12].encode() not in raw_bytes(data_dir)


def test_folder_is_0700_and_file_0600(run, data_dir):
    assert run("chat", "--prompt", "x").code == 0
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data_dir / "history.db").st_mode) == 0o600


def test_the_file_is_plain_sqlite_with_a_schema_version(run, data_dir):
    assert run("chat", "--prompt", "x").code == 0
    with sqlite3.connect(data_dir / "history.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


WRITER = """
import os, sys
sys.path.insert(0, sys.argv[1])
from gradient_inference.commands import chat
sys.stdout = open(os.devnull, "w")
for i in range(25):
    chat.main(["--prompt", f"call {i}", "--json"])  # each call writes its own row before it returns
"""


def test_sixteen_processes_writing_at_once_leave_every_row(server, data_dir, cache_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADIENT_")}
    env.update(GRADIENT_API_KEY=API_KEY, GRADIENT_BASE_URL=server.url, GRADIENT_DATA_DIR=str(data_dir))
    env.update(GRADIENT_CACHE_DIR=str(cache_dir), NO_PROXY="*")
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(ROOT)], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(16)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 16 and errors == [""] * 16
    assert len(rows(data_dir)) == 400


# ---------------------------------------------------------------- faults never cost the answer


def one_warning(result) -> None:
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "warning: history not recorded" in lines[0], result.err


def test_an_unwritable_folder_still_gives_the_answer_and_one_warning(run, tmp_path):
    (tmp_path / "a-file").write_text("")
    r = run("chat", "--prompt", "hi", "--json", env={"GRADIENT_DATA_DIR": str(tmp_path / "a-file" / "data")})
    assert r.code == 0 and r.json()["content"] == "echo: hi"
    one_warning(r)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_read_only_folder_still_gives_the_answer(run, data_dir):
    data_dir.mkdir(mode=0o500)
    try:
        r = run("chat", "--prompt", "hi", "--json")
    finally:
        data_dir.chmod(0o700)
    assert r.code == 0 and r.json()["content"] == "echo: hi"
    one_warning(r)


def test_a_file_that_is_not_sqlite_is_left_alone(run, data_dir):
    data_dir.mkdir()
    junk = b"my notes, not a database\n" * 10
    (data_dir / "history.db").write_bytes(junk)
    r = run("chat", "--prompt", "hi", "--json")
    assert r.code == 0 and r.json()["content"] == "echo: hi"
    one_warning(r)
    assert (data_dir / "history.db").read_bytes() == junk
    human = run("chat", "--prompt", "hi")
    assert human.code == 0 and human.out == "echo: hi\n"
    assert sum("warning" in line for line in human.err.splitlines()) == 1


def test_a_locked_database_past_the_timeout_still_gives_the_answer(run, data_dir):
    assert run("chat", "--prompt", "first").code == 0
    conn = sqlite3.connect(data_dir / "history.db", isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        r = run("chat", "--prompt", "hi", "--json", env={"GRADIENT_TEST_HISTORY_TIMEOUT": "0.3"})
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert r.code == 0 and r.json()["content"] == "echo: hi"
    one_warning(r)
    assert len(rows(data_dir)) == 1


def test_a_failure_with_a_history_fault_is_still_one_json_object(run, server, data_dir):
    data_dir.mkdir()
    (data_dir / "history.db").write_bytes(b"not sqlite")
    server.queue("/v1/chat/completions", {"status": 400, "json": {"error": {"message": "bad", "type": "invalid"}}})
    r = run("chat", "--prompt", "x", "--json")
    assert r.code == 1
    error = r.err_json()["error"]
    assert error["type"] == "invalid" and "history not recorded" in error["message"]


def test_batch_submit_status_list_and_cancel_record_one_row_per_api_call(run, data_dir, tmp_path):
    from fake_batch import BatchAPI
    from fake_gradient import FakeGradient

    api_host, storage = FakeGradient().start(), FakeGradient(host="127.0.0.2").start()
    api_host.batch = BatchAPI(api_host, storage)
    api_host.storage = storage
    try:
        env = {"GRADIENT_BASE_URL": api_host.url}
        src = tmp_path / "jobs.jsonl"
        src.write_text(json.dumps({"id": "a", "prompt": "hi", "model": "openai-gpt-4o"}) + "\n")
        bid = run("batch", "submit", str(src), env=env).out.strip()
        assert bid
        for args in (["status", bid], ["list"], ["cancel", bid]):
            assert run("batch", *args, env=env).code in (0, 1)
        sent = [path for path, _ in itertools.groupby(r["path"] for r in api_host.requests)]  # retries: one call
    finally:
        api_host.stop()
        storage.stop()
    found = rows(data_dir)
    assert {r["command"] for r in found} == {"batch"}
    assert [r["endpoint"] for r in found] == [path.removeprefix("/v1") for path in sent]
    assert all(r["http_status"] and r["request_id"] for r in found)


API_FOR_OTHER_COMMANDS = """
import sys, time
sys.path.insert(0, sys.argv[1])
from gradient_inference.history import record, store
from gradient_inference.pipeline import settings
found = settings.build()
record.call(found, "mcp", "/chat/completions", requested_model="m", reply={"model": "m", "content": "hi", "usage": {}},
            cost={"usd": 0.5, "source": "test", "price_model": "m"}, wall_ms=3.0)
print(found.history, store.db_path(), round(store.spend(time.time() - 3600), 6), round(store.spend(time.time() + 60), 6))
"""


def test_record_call_and_spend_for_other_commands(run, data_dir):
    assert run("chat", "--prompt", "hi").code == 0
    chat_cost = rows(data_dir)[0]["cost_usd"]
    env = {**os.environ, "GRADIENT_DATA_DIR": str(data_dir)}
    env.pop("GRADIENT_HISTORY", None)
    proc = subprocess.run(
        [sys.executable, "-c", API_FOR_OTHER_COMMANDS, str(ROOT)], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    mode, path, spent, later = proc.stdout.split()
    assert mode == "on" and path == str(data_dir / "history.db")
    assert float(spent) == pytest.approx(0.5 + chat_cost) and float(later) == 0
    assert rows(data_dir)[1]["command"] == "mcp" and rows(data_dir)[1]["cost_usd"] == 0.5
