"""Property-based and spec-checker tests for the Messages API and agent requests.

- Every value the flags accept makes a body that passes tests/spec_messages.py (the request builder is
  called in-process, as gradient_chat.py calls it; nothing is patched).
- The checker itself rejects bodies that break the spec, so a passing check means something.
- Whatever the server sends on /v1/messages, gradient_chat.py exits 0 or 1 within the output contract.
"""

from __future__ import annotations

import json
import os
import sys

import pytest
from conftest import ROOT
from fake_messages import install
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_messages import messages_request_problems

sys.path.insert(0, str(ROOT))
from gradient_inference.llm import messages as msgs  # noqa: E402

PROFILE = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
    database=None,
)
UNIT = st.floats(min_value=0, max_value=1)
NAME = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)
TOOL = st.builds(
    lambda name, desc: {"type": "function", "function": {"name": name, "description": desc}},
    NAME,
    st.text(max_size=10),
)
CALL = st.builds(
    lambda i, name, args: {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": args}},
    st.integers(0, 99),
    NAME,
    st.dictionaries(NAME, st.integers() | st.text(max_size=5), max_size=3).map(json.dumps),
)
MESSAGE = st.one_of(
    st.builds(
        lambda r, c: {"role": r, "content": c},
        st.sampled_from(["system", "developer", "user", "assistant"]),
        st.text(min_size=1),
    ),
    st.builds(
        lambda calls: {"role": "assistant", "content": None, "tool_calls": calls},
        st.lists(CALL, min_size=1, max_size=2),
    ),
    st.builds(lambda c: {"role": "tool", "tool_call_id": "call_1", "content": c}, st.text(min_size=1)),
)
IMAGE = st.sampled_from(["image/jpeg", "image/png", "image/gif", "image/webp"]).map(
    lambda kind: {"type": "image", "source": {"type": "base64", "media_type": kind, "data": "AAAA"}}
)


@PROFILE
@given(
    messages=st.lists(MESSAGE, min_size=1, max_size=6),
    prompt=st.text(min_size=1, max_size=20),
    images=st.lists(IMAGE, max_size=3),
    max_tokens=st.none() | st.integers(1, 10**6),
    temperature=st.none() | UNIT,
    top_p=st.none() | UNIT,
    top_k=st.none() | st.integers(0, 10**4),
    stop=st.none() | st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=4),
    effort=st.none() | st.sampled_from(msgs.REASONING_EFFORTS),
    tools=st.none() | st.lists(TOOL, min_size=1, max_size=3, unique_by=lambda t: t["function"]["name"]),
    choice=st.sampled_from([None, "auto", "required", "none", "FIRST"]),
    schema=st.booleans(),
    stream=st.booleans(),
)
def test_every_accepted_flag_value_makes_a_valid_body(
    messages, prompt, images, max_tokens, temperature, top_p, top_k, stop, effort, tools, choice, schema, stream
):
    if choice == "FIRST":
        choice = tools[0]["function"]["name"] if tools else None
    if choice not in (None, "none") and not tools or schema and choice is not None:
        choice = None  # combinations the command refuses with exit 2 (tested in test_messages.py)
    _path, body = msgs.build_request(
        "anthropic-claude-haiku-4.5",
        [*messages, {"role": "user", "content": prompt}],
        images=images,
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=top_p,
        top_k=top_k,
        stop=stop,
        reasoning_effort=effort,
        tools=tools,
        tool_choice=choice,
        json_schema=("answer_schema", {"type": "object", "properties": {"a": {"type": "string"}}}) if schema else None,
        stream=stream,
    )
    assert messages_request_problems(body) == []
    roles = [turn["role"] for turn in body["messages"]]
    assert all(a != b for a, b in zip(roles, roles[1:]))  # merged: user and assistant alternate


@pytest.mark.parametrize(
    "change, words",
    [
        ({"max_tokens": None}, "missing required 'max_tokens'"),
        ({"max_tokens": 0}, "below the minimum 1"),
        ({"temperature": 1.5}, "above the maximum 1"),
        ({"top_k": -1}, "below the minimum 0"),
        ({"reasoning_effort": "extreme"}, "not in"),
        ({"messages": []}, "fewer than 1 items"),
        ({"messages": [{"role": "system", "content": "x"}]}, "'system' not in"),
        ({"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "url"}}]}]}, "oneOf"),
        ({"tools": [{"name": "t", "parameters": {}}]}, "missing required 'input_schema'"),
        ({"tool_choice": {"type": "none"}}, "oneOf"),
        ({"stop_sequences": "END"}, "expected array"),
        ({"stop": ["END"]}, "'stop' is not in the spec"),
        ({"seed": 1}, "'seed' is not in the spec"),
    ],
)
def test_the_messages_checker_catches_what_breaks_the_spec(change, words):
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}], **change}
    body = {k: v for k, v in body.items() if v is not None}
    found = messages_request_problems(body)
    assert any(words in problem for problem in found), found


TEXT = st.text(max_size=20)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)
BLOCK = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "tool_use", "thinking", "x"])},
    optional={"text": JSON, "input": JSON, "name": JSON, "id": JSON},
)
NEAR_MESSAGE = st.fixed_dictionaries(
    {"content": st.lists(BLOCK, max_size=3) | JSON},
    optional={"stop_reason": JSON, "usage": JSON, "id": JSON, "model": JSON, "type": TEXT},
)
EVENT = st.tuples(
    st.sampled_from(
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "message_delta",
            "message_stop",
            "ping",
            "error",
        ]
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["message_start", "content_block_delta", "message_stop", "error"]),
            "index": JSON,
            "delta": st.fixed_dictionaries(
                {"type": st.sampled_from(["text_delta", "input_json_delta"])},
                optional={"text": JSON, "partial_json": TEXT},
            )
            | JSON,
            "content_block": BLOCK | JSON,
            "message": NEAR_MESSAGE | JSON,
            "usage": JSON,
            "error": JSON,
        },
    ).map(json.dumps),
)


@pytest.fixture
def server(server):
    install(server)
    return server


@settings(PROFILE, max_examples=15)
@given(doc=NEAR_MESSAGE | JSON, status=st.sampled_from([200, 200, 400, 401, 500]), schema=st.booleans())
def test_random_messages_replies_keep_the_contract(run, server, tmp_path, doc, status, schema):
    server.reset()
    server.queue("/v1/messages", {"status": status, "json": doc})
    path = tmp_path / "s.json"
    path.write_text('{"type": "object"}')
    extra = ["--json-schema", str(path)] if schema else []
    r = run("chat", "--api", "messages", "--prompt", "x", "--max-retries", "0", *extra)
    assert r.code in (0, 1), r


@settings(PROFILE, max_examples=15)
@given(frames=st.lists(EVENT | TEXT, max_size=8), as_json=st.booleans())
def test_random_messages_streams_keep_the_contract(run, server, frames, as_json):
    server.reset()
    server.queue("/v1/messages", {"sse": frames})
    args = ["--json"] if as_json else []
    r = run("chat", "--api", "messages", "--stream", "--prompt", "x", "--max-retries", "0", *args)
    assert r.code in (0, 1), r
