"""gradient_chat.py --agent-url: a DigitalOcean agent's own endpoint, with its own key kept apart."""

from __future__ import annotations

import json

import pytest
from fake_gradient import API_KEY
from fake_messages import AGENT_KEY, AGENT_MODEL, start_agent
from spec_checks import check_chat_request


@pytest.fixture(scope="module")
def agent_instance():
    agent = start_agent()
    yield agent
    agent.stop()


@pytest.fixture
def agent(agent_instance):
    agent_instance.reset()
    return agent_instance


def agent_env(agent, **extra):
    return {"GRADIENT_AGENT_KEY": AGENT_KEY, **extra}


def keys_absent(result):
    for secret in (AGENT_KEY, AGENT_KEY[:12], AGENT_KEY[-12:]):
        assert secret not in result.out and secret not in result.err


def sent(agent) -> dict:
    request = agent.requests[-1]
    assert request["method"] == "POST" and request["path"] == "/api/v1/chat/completions?agent=true"
    assert request["headers"]["Authorization"] == f"Bearer {AGENT_KEY}"
    assert check_chat_request(request["body"]) == []
    return request["body"]


@pytest.mark.parametrize("stream", [[], ["--stream"]], ids=["plain", "stream"])
def test_agent_plain_and_streamed_with_the_keys_kept_apart(run, server, agent, stream):
    r = run("chat", "--agent-url", agent.root, "--prompt", "what do you know?", *stream, env=agent_env(agent))
    assert r.code == 0 and r.out == "echo: what do you know?\n"
    body = sent(agent)
    assert body["model"] == "agent" and body["messages"] == [{"role": "user", "content": "what do you know?"}]
    assert body.get("stream") is (True if stream else None)
    assert server.requests == []  # nothing went to the inference base URL
    assert all(API_KEY not in json.dumps(req["headers"]) for req in agent.requests)
    keys_absent(r)
    # and the other way round: a model call in the same environment carries only the model key
    r = run("chat", "--prompt", "hi", *stream, env=agent_env(agent))
    assert r.code == 0 and server.requests[-1]["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert all(AGENT_KEY not in json.dumps(req["headers"]) for req in server.requests)
    assert len(agent.requests) == 1


def test_agent_json_reply(run, agent):
    data = run("chat", "--agent-url", agent.root, "--prompt", "hi", "--json", env=agent_env(agent)).json()
    assert data["content"] == "echo: hi" and data["model"] == AGENT_MODEL and data["api"] == "chat.completions"
    assert data["cost"] is None and data["usage"]["input_tokens"] == 12


@pytest.mark.parametrize("suffix", ["", "/", "/api/v1", "/api/v1/", "/api"])
def test_agent_url_forms(run, agent, suffix):
    r = run("chat", "--agent-url", agent.root + suffix, "--prompt", "x", "--model", "my-agent", env=agent_env(agent))
    assert r.code == 0 and sent(agent)["model"] == "my-agent"


def test_agent_url_from_the_environment(run, server, agent):
    r = run("chat", "--prompt", "x", env=agent_env(agent, GRADIENT_AGENT_URL=agent.root))
    assert r.code == 0 and len(agent.requests) == 1 and server.requests == []
    # the variable is for Chat Completions; another API goes to the model as asked
    r = run("chat", "--api", "responses", "--prompt", "x", env=agent_env(agent, GRADIENT_AGENT_URL=agent.root))
    assert r.code == 0 and server.requests[-1]["path"] == "/v1/responses" and len(agent.requests) == 1


def test_agent_with_a_conversation_file(run, agent, tmp_path):
    path = tmp_path / "chat.json"
    turns = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    path.write_text(json.dumps([*turns, {"role": "user", "content": "Any docs on billing?"}]))
    r = run("chat", "--agent-url", agent.root, "--messages-file", str(path), "--stream", env=agent_env(agent))
    assert r.code == 0 and r.out == "echo: Any docs on billing?\n"
    assert sent(agent)["messages"][:2] == turns


def test_agent_dry_run_and_verbose_show_no_key(run, agent):
    r = run("chat", "--agent-url", agent.root, "--prompt", "x", "--dry-run", env=agent_env(agent))
    assert r.code == 0 and agent.requests == []
    assert f"{agent.root}/api/v1/chat/completions?agent=true" in r.out and "$GRADIENT_AGENT_KEY" in r.out
    keys_absent(r)
    r = run("chat", "--agent-url", agent.root, "--prompt", "x", "--verbose", env=agent_env(agent))
    assert r.code == 0 and "/api/v1/chat/completions?agent=true" in r.err and "Bearer ***" in r.err
    keys_absent(r)


def test_missing_agent_key_exits_2_naming_it(run, server, agent):
    r = run("chat", "--agent-url", agent.root, "--prompt", "x", env={"GRADIENT_AGENT_KEY": None})
    assert r.code == 2 and "GRADIENT_AGENT_KEY" in r.err
    assert agent.requests == [] and server.requests == []  # the model key is not tried instead
    r = run("chat", "--agent-url", agent.root, "--prompt", "x", "--json", env={"GRADIENT_AGENT_KEY": None})
    assert r.code == 2 and r.err_json()["error"]["type"] == "missing_agent_key"


def test_wrong_agent_key_is_a_401_that_names_the_agent_key(run, agent):
    r = run("chat", "--agent-url", agent.root, "--prompt", "x", env={"GRADIENT_AGENT_KEY": "not-the-key"})
    assert r.code == 1 and "HTTP 401" in r.err and "GRADIENT_AGENT_KEY" in r.err
    assert agent.requests[-1]["headers"]["Authorization"] == "Bearer not-the-key"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--agent-url", "http://agents.example.com"], "must be https://"),
        (["--agent-url", "ftp://agents.example.com"], "https URL or host"),
        (["--agent-url", "https://"], "https URL or host"),
        (["--agent-url", "https://a.example.com/?x=1"], "https URL or host"),
        (["--agent-url", "AGENT", "--api", "messages"], "Chat Completions only"),
        (["--agent-url", "AGENT", "--responses-api"], "Chat Completions only"),
        (["--agent-url", "AGENT", "--image", "IMAGE"], "images only on the Messages API"),
    ],
)
def test_bad_agent_input_exits_2_and_sends_nothing(run, server, agent, tmp_path, args, words):
    image = tmp_path / "p.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 8)
    args = [{"AGENT": agent.root, "IMAGE": str(image)}.get(a, a) for a in args]
    r = run("chat", "--prompt", "x", *args, env=agent_env(agent))
    assert r.code == 2 and words in r.err, r.err
    assert agent.requests == [] and server.requests == []
