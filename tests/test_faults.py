"""Fault injection: every failure mode of the hardening issue, through the scripts as subprocesses.

Shapes: OpenAI-style error bodies and `x-request-id` (OpenAI API reference, "Error codes" and
"Debugging requests"); Retry-After as delay-seconds or HTTP-date (RFC 9110 section 10.2.3);
Responses stream `error` events (OpenAI API reference, "Streaming events").
"""

from __future__ import annotations

import email.utils
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, SCRIPTS
from fake_gradient import API_KEY, PNG_1PX, FakeGradient, error_body

CHAT = "/v1/chat/completions"


def chunk(text: str) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}


# ---------------------------------------------------------------- retries


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(run, server, status):
    server.queue(CHAT, {"status": status, "json": error_body("try again", "server_error")})
    r = run("chat", "--prompt", "x")
    assert r.code == 0 and len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_other_4xx_are_never_retried(run, server, status):
    server.queue(CHAT, {"status": status, "json": error_body("no", "invalid_request_error")})
    r = run("chat", "--prompt", "x", "--json")
    assert r.code == 1 and len(server.requests) == 1
    err = r.err_json()["error"]
    assert err["status"] == status and err["message"].startswith("no") and err["request_id"].startswith("req_")


def test_retry_after_as_http_date(run, server):
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    server.queue(CHAT, {"status": 429, "json": error_body("slow", "rate_limit"), "headers": {"Retry-After": when}})
    started = time.monotonic()
    r = run("chat", "--prompt", "x", "--verbose")
    assert r.code == 0 and len(server.requests) == 2
    assert time.monotonic() - started >= 0.9  # the date is 1-2 s ahead at one-second resolution


def test_retry_after_over_the_cap_falls_back_to_backoff(run, server):
    server.queue(CHAT, {"status": 429, "json": error_body("slow", "rate_limit"), "headers": {"Retry-After": "3600"}})
    started = time.monotonic()
    r = run("chat", "--prompt", "x", "--verbose")
    assert r.code == 0 and time.monotonic() - started < 10
    assert "ignoring Retry-After of 3600s" in r.err


def test_backoff_grows_and_is_logged(run, server):
    server.queue(CHAT, *[{"status": 503, "json": error_body("busy", "server_error")}] * 3)
    r = run("chat", "--prompt", "x", "--max-retries", "3", "--verbose")
    assert r.code == 0 and len(server.requests) == 4
    waits = [float(line.split("waiting ")[1].rstrip("s")) for line in r.err.splitlines() if "waiting" in line]
    assert len(waits) == 3
    # jittered exponential: attempt n waits within [0.5, 1] x 0.5 x 2^(n-1)
    for n, wait in enumerate(waits, 1):
        assert 0.25 * 2 ** (n - 1) <= wait <= 0.5 * 2 ** (n - 1) + 1e-6


def test_final_error_names_attempts(run, server):
    server.queue(CHAT, *[{"status": 500, "json": error_body("kaput", "server_error")}] * 2)
    r = run("chat", "--prompt", "x", "--max-retries", "1")
    assert r.code == 1 and "kaput" in r.err and "HTTP 500" in r.err and "after 2 attempts" in r.err and "req_" in r.err


def test_dropped_connections_exhaust_retries(run, server):
    server.queue(CHAT, {"drop": True}, {"drop": True})
    r = run("chat", "--prompt", "x", "--max-retries", "1", "--json")
    err = r.err_json()["error"]
    assert r.code == 1 and err["type"] == "connection_error" and err["attempts"] == 2


# ---------------------------------------------------------------- timeouts and streams


def test_stalled_stream_fails_within_the_timeout(run, server):
    server.queue(CHAT, {"sse": [chunk("Hel"), chunk("lo"), "[DONE]"], "stall_after": 2})
    started = time.monotonic()
    r = run("chat", "--stream", "--prompt", "x", "--timeout", "1")
    assert r.code == 1 and r.out == "Hello\n" and "no data for 1s" in r.err
    assert time.monotonic() - started < 5


def test_chat_stream_error_event(run, server):
    server.queue(CHAT, {"sse": [chunk("par"), {"error": {"message": "model crashed", "type": "server_error"}}]})
    r = run("chat", "--stream", "--prompt", "x")
    assert r.code == 1 and r.out == "par\n" and "model crashed" in r.err


def test_response_failed_event(run, server):
    failed = {
        "type": "response.failed",
        "response": {"id": "r", "status": "failed", "error": {"code": "server_error", "message": "it broke"}},
    }
    server.queue("/v1/responses", {"sse": [("response.failed", failed)]})
    r = run("chat", "--stream", "--responses-api", "--prompt", "x")
    assert r.code == 1 and "it broke" in r.err


def test_non_json_stream_event(run, server):
    server.queue(CHAT, {"sse": ["this is not json"]})
    r = run("chat", "--stream", "--prompt", "x")
    assert r.code == 1 and "not JSON" in r.err


def test_declared_body_over_the_cap_is_refused_unread(run, server):
    server.queue("/v1/models", {"declared_length": 200 * 1024 * 1024, "body": b"{", "content_type": "application/json"})
    r = run("models")
    assert r.code == 1 and "MiB cap" in r.err


def test_body_cut_short_is_a_clean_error(run, server):
    server.queue("/v1/models", {"declared_length": 5000, "body": b'{"data": [', "content_type": "application/json"})
    r = run("models", "--max-retries", "0")
    assert r.code == 1 and "connection broke" in r.err


# ---------------------------------------------------------------- Ctrl-C


def start(script: str, *args: str, server: FakeGradient, cwd) -> subprocess.Popen:
    env = {
        **os.environ,
        "GRADIENT_API_KEY": API_KEY,
        "GRADIENT_BASE_URL": server.url,
        "GRADIENT_CACHE_DIR": str(cwd / "cache"),
    }
    return subprocess.Popen(
        [sys.executable, str(SCRIPTS / f"gradient_{script}.py"), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def interrupt_after(proc: subprocess.Popen, server: FakeGradient, path: str) -> tuple[int, str, str]:
    deadline = time.monotonic() + 10
    while not any(r["path"] == path for r in server.requests) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    return proc.returncode, out, err


def test_ctrl_c_mid_stream_exits_130_quietly(server, tmp_path):
    server.queue(CHAT, {"sse": [chunk(f"t{i} ") for i in range(50)] + ["[DONE]"], "delay": 0.1})
    proc = start("chat", "--stream", "--prompt", "x", server=server, cwd=tmp_path)
    code, out, err = interrupt_after(proc, server, CHAT)
    assert code == 130 and "Traceback" not in err and err == ""
    assert out.startswith("t0 ")


def test_ctrl_c_during_image_generation_leaves_no_file(server, tmp_path):
    server.queue("/v1/images/generations", {"stall": 5, "json": {"data": []}})
    proc = start("image", "--prompt", "x", "--output", "out.png", server=server, cwd=tmp_path)
    code, _out, err = interrupt_after(proc, server, "/v1/images/generations")
    assert code == 130 and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == []


# ---------------------------------------------------------------- secrets and debugging


def test_redirect_to_another_host_drops_the_key(run, server):
    other = FakeGradient().start()
    try:
        target = other.url.replace("127.0.0.1", "localhost") + "/models"
        server.queue("/v1/models", {"redirect": target, "status": 307})
        r = run("models", "--json")
        assert r.code == 1 and r.err_json()["error"]["status"] == 401  # the other host never saw the key
        assert server.requests[0]["headers"].get("Authorization") == f"Bearer {API_KEY}"
        assert [req["path"] for req in other.requests] == ["/v1/models"]
        assert "Authorization" not in other.requests[0]["headers"]
    finally:
        other.stop()


def test_a_netrc_entry_for_the_host_neither_replaces_the_key_nor_reaches_a_download(run, server, tmp_path):
    """requests reads ~/.netrc when a request has no auth: it would swap our Bearer key for Basic credentials."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine 127.0.0.1 login someone password netrc-secret\n")
    (home / ".netrc").chmod(0o600)
    server.queue("/v1/images/generations", {"json": {"data": [{"url": server.root + "/files/a.png"}]}})
    server.queue("/files/a.png", {"body": PNG_1PX, "content_type": "image/png"})
    env = {"HOME": str(home), "NETRC": str(home / ".netrc")}
    assert run("chat", "--prompt", "x", env=env).code == 0
    assert run("image", "--prompt", "x", "-o", "a.png", env=env).code == 0
    api = [req for req in server.requests if req["path"].startswith("/v1/")]
    assert [req["headers"].get("Authorization") for req in api] == [f"Bearer {API_KEY}"] * 2
    downloads = [req for req in server.requests if req["path"].startswith("/files/")]
    assert downloads and all("Authorization" not in req["headers"] for req in downloads)


def test_plain_http_remote_host_refused_before_any_connection(run):
    r = run("chat", "--prompt", "x", "--base-url", "http://10.255.255.1/v1", "--json")
    assert r.code == 2 and r.err_json()["error"]["type"] == "insecure_base_url"


@pytest.mark.parametrize(
    "script, args",
    [
        ("chat", ["--prompt", 'it\'s "quoted" $HOME `x`', "--temperature", "0.5"]),
        ("chat", ["--prompt", "x", "--responses-api", "--stream"]),
        ("models", []),
        ("image", ["--prompt", "a cat", "--n", "2"]),
    ],
)
def test_dry_run_prints_a_runnable_curl_and_sends_nothing(run, server, script, args):
    r = run(script, *args, "--dry-run", env={"GRADIENT_API_KEY": None})  # no key needed to look
    assert r.code == 0 and server.requests == []
    assert '"Authorization: Bearer $GRADIENT_API_KEY"' in r.out
    words = shlex.split(r.out)
    assert words[0] == "curl" and words[words.index("-X") + 1] in ("GET", "POST")
    if script == "chat":
        body = __import__("json").loads(words[words.index("-d") + 1])
        assert body["messages" if "--responses-api" not in args else "input"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_dry_run_curl_really_works(run, server):
    r = run("chat", "--prompt", "it's $HOME", "--dry-run")
    proc = subprocess.run(
        ["bash", "-c", r.out], capture_output=True, text=True, env={**os.environ, "GRADIENT_API_KEY": API_KEY}
    )
    assert proc.returncode == 0 and "echo: it's $HOME" in proc.stdout
    assert server.requests[0]["body"]["messages"][0]["content"] == "it's $HOME"


def test_verbose_logs_request_response_and_redacts_the_key(run, server):
    server.queue("/v1/models", {"status": 503, "json": error_body("busy", "server_error")})
    r = run("models", "--verbose")
    assert r.code == 0
    assert f"> GET {server.url}/models" in r.err
    assert "> Authorization: Bearer ***" in r.err
    assert "retry 1: HTTP 503; waiting" in r.err
    status_line = next(line for line in r.err.splitlines() if line.startswith("[debug] < 200"))
    assert " ms " in status_line and "request-id=req_" in status_line


def test_gradient_log_env_enables_debug(run, server):
    r = run("models", env={"GRADIENT_LOG": "debug"})
    assert r.code == 0 and "[debug] > GET" in r.err


def test_key_not_in_cache_files(run, server, cache_dir):
    import pages

    server.queue("/pricing/", {"body": pages.TABS_FULL, "content_type": "text/html"})
    run("pricing", env={"GRADIENT_PRICING_URL": server.root + "/pricing/"})
    assert (cache_dir / "pricing.json").is_file()
    run("chat", "--prompt", "x")
    for path in cache_dir.rglob("*"):
        assert path.is_dir() or API_KEY not in path.read_text(errors="replace")


def test_scripts_tree_never_contains_a_hardcoded_key():
    for path in (ROOT / "scripts").glob("*.py"):
        assert "Bearer " + "sk-" not in path.read_text()
