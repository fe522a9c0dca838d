"""Bad flag values and taken --output names: exit 2 with one clear line, checked before anything is sent."""

from __future__ import annotations

import pytest

POSITIVE = "must be a positive whole number (1 or more), got '{}'"


@pytest.mark.parametrize("value", ["0", "-3"])
@pytest.mark.parametrize(
    "script, args",
    [
        ("chat", ["--prompt", "x", "--max-tokens"]),
        ("logs", ["-n"]),
        ("audio", ["--prompt", "techno", "--seconds"]),
        ("batch", ["run", "in.jsonl", "--concurrency"]),
    ],
)
def test_zero_and_negative_whole_numbers_get_one_message(run, server, files_host, tmp_path, script, args, value):
    (tmp_path / "in.jsonl").write_text('{"prompt": "x"}\n')
    r = run(script, *args, value)
    assert r.code == 2 and POSITIVE.format(value) in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1 or r.err.startswith("usage:")
    error = run(script, *args, value, "--json").err_json()["error"]
    assert error["type"] == "usage_error" and POSITIVE.format(value) in error["message"]
    assert server.requests == [] and files_host.requests == []


OUTPUTS = [
    ("embed", ["hello"], "out.jsonl"),
    ("audio", ["--text", "hi"], "out.mp3"),
    ("image", ["--model", "fal-ai/flux/schnell", "--prompt", "cat"], "out.png"),
    ("image", ["--prompt", "cat"], "out.png"),
]


@pytest.mark.parametrize("script, args, name", OUTPUTS)
@pytest.mark.parametrize("taken", ["file", "folder"])
def test_a_taken_output_is_bad_input_and_nothing_is_sent(run, server, files_host, tmp_path, script, args, name, taken):
    target = tmp_path / name
    target.mkdir() if taken == "folder" else target.write_bytes(b"mine")
    r = run(script, *args, "--output", name, "--json")
    assert r.code == 2, r
    message = r.err_json()["error"]["message"]
    assert name in message and ("already exists" in message if taken == "file" else "folder" in message)
    assert server.requests == [] and files_host.requests == []
    assert target.is_dir() if taken == "folder" else target.read_bytes() == b"mine"


@pytest.mark.parametrize(
    "args",
    [
        ["--base-url", "http://example.com/v1"],
        ["--agent-url", "http://example.com"],
        ["--mcp", "docs=http://example.com/mcp"],
    ],
)
def test_plain_http_to_a_remote_host_is_one_line_and_exit_2_on_every_url_flag(run, server, args):
    r = run("chat", "--prompt", "x", *args, env={"GRADIENT_AGENT_KEY": "agent-key-0123456789"})
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
    assert "http" in r.err and "loopback" in r.err
    assert server.requests == []


@pytest.mark.parametrize("argv", [["chat", "--prompt", "x"], ["models"], ["chat", "--prompt", "x", "--dry-run"]])
def test_an_unknown_history_mode_is_exit_2_before_anything_is_sent(run, server, data_dir, argv):
    r = run(*argv, env={"GRADIENT_HISTORY": "sometimes"})
    assert r.code == 2 and "GRADIENT_HISTORY must be on, usage or off" in r.err and "'sometimes'" in r.err
    assert server.requests == [] and r.out == ""
    assert not (data_dir / "history.db").exists()
