"""Every failure path of the shared helper, driven through the scripts as subprocesses.

Error bodies follow OpenAI's documented `{"error": {"message", "type", "param", "code"}}`
(DigitalOcean's endpoint is OpenAI-compatible); `x-request-id` is sent on every response.
"""

from __future__ import annotations

import socket
import time

import pytest
from fake_gradient import error_body


def test_401_names_the_server_message_status_request_id_and_key_help(run):
    r = run("models", env={"GRADIENT_API_KEY": "wrong-key-123456"})
    assert r.code == 1
    assert "Incorrect API key provided." in r.err and "HTTP 401" in r.err and "req_" in r.err
    assert "GRADIENT_API_KEY" in r.err and "wrong-key-123456" not in r.err


def test_401_as_json(run):
    r = run("models", "--json", env={"GRADIENT_API_KEY": "wrong-key-123456"})
    err = r.err_json()["error"]
    assert set(err) >= {"type", "message", "status", "request_id"}
    assert err["status"] == 401 and err["request_id"].startswith("req_") and err["type"] == "invalid_request_error"
    assert r.out == ""


def test_missing_key(run, server):
    r = run("models", env={"GRADIENT_API_KEY": None, "MODEL_ACCESS_KEY": None})
    # bad input found before sending, like a missing agent key: exit 2
    assert r.code == 2 and "GRADIENT_API_KEY" in r.err and "cloud.digitalocean.com" in r.err
    assert server.requests == []


def test_a_key_holding_a_newline_is_malformed_not_an_http_error(run, server):
    r = run("models", env={"GRADIENT_API_KEY": "abc\ndef"})
    assert r.code == 2 and "malformed key" in r.err and "InvalidHeader" not in r.err
    assert server.requests == []


def test_model_access_key_is_accepted(run, server):
    from fake_gradient import API_KEY

    r = run("models", env={"GRADIENT_API_KEY": None, "MODEL_ACCESS_KEY": API_KEY})
    assert r.code == 0


def test_404_unknown_model(run):
    r = run("chat", "--prompt", "x", "--model", "no-such-model", "--json")
    err = r.err_json()["error"]
    assert r.code == 1 and err["status"] == 404 and "no-such-model" in err["message"]


def test_400_is_not_retried(run, server):
    server.queue(
        "/v1/chat/completions", {"status": 400, "json": error_body("bad temperature", "invalid_request_error")}
    )
    r = run("chat", "--prompt", "x")
    assert r.code == 1 and "bad temperature" in r.err and "HTTP 400" in r.err
    assert len(server.requests) == 1


def test_429_with_retry_after_is_honoured_then_succeeds(run, server):
    server.queue(
        "/v1/chat/completions",
        {"status": 429, "json": error_body("slow down", "rate_limit_error"), "headers": {"Retry-After": "1"}},
    )
    started = time.monotonic()
    r = run("chat", "--prompt", "x")
    assert r.code == 0 and r.out == "echo: x\n"
    assert time.monotonic() - started >= 1.0
    assert len(server.requests) == 2


def test_5xx_then_success(run, server):
    server.queue(
        "/v1/models",
        {"status": 503, "json": error_body("busy", "server_error")},
        {"status": 500, "json": error_body("oops", "server_error")},
    )
    r = run("models", "--json")
    assert r.code == 0 and len(server.requests) == 3


def test_retries_exhausted_reports_last_error_and_attempts(run, server):
    server.queue("/v1/models", *[{"status": 502, "json": error_body("bad gateway", "server_error")}] * 3)
    r = run("models", "--max-retries", "2", "--json")
    err = r.err_json()["error"]
    assert r.code == 1 and err["status"] == 502 and err["attempts"] == 3 and err["message"] == "bad gateway"
    assert len(server.requests) == 3


def test_max_retries_zero_means_one_attempt(run, server):
    server.queue("/v1/models", {"status": 503, "json": error_body("busy", "server_error")})
    r = run("models", "--max-retries", "0")
    assert r.code == 1 and len(server.requests) == 1


def test_connection_refused(run):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    r = run("models", "--base-url", f"http://127.0.0.1:{port}/v1", "--max-retries", "1")
    assert r.code == 1 and "connection refused" in r.err


def test_timeout(run, server):
    server.queue("/v1/models", {"stall": 3, "json": {"data": []}})
    started = time.monotonic()
    r = run("models", "--timeout", "0.5", "--max-retries", "0")
    assert r.code == 1 and "timed out" in r.err
    assert time.monotonic() - started < 3


def test_broken_json_on_200(run, server):
    server.queue("/v1/chat/completions", {"status": 200, "body": '{"choices": [', "content_type": "application/json"})
    r = run("chat", "--prompt", "x")
    assert r.code == 1 and "not valid JSON" in r.err


def test_html_error_page_is_summarised_not_dumped(run, server):
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "<p>noise</p>" * 500 + "</body></html>"
    server.queue("/v1/models", *[{"status": 502, "body": page, "content_type": "text/html"}] * 3)
    r = run("models")
    assert r.code == 1 and "HTML page" in r.err and "502 Bad Gateway" in r.err
    assert "noise" not in r.err and len(r.err) < 400


def test_missing_fields_in_a_200(run, server):
    server.queue("/v1/chat/completions", {"json": {"id": "x", "choices": []}})
    r = run("chat", "--prompt", "x")
    assert r.code == 1 and "missing" in r.err


def test_dropped_connection_is_retried(run, server):
    server.queue("/v1/models", {"drop": True})
    r = run("models")
    assert r.code == 0 and len(server.requests) == 2


def test_key_never_printed_even_if_the_server_echoes_it(run, server):
    from fake_gradient import API_KEY

    server.queue("/v1/models", {"status": 400, "json": error_body(f"key {API_KEY} is not allowed", "invalid")})
    r = run("models")  # the runner asserts the key is absent from stdout and stderr
    assert r.code == 1 and "***" in r.err


@pytest.mark.parametrize("cut", [0, 5, 12, 31])
def test_a_model_that_says_the_key_never_prints_it_even_split_across_stream_pieces(run, server, cut):
    """The cause of the old flaky property test: streamed text was printed unredacted."""
    from fake_gradient import API_KEY

    pieces = ["before ", API_KEY[:cut], API_KEY[cut:], " after"]
    deltas = [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces if p]
    server.queue(
        "/v1/chat/completions",
        {"sse": [*deltas, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, "[DONE]"]},
    )
    r = run("chat", "--stream", "--prompt", "x")  # the runner asserts no part of the key is printed
    assert r.code == 0 and r.out == "before *** after\n"


def test_a_model_that_says_the_key_never_prints_it_unstreamed(run, server):
    from fake_gradient import API_KEY

    reply = {
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"it is {API_KEY}"}, "finish_reason": "stop"}
        ]
    }
    server.queue("/v1/chat/completions", {"json": reply})
    r = run("chat", "--prompt", "x")
    assert r.code == 0 and r.out == "it is ***\n"


def test_a_stream_that_ends_on_a_key_prefix_prints_the_held_text(run, server):
    from fake_gradient import API_KEY

    pieces = ["tail ", API_KEY[:6]]  # looks like the start of the key, but the key never comes
    deltas = [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    server.queue(
        "/v1/chat/completions",
        {"sse": [*deltas, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, "[DONE]"]},
    )
    r = run("chat", "--stream", "--prompt", "x")
    assert r.code == 0 and r.out == f"tail {API_KEY[:6]}\n"


def test_plain_http_to_a_remote_host_is_refused(run):
    r = run("models", "--base-url", "http://example.com/v1")
    assert r.code == 2 and "refusing" in r.err  # as a plain-http --agent-url or --mcp is


def test_non_http_base_url_is_a_usage_error(run):
    r = run("models", "--base-url", "ftp://example.com/v1")
    assert r.code == 2 and "http(s)" in r.err
