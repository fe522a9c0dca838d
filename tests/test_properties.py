"""Property-based: whatever the server sends, a script exits 0 or 1, never tracebacks, never leaks the key.

The server answers with hypothesis-made bodies: random bytes, random JSON (including shapes close to
the real Chat Completions / Responses objects), and random SSE frames. The `run` fixture checks the
output contract (no traceback, no key, one-line errors) on every example.
"""

from __future__ import annotations

import json
import os

from fake_gradient import API_KEY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROFILE = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),  # reproducible in CI, exploring locally
    database=None,
)

TEXT = st.one_of(st.text(max_size=40), st.just(API_KEY), st.just(f"bad key {API_KEY}"))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
NEAR_CHAT = st.fixed_dictionaries(
    {"choices": st.lists(st.fixed_dictionaries({"message": JSON, "delta": JSON, "finish_reason": JSON}), max_size=2)},
    optional={"usage": JSON, "id": JSON, "model": JSON, "error": JSON},
)
NEAR_RESPONSES = st.fixed_dictionaries(
    {"output": st.lists(st.fixed_dictionaries({"type": TEXT, "content": JSON}), max_size=3)},
    optional={"status": TEXT, "usage": JSON, "error": JSON, "type": TEXT, "response": JSON, "delta": JSON},
)
STATUS = st.sampled_from([200, 200, 200, 400, 401, 404, 422, 500])
FRAME = st.one_of(
    st.just("[DONE]"),
    NEAR_CHAT.map(json.dumps),
    NEAR_RESPONSES.map(json.dumps),
    JSON.map(json.dumps),
    st.text(max_size=30),
    st.tuples(
        st.sampled_from(["response.output_text.delta", "response.completed", "error", "response.failed"]),
        NEAR_RESPONSES.map(json.dumps),
    ),
)


def check(run, server, path: str, response: dict, *args: str) -> None:
    server.reset()
    server.queue(path, response)
    r = run(*args, "--max-retries", "0", "--timeout", "5")  # the fixture asserts the contract
    assert r.code in (0, 1), r


@PROFILE
@given(
    body=st.binary(max_size=3000) | TEXT.map(str.encode),
    status=STATUS,
    ctype=st.sampled_from(["application/json", "text/html", "text/plain", "text/event-stream"]),
)
def test_random_bytes(run, server, body, status, ctype):
    check(
        run,
        server,
        "/v1/chat/completions",
        {"status": status, "body": body, "content_type": ctype},
        "chat",
        "--prompt",
        "x",
    )


@PROFILE
@given(
    doc=st.one_of(JSON, NEAR_CHAT, NEAR_RESPONSES),
    status=STATUS,
    api=st.booleans(),
    script=st.sampled_from(["chat", "models", "image"]),
)
def test_random_json(run, server, doc, status, api, script):
    path = {
        "chat": "/v1/responses" if api else "/v1/chat/completions",
        "models": "/v1/models",
        "image": "/v1/images/generations",
    }[script]
    args = {
        "chat": ["chat", "--prompt", "x", *(["--responses-api"] if api else [])],
        "models": ["models", "--json"],
        "image": ["image", "--prompt", "x", "--json"],
    }[script]
    check(run, server, path, {"status": status, "json": doc}, *args)


@PROFILE
@given(frames=st.lists(FRAME, max_size=8), api=st.booleans(), as_json=st.booleans())
def test_random_sse_frames(run, server, frames, api, as_json):
    path = "/v1/responses" if api else "/v1/chat/completions"
    args = [
        "chat",
        "--stream",
        "--prompt",
        "x",
        *(["--responses-api"] if api else []),
        *(["--json"] if as_json else []),
    ]
    check(run, server, path, {"sse": frames}, *args)
