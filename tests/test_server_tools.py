"""DigitalOcean's server-side tools (web search, web fetch, knowledge bases, remote MCP) and inference routers,
on gradient-chat and gradient-batch run (shapes: tests/fake_server_tools.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import fake_server_tools
import pytest
from fake_gradient import FakeGradient

pytestmark = pytest.mark.usefixtures("spec_check")

TOKEN = "mcp-tok-9f8e7d6c5b4a39281706"
TOKEN_ENV = {"GRADIENT_MCP_TOKEN_DO_SERVER": TOKEN}
MCP_URL = "https://accounts.mcp.digitalocean.com/mcp"
API = {"chat": [], "responses": ["--api", "responses"]}
STREAM = {"plain": [], "stream": ["--stream"]}


@pytest.fixture
def fake(server: FakeGradient) -> FakeGradient:
    fake_server_tools.install(server)
    return server


@pytest.fixture(scope="module")
def mcp_host():
    """A would-be MCP server on another host: nothing may ever reach it (DigitalOcean calls it, not us)."""
    host = FakeGradient("127.0.0.2").start()
    yield host
    host.stop()


def sent(fake: FakeGradient) -> dict:
    [request] = [r for r in fake.requests if r["method"] == "POST"]
    return request["body"]


@pytest.mark.parametrize("api", API)
def test_every_flag_becomes_its_documented_tool(run, fake, api):
    r = run(
        "chat", "--prompt", "hi", "--json", *API[api],
        "--web-search", "--web-max-uses", "2", "--web-max-results", "3", "--web-fetch",
        "--knowledge-base", "kb-1", "--knowledge-base", "kb-2",
        "--mcp", f"do-server={MCP_URL}", "--mcp-allow", "do-server:account-get-information",
        "--mcp-allow", "do-server:droplet-list", "--mcp", "open=https://mcp.example.com/sse",
        env=TOKEN_ENV,
    )  # fmt: skip
    assert r.code == 0, r.err
    assert sent(fake)["tools"] == [
        {"type": "knowledge_base_retrieval", "knowledge_base_id": "kb-1"},
        {"type": "knowledge_base_retrieval", "knowledge_base_id": "kb-2"},
        {
            "type": "mcp",
            "server_label": "do-server",
            "server_url": MCP_URL,
            "authorization": f"Bearer {TOKEN}",
            "allowed_tools": ["account-get-information", "droplet-list"],
        },
        {"type": "mcp", "server_label": "open", "server_url": "https://mcp.example.com/sse"},
        {"type": "web_search", "max_uses": 2, "max_results": 3},
        {"type": "web_fetch", "max_uses": 2},
    ]


def test_without_counts_web_tools_leave_them_to_digitalocean(run, fake):
    assert run("chat", "--prompt", "hi", "--web-search", "--web-fetch").code == 0
    assert sent(fake)["tools"] == [{"type": "web_search"}, {"type": "web_fetch"}]


@pytest.mark.parametrize("api", API)
def test_server_tools_combine_with_function_tools_and_tool_choice(run, fake, tmp_path, api):
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"name": "get_time"}]))
    r = run(
        "chat",
        "--prompt",
        "hi",
        "--tools",
        str(tools),
        "--tool-choice",
        "required",
        "--knowledge-base",
        "kb",
        *API[api],
    )
    assert r.code == 0, r.err
    body = sent(fake)
    assert body["tool_choice"] == "required"
    assert [t["type"] for t in body["tools"]] == ["function", "knowledge_base_retrieval"]


def test_tool_choice_with_only_a_server_tool(run, fake):
    assert run("chat", "--prompt", "hi", "--knowledge-base", "kb", "--tool-choice", "required").code == 0
    assert sent(fake)["tool_choice"] == "required"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--mcp", "bad label=https://x.example"], "LABEL 1-64 letters"),
        (["--mcp", f"{'a' * 65}=https://x.example"], "LABEL 1-64 letters"),
        (["--mcp", "no-url"], "expected LABEL=URL"),
        (["--mcp", "a=https://x.example", "--mcp", "a=https://y.example"], "given twice"),
        (["--mcp", "a=http://mcp.example.com/mcp"], "plain http only to loopback"),
        (["--mcp", "a=ftp://mcp.example.com"], "not an https:// URL"),
        (["--mcp-allow", "nope:tool", "--mcp", "a=https://x.example"], "no --mcp server has the label 'nope'"),
        (["--mcp-allow", "a", "--mcp", "a=https://x.example"], "expected LABEL:TOOL"),
        (["--web-search", "--web-max-uses", "0"], "--web-max-uses must be from 1 to 5"),
        (["--web-search", "--web-max-uses", "6"], "--web-max-uses must be from 1 to 5"),
        (["--web-search", "--web-max-results", "11"], "--web-max-results must be from 1 to 10"),
        (["--web-search", "--web-max-results", "0"], "--web-max-results must be from 1 to 10"),
        (["--web-max-uses", "2"], "needs --web-search or --web-fetch"),
        (["--web-fetch", "--web-max-results", "2"], "--web-max-results needs --web-search"),
        (["--web-search", "--api", "messages"], "Chat Completions and Responses"),
        (["--knowledge-base", "kb", "--image", "x.png"], "not --api messages"),
        (["--mcp", "a=https://x.example", "--agent-url", "https://agent.example.com"], "not --agent-url"),
    ],
)
def test_bad_server_tool_flags_exit_2_and_send_nothing(run, fake, args, words):
    r = run("chat", "--prompt", "hi", *args)
    assert r.code == 2 and words in r.err, r.err
    assert fake.requests == []


def test_the_token_stays_out_of_every_output_and_off_every_other_host(run, fake, mcp_host, data_dir):
    mcp = f"do-server=http://127.0.0.2:{mcp_host.server.server_address[1]}/mcp"
    for extra in ([], ["--json"], ["--verbose"], ["--stream", "--verbose"], ["--api", "responses", "--json"]):
        r = run("chat", "--prompt", "hi", "--mcp", mcp, *extra, env=TOKEN_ENV)
        assert r.code == 0, r.err
        assert TOKEN not in r.out + r.err
    stored = b"".join(p.read_bytes() for p in data_dir.iterdir())  # history.db and its WAL
    assert b"calls" in stored and TOKEN.encode() not in stored  # the history holds the calls, never the token
    assert all(json.dumps(req["body"]).count(f"Bearer {TOKEN}") == 1 for req in fake.requests)
    assert mcp_host.requests == []  # neither the model key nor the token: the skill never calls the MCP server


def test_dry_run_shows_a_placeholder_naming_the_variable(run, fake):
    r = run("chat", "--prompt", "hi", "--mcp", f"do-server={MCP_URL}", "--dry-run", env=TOKEN_ENV)
    assert r.code == 0 and TOKEN not in r.out + r.err
    assert "Bearer '\"$GRADIENT_MCP_TOKEN_DO_SERVER\"'" in r.out  # out of the single quotes: the shell expands it
    assert fake.requests == []


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
def test_the_dry_run_curl_line_runs_in_a_shell_with_the_token_expanded(run, fake):
    from fake_gradient import API_KEY

    r = run("chat", "--prompt", "it's $HOME", "--mcp", f"do-server={MCP_URL}", "--dry-run", env=TOKEN_ENV)
    assert r.code == 0 and fake.requests == []
    env = {"PATH": os.environ["PATH"], "NO_PROXY": "*", "GRADIENT_API_KEY": API_KEY, **TOKEN_ENV}
    sent = subprocess.run(["bash", "-c", r.out.strip()], env=env, capture_output=True, text=True, timeout=30)
    assert sent.returncode == 0, sent.stderr
    (req,) = fake.requests
    assert req["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert f"Bearer {TOKEN}" in json.dumps(req["body"])  # the token itself, not the variable's name
    assert req["body"]["messages"][-1]["content"] == "it's $HOME"  # everything else exactly as printed


def test_a_server_echoing_the_token_in_an_error_is_redacted(run, fake):
    for extra in ([], ["--json"]):
        fake.queue("/v1/chat/completions", {"status": 400, "json": {"error": {"message": f"bad Bearer {TOKEN}"}}})
        r = run("chat", "--prompt", "hi", "--mcp", f"do-server={MCP_URL}", "--max-retries", "0", *extra, env=TOKEN_ENV)
        assert r.code == 1 and TOKEN not in r.out + r.err and "bad" in r.err


@pytest.mark.parametrize("stream", STREAM)
def test_chat_completions_web_search_citations_and_unknown_fees(run, fake, stream):
    data = run("chat", "--prompt", "prices?", "--web-search", "--json", *STREAM[stream]).json()
    assert data["citations"] == [{"url": url, "title": title} for url, title in fake_server_tools.CITATIONS]
    assert data["server_tools"] == [] and data["tool_calls"] == [] and data["finish_reason"] == "stop"
    assert data["cost"]["tool_fees"] == "unknown" and set(data["cost"]) == {"usd", "source", "price_model", "tool_fees"}
    human = run("chat", "--prompt", "prices?", "--web-search", *STREAM[stream])
    url, title = fake_server_tools.CITATIONS[0]
    assert human.code == 0 and f"[1] {title} <{url}>\n" in human.out
    assert human.out.startswith("web_search: prices?") and "web search fees unknown" in human.err


@pytest.mark.parametrize("stream", STREAM)
def test_responses_reports_server_tool_work_and_counts_search_fees(run, fake, stream):
    args = ["--prompt", "hi", "--api", "responses", "--web-search", "--web-max-uses", "2", *STREAM[stream]]
    data = run("chat", *args, "--mcp", f"do-server={MCP_URL}", "--mcp-allow", "do-server:droplet-list", "--json").json()
    assert data["server_tools"] == [
        {"type": "web_search_call", "status": "completed"},
        {"type": "web_search_call", "status": "completed"},
        {"type": "mcp_list_tools", "server": "do-server"},
        {"type": "mcp_call", "name": "droplet-list", "server": "do-server", "status": "completed"},
    ]
    assert data["tool_calls"] == [] and data["finish_reason"] == "stop"
    assert len(data["citations"]) == 2
    assert data["cost"]["tool_fees"] == 0.02 and 0.02 < data["cost"]["usd"] < 0.021
    human = run("chat", *args)
    assert human.code == 0 and "[2] How We Built Inference Router <https://www.digitalocean.com/blog/" in human.out
    assert "web search fees $0.02" in human.err


def test_knowledge_base_and_mcp_add_no_fee(run, fake):
    data = run("chat", "--prompt", "hi", "--api", "responses", "--knowledge-base", "kb", "--json").json()
    assert "tool_fees" not in data["cost"] and data["citations"] == []


def test_tools_file_passes_non_function_tools_unchanged(run, fake, tmp_path):
    tool = {"type": "web_search", "max_uses": 1}
    path = tmp_path / "tools.json"
    path.write_text(json.dumps([tool]))
    data = run("chat", "--prompt", "hi", "--tools", str(path), "--api", "responses", "--json").json()
    assert sent(fake)["tools"] == [tool]
    assert data["cost"]["tool_fees"] == 0.01  # a web_search tool from the file is priced too


def test_provider_tools_pass_through_on_messages(run, server, tmp_path):
    tool = {"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"}
    path = tmp_path / "tools.json"
    path.write_text(json.dumps([tool, {"name": "get_time"}]))
    r = run("chat", "--prompt", "hi", "--tools", str(path), "--api", "messages", "--dry-run")
    assert r.code == 0 and json.dumps(tool) in r.out and '"input_schema"' in r.out
    assert server.requests == []


# ---------------------------------------------------------------- routers


@pytest.mark.parametrize("stream", STREAM)
@pytest.mark.parametrize("api", API)
def test_router_reports_the_serving_model_route_and_its_price(run, fake, api, stream):
    args = ["--prompt", "hi", "--model", "router:coding", *API[api], *STREAM[stream]]
    data = run("chat", *args, "--json").json()
    assert sent(fake)["model"] == "router:coding"
    assert data["model"] == fake_server_tools.ROUTED_MODEL and data["requested_model"] == "router:coding"
    assert data["route"] == "coding-route"
    assert data["cost"]["price_model"] == "gpt-oss-20b"
    assert data["cost"]["usd"] == pytest.approx((100 * 0.05 + 20 * 0.45) / 1e6)
    human = run("chat", *args)
    assert f"routed to {fake_server_tools.ROUTED_MODEL} (route coding-route)" in human.err


def test_a_plain_model_gets_no_routing_line(run, fake):
    r = run("chat", "--prompt", "hi")
    assert r.code == 0 and "routed to" not in r.err


# ---------------------------------------------------------------- gradient-batch run


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_batch_lines_carry_the_same_server_tools(run, fake, tmp_path, mcp_host):
    src = tmp_path / "in.jsonl"
    rows = [
        {"id": "a", "prompt": "one"},
        {"id": "r", "prompt": "two", "model": "router:coding"},
        {"custom_id": "o", "url": "/v1/chat/completions", "body": {"messages": [{"role": "user", "content": "x"}]}},
    ]
    src.write_text("".join(json.dumps(row) + "\n" for row in rows))
    mcp = f"do-server=http://127.0.0.2:{mcp_host.server.server_address[1]}/mcp"
    args = ["batch", "run", str(src), "--output", str(tmp_path / "out.jsonl"), "--web-search", "--mcp", mcp]
    r = run(*args, "--json", env=TOKEN_ENV)
    assert r.code == 0, r.err
    assert TOKEN not in r.out + r.err and TOKEN not in (tmp_path / "out.jsonl").read_text()
    for request in fake.requests:
        assert [t["type"] for t in request["body"]["tools"]] == ["mcp", "web_search"]
        assert request["body"]["tools"][0]["authorization"] == f"Bearer {TOKEN}"
    out = {line["id"]: line for line in lines(tmp_path / "out.jsonl")}
    assert all(len(line["citations"]) == 2 and line["cost"]["tool_fees"] == "unknown" for line in out.values())
    assert out["r"]["model"] == fake_server_tools.ROUTED_MODEL and out["r"]["requested_model"] == "router:coding"
    assert out["r"]["route"] == "coding-route" and out["r"]["cost"]["price_model"] == "gpt-oss-20b"
    assert "requested_model" not in out["a"]
    assert mcp_host.requests == []


def test_batch_responses_lines_count_search_fees_and_dry_run_hides_the_token(run, fake, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "prompt": "one"}\n')
    args = ["batch", "run", str(src), "--output", str(tmp_path / "out.jsonl"), "--responses-api", "--web-search"]
    assert run(*args).code == 0
    [line] = lines(tmp_path / "out.jsonl")
    assert line["cost"]["tool_fees"] == 0.01 and line["server_tools"] == [
        {"type": "web_search_call", "status": "completed"}
    ]
    args[4] = str(tmp_path / "fresh.jsonl")  # nothing done yet, so the dry run shows the first request
    dry = run(*args, "--mcp", f"do-server={MCP_URL}", "--dry-run", env=TOKEN_ENV)
    assert dry.code == 0 and TOKEN not in dry.out and "$GRADIENT_MCP_TOKEN_DO_SERVER" in dry.out


@pytest.mark.parametrize("args", [["--web-max-uses", "9", "--web-search"], ["--mcp", "x=http://example.com"]])
def test_batch_refuses_bad_server_tool_flags(run, fake, tmp_path, args):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "prompt": "one"}\n')
    r = run("batch", "run", str(src), "--output", str(tmp_path / "out.jsonl"), *args)
    assert r.code == 2 and fake.requests == []


# ---------------------------------------------------------------- reply parsing, directly


def test_only_server_side_work_is_a_stop_not_tool_calls():
    from gradient_inference.llm import completions

    reply = completions.parse_reply(
        {"choices": [{"finish_reason": "tool_calls", "message": {"role": "assistant", "content": "done"}}]}
    )
    assert reply["finish_reason"] == "stop" and reply["tool_calls"] == []


def test_responses_items_other_than_message_function_call_and_reasoning_are_server_tools():
    from gradient_inference.llm import responses

    output = [
        {"type": "reasoning", "summary": []},
        {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
        {"type": "code_interpreter_call", "id": "ci", "status": "completed"},
        {"type": "mcp_call", "server_label": "s", "name": "t", "status": "failed"},
        {
            "type": "message",
            "content": [{"type": "output_text", "text": "x", "annotations": [{"type": "file_citation"}]}],
        },
    ]
    reply = responses.parse_reply({"status": "completed", "output": output})
    assert reply["server_tools"] == [
        {"type": "code_interpreter_call", "status": "completed"},
        {"type": "mcp_call", "name": "t", "server": "s", "status": "failed"},
    ]
    assert [c["name"] for c in reply["tool_calls"]] == ["f"] and reply["citations"] == []


def test_messages_web_search_citations_and_server_tool_use_blocks():
    from gradient_inference.llm import messages

    blocks = [
        {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {"query": "q"}},
        {"type": "web_search_tool_result", "tool_use_id": "s1", "content": []},
        {
            "type": "text",
            "text": "answer",
            "citations": [{"type": "web_search_result_location", "url": "https://a.example", "title": "A"}],
        },
    ]
    reply = messages.reply_from({"stop_reason": "end_turn"}, blocks, None)
    assert reply["citations"] == [{"url": "https://a.example", "title": "A"}]
    assert reply["server_tools"] == [{"type": "server_tool_use", "name": "web_search"}]
    assert reply["tool_calls"] == [] and reply["finish_reason"] == "stop"


def test_a_stream_whose_final_response_lists_no_output_keeps_items_and_annotations(run, fake):
    item = {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "q"}}
    cite = {"type": "url_citation", "url": "https://a.example", "title": "A", "start_index": 0, "end_index": 1}
    at = {"item_id": "msg", "output_index": 1, "content_index": 0}
    final = {"id": "r", "status": "completed", "model": "openai-gpt-oss-120b", "output": [], "usage": None}
    events = [
        ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
        ("response.output_text.delta", {"type": "response.output_text.delta", **at, "delta": "hi"}),
        (
            "response.output_text.annotation.added",
            {"type": "response.output_text.annotation.added", **at, "annotation": cite},
        ),
        ("response.completed", {"type": "response.completed", "response": final}),
    ]
    fake.queue("/v1/responses", {"sse": events})
    data = run("chat", "--prompt", "q", "--api", "responses", "--web-search", "--stream", "--json").json()
    assert data["server_tools"] == [{"type": "web_search_call", "status": "completed"}]
    assert data["citations"] == [{"url": "https://a.example", "title": "A"}] and data["content"] == "hi"
