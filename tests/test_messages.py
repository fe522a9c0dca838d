"""gradient_chat.py --api messages: requests, tools, structured output, images, streams and errors."""

from __future__ import annotations

import base64
import json

import pytest
from fake_gradient import PNG_1PX
from fake_messages import USAGE, install, messages_error, stream_events
from spec_messages import messages_request_problems

pytestmark = pytest.mark.usefixtures("spec_check")  # every request body sent here must meet the spec

IMAGES = {  # magic bytes are all that decide the format
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20,
    "png": PNG_1PX,
    "gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    "webp": b"RIFF\x1a\x00\x00\x00WEBPVP8 " + b"\x00" * 14,
}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CONVERSATION = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},
]


@pytest.fixture
def server(server):
    install(server)
    return server


def sent(server) -> dict:
    """The last request's body, after checking it against DigitalOcean's Messages schema."""
    request = server.requests[-1]
    assert request["path"] == "/v1/messages"
    assert messages_request_problems(request["body"]) == []
    return request["body"]


def write(tmp_path, name: str, content) -> str:
    path = tmp_path / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(json.dumps(content))
    return str(path)


def test_plain_request_defaults_and_reply(run, server):
    r = run("chat", "--api", "messages", "--prompt", "hello there")
    assert r.code == 0 and r.out == "echo: hello there\n"
    assert sent(server) == {
        "model": "anthropic-claude-haiku-4.5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hello there"}],
    }
    assert server.requests[-1]["headers"]["Authorization"].startswith("Bearer ")
    assert "cost ~$0.000071" in r.err  # (35 uncached x $1 + 10 cached x $0.10 + 7 out x $5) per 1M tokens


@pytest.mark.parametrize("stream", [[], ["--stream"]])
def test_json_reply_keeps_stop_reason_and_common_usage(run, server, stream):
    data = run("chat", "--api", "messages", "--prompt", "hi", "--json", *stream).json()
    assert set(data) == {"id", "model", "api", "content", "finish_reason", "stop_reason", "usage", "reasoning"} | {
        "tool_calls",
        "cost",
        "message",
        "conversation_id",
    }
    assert data["api"] == "messages" and data["content"] == "echo: hi" and data["tool_calls"] == []
    assert data["finish_reason"] == "stop" and data["stop_reason"] == "end_turn"
    # Anthropic counts cache reads and writes outside input_tokens; the common usage counts them in
    total = USAGE["input_tokens"] + USAGE["cache_read_input_tokens"] + USAGE["cache_creation_input_tokens"]
    assert data["usage"] == {"input_tokens": total, "output_tokens": 7, "cached_tokens": 10, "reasoning_tokens": None}
    assert data["cost"]["usd"] == pytest.approx(0.000071) and data["model"] == "anthropic-claude-haiku-4.5"


@pytest.mark.parametrize("stream", [[], ["--stream"]], ids=["plain", "stream"])
@pytest.mark.parametrize(
    "flags, fields",
    [
        (["--system", "be brief"], {"system": "be brief"}),
        (["--max-tokens", "50"], {"max_tokens": 50}),
        (["--temperature", "0.7"], {"temperature": 0.7}),
        (["--temperature", "1"], {"temperature": 1.0}),
        (["--top-p", "0.9"], {"top_p": 0.9}),
        (["--top-k", "40"], {"top_k": 40}),
        (["--top-k", "0"], {"top_k": 0}),
        (["--stop", "END", "--stop", "###"], {"stop_sequences": ["END", "###"]}),
        (["--reasoning-effort", "high"], {"reasoning_effort": "high"}),
        (["--model", "anthropic-claude-sonnet-4"], {"model": "anthropic-claude-sonnet-4"}),
    ],
)
def test_each_flag_reaches_the_body(run, server, flags, fields, stream):
    r = run("chat", "--api", "messages", "--prompt", "say something", *flags, *stream)
    assert r.code == 0 and r.out == "echo: say something\n"
    body = sent(server)
    assert {k: body[k] for k in fields} == fields
    assert body.get("stream") is (True if stream else None)


@pytest.mark.parametrize("stream", [[], ["--stream"]], ids=["plain", "stream"])
@pytest.mark.parametrize(
    "flags, out, finish, stop_reason",
    [
        (["--prompt", "one two three four"], "echo: one two three four", "stop", "end_turn"),
        (["--prompt", "one two STOP three", "--stop", "STOP"], "echo: one two ", "stop", "stop_sequence"),
        (["--prompt", "one two three four", "--max-tokens", "2"], "echo: one", "length", "max_tokens"),
    ],
)
def test_stop_reason_maps_to_finish_reason(run, server, flags, out, finish, stop_reason, stream):
    data = run("chat", "--api", "messages", "--json", *flags, *stream).json()
    assert (data["content"], data["finish_reason"], data["stop_reason"]) == (out, finish, stop_reason)


def test_streamed_text_is_printed_as_it_arrives_and_pings_are_ignored(run, server):
    r = run("chat", "--api", "messages", "--stream", "--prompt", "a b c")
    assert r.code == 0 and r.out == "echo: a b c\n"
    assert sent(server)["stream"] is True


@pytest.mark.parametrize("stream", [[], ["--stream"]], ids=["plain", "stream"])
def test_tool_call_reply(run, server, tmp_path, stream):
    tools = write(tmp_path, "tools.json", [WEATHER_TOOL])
    r = run("chat", "--api", "messages", "--tools", tools, "--prompt", "Weather in Paris?", *stream)
    assert r.code == 0 and r.out == 'get_weather {"city": "sample city"}\n'
    assert sent(server)["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather in a city",
            "input_schema": WEATHER_TOOL["function"]["parameters"],
        }
    ]
    data = run("chat", "--api", "messages", "--tools", tools, "--prompt", "Weather?", "--json", *stream).json()
    assert data["tool_calls"] == [{"id": "toolu_fake01", "name": "get_weather", "arguments": {"city": "sample city"}}]
    assert data["finish_reason"] == "tool_calls" and data["stop_reason"] == "tool_use" and data["content"] == ""


@pytest.mark.parametrize("stream", [[], ["--stream"]], ids=["plain", "stream"])
def test_tool_round_trip_from_a_conversation_file(run, server, tmp_path, stream):
    conversation = write(tmp_path, "chat.json", CONVERSATION)
    tools = write(tmp_path, "tools.json", [WEATHER_TOOL])
    data = run("chat", "--api", "messages", "--messages-file", conversation, "--tools", tools, "--json", *stream).json()
    assert data["content"] == "echo:  [tool said: 18C and sunny]" and data["finish_reason"] == "stop"
    body = sent(server)
    assert body["system"] == "You are terse."
    assert body["messages"] == [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "18C and sunny"}]},
    ]


def test_conversation_conversion_merges_roles_and_lifts_system(run, server, tmp_path):
    messages = [
        {"role": "developer", "content": "Rule one."},
        {"role": "user", "content": "first"},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "Checking.", "tool_calls": [CONVERSATION[2]["tool_calls"][0]]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
    ]
    path = tmp_path / "chat.jsonl"
    path.write_text("\n".join(json.dumps(m) for m in messages) + "\n")
    r = run("chat", "--api", "messages", "--messages-file", str(path), "--system", "Be kind.", "--prompt", "and now?")
    assert r.code == 0
    body = sent(server)
    assert body["system"] == "Be kind.\n\nRule one."
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
            ],
        },
        {
            "role": "user",  # the tool result and the new prompt: consecutive user turns, merged
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
                {"type": "text", "text": "and now?"},
            ],
        },
    ]


def test_conversation_from_stdin(run, server):
    r = run("chat", "--api", "messages", "--messages-file", "-", stdin=json.dumps(CONVERSATION[:2]))
    assert r.code == 0 and sent(server)["messages"] == [{"role": "user", "content": "Weather in Paris?"}]


@pytest.mark.parametrize(
    "choice, expected",
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ("get_weather", {"type": "tool", "name": "get_weather"}),
        ("none", None),
    ],
)
@pytest.mark.parametrize("stream", [[], ["--stream"]], ids=["plain", "stream"])
def test_tool_choice(run, server, tmp_path, choice, expected, stream):
    tools = write(tmp_path, "tools.json", [WEATHER_TOOL, {"name": "get_time", "parameters": {"type": "object"}}])
    r = run("chat", "--api", "messages", "--tools", tools, "--tool-choice", choice, "--prompt", "hi", *stream)
    assert r.code == 0
    assert r.out == ("echo: hi\n" if choice == "none" else 'get_weather {"city": "sample city"}\n')
    body = sent(server)
    assert body.get("tool_choice") == expected
    assert ("tools" in body) is (choice != "none")


def test_bare_function_tools_get_an_input_schema(run, server, tmp_path):
    tools = write(tmp_path, "tools.json", [{"name": "ping"}])
    run("chat", "--api", "messages", "--tools", tools, "--prompt", "hi")
    assert sent(server)["tools"] == [{"name": "ping", "input_schema": {"type": "object", "properties": {}}}]


SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}}}


@pytest.mark.parametrize("stream", [[], ["--stream"]], ids=["plain", "stream"])
def test_structured_output_through_the_forced_tool(run, server, tmp_path, stream):
    schema = write(tmp_path, "city.json", {"name": "city_facts", "schema": SCHEMA})
    data = run("chat", "--api", "messages", "--json-schema", schema, "--prompt", "Biggest city?", "--json", *stream)
    data = data.json()
    body = sent(server)
    assert body["tools"] == [
        {"name": "city_facts", "description": body["tools"][0]["description"], "input_schema": SCHEMA}
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "city_facts"}
    assert data["parsed"] == {"city": "sample city", "population": 3}
    assert json.loads(data["content"]) == data["parsed"]
    assert data["tool_calls"] == [] and data["finish_reason"] == "stop" and data["stop_reason"] == "tool_use"
    human = run("chat", "--api", "messages", "--json-schema", schema, "--prompt", "Biggest city?", *stream)
    assert json.loads(human.out) == {"city": "sample city", "population": 3}


def test_structured_output_without_the_tool_call_fails(run, server, tmp_path):
    schema = write(tmp_path, "city.json", SCHEMA)
    reply = {
        "id": "m",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "I cannot"}],
        "model": "anthropic-claude-haiku-4.5",
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    server.queue("/v1/messages", {"json": reply})
    r = run("chat", "--api", "messages", "--json-schema", schema, "--prompt", "x", "--json")
    assert r.code == 1 and r.err_json()["error"]["type"] == "invalid_json_output"
    assert "I cannot" in r.err_json()["error"]["message"]


@pytest.mark.parametrize("kind", sorted(IMAGES))
def test_image_of_each_format(run, server, tmp_path, kind):
    path = write(tmp_path, f"picture.{kind}", IMAGES[kind])
    r = run("chat", "--image", path, "--prompt", "What is this?")
    assert r.code == 0 and r.out == f"echo: What is this? [images: image/{kind}]\n"
    body = sent(server)  # --image alone chose the Messages API
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": f"image/{kind}",
                        "data": base64.b64encode(IMAGES[kind]).decode(),
                    },
                },
                {"type": "text", "text": "What is this?"},
            ],
        }
    ]


def test_format_comes_from_the_bytes_not_the_name_and_order_is_kept(run, server, tmp_path):
    paths = [write(tmp_path, "a.jpg", IMAGES["png"]), write(tmp_path, "b.png", IMAGES["gif"])]
    r = run("chat", "--api", "messages", "--image", paths[0], "--image", paths[1], "--prompt", "compare", "--stream")
    assert r.code == 0 and r.out == "echo: compare [images: image/png, image/gif]\n"
    content = sent(server)["messages"][-1]["content"]
    assert [b["type"] for b in content] == ["image", "image", "text"]


def test_images_go_to_the_final_user_message_of_a_conversation(run, server, tmp_path):
    conversation = write(tmp_path, "chat.json", CONVERSATION[:2])
    image = write(tmp_path, "p.png", IMAGES["png"])
    r = run("chat", "--messages-file", conversation, "--image", image, "--prompt", "and this?")
    assert r.code == 0
    content = sent(server)["messages"][-1]["content"]
    assert [b["type"] for b in content] == ["image", "text", "text"]


def test_twenty_images_are_allowed(run, server, tmp_path):
    image = write(tmp_path, "p.gif", IMAGES["gif"])
    r = run("chat", *["--image", image] * 20, "--prompt", "count")
    assert r.code == 0 and len(sent(server)["messages"][0]["content"]) == 21


def refused_images(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(IMAGES["png"] + b"\x00" * (5 * 1024 * 1024 + 1 - len(IMAGES["png"])))
    exact = tmp_path / "exact.png"
    exact.write_bytes(IMAGES["png"] + b"\x00" * (5 * 1024 * 1024 - len(IMAGES["png"])))
    (tmp_path / "folder.png").mkdir()
    return [
        (str(tmp_path / "missing.png"), "cannot read it"),
        (str(tmp_path / "folder.png"), "cannot read it"),
        (write(tmp_path, "notes.png", b"just some text"), "not a JPEG, PNG, GIF or WebP image"),
        (write(tmp_path, "pic.bmp", b"BM" + b"\x00" * 30), "not a JPEG, PNG, GIF or WebP image"),
        (write(tmp_path, "empty.jpg", b""), "not a JPEG, PNG, GIF or WebP image"),
        (str(big), "over the 5 MB limit"),
    ]


def test_every_refused_image_exits_2_naming_the_file(run, server, tmp_path):
    good = write(tmp_path, "ok.png", IMAGES["png"])
    for path, words in refused_images(tmp_path):
        r = run("chat", "--image", good, "--image", path, "--prompt", "x")
        assert r.code == 2 and words in r.err and path in r.err, (path, r.err)
    r = run("chat", *["--image", good] * 21, "--prompt", "x")
    assert r.code == 2 and "at most 20" in r.err
    assert server.requests == []
    exact = run("chat", "--image", str(tmp_path / "exact.png"), "--prompt", "x")
    assert exact.code == 0  # 5 MB itself is allowed


@pytest.mark.parametrize("api", [["--api", "chat"], ["--api", "responses"], ["--responses-api"], ["--cache"]])
def test_image_on_another_api_exits_2(run, server, tmp_path, api):
    r = run("chat", "--image", write(tmp_path, "p.png", IMAGES["png"]), "--prompt", "x", *api)
    assert r.code == 2 and "takes images only on the Messages API" in r.err
    assert server.requests == []


def test_image_needs_a_final_user_message(run, server, tmp_path):
    conversation = write(tmp_path, "chat.json", [*CONVERSATION[:2], {"role": "assistant", "content": "Sunny."}])
    r = run("chat", "--messages-file", conversation, "--image", write(tmp_path, "p.png", IMAGES["png"]))
    assert r.code == 2 and "final user message" in r.err and server.requests == []


def test_messages_error_shape_is_reported(run, server):
    server.queue("/v1/messages", messages_error(400, "invalid_request_error", "max_tokens must be positive"))
    r = run("chat", "--api", "messages", "--prompt", "x")
    assert r.code == 1 and "max_tokens must be positive" in r.err and "HTTP 400" in r.err
    server.queue("/v1/messages", messages_error(400, "invalid_request_error", "max_tokens must be positive"))
    err = run("chat", "--api", "messages", "--prompt", "x", "--json").err_json()["error"]
    assert (err["type"], err["status"], err["message"]) == ("invalid_request_error", 400, "max_tokens must be positive")


def test_stream_error_event_exits_1_with_its_message(run, server):
    events = stream_events(
        {
            "id": "m",
            "model": "anthropic-claude-haiku-4.5",
            "content": [{"type": "text", "text": "Partial answer"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": USAGE,
        }
    )[:5]  # message_start, ping, block start, first delta, second delta
    events.append(("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
    server.queue("/v1/messages", {"sse": events})
    r = run("chat", "--api", "messages", "--stream", "--prompt", "x")
    assert r.code == 1 and r.out == "Partial answer\n" and "Overloaded" in r.err
    server.queue("/v1/messages", {"sse": events})
    err = run("chat", "--api", "messages", "--stream", "--prompt", "x", "--json").err_json()["error"]
    assert err["type"] == "overloaded_error" and err["message"] == "Overloaded"


def test_stream_without_message_stop_is_an_error(run, server):
    message = {"id": "m", "model": "x", "content": [{"type": "text", "text": "cut"}], "usage": USAGE}
    message.update(stop_reason="end_turn", stop_sequence=None)
    server.queue("/v1/messages", {"sse": stream_events(message)[:-1]})
    r = run("chat", "--api", "messages", "--stream", "--prompt", "x")
    assert r.code == 1 and r.out == "cut\n" and "message_stop" in r.err


def test_dry_run_prints_the_messages_request(run, server, tmp_path):
    r = run(
        "chat", "--api", "messages", "--prompt", "hi", "--image", write(tmp_path, "p.png", IMAGES["png"]), "--dry-run"
    )
    assert r.code == 0 and "/v1/messages" in r.out and '"media_type": "image/png"' in r.out
    assert server.requests == []


@pytest.mark.parametrize(
    "args, words",
    [
        (["--temperature", "1.5"], "between 0 and 1 on the Messages API"),
        (["--temperature", "2.5"], "between 0 and 2"),
        (["--top-p", "1.5"], "between 0 and 1"),
        (["--top-p", "-0.1"], "between 0 and 1"),
        (["--top-k", "-1"], "0 or more"),
        (["--top-k", "2.5"], "whole number"),
        (["--reasoning-effort", "extreme"], "invalid choice"),
        (["--max-tokens", "0"], "1 or more"),
        (["--stop", "a", "--stop", "b", "--stop", "c", "--stop", "d", "--stop", "e"], "at most 4"),
        (["--seed", "7"], "no seed"),
        (["--tool-choice", "auto"], "needs --tools"),
        (["--tools", "TOOLS", "--tool-choice", "get_time"], "no tool of that name"),
        (["--tools", "/nonexistent/tools.json"], "cannot read --tools"),
        (["--tools", "NAMELESS"], "needs a name"),
        (["--json-schema", "SCHEMA", "--tool-choice", "auto", "--tools", "TOOLS"], "drop --tool-choice"),
        (["--json-schema", "ARRAY_SCHEMA"], '"type": "object"'),
        (["--json-schema", "/nonexistent/schema.json"], "cannot read --json-schema"),
        (["--messages-file", "BAD_CONVERSATION"], "message 2"),
        (["--messages-file", "/nonexistent/chat.json"], "cannot read --messages-file"),
        (["--api", "carrier-pigeon"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(run, server, tmp_path, args, words):
    files = {
        "TOOLS": write(tmp_path, "tools.json", [WEATHER_TOOL]),
        "NAMELESS": write(tmp_path, "nameless.json", [{"type": "function", "function": {"description": "x"}}]),
        "SCHEMA": write(tmp_path, "schema.json", SCHEMA),
        "ARRAY_SCHEMA": write(tmp_path, "list.json", {"type": "array", "items": {"type": "string"}}),
        "BAD_CONVERSATION": write(tmp_path, "bad.json", [{"role": "user", "content": "x"}, {"role": "robot"}]),
    }
    r = run("chat", "--api", "messages", "--prompt", "x", *[files.get(a, a) for a in args])
    assert r.code == 2 and words in r.err, r.err
    assert server.requests == []


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_top_k_and_seed_belong_to_their_apis(run, server, api):
    r = run("chat", "--api", api, "--prompt", "x", "--top-k", "5")
    assert r.code == 2 and "only on the Messages API" in r.err and server.requests == []


def test_api_flags_agree(run, server):
    assert run("chat", "--api", "responses", "--prompt", "x").code == 0
    assert server.requests[-1]["path"] == "/v1/responses"
    r = run("chat", "--api", "messages", "--responses-api", "--prompt", "x")
    assert r.code == 2 and "--responses-api means --api responses" in r.err


def test_stream_cut_midway_keeps_printed_text_and_fails(run, server):
    message = {"id": "m", "model": "x", "content": [{"type": "text", "text": "Hello wor ld"}], "usage": USAGE}
    message.update(stop_reason="end_turn", stop_sequence=None)
    server.queue("/v1/messages", {"sse": stream_events(message), "cut_after": 5})
    r = run("chat", "--api", "messages", "--stream", "--prompt", "x")
    assert r.code == 1 and r.out == "Hello wor\n" and "stream" in r.err


@pytest.mark.parametrize("stream", [[], ["--stream"]], ids=["plain", "stream"])
def test_thinking_blocks_are_reasoning_not_content(run, server, stream):
    message = {
        "id": "m",
        "type": "message",
        "role": "assistant",
        "model": "anthropic-claude-haiku-4.5",
        "content": [{"type": "thinking", "thinking": "Let me see."}, {"type": "text", "text": "42"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": USAGE,
    }
    events = stream_events({**message, "content": message["content"][1:]})
    thinking = [
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "thinking"}}),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 1, "delta": {"type": "thinking_delta", "thinking": "Let me see."}},
        ),
    ]
    server.queue("/v1/messages", {"sse": events[:2] + thinking + events[2:]} if stream else {"json": message})
    data = run("chat", "--api", "messages", "--prompt", "x", "--json", *stream).json()
    assert data["content"] == "42" and data["reasoning"] == "Let me see."
