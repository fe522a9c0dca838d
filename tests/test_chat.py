"""gradient_chat.py: both APIs, streaming, prompt sources, validation, JSON shape."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("spec_check")  # every request body sent here must meet the spec


def last_body(server):
    return server.requests[-1]["body"]


def test_chat_completions_request_and_reply(run, server):
    r = run("chat", "--prompt", "hello there", "--system", "be brief", "--temperature", "0.3", "--max-tokens", "50")
    assert r.code == 0
    assert r.out == "echo: hello there\n"
    req = server.requests[-1]
    assert req["method"] == "POST" and req["path"] == "/v1/chat/completions"
    assert req["body"] == {
        "model": "openai-gpt-oss-120b",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}],
        "temperature": 0.3,
        "max_tokens": 50,  # below the spec's minimum of 256 for max_completion_tokens
    }


def test_reasoning_is_kept_out_of_the_answer_but_in_json(run):
    r = run("chat", "--prompt", "hi")
    assert "thinking" not in r.out
    data = run("chat", "--prompt", "hi", "--json").json()
    assert data["reasoning"] == "thinking" and data["content"] == "echo: hi"


def test_json_shape_chat_completions(run):
    data = run("chat", "--prompt", "hi", "--json", "--model", "llama3.3-70b-instruct").json()
    assert set(data) == {
        "id",
        "model",
        "api",
        "content",
        "finish_reason",
        "usage",
        "reasoning",
        "tool_calls",
        "cost",
        "message",
        "conversation_id",
    } | {
        "citations",
        "server_tools",
        "requested_model",
        "route",
    }
    assert data["tool_calls"] == [] and data["citations"] == [] and data["server_tools"] == []
    assert data["requested_model"] == "llama3.3-70b-instruct" and data["route"] is None
    assert data["api"] == "chat.completions" and data["model"] == "llama3.3-70b-instruct"
    assert data["finish_reason"] == "stop"
    assert data["usage"] == {"input_tokens": 12, "output_tokens": 5, "cached_tokens": 4, "reasoning_tokens": 2}


def test_responses_api_request_and_json(run, server):
    data = run("chat", "--responses-api", "--prompt", "hi", "--system", "terse", "--max-tokens", "9", "--json").json()
    body = last_body(server)
    assert server.requests[-1]["path"] == "/v1/responses"
    assert body == {"model": "openai-gpt-oss-120b", "input": "hi", "instructions": "terse", "max_output_tokens": 9}
    assert data["api"] == "responses" and data["content"] == "echo: hi"
    assert data["reasoning"] == "pondered" and data["finish_reason"] == "stop"
    assert data["usage"] == {"input_tokens": 20, "output_tokens": 6, "cached_tokens": 8, "reasoning_tokens": 3}


def test_responses_text_found_after_a_reasoning_item(run, server):
    # DigitalOcean's own sample puts a reasoning_text item first; the answer is the output_text one.
    server.queue(
        "/v1/responses",
        {
            "json": {
                "id": "r1",
                "model": "m",
                "status": "completed",
                "output": [
                    {"content": [{"type": "reasoning_text", "text": "We need to answer"}]},
                    {"content": [{"type": "output_text", "text": "Paris."}]},
                ],
                "usage": {"input_tokens": 3, "output_tokens": 2},
            }
        },
    )
    r = run("chat", "--responses-api", "--prompt", "capital of France?", "--json")
    assert r.json()["content"] == "Paris." and r.json()["reasoning"] == "We need to answer"


def test_cache_stores_and_previous_response_id_continues(run, server):
    first = run("chat", "--cache", "--prompt", "remember 42")
    assert first.code == 0 and "--previous-response-id resp_" in first.err
    assert last_body(server)["store"] is True
    rid = first.err.split("--previous-response-id ")[1].split(")")[0]
    second = run("chat", "--previous-response-id", rid, "--prompt", "what number?", "--json")
    assert last_body(server)["previous_response_id"] == rid
    assert "(after echo: remember 42)" in second.json()["content"]


def test_unknown_previous_response_id_is_a_404_error(run):
    r = run("chat", "--previous-response-id", "resp_nope", "--prompt", "x")
    assert r.code == 1 and "HTTP 404" in r.err and "resp_nope" in r.err


def test_stream_chat_prints_text_and_asks_for_usage(run, server):
    r = run("chat", "--stream", "--prompt", "one two three")
    assert r.code == 0 and r.out == "echo: one two three\n"
    body = last_body(server)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_stream_chat_json_has_usage_and_reasoning(run):
    data = run("chat", "--stream", "--json", "--prompt", "a b").json()
    assert data["content"] == "echo: a b" and data["finish_reason"] == "stop"
    assert data["usage"]["input_tokens"] == 12 and data["reasoning"] == "thinking"


def test_stream_responses(run, server):
    r = run("chat", "--stream", "--responses-api", "--prompt", "x y")
    assert r.code == 0 and r.out == "echo: x y\n"
    assert last_body(server)["stream"] is True
    data = run("chat", "--stream", "--responses-api", "--json", "--prompt", "x y").json()
    assert data["usage"]["output_tokens"] == 6 and data["id"].startswith("resp_")


@pytest.mark.parametrize("api", [[], ["--responses-api"]])
def test_stream_cut_midway_keeps_printed_text_and_fails(run, server, api):
    path = "/v1/responses" if api else "/v1/chat/completions"
    if api:
        events = [
            ("response.output_text.delta", {"type": "response.output_text.delta", "delta": w})
            for w in ["Hello", " wor"]
        ]
    else:
        events = [{"choices": [{"index": 0, "delta": {"content": w}}]} for w in ["Hello", " wor"]]
    server.queue(path, {"sse": events + events, "cut_after": 2})
    r = run("chat", "--stream", "--prompt", "hi", *api)
    assert r.code == 1
    assert r.out == "Hello wor\n"
    assert "stream" in r.err and "req_" in r.err


def test_stream_ending_without_done_is_an_error(run, server):
    server.queue("/v1/chat/completions", {"sse": [{"choices": [{"index": 0, "delta": {"content": "part"}}]}]})
    r = run("chat", "--stream", "--prompt", "hi")
    assert r.code == 1 and r.out == "part\n" and "[DONE]" in r.err


def test_stream_error_event(run, server):
    server.queue(
        "/v1/responses",
        {
            "sse": [
                ("response.output_text.delta", {"type": "response.output_text.delta", "delta": "Par"}),
                ("error", {"type": "error", "code": "server_error", "message": "upstream overloaded"}),
            ]
        },
    )
    r = run("chat", "--stream", "--responses-api", "--prompt", "hi", "--json")
    assert r.code == 1 and r.out == ""
    assert r.err_json()["error"]["message"] == "upstream overloaded"


@pytest.mark.parametrize("how", ["dash", "pipe", "file"])
def test_prompt_from_stdin_or_file(run, server, tmp_path, how):
    if how == "file":
        path = tmp_path / "p.txt"
        path.write_text("from a file\n", encoding="utf-8")
        r = run("chat", "--prompt-file", str(path))
    elif how == "dash":
        r = run("chat", "--prompt", "-", stdin="from stdin dash")
    else:
        r = run("chat", stdin="from a pipe")
    assert r.code == 0
    assert last_body(server)["messages"][-1]["content"].startswith("from ")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--prompt", "   "], "prompt is empty"),
        ([], "prompt is empty"),
        (["--prompt", "x", "--temperature", "hot"], "not a number"),
        (["--prompt", "x", "--temperature", "2.5"], "between 0 and 2"),
        (["--prompt", "x", "--temperature", "-0.1"], "between 0 and 2"),
        (["--prompt", "x", "--max-tokens", "0"], "1 or more"),
        (["--prompt", "x", "--max-tokens", "-3"], "must be a positive whole number (1 or more), got '-3'"),
        (["--prompt", "x", "--max-tokens", "1.5"], "whole number"),
        (["--prompt", "x", "--model", " "], "must not be empty"),
        (["--prompt-file", "/nonexistent/prompt.txt"], "cannot read --prompt-file"),
        (["--prompt", "x", "--no-such-flag"], "unrecognized arguments"),
    ],
)
def test_bad_input_is_a_usage_error_before_any_request(run, server, args, words):
    r = run("chat", *args)
    assert r.code == 2 and words in r.err
    assert server.requests == []


def test_usage_error_is_json_with_json_flag(run, server):
    r = run("chat", "--json", "--prompt", "x", "--temperature", "9")
    assert r.code == 2 and r.err_json()["error"]["type"] == "usage_error"


def test_model_flag_is_sent(run, server):
    run("chat", "--prompt", "x", "--model", "openai-gpt-oss-20b")
    assert last_body(server)["model"] == "openai-gpt-oss-20b"


def test_unicode_round_trip(run):
    r = run("chat", "--prompt", "naïve café 日本 🚀")
    assert r.code == 0 and r.out == "echo: naïve café 日本 🚀\n"
