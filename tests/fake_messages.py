"""Fake routes for POST /v1/messages and a DigitalOcean agent's chat endpoint.

Where each shape comes from:
- Request checks: DigitalOcean's OpenAPI (digitalocean/openapi, specification/resources/inference/
  inference_create_messages.yml and models/messages_*.yml), through tests/spec_messages.py. A body that
  breaks them gets the 400 below, so every test that sends one fails loudly.
- Reply `{"id", "type": "message", "role": "assistant", "content": [text | tool_use blocks], "model",
  "stop_reason" (end_turn | max_tokens | stop_sequence | tool_use), "stop_sequence", "usage": {input_tokens,
  output_tokens, cache_creation_input_tokens, cache_read_input_tokens}}`: models/messages_create_response.yml,
  messages_response_text_block.yml, messages_response_tool_use_block.yml, messages_usage.yml.
- Error `{"type": "error", "error": {"type", "message"}}` on 400: models/messages_create_error_response.yml.
- Stream: the event types are DigitalOcean's (models/messages_stream_event.yml: message_start,
  content_block_start, content_block_delta, content_block_stop, message_delta, message_stop, ping).
  Their payloads (text_delta, input_json_delta with partial_json, message_delta's stop_reason and usage,
  the `event:` line beside `data:`, and the `error` event DigitalOcean's enum leaves out) follow Anthropic's
  Messages API reference, "Streaming Messages".
- Agent: POST https://{agent_url}/api/v1/chat/completions?agent=true with the agent's access key, the chat
  request and response schemas unchanged: agent_inference_create_chat_completion.yml. The fake agent runs
  on 127.0.0.2, its own host, and accepts only AGENT_KEY.
"""

from __future__ import annotations

import json
from typing import Any

from fake_gradient import FakeGradient
from spec_checks import check_chat_request
from spec_messages import messages_request_problems

AGENT_KEY = "agent-key-a9e1-7777-4242-feedface"
AGENT_MODEL = "llama3.3-70b-instruct"  # what the fake agent says it ran
USAGE = {"input_tokens": 30, "output_tokens": 7, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 10}


def messages_error(status: int, kind: str, message: str) -> dict[str, Any]:
    """A scripted Messages API error for fake.queue('/v1/messages', ...)."""
    return {"status": status, "json": {"type": "error", "error": {"type": kind, "message": message}}}


def install(fake: FakeGradient) -> None:
    """Serve /v1/messages on `fake` (once per server)."""
    if not any(route[1].pattern == "/v1/messages" for route in fake.routes):
        fake.add_route("POST", "/v1/messages", lambda h, req, m: _messages(h, req["body"]))


def start_agent() -> FakeGradient:
    """A separate fake host that serves only the agent endpoint, with the agent key."""
    agent = FakeGradient(host="127.0.0.2")
    agent.routes.clear()
    agent.add_route("POST", "/api/v1/chat/completions", _agent_chat, model_field=None, key=AGENT_KEY)
    return agent.start()


def _agent_chat(h, request: dict[str, Any], _match) -> None:
    query = request["path"].partition("?")[2]
    if "agent=true" not in query.split("&"):
        return h.send_json(400, {"id": "bad_request", "message": "query parameter agent=true is required"})
    bad = check_chat_request(request["body"])
    if bad:
        return h.send_json(400, {"id": "bad_request", "message": "; ".join(bad)[:500]})
    h.chat({**request["body"], "model": AGENT_MODEL})


def _messages(h, body: dict[str, Any]) -> None:
    bad = messages_request_problems(body)
    if bad:
        return h.send_json(400, messages_error(400, "invalid_request_error", "; ".join(bad)[:500])["json"])
    blocks, stop_reason, stop_sequence = _answer(body)
    message = {
        "id": "msg_fake01",
        "type": "message",
        "role": "assistant",
        "content": blocks,
        "model": body["model"],
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": USAGE,
    }
    if body.get("stream"):
        return h.send_sse(stream_events(message))
    h.send_json(200, message)


def _answer(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str, str | None]:
    """A tool call when a tool is forced, or offered and no result is back yet; otherwise echo the text."""
    last = body["messages"][-1]
    content = last["content"] if isinstance(last["content"], list) else [{"type": "text", "text": last["content"]}]
    results = [b for b in content if b["type"] == "tool_result"]
    tools = {t["name"]: t for t in body.get("tools") or []}
    choice = body.get("tool_choice") or {}
    name = choice.get("name") if choice.get("type") == "tool" else next(iter(tools), None)
    if name and (choice.get("type") == "tool" or not results):
        call = {"type": "tool_use", "id": "toolu_fake01", "name": name, "input": sample(tools[name]["input_schema"])}
        return [call], "tool_use", None
    text = " ".join(b["text"] for b in content if b["type"] == "text")
    images = [b["source"]["media_type"] for b in content if b["type"] == "image"]
    said = [r["content"] if isinstance(r["content"], str) else json.dumps(r["content"]) for r in results]
    reply = "echo: " + text + (f" [images: {', '.join(images)}]" if images else "")
    reply += "".join(f" [tool said: {s}]" for s in said)
    for stop in body.get("stop_sequences") or []:
        if stop in reply:
            return [{"type": "text", "text": reply[: reply.index(stop)]}], "stop_sequence", stop
    words = reply.split(" ")
    if len(words) > body["max_tokens"]:
        return [{"type": "text", "text": " ".join(words[: body["max_tokens"]])}], "max_tokens", None
    return [{"type": "text", "text": reply}], "end_turn", None


def sample(schema: dict[str, Any]) -> dict[str, Any]:
    """An input object for a tool: each declared property with a value of its type."""
    values = {"integer": 3, "number": 2.5, "boolean": True, "array": [], "object": {}}
    props = schema.get("properties") or {}
    return {k: values.get(v.get("type"), f"sample {k}") for k, v in props.items()}


def stream_events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The message as Anthropic-style SSE events: text in word deltas, tool input in three JSON pieces."""
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = {**message["usage"], "output_tokens": 1}
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start}),
        ("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            events.append(("content_block_start", _event("content_block_start", index, {"type": "text", "text": ""})))
            words = block["text"].split(" ")
            deltas = [{"type": "text_delta", "text": w if i == 0 else " " + w} for i, w in enumerate(words)]
        else:
            events.append(("content_block_start", _event("content_block_start", index, {**block, "input": {}})))
            text = json.dumps(block["input"])
            cut = [0, len(text) // 3, 2 * len(text) // 3, len(text)]
            deltas = [{"type": "input_json_delta", "partial_json": text[a:b]} for a, b in zip(cut, cut[1:])]
        events += [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        events.append(("ping", {"type": "ping"}))
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": {"output_tokens": 7}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _event(kind: str, index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "index": index, "content_block": block}
