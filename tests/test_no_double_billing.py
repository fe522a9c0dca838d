"""Requests that start billable jobs with no idempotency key (image generation, async-invoke) are retried only
when the server cannot have started them: connection refused, 429, 503. Other requests keep the full policy."""

from __future__ import annotations

import socket

import pytest

FAL = "fal-ai/flux/schnell"
ERROR = {"error": {"message": "upstream trouble", "type": "server_error"}}
ROUTES = {"image": "/v1/images/generations", "fal": "/v1/async-invoke"}


def image_args(kind: str, out: str) -> list[str]:
    model = ["--model", FAL] if kind == "fal" else []
    return ["image", *model, "--prompt", "owl", "-o", out, "--json", "--max-retries", "2", "--timeout", "0.5"]


def posts(server, path: str) -> int:
    return sum(1 for r in server.requests if r["method"] == "POST" and r["path"] == path)


@pytest.mark.parametrize("kind", ["image", "fal"])
@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_5xx_after_sending_is_not_retried_and_says_the_job_may_have_started(run, server, files_host, kind, status):
    server.queue(ROUTES[kind], {"status": status, "json": ERROR, "headers": {"x-request-id": "req-billed-1"}})
    r = run(*image_args(kind, "owl.png"))
    assert r.code == 1 and posts(server, ROUTES[kind]) == 1
    error = r.err_json()["error"]
    assert "may have started" in error["message"] and "req-billed-1" in error["message"]
    assert error["status"] == status and error["attempts"] == 1


@pytest.mark.parametrize("kind", ["image", "fal"])
@pytest.mark.parametrize(
    "failure", [{"drop": True}, {"stall": 1.2, "status": 200, "json": {}}], ids=["drop", "timeout"]
)
def test_a_dropped_connection_or_read_timeout_is_not_retried(run, server, files_host, kind, failure):
    server.queue(ROUTES[kind], failure)
    r = run(*image_args(kind, "owl.png"))
    assert r.code == 1 and posts(server, ROUTES[kind]) == 1
    assert "may have started" in r.err_json()["error"]["message"]


@pytest.mark.parametrize("kind", ["image", "fal"])
@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_retried_as_before(run, server, files_host, kind, status):
    server.queue(ROUTES[kind], {"status": status, "json": ERROR, "headers": {"Retry-After": "0"}})
    r = run(*image_args(kind, "owl.png"))
    assert r.code == 0, r.err
    assert posts(server, ROUTES[kind]) == 2


def test_connection_refused_before_sending_is_retried(run, server, tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"GRADIENT_BASE_URL": f"http://127.0.0.1:{port}/v1"}
    r = run("image", "--prompt", "owl", "-o", "owl.png", "--max-retries", "2", "--verbose", env=env)
    assert r.code == 1 and r.err.count("retry ") == 2 and "refused" in r.err
    assert "may have started" not in r.err


def test_chat_keeps_retrying_a_500(run, server):
    server.queue("/v1/chat/completions", {"status": 500, "json": ERROR})
    r = run("chat", "--prompt", "hi", "--json", "--max-retries", "2")
    assert r.code == 0, r.err
    assert posts(server, "/v1/chat/completions") == 2
