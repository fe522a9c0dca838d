"""gradient-chat's conversations: -c, --conversation-id and --conversation FILE on all three APIs, tool round
trips by --tool-result, and every bad input exiting 2 with nothing sent. The fakes answer as in fake_tools.py and
fake_messages.py (DigitalOcean's chat, responses and messages shapes)."""

from __future__ import annotations

import json

import fake_messages
import fake_tools
import pytest
from history_db import rows

APIS = ["chat", "responses", "messages"]


@pytest.fixture(autouse=True)
def fakes(server):
    fake_tools.install(server)
    fake_messages.install(server)


@pytest.fixture
def tools_file(tmp_path):
    path = tmp_path / "t.json"
    weather = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
    path.write_text(json.dumps([weather]))
    return str(path)


def sent_text(server) -> str:
    return json.dumps(server.requests[-1]["body"])


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("second", APIS)
def test_continue_resends_the_most_recent_conversation_on_any_api(run, server, second):
    first = run("chat", "--prompt", "my name is Ada", "--json")
    assert first.code == 0
    r = run("chat", "-c", "--api", second, "--prompt", "what is my name?", "--json")
    assert r.code == 0, r.err
    assert r.json()["conversation_id"] == first.json()["conversation_id"]
    text = sent_text(server)
    assert "my name is Ada" in text and "echo: my name is Ada" in text and "what is my name?" in text
    third = run("chat", "--continue", "--prompt", "and again", "--json")
    assert (
        "what is my name?" in sent_text(server) and third.json()["conversation_id"] == first.json()["conversation_id"]
    )


def test_conversation_id_continues_that_one_and_a_new_id_is_printed(run, server):
    a = run("chat", "--prompt", "first topic")
    assert a.code == 0 and "conversation c_" in a.err
    cid = a.err.split("conversation ")[1].split()[0]
    assert run("chat", "--prompt", "second topic").code == 0
    r = run("chat", "--conversation-id", cid, "--api", "messages", "--prompt", "back to it")
    assert r.code == 0, r.err
    assert "first topic" in sent_text(server) and "second topic" not in sent_text(server)
    assert "conversation c_" not in r.err  # not new: no id line
    assert {row["conversation_id"] for row in rows_of(run)} >= {cid}


def rows_of(run):
    listed = run("logs", "--json", "-n", "100")
    return listed.json()


@pytest.mark.parametrize("api", APIS)
def test_conversation_file_tool_round_trip(run, server, tmp_path, tools_file, api):
    conv = tmp_path / "conv.jsonl"
    first = run(
        "chat", "--api", api, "--conversation", str(conv), "--tools", tools_file, "--prompt", "Weather?", "--json"
    )
    assert first.code == 0, first.err
    data = first.json()
    assert data["finish_reason"] == "tool_calls"
    [call] = data["message"]["tool_calls"]
    assert call["type"] == "function" and call["function"]["name"] == "get_weather"
    assert isinstance(call["function"]["arguments"], str) and json.loads(call["function"]["arguments"])
    assert lines(conv) == [{"role": "user", "content": "Weather?"}, data["message"]]

    args = ["--conversation", str(conv), "--tools", tools_file, "--json"]
    second = run("chat", "--api", api, *args, "--tool-result", f"{call['id']}=18 C, sunny")
    assert second.code == 0, second.err
    assert second.json()["finish_reason"] == "stop" and "18 C, sunny" in second.json()["content"]
    assert "18 C, sunny" in sent_text(server) and "Weather?" in sent_text(server)
    assert lines(conv)[2:] == [
        {"role": "tool", "tool_call_id": call["id"], "content": "18 C, sunny"},
        second.json()["message"],
    ]
    assert second.json()["conversation_id"] == first.json()["conversation_id"]


def test_tool_result_from_a_file_on_a_continued_conversation(run, server, tmp_path, tools_file):
    first = run("chat", "--tools", tools_file, "--prompt", "Weather?", "--json")
    [call] = first.json()["tool_calls"]
    (tmp_path / "out.txt").write_text("21 C")
    r = run("chat", "-c", "--tools", tools_file, "--tool-result", f"{call['id']}=@out.txt", "--json")
    assert r.code == 0, r.err
    assert r.json()["content"] == "tool result: 21 C"


def test_a_failed_call_appends_nothing(run, server, tmp_path):
    conv = tmp_path / "conv.jsonl"
    conv.write_text(json.dumps({"role": "user", "content": "hi"}) + "\n")
    before = conv.read_bytes()
    server.queue("/v1/chat/completions", {"status": 400, "json": {"error": {"message": "no"}}})
    assert run("chat", "--conversation", str(conv), "--prompt", "more").code == 1
    assert conv.read_bytes() == before


def test_a_file_without_a_final_newline_gets_whole_lines(run, tmp_path):
    conv = tmp_path / "conv.jsonl"
    conv.write_text(json.dumps({"role": "user", "content": "hi"}))
    assert run("chat", "--conversation", str(conv), "--prompt", "more").code == 0
    assert [m["role"] for m in lines(conv)] == ["user", "user", "assistant"]


def test_conversation_file_works_with_history_off(run, tmp_path, data_dir):
    conv = tmp_path / "conv.jsonl"
    r = run("chat", "--conversation", str(conv), "--prompt", "x", "--json", env={"GRADIENT_HISTORY": "off"})
    assert r.code == 0 and len(lines(conv)) == 2 and rows(data_dir) == []
    assert r.json()["conversation_id"].startswith("c_")  # a FILE's id comes from its path


def bad_inputs(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"role": "user"}\n')
    (tmp_path / "calls.jsonl").write_text(
        json.dumps({"role": "user", "content": "q"})
        + "\n"
        + json.dumps({"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}]})
        + "\n"
    )
    return [
        (["-c", "--prompt", "x"], "no conversation yet"),
        (["--conversation-id", "c_nope", "--prompt", "x"], "no conversation 'c_nope'"),
        (["--conversation", "bad.jsonl", "--prompt", "x"], "neither content"),
        (["--conversation", "calls.jsonl", "--tool-result", "c2=x"], "not an unanswered tool call"),
        (["--conversation", "calls.jsonl", "--tool-result", "c1"], "CALL_ID=TEXT"),
        (["--conversation", "calls.jsonl", "--tool-result", "c1=@missing.txt"], "cannot read"),
        (["--conversation", "calls.jsonl", "--tool-result", "c1=a", "--tool-result", "c1=b"], "not an unanswered"),
        (["--tool-result", "c1=x", "--prompt", "x"], "needs the conversation"),
        (["-c", "--conversation", "calls.jsonl", "--prompt", "x"], "cannot be given together"),
        (["--conversation", "calls.jsonl", "--messages-file", "calls.jsonl"], "cannot be given together"),
    ]


@pytest.mark.parametrize("case", range(10))
def test_bad_conversation_input_exits_2_and_sends_nothing(run, server, tmp_path, case):
    args, words = bad_inputs(tmp_path)[case]
    r = run("chat", *args)
    assert r.code == 2 and words in r.err, r.err
    assert server.requests == []
    json_r = run("chat", *args, "--json")
    assert json_r.code == 2 and json_r.err_json()["error"]["type"] == "usage_error"


def test_continue_with_history_off_exits_2(run, server):
    assert run("chat", "--prompt", "x").code == 0
    r = run("chat", "-c", "--prompt", "y", env={"GRADIENT_HISTORY": "off"})
    assert r.code == 2 and "history" in r.err and len(server.requests) == 1


def test_the_stored_conversation_is_the_whole_exchange(run, data_dir):
    import sqlite3

    run("chat", "--prompt", "one")
    run("chat", "-c", "--prompt", "two")
    with sqlite3.connect(data_dir / "history.db") as conn:
        [(head,)] = conn.execute("SELECT messages FROM conversations").fetchall()
        turns = [json.loads(t) for (t,) in conn.execute("SELECT messages FROM conversation_turns ORDER BY id")]
    # each call appends its own turn; nothing is rewritten
    assert json.loads(head) == [] and [[m["content"] for m in turn] for turn in turns] == [
        ["one", "echo: one"],
        ["two", "echo: two"],
    ]
    assert len(rows(data_dir)) == 2


def test_sixteen_parallel_turns_on_one_conversation_are_all_kept(run, server):
    """Turns are appended, never rewritten: 16 calls with -c at once, then one more -c sends all 17 turns."""
    from concurrent.futures import ThreadPoolExecutor

    assert run("chat", "--prompt", "turn 0").code == 0
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: run("chat", "-c", "--prompt", f"turn {n}"), range(1, 17)))
    assert [r.code for r in results] == [0] * 16
    assert run("chat", "-c", "--prompt", "last").code == 0
    sent = [m["content"] for m in server.requests[-1]["body"]["messages"]]
    prompts = sent[0::2]
    assert sent[-1] == "last" and len(sent) == 2 * 17 + 1
    assert sorted(prompts[:-1]) == sorted(f"turn {n}" for n in range(17))
    assert all(sent[i + 1] == f"echo: {sent[i]}" for i in range(0, 34, 2))  # each turn whole, in one piece
