"""gradient_chat.py for agents: conversations, tools, tool calls, structured output, stop sequences,
sampling flags, and the spec constraints of every body those flags produce.

The server's tool-call and structured-output answers come from tests/fake_tools.py (its docstring says
where each shape comes from); every body a test here sends is checked by tests/spec_checks.py.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import fake_tools
import pytest
from spec_checks import check_chat_request, check_request, check_responses_request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gradient_inference.commands import chat as gradient_chat  # noqa: E402
from gradient_inference.llm import apis, completions  # noqa: E402
from gradient_inference.llm import conversation as conv  # noqa: E402

pytestmark = pytest.mark.usefixtures("spec_check")

CHAT, RESPONSES = "/v1/chat/completions", "/v1/responses"
API = {"chat": [], "responses": ["--responses-api"]}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CLOCK = {  # a bare function object, as many agent frameworks write them
    "name": "get_time",
    "description": "Local time in a time zone",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}, "hours": {"type": "integer"}}},
}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
    "required": ["answer", "confidence"],
    "additionalProperties": False,
}


@pytest.fixture(autouse=True)
def tool_replies(server):
    fake_tools.install(server)


@pytest.fixture
def tools_file(tmp_path):
    path = tmp_path / "tools.json"
    path.write_text(json.dumps([WEATHER, CLOCK]), encoding="utf-8")
    return str(path)


def write(tmp_path, name: str, content) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


def bodies(server, path: str) -> list[dict]:
    return [r["body"] for r in server.requests if r["path"] == path]


# ---------------------------------------------------------------- --messages-file

CONVERSATION = [
    {"role": "developer", "content": "Answer in French."},
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [
            {"id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_9", "content": "18 C, sunny"},
]


@pytest.mark.parametrize("form", ["json", "jsonl"])
def test_messages_file_goes_unchanged_to_chat_completions(run, server, tmp_path, form):
    text = json.dumps(CONVERSATION) if form == "json" else "\n".join(map(json.dumps, CONVERSATION)) + "\n"
    path = write(tmp_path, f"conv.{form}", text)
    r = run("chat", "--messages-file", path, "--system", "Be brief.", "--prompt", "And tomorrow?", "--json")
    assert r.code == 0, r.err
    assert bodies(server, CHAT)[-1]["messages"] == [
        {"role": "system", "content": "Be brief."},
        *CONVERSATION,
        {"role": "user", "content": "And tomorrow?"},
    ]


def test_messages_file_from_stdin_without_prompt(run, server):
    r = run("chat", "--messages-file", "-", stdin=json.dumps(CONVERSATION[:2]))
    assert r.code == 0, r.err
    assert r.out == "echo: Weather in Paris?\n"
    assert bodies(server, CHAT)[-1]["messages"] == CONVERSATION[:2]


def test_a_one_line_jsonl_conversation(run, server):
    r = run("chat", "--messages-file", "-", "--json", stdin='{"role": "user", "content": "solo"}\n')
    assert r.code == 0 and r.json()["content"] == "echo: solo"


def test_messages_file_becomes_responses_input_items(run, server, tmp_path):
    path = write(tmp_path, "conv.json", CONVERSATION)
    r = run("chat", "--responses-api", "--messages-file", path, "--system", "Be brief.", "--prompt", "Tomorrow?")
    assert r.code == 0, r.err
    body = bodies(server, RESPONSES)[-1]
    assert body["instructions"] == "Be brief."
    assert body["input"] == [
        {"role": "developer", "content": "Answer in French."},
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "Let me check."},
        {"type": "function_call", "call_id": "call_9", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"type": "function_call_output", "call_id": "call_9", "output": "18 C, sunny"},
        {"role": "user", "content": "Tomorrow?"},
    ]


@pytest.mark.parametrize(
    "content, words",
    [
        ("this is not json", "message 1 (line 1) is not valid JSON"),
        ('[{"role": "user", "content": "a"},', "not valid JSON"),
        ('{"role": "user", "content": "only one"}\n{"role": "user"', "message 2 (line 2) is not valid JSON"),
        ('{"messages": []}', "must be a JSON array of messages"),
        ("", "the conversation is empty"),
        ("[]", "the conversation is empty"),
        ('"just a string"', "must be a JSON array of messages"),
        ('{"role": "user", "content": "a"}\n{"content": "b"}', "message 2 has role None"),
        ('[{"role": "robot", "content": "beep"}]', "message 1 has role 'robot'"),
        ('[{"role": "user", "content": "a"}, {"role": "assistant"}]', "message 2 (assistant) has neither content"),
        ('[{"role": "user", "content": ""}]', "message 1 (user) has neither content nor tool_calls"),
        ('[{"role": "user", "content": [{"type": "text", "text": "a"}]}]', "message 1 (user): content must be"),
        ('[{"role": "tool", "content": "18 C"}]', "message 1: a tool message needs a tool_call_id"),
        ('[{"role": "user", "content": "a", "tool_calls": []}]', "message 1: tool_calls must be a list on an"),
        ('[{"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]}]', "message 1: each tool call needs"),
        ("[1, 2]", "message 1 is not a JSON object"),
    ],
)
def test_bad_conversation_exits_2_naming_the_message_and_sends_nothing(run, server, tmp_path, content, words):
    path = write(tmp_path, "conv.json", content)
    r = run("chat", "--messages-file", path, "--prompt", "x", "--responses-api")
    assert r.code == 2 and words in r.err, r.err
    assert server.requests == []


def test_missing_messages_file_exits_2(run, server):
    r = run("chat", "--messages-file", "/nonexistent/conv.json", "--json")
    assert r.code == 2 and "cannot read --messages-file" in r.err_json()["error"]["message"]
    assert server.requests == []


def test_messages_file_and_prompt_cannot_both_read_stdin(run, server):
    r = run("chat", "--messages-file", "-", "--prompt", "-", stdin="[]")
    assert r.code == 2 and "both read stdin" in r.err and server.requests == []


# ---------------------------------------------------------------- --tools and --tool-choice


def test_tools_are_nested_on_chat_completions_and_bare_functions_normalised(run, server, tools_file):
    r = run("chat", "--tools", tools_file, "--tool-choice", "auto", "--prompt", "x", "--json")
    assert r.code == 0, r.err
    body = bodies(server, CHAT)[-1]
    assert body["tools"] == [WEATHER, {"type": "function", "function": CLOCK}]
    assert body["tool_choice"] == "auto"


def test_tools_are_flat_on_the_responses_api(run, server, tools_file):
    r = run("chat", "--responses-api", "--tools", tools_file, "--tool-choice", "required", "--prompt", "x")
    assert r.code == 0, r.err
    body = bodies(server, RESPONSES)[-1]
    assert body["tools"] == [{"type": "function", **WEATHER["function"]}, {"type": "function", **CLOCK}]
    assert body["tool_choice"] == "required"


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_tool_choice_name_forces_that_function(run, server, tools_file, api):
    data = run("chat", "--tools", tools_file, "--tool-choice", "get_time", "--prompt", "UTC", "--json", *API[api])
    body = bodies(server, RESPONSES if api == "responses" else CHAT)[-1]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_time"}}
    assert [c["name"] for c in data.json()["tool_calls"]] == ["get_time"]


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_tool_choice_none_gets_a_text_answer(run, server, tools_file, api):
    r = run("chat", "--tools", tools_file, "--tool-choice", "none", "--prompt", "hi", *API[api])
    assert r.code == 0 and r.out == "echo: hi\n"


@pytest.mark.parametrize(
    "tools, extra, words",
    [
        ([{"description": "no name"}], [], "tool 1 needs a name"),
        ([WEATHER, {"type": "function", "function": {"description": "x"}}], [], "tool 2 needs a name"),
        ([{"name": "has space"}], [], "tool 1 needs a name"),
        ([{"name": "f", "parameters": "not an object"}], [], "tool 1 (f): parameters must be"),
        ([{"type": 5}], [], "tool 1: type must be a non-empty string"),
        ({"name": "f"}, [], "non-empty JSON array"),
        ([], [], "non-empty JSON array"),
        ("[{not json", [], "is not valid JSON"),
        (None, [], "cannot read --tools file"),
        ([WEATHER], ["--tool-choice", "get_time"], "no tool of that name in --tools (or auto, none, required)"),
    ],
)
def test_bad_tools_exit_2_and_send_nothing(run, server, tmp_path, tools, extra, words):
    path = str(tmp_path / "missing.json") if tools is None else write(tmp_path, "tools.json", tools)
    r = run("chat", "--tools", path, "--prompt", "x", *extra)
    assert r.code == 2 and words in r.err, r.err
    assert server.requests == []


def test_tool_choice_without_tools_exits_2(run, server):
    r = run("chat", "--tool-choice", "auto", "--prompt", "x")
    assert r.code == 2 and "--tool-choice needs --tools" in r.err and server.requests == []


# ---------------------------------------------------------------- tool calls in replies


@pytest.mark.parametrize("stream", [[], ["--stream"]])
@pytest.mark.parametrize("api", ["chat", "responses"])
def test_tool_calls_in_json(run, tools_file, api, stream):
    r = run("chat", "--tools", tools_file, "--prompt", "Paris", "--json", *API[api], *stream)
    assert r.code == 0, r.err
    data = r.json()
    assert data["finish_reason"] == "tool_calls" and data["content"] == ""
    # two parallel calls; streamed, their argument fragments arrive interleaved (by index / output_index)
    assert data["tool_calls"] == [
        {"id": "call_1_0", "name": "get_weather", "arguments": {"city": "Paris"}},
        {"id": "call_1_1", "name": "get_time", "arguments": {"zone": "Paris", "hours": 3}},
    ]


@pytest.mark.parametrize("stream", [[], ["--stream"]])
@pytest.mark.parametrize("api", ["chat", "responses"])
def test_tool_calls_in_human_output_one_line_each(run, tools_file, api, stream):
    r = run("chat", "--tools", tools_file, "--prompt", "Paris", *API[api], *stream)
    assert r.code == 0, r.err
    assert r.out == 'get_weather {"city": "Paris"}\nget_time {"zone": "Paris", "hours": 3}\n'


def test_arguments_that_do_not_parse_are_kept_as_the_raw_string(run, server, tools_file):
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{oops"}}],
    }
    reply = {"id": "x", "model": "m", "choices": [{"index": 0, "finish_reason": "tool_calls", "message": message}]}
    server.queue(CHAT, {"json": reply})
    data = run("chat", "--tools", tools_file, "--prompt", "x", "--json").json()
    assert data["tool_calls"] == [{"id": "c1", "name": "get_weather", "arguments": "{oops"}]


def test_responses_stream_calls_come_from_the_events_not_the_final_object(run, server, tools_file):
    def event(kind, **fields):
        return kind, {"type": kind, **fields}

    item = {"type": "function_call", "id": "fc_7", "call_id": "call_7", "name": "get_weather", "arguments": ""}
    events = [
        event("response.output_item.added", output_index=0, item=item),
        event("response.function_call_arguments.delta", item_id="fc_7", output_index=0, delta='{"ci'),
        event("response.function_call_arguments.delta", item_id="fc_7", output_index=0, delta='ty": "Oslo"}'),
        event("response.completed", response={"id": "r", "model": "m", "status": "completed", "output": []}),
    ]
    server.queue(RESPONSES, {"sse": events})
    data = run("chat", "--responses-api", "--stream", "--tools", tools_file, "--prompt", "x", "--json").json()
    assert data["tool_calls"] == [{"id": "call_7", "name": "get_weather", "arguments": {"city": "Oslo"}}]
    assert data["finish_reason"] == "tool_calls"


def test_responses_stream_in_the_specs_chunk_form_is_read_too(run, server, tools_file):
    # DigitalOcean's spec describes Responses streaming as chat-style `response.chunk` objects ending in [DONE].
    base = {"id": "resp_c", "object": "response.chunk", "created": 1, "model": "openai-gpt-oss-120b"}
    call = {"id": "call_c", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}}
    events = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Checking. "}}]},
        {**base, "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": "tool_calls"}]},
        "[DONE]",
    ]
    server.queue(RESPONSES, {"sse": events})
    r = run("chat", "--responses-api", "--stream", "--tools", tools_file, "--prompt", "x")
    assert r.code == 0, r.err
    assert r.out == 'Checking. \nget_weather {"city": "Rome"}\n'


@pytest.mark.parametrize("stream", [[], ["--stream"]])
@pytest.mark.parametrize("api", ["chat", "responses"])
def test_tool_result_round_trip(run, server, tmp_path, tools_file, api, stream):
    """The agent loop: call, run the tool, append the assistant message and the result, call again."""
    conversation = [{"role": "user", "content": "Weather in Paris?"}]
    path = write(tmp_path, "conv.json", conversation)
    first = run("chat", "--messages-file", path, "--tools", tools_file, "--tool-choice", "get_weather", "--json")
    [call] = first.json()["tool_calls"]
    conversation += [
        {  # arguments written back as the object --json gave: sent as its JSON string, as the spec requires
            "role": "assistant",
            "tool_calls": [{"id": call["id"], "function": {"name": call["name"], "arguments": call["arguments"]}}],
        },
        {"role": "tool", "tool_call_id": call["id"], "content": "18 C, sunny"},
    ]
    write(tmp_path, "conv.json", "\n".join(map(json.dumps, conversation)))
    second = run("chat", "--messages-file", path, "--tools", tools_file, "--json", *API[api], *stream)
    assert second.code == 0, second.err
    data = second.json()
    assert data["content"] == "tool result: 18 C, sunny" and data["tool_calls"] == []
    assert data["finish_reason"] == "stop"
    sent = server.requests[-1]["body"]
    arguments = json.dumps(call["arguments"])  # '{"city": "Weather in Paris?"}': the fake fills in the prompt
    if api == "responses":
        assert sent["input"][1:] == [
            {"type": "function_call", "call_id": call["id"], "name": "get_weather", "arguments": arguments},
            {"type": "function_call_output", "call_id": call["id"], "output": "18 C, sunny"},
        ]
    else:
        assert sent["messages"][1:] == [
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": call["id"], "type": "function", "function": {"name": "get_weather", "arguments": arguments}}
                ],
            },
            {"role": "tool", "tool_call_id": call["id"], "content": "18 C, sunny"},
        ]


# ---------------------------------------------------------------- --json-schema


def test_json_schema_request_shapes(run, server, tmp_path):
    path = write(tmp_path, "answer.json", ANSWER_SCHEMA)
    assert run("chat", "--json-schema", path, "--prompt", "x").code == 0
    assert run("chat", "--responses-api", "--json-schema", path, "--prompt", "x").code == 0
    chat, responses = bodies(server, CHAT)[-1], bodies(server, RESPONSES)[-1]
    spec = {"name": "answer", "schema": ANSWER_SCHEMA, "strict": True}
    assert chat["response_format"] == {"type": "json_schema", "json_schema": spec}
    assert responses["text"] == {"format": {"type": "json_schema", **spec}}


@pytest.mark.parametrize("stream", [[], ["--stream"]])
@pytest.mark.parametrize("api", ["chat", "responses"])
def test_json_schema_reply_is_parsed(run, tmp_path, api, stream):
    path = write(tmp_path, "wrapped.json", {"name": "verdict", "schema": ANSWER_SCHEMA})
    r = run("chat", "--json-schema", path, "--prompt", "is it?", "--json", *API[api], *stream)
    assert r.code == 0, r.err
    data = r.json()
    assert data["parsed"] == {"answer": "echo: is it?", "confidence": 2.5}
    assert json.loads(data["content"]) == data["parsed"]
    human = run("chat", "--json-schema", path, "--prompt", "is it?", *API[api], *stream)
    assert json.loads(human.out) == data["parsed"]


def test_no_parsed_key_without_json_schema(run):
    assert "parsed" not in run("chat", "--prompt", "x", "--json").json()


@pytest.mark.parametrize("stream", [[], ["--stream"]])
@pytest.mark.parametrize("api", ["chat", "responses"])
def test_reply_that_is_not_json_exits_1_with_invalid_json_output(run, server, tmp_path, api, stream):
    path = write(tmp_path, "answer.json", ANSWER_SCHEMA)
    text = "Sure! " + "x" * 300
    if api == "chat":
        message = {"role": "assistant", "content": text}
        chunk = {"id": "c", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop"}]}
        reply = {"sse": [chunk, "[DONE]"]} if stream else {"json": {"id": "c", "choices": [{"message": message}]}}
    else:
        output = [{"type": "message", "content": [{"type": "output_text", "text": text}]}]
        final = {"id": "r", "status": "completed", "output": output}
        delta = ("response.output_text.delta", {"type": "response.output_text.delta", "delta": text})
        done = ("response.completed", {"type": "response.completed", "response": final})
        reply = {"sse": [delta, done]} if stream else {"json": final}
    server.queue(RESPONSES if api == "responses" else CHAT, reply)
    r = run("chat", "--json-schema", path, "--prompt", "x", "--json", *API[api], *stream)
    assert r.code == 1 and r.out == ""
    err = r.err_json()["error"]
    assert err["type"] == "invalid_json_output"
    assert "Sure! xxx" in err["message"] and "x" * 194 in err["message"] and "x" * 195 not in err["message"]


@pytest.mark.parametrize(
    "content, words",
    [(None, "cannot read --json-schema file"), ("{nope", "is not valid JSON"), ("[1]", "JSON Schema object")],
)
def test_bad_json_schema_file_exits_2(run, server, tmp_path, content, words):
    path = str(tmp_path / "none.json") if content is None else write(tmp_path, "s.json", content)
    r = run("chat", "--json-schema", path, "--prompt", "x")
    assert r.code == 2 and words in r.err and server.requests == []


# ---------------------------------------------------------------- --stop, --top-p, --seed, --reasoning-effort


@pytest.mark.parametrize("stream", [[], ["--stream"]])
@pytest.mark.parametrize("api", ["chat", "responses"])
def test_sampling_flags_are_sent_on_both_apis(run, server, api, stream):
    args = ["--stop", "\n\n", "--stop", "END", "--top-p", "0.9", "--reasoning-effort", "low"]
    r = run("chat", "--prompt", "x", *args, *API[api], *stream)
    assert r.code == 0, r.err
    body = server.requests[-1]["body"]
    assert body["stop"] == ["\n\n", "END"] and body["top_p"] == 0.9
    if api == "responses":
        assert body["reasoning"] == {"effort": "low"} and "seed" not in body
    else:
        assert body["reasoning_effort"] == "low"


def test_four_stops_and_a_seed_on_chat_completions(run, server):
    r = run("chat", "--prompt", "x", "--seed", "-42", *itertools.chain(*(("--stop", s) for s in "abcd")))
    assert r.code == 0, r.err
    body = bodies(server, CHAT)[-1]
    assert body["stop"] == ["a", "b", "c", "d"] and body["seed"] == -42


@pytest.mark.parametrize(
    "args, words",
    [
        (["--stop", "a", "--stop", "b", "--stop", "c", "--stop", "d", "--stop", "e"], "at most 4 times"),
        (["--stop", ""], "must not be empty"),
        (["--top-p", "1.01"], "between 0 and 1"),
        (["--top-p", "-0.1"], "between 0 and 1"),
        (["--top-p", "most"], "not a number"),
        (["--seed", "1.5"], "whole number"),
        (["--seed", "7", "--responses-api"], "--seed is not part of the Responses API"),
        (["--seed", "7", "--cache"], "--seed is not part of the Responses API"),
        (["--reasoning-effort", "extreme"], "invalid choice"),
        (["--tool-choice", ""], "must not be empty"),
    ],
)
def test_out_of_range_flags_exit_2_and_send_nothing(run, server, args, words):
    r = run("chat", "--prompt", "x", *args)
    assert r.code == 2 and words in r.err, r.err
    assert server.requests == []


@pytest.mark.parametrize("value", ["0", "1", "0.5"])
def test_top_p_bounds_are_inclusive(run, server, value):
    assert run("chat", "--prompt", "x", "--top-p", value).code == 0
    assert bodies(server, CHAT)[-1]["top_p"] == float(value)


def test_the_chat_scripts_copies_of_llm_constants_agree():
    # commands/chat.py repeats them so that --help and usage errors need not import llm/
    assert gradient_chat.REASONING_EFFORTS == completions.REASONING_EFFORTS
    assert gradient_chat.DEFAULT_MODEL == completions.DEFAULT_MODEL


# ---------------------------------------------------------------- --max-tokens within the spec


@pytest.mark.parametrize("value, field", [("1", "max_tokens"), ("255", "max_tokens"), ("256", "max_completion_tokens")])
def test_max_tokens_field_keeps_every_value_valid(run, server, value, field):
    assert run("chat", "--prompt", "x", "--max-tokens", value).code == 0
    body = bodies(server, CHAT)[-1]
    assert body[field] == int(value) and len({"max_tokens", "max_completion_tokens"} & set(body)) == 1


def test_every_max_tokens_value_makes_a_valid_body():
    messages = [{"role": "user", "content": "x"}]
    for value in [*range(1, 600), 4096, 128_000, 10**9]:
        _, chat = apis.module("chat").build_request("m", messages, max_tokens=value)
        _, responses = apis.module("responses").build_request("m", messages, max_tokens=value)
        assert check_chat_request(chat) == [] and check_responses_request(responses) == [], value


def test_every_combination_of_flags_makes_a_valid_body():
    """What the chat script can send, built in-process for every combination of the options."""
    conversations = [
        [{"role": "user", "content": "x"}],
        conv.assemble("sys", conv.check_messages(json.loads(json.dumps(CONVERSATION))), "next"),
    ]
    options = itertools.product(
        ["chat", "responses"],
        conversations,
        [False, True],  # stream
        [None, [WEATHER]],
        [None, "auto", "none", "required", "get_weather"],
        [None, ("answer", ANSWER_SCHEMA)],
        [None, ["a"], ["a", "b", "c", "d"]],
        [None, 0.0, 1.0],
        [None, "none", "xhigh"],
    )
    count = 0
    for api, messages, stream, tool_list, choice, schema, stop, top_p, effort in options:
        if choice and not tool_list:
            continue  # refused by the script (exit 2)
        path, body = apis.module(api).build_request(
            "openai-gpt-oss-120b",
            messages,
            instructions=None,
            max_tokens=100,
            temperature=0.0,
            stream=stream,
            tools=tool_list,
            tool_choice=choice,
            json_schema=schema,
            stop=stop,
            top_p=top_p,
            seed=7 if api == "chat" else None,
            reasoning_effort=effort,
        )
        assert check_request("/v1" + path, body) == [], (api, body)
        count += 1
    assert count > 1000


# ---------------------------------------------------------------- did you mean


@pytest.mark.parametrize(
    "script, model, suggestion",
    [
        ("chat", "gpt-oss-120b", "did you mean openai-gpt-oss-120b"),
        ("chat", "llama3.3-70b", "did you mean llama3.3-70b-instruct?"),
        ("image", "gpt-image-1", "did you mean openai-gpt-image-1?"),
    ],
)
def test_unknown_model_error_names_the_closest_ids(run, server, tmp_path, script, model, suggestion):
    extra = ["-o", "x.png"] if script == "image" else ["--stream"]
    r = run(script, "--prompt", "x", "--model", model, "--json", *extra)
    assert r.code == 1
    err = r.err_json()["error"]
    assert err["status"] == 404 and model in err["message"] and suggestion in err["message"]
    assert [req["path"] for req in server.requests][-1] == "/v1/models"


def test_no_suggestion_request_on_success_or_on_a_404_about_something_else(run, server):
    assert run("chat", "--prompt", "x").code == 0
    r = run("chat", "--previous-response-id", "resp_nope", "--prompt", "x")
    assert r.code == 1 and "did you mean" not in r.err
    assert "/v1/models" not in [req["path"] for req in server.requests]


def test_no_close_model_keeps_the_plain_error(run, server):
    r = run("chat", "--prompt", "x", "--model", "zzzzzz")
    assert r.code == 1 and "does not exist" in r.err and "did you mean" not in r.err
