"""gradient-mcp, started as a subprocess and driven by the MCP SDK's own stdio client against the loopback fake API.

One server serves the whole module: its client session lives on an event loop in a background thread, and each
test hands it coroutines. The fake API's shapes are tests/fake_gradient.py's (DigitalOcean's published spec)."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("mcp")

from fake_gradient import API_KEY, error_body  # noqa: E402
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = str(ROOT / "scripts" / "gradient_mcp.py")
TOOLS = {"list_models", "chat", "compare", "generate_image", "embed", "get_prices", "usage"}


def wire(model) -> dict:
    """The wire (camelCase) shape of an SDK model, the same on SDK 1.x and 2.x."""
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def server_env(fake, cache: Path) -> dict[str, str]:
    return {
        "GRADIENT_API_KEY": API_KEY,
        "GRADIENT_BASE_URL": fake.url,
        "GRADIENT_CACHE_DIR": str(cache),
        "GRADIENT_DATA_DIR": str(cache.parent / "data"),
        "HTTPS_PROXY": fake.root,  # the live price page goes to the fake, which refuses it: never off loopback
        "NO_PROXY": "127.0.0.1,127.0.0.2,localhost",
        "PYTHONIOENCODING": "utf-8",
    }


def fresh_price_cache(cache: Path) -> None:
    from gradient_inference.prices import table

    cache.mkdir(parents=True, exist_ok=True)
    rows = json.loads((ROOT / "snapshots" / "pricing.json").read_text())["models"]  # real names, so they match
    body = {"format": table.CACHE_FORMAT, "fetched_at": "2026-01-01T00:00:00+00:00", "fetched_epoch": time.time()}
    (cache / "pricing.json").write_text(json.dumps({**body, "source_url": "u", "models": rows}))


class Session:
    """An MCP client session to one gradient-mcp, on an event loop in its own thread."""

    def __init__(self, env: dict[str, str], output_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.errlog = tempfile.TemporaryFile("w+")
        self.params = StdioServerParameters(
            command=sys.executable, args=[SCRIPT, "--output-dir", str(output_dir), "--verbose"], env=env
        )
        self.ready, self.stop = threading.Event(), None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.main = asyncio.run_coroutine_threadsafe(self._hold(), self.loop)
        assert self.ready.wait(30), self.log()

    async def _hold(self) -> None:
        self.stop = asyncio.Event()
        async with stdio_client(self.params, errlog=self.errlog) as (read, write):
            async with ClientSession(read, write) as session:
                self.initialized = await session.initialize()
                self.session, self.tools = session, (await session.list_tools()).tools
                self.ready.set()
                await self.stop.wait()
        self.closed_at = time.perf_counter()

    def run(self, coroutine, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, name: str, arguments: dict) -> dict:
        return wire(self.run(self.session.call_tool(name, arguments)))

    def close(self) -> float:
        """Close the client (its stdin to the server); seconds until the client had the server gone."""
        start = time.perf_counter()
        self.loop.call_soon_threadsafe(self.stop.set)
        self.main.result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        return self.closed_at - start

    def log(self) -> str:
        self.errlog.seek(0)
        return self.errlog.read()


@pytest.fixture(scope="module")
def mcp_server(server_instance, tmp_path_factory):
    cache = tmp_path_factory.mktemp("mcp") / "cache"
    fresh_price_cache(cache)
    out = tmp_path_factory.mktemp("images")
    session = Session(server_env(server_instance, cache), out)
    session.output_dir, session.data_dir = out, cache.parent / "data"
    yield session
    if session.stop is not None and not session.stop.is_set():
        session.close()


def assert_no_key(result: dict) -> None:
    text = json.dumps(result)
    for secret in (API_KEY, API_KEY[:12], API_KEY[-12:]):
        assert secret not in text


def test_lists_every_tool_with_a_hand_written_input_schema(mcp_server):
    tools = {t.name: wire(t) for t in mcp_server.tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        schema = tool["inputSchema"]
        assert schema["type"] == "object" and schema["additionalProperties"] is False, tool
        assert tool["description"]
    chat = tools["chat"]["inputSchema"]
    assert chat["required"] == ["prompt"]
    assert chat["properties"]["api"]["enum"] == ["chat", "responses", "messages"]
    assert {"model", "system", "max_tokens", "temperature", "json_schema"} <= set(chat["properties"])
    assert set(tools["list_models"]["inputSchema"]["properties"]) == {"filter", "with_prices"}
    assert set(tools["generate_image"]["inputSchema"]["properties"]) == {"prompt", "model", "size", "n"}
    assert tools["embed"]["inputSchema"]["properties"]["texts"]["type"] == "array"
    assert set(tools["get_prices"]["inputSchema"]["properties"]) == {"model"}
    assert tools["usage"]["inputSchema"]["properties"]["by"]["enum"] == ["day", "model", "command"]


def test_the_server_instructions_and_help_name_every_tool(mcp_server):
    instructions = mcp_server.initialized.instructions
    shown = " ".join(subprocess.run([sys.executable, SCRIPT, "--help"], capture_output=True, text=True).stdout.split())
    assert sorted(t for t in TOOLS if t not in instructions) == [] and sorted(t for t in TOOLS if t not in shown) == []


def test_chat_returns_the_reply_as_text_and_usage_and_cost_as_structured_content(mcp_server, server):
    result = mcp_server.call("chat", {"prompt": "hello there", "max_tokens": 50, "system": "be brief"})
    assert not result.get("isError"), result
    assert result["content"][0]["text"] == "echo: hello there"
    structured = result["structuredContent"]
    assert structured["model"] == "openai-gpt-oss-120b" and structured["finish_reason"] == "stop"
    assert structured["usage"]["input_tokens"] and "conversation_id" in structured
    assert structured["cost"]["usd"] > 0 and structured["cost"]["source"]
    body = server.requests[-1]["body"]
    assert body["max_tokens"] == 50 and body["messages"][0] == {"role": "system", "content": "be brief"}
    assert_no_key(result)


def test_chat_with_a_json_schema_returns_the_parsed_reply(mcp_server, server):
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    server.queue(
        "/v1/chat/completions",
        {
            "json": {
                "id": "c1",
                "object": "chat.completion",
                "model": "openai-gpt-oss-120b",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": '{"answer": "4"}'}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            }
        },
    )
    result = mcp_server.call("chat", {"prompt": "2+2?", "json_schema": schema})
    assert result["structuredContent"]["parsed"] == {"answer": "4"}, result
    assert server.requests[-1]["body"]["response_format"]["json_schema"]["schema"] == schema


def test_a_conversation_continues_across_two_chat_calls_and_every_call_is_in_the_history(mcp_server, server):
    first = mcp_server.call("chat", {"prompt": "my name is Ada"})
    conversation = first["structuredContent"]["conversation_id"]
    assert conversation, first
    second = mcp_server.call("chat", {"prompt": "what is my name?", "conversation_id": conversation})
    assert not second.get("isError"), second
    assert second["structuredContent"]["conversation_id"] == conversation
    sent = [m["content"] for m in server.requests[-1]["body"]["messages"]]
    assert sent == ["my name is Ada", "echo: my name is Ada", "what is my name?"]
    import sqlite3

    with sqlite3.connect(mcp_server.data_dir / "history.db") as db:
        rows = db.execute("SELECT endpoint, ok, conversation_id FROM calls WHERE conversation_id = ?", (conversation,))
        assert rows.fetchall() == [("/chat/completions", 1, conversation)] * 2


def test_list_models_and_get_prices(mcp_server):
    models = mcp_server.call("list_models", {"filter": "gpt-oss", "with_prices": True})
    assert not models.get("isError"), models
    ids = [m["id"] for m in models["structuredContent"]["models"]]
    assert ids and all("gpt-oss" in i for i in ids)
    assert "prices_source" in models["structuredContent"]
    prices = mcp_server.call("get_prices", {"model": "gpt-oss"})
    assert not prices.get("isError"), prices
    assert prices["structuredContent"]["source"] == "cache"
    assert prices["structuredContent"]["models"][0]["input_price"] > 0
    assert_no_key(models)
    assert_no_key(prices)


def test_usage_reports_the_recorded_spend_by_model(mcp_server):
    assert not mcp_server.call("chat", {"prompt": "count me"}).get("isError")
    usage = mcp_server.call("usage", {"since": "24h", "by": "model"})
    assert not usage.get("isError"), usage
    report = usage["structuredContent"]
    assert report["by"] == "model" and set(report) >= {"since", "rows", "total_usd"}
    row = next(r for r in report["rows"] if r["key"] == "openai-gpt-oss-120b")
    assert row["calls"] >= 1 and row["usd"] > 0 and report["total_usd"] >= row["usd"]
    bad = mcp_server.call("usage", {"by": "week"})
    assert bad.get("isError")
    assert_no_key(usage)


def test_generate_image_saves_files_never_clobbering_and_returns_them(mcp_server):
    first = mcp_server.call("generate_image", {"prompt": "a red square", "n": 2})
    assert not first.get("isError"), first
    paths = [image["path"] for image in first["structuredContent"]["images"]]
    assert len(paths) == 2 and all(Path(p).parent == mcp_server.output_dir for p in paths)
    images = [c for c in first["content"] if c["type"] == "image"]
    assert len(images) == 2 and base64.b64decode(images[0]["data"]) == Path(paths[0]).read_bytes()
    second = mcp_server.call("generate_image", {"prompt": "a red square", "n": 2})
    assert not set(paths) & {image["path"] for image in second["structuredContent"]["images"]}


def test_embed_returns_vectors_in_structured_content(mcp_server, files_host):
    result = mcp_server.call("embed", {"texts": ["one", "-two starts with a dash"]})
    assert not result.get("isError"), result
    rows = result["structuredContent"]["embeddings"]
    assert [r["index"] for r in rows] == [0, 1] and all(r["embedding"] for r in rows)
    assert result["structuredContent"]["usage"]["prompt_tokens"] > 0


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"prompt": "hi", "max_tokens": 0}, "chat: invalid arguments: max_tokens: 0 is less than the minimum of 1"),
        ({"prompt": "hi", "temperature": 3}, "chat: invalid arguments: temperature: 3 is greater than the maximum"),
        ({"prompt": "hi", "nonsense": 1}, "chat: invalid arguments: Additional properties are not allowed"),
        ({}, "chat: invalid arguments: 'prompt' is a required property"),
        ({"prompt": "hi", "api": "nope"}, "chat: invalid arguments: api: 'nope' is not one of"),
        ({"prompt": "hi", "api": "messages", "web_search": True}, "gradient-chat: error: --web-search: server-side"),
        ({"prompt": "hi", "mcp": ["docs=http://example.com/mcp"]}, "gradient-chat: error: --mcp docs: the URL must"),
    ],
)
def test_a_bad_argument_is_a_tool_error_with_the_commands_message(mcp_server, server, arguments, message):
    result = mcp_server.call("chat", arguments)
    assert result["isError"] is True
    assert result["content"][0]["text"].startswith(message), result
    assert "\n" not in result["content"][0]["text"]
    assert not server.requests  # refused before anything was sent


def test_a_401_and_a_429_storm_are_tool_errors_and_the_server_carries_on(mcp_server, server):
    server.queue("/v1/chat/completions", {"status": 401, "json": error_body("Incorrect API key provided.", "x")})
    result = mcp_server.call("chat", {"prompt": "hi"})
    assert result["isError"] is True and "HTTP 401" in result["content"][0]["text"]
    assert result["content"][0]["text"].startswith("gradient-chat: error: ")
    storm = {"status": 429, "json": error_body("slow down", "rate_limit_error"), "headers": {"Retry-After": "0"}}
    server.queue("/v1/chat/completions", *[storm] * 3)
    result = mcp_server.call("chat", {"prompt": "hi"})
    assert result["isError"] is True and "HTTP 429" in result["content"][0]["text"], result
    assert "after 3 attempts" in result["content"][0]["text"]
    assert not mcp_server.call("chat", {"prompt": "still here"}).get("isError")
    assert_no_key(result)


def test_ten_calls_run_at_once_and_a_slow_chat_does_not_hold_up_get_prices(mcp_server, server):
    reply = {
        "id": "c",
        "object": "chat.completion",
        "model": "openai-gpt-oss-120b",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "slow"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    server.queue("/v1/chat/completions", *[{"stall": 1.0, "json": reply}] * 10)

    async def burst():
        start = time.perf_counter()
        chats = [asyncio.ensure_future(mcp_server.session.call_tool("chat", {"prompt": "x"})) for _ in range(10)]
        await asyncio.sleep(0.2)
        prices_start = time.perf_counter()
        await mcp_server.session.call_tool("get_prices", {})
        prices_took = time.perf_counter() - prices_start
        results = await asyncio.gather(*chats)
        return time.perf_counter() - start, prices_took, results

    took, prices_took, results = mcp_server.run(burst())
    assert all(not wire(r).get("isError") for r in results)
    assert took < 3.0, f"ten 1 s calls took {took:.2f} s: not concurrent"
    assert prices_took < 0.8, f"get_prices waited {prices_took:.2f} s behind slow chats"


def test_overlapping_calls_each_keep_their_own_command_and_conversation(mcp_server, server, files_host):
    """While a slow chat is in flight: an embed, a model list and an image are recorded under their own commands, a
    conversation whose reply is back continues at once, and a reply that fails after HTTP 200 is a failed row
    that keeps its (billed) tokens and cost."""
    import sqlite3

    first = mcp_server.call("chat", {"prompt": "remember 7"})
    conversation = first["structuredContent"]["conversation_id"]
    server.latency = 0.0
    slow = {"stall": 1.5, "json": {"id": "s", "object": "chat.completion", "model": "openai-gpt-oss-120b",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "late"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}}  # fmt: skip
    bad_json = {"json": {**slow["json"], "id": "b", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "not json"}, "finish_reason": "stop"}]}}  # fmt: skip
    server.queue("/v1/chat/completions", slow)

    async def overlap():
        in_flight = asyncio.ensure_future(mcp_server.session.call_tool("chat", {"prompt": "slow one"}))
        await asyncio.sleep(0.3)
        others = await asyncio.gather(
            mcp_server.session.call_tool("embed", {"texts": ["a"]}),
            mcp_server.session.call_tool("list_models", {}),
            mcp_server.session.call_tool("generate_image", {"prompt": "a dot"}),
            mcp_server.session.call_tool("chat", {"prompt": "and?", "conversation_id": conversation}),
        )
        server.queue("/v1/chat/completions", bad_json)
        failed = await mcp_server.session.call_tool("chat", {"prompt": "as json", "json_schema": {"type": "object"}})
        return [wire(r) for r in others], wire(failed), wire(await in_flight)

    others, failed, slow_result = mcp_server.run(overlap())
    assert all(not r.get("isError") for r in [*others, slow_result]), others
    assert others[3]["structuredContent"]["conversation_id"] == conversation
    assert failed["isError"] and "not valid JSON" in failed["content"][0]["text"]
    with sqlite3.connect(mcp_server.data_dir / "history.db") as db:
        db.row_factory = sqlite3.Row
        found = [dict(r) for r in db.execute("SELECT * FROM calls ORDER BY id DESC LIMIT 6")]
    by_prompt = {r["prompt"]: r for r in found if r["prompt"]}
    assert by_prompt["slow one"]["command"] == "chat" and by_prompt["and?"]["command"] == "chat"
    assert by_prompt["and?"]["conversation_id"] == conversation
    assert {r["endpoint"]: r["command"] for r in found if r["endpoint"] != "/chat/completions"} == {
        "/embeddings": "embed",
        "/models": "models",
        "/images/generations": "image",
    }
    bad = by_prompt["as json"]
    assert (bad["ok"], bad["error_type"], bad["input_tokens"]) == (0, "invalid_json_output", 3) and bad["cost_usd"]


def test_the_key_never_appears_in_the_log_or_the_history(mcp_server):
    mcp_server.call("chat", {"prompt": f"my key is {API_KEY}"})  # even echoed back by the server
    history = b"".join(p.read_bytes() for p in mcp_server.data_dir.glob("history.db*"))
    assert history
    for secret in (API_KEY, API_KEY[:12], API_KEY[-12:]):
        assert secret not in mcp_server.log() and secret.encode() not in history
    assert "Traceback" not in mcp_server.log()


def test_zz_the_server_exits_cleanly_when_the_client_closes_stdin(mcp_server):
    took = mcp_server.close()
    assert took < 1.5, f"{took:.2f} s: the client had to terminate the server"  # the client waits 2 s, then kills
    assert "stdin closed; exiting" in mcp_server.log()


def test_without_the_sdk_it_exits_2_with_how_to_install_it(tmp_path):
    hide = (
        "import importlib.abc, runpy, sys\n"
        "class Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'mcp' or name.startswith('mcp.'): raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        f"sys.argv = [{SCRIPT!r}]\n"
        f"runpy.run_path({SCRIPT!r}, run_name='__main__')\n"
    )
    proc = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, cwd=tmp_path, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "gradient-mcp: error: the MCP SDK is not installed: pip install 'gradient-inference[mcp]' (Python 3.10 or newer)"
    ]
    assert proc.stdout == ""
