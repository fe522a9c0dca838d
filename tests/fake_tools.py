"""Tool calls and structured output for the fake Gradient API (install(fake) adds them).

Requests that carry `tools`, `response_format` (Chat Completions) or `text.format` (Responses) are
answered here; every other request falls through to FakeGradient's own chat and responses handlers.

Where the shapes come from:
- Chat Completions reply with `message.tool_calls[{id, type: "function", function: {name, arguments
  (a JSON string)}}]`, `content: null`, `finish_reason: "tool_calls"`, and the message's `refusal` and
  `reasoning_content`: DigitalOcean's spec (chat_completion_response.yml).
- Streamed tool calls: the first delta of each call carries `index`, `id`, `type` and `function.name`
  with empty arguments, later deltas carry only `index` and an arguments fragment, and fragments of
  parallel calls interleave: OpenAI API reference, "The chat completion chunk object" (DigitalOcean's
  chat_completion_tool_call_chunk.yml has the same fields).
- Responses output item `{type: "function_call", id, call_id, name, arguments, status}`: OpenAI API
  reference, "Responses" (function tool call); the empty `content` list is there because
  DigitalOcean's spec (create_response_response.yml) requires `content` on every output item.
- Responses stream events `response.output_item.added` / `.done` (with `output_index` and the item),
  `response.function_call_arguments.delta` / `.done` (with `item_id`, `output_index`, `delta` or
  `arguments`) and `response.completed`: OpenAI API reference, "Streaming events".
- Tool results come back as a Chat Completions `tool` message, or a Responses input item
  `{type: "function_call_output", call_id, output}` (OpenAI API reference, "Function calling"); the
  fake then answers in text, `tool result: <output>`.
- Structured output: `response_format: {type: "json_schema", json_schema: {name, schema, strict}}`
  and `text: {format: {type: "json_schema", name, schema, strict}}` (OpenAI API reference,
  "Structured Outputs"; DigitalOcean's spec does not list them). The reply is a JSON object made from
  the schema's properties.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fake_gradient import FakeGradient

USAGE_CHAT = {"prompt_tokens": 30, "completion_tokens": 9, "total_tokens": 39}
USAGE_RESPONSES = {
    "input_tokens": 30,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 9,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 39,
}


def install(fake: FakeGradient) -> None:
    """Put the tool-aware handlers in front of the default chat and responses routes (once)."""
    if getattr(fake, "tools_installed", False):
        return
    fake.add_route("POST", "/v1/chat/completions", chat)
    fake.add_route("POST", "/v1/responses", responses)
    fake.routes[:0] = [fake.routes.pop(), fake.routes.pop()]  # first match wins in FakeGradient.find_route
    fake.tools_installed = True


def sample(schema: Any, text: str) -> Any:
    """A value that fits a (simple) JSON Schema: strings carry `text`."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    if kind == "object":
        return {name: sample(sub, text) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [sample(schema.get("items") or {}, text)]
    if schema and isinstance(schema, dict) and schema.get("enum"):
        return schema["enum"][0]
    return {"integer": 3, "number": 2.5, "boolean": True, "null": None}.get(kind, text)


def planned_calls(body: dict[str, Any], text: str, prefix: str) -> list[dict[str, str]]:
    """The calls the fake makes: the forced function, else every tool offered (parallel calls)."""
    tools = [t.get("function", t) for t in body.get("tools") or []]
    choice = body.get("tool_choice")
    if choice == "none" or not tools:
        return []
    if isinstance(choice, dict):
        tools = [t for t in tools if t.get("name") == (choice.get("function") or {}).get("name")]
    return [
        {"call_id": f"call_{prefix}_{i}", "name": t["name"], "arguments": json.dumps(sample(t.get("parameters"), text))}
        for i, t in enumerate(tools)
    ]


def pieces(text: str, count: int = 3) -> list[str]:
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)]


def interleaved(calls: list[dict[str, str]]) -> list[tuple[int, str]]:
    """(call index, fragment) with the calls' argument fragments taken in turn."""
    split = [pieces(c["arguments"]) for c in calls]
    return [
        (i, frags[n]) for n in range(max(map(len, split), default=0)) for i, frags in enumerate(split) if n < len(frags)
    ]


def structured_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = (body.get("response_format") or {}).get("json_schema") or (body.get("text") or {}).get("format")
    return fmt.get("schema") if isinstance(fmt, dict) else None


# ---------------------------------------------------------------- Chat Completions


def chat(h, request: dict[str, Any], _match) -> None:
    body = request["body"]
    schema = structured_schema(body)
    if not body.get("tools") and schema is None:
        return h.chat(body)
    messages = body["messages"]
    last = messages[-1]
    user = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "")
    calls = [] if last.get("role") == "tool" else planned_calls(body, str(user), f"{len(messages)}")
    if calls:
        content = None
    elif schema is not None:
        content = json.dumps(sample(schema, f"echo: {user}"))
    else:
        content = f"tool result: {last.get('content')}" if last.get("role") == "tool" else f"echo: {user}"
    rid, model, created = f"chatcmpl-tools-{len(messages)}", body["model"], int(time.time())
    finish = "tool_calls" if calls else "stop"
    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None, "reasoning_content": None}
        if calls:
            message["tool_calls"] = [
                {"id": c["call_id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
                for c in calls
            ]
        choice = {"index": 0, "finish_reason": finish, "logprobs": None, "message": message}
        obj = {"id": rid, "object": "chat.completion", "created": created, "model": model, "choices": [choice]}
        return h.send_json(200, {**obj, "usage": USAGE_CHAT})
    base = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model}

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

    events: list[Any] = [chunk({"role": "assistant", "content": None if calls else ""})]
    for i, c in enumerate(calls):
        head = {"index": i, "id": c["call_id"], "type": "function", "function": {"name": c["name"], "arguments": ""}}
        events.append(chunk({"tool_calls": [head]}))
    for i, fragment in interleaved(calls):
        events.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": fragment}}]}))
    events += [chunk({"content": piece}) for piece in pieces(content or "")]
    events.append(chunk({}, finish))
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**base, "choices": [], "usage": USAGE_CHAT})
    h.send_sse([*events, "[DONE]"])


# ---------------------------------------------------------------- Responses


def responses(h, request: dict[str, Any], _match) -> None:
    body = request["body"]
    schema = structured_schema(body)
    if not body.get("tools") and schema is None:
        return h.responses_api(body)
    items = body["input"] if isinstance(body["input"], list) else [{"role": "user", "content": body["input"]}]
    last = items[-1]
    user = next((i.get("content") for i in reversed(items) if i.get("role") == "user"), "")
    returned = last.get("type") == "function_call_output"
    calls = [] if returned else planned_calls(body, str(user), f"{len(items)}")
    if calls:
        text = None
    elif schema is not None:
        text = json.dumps(sample(schema, f"echo: {user}"))
    else:
        text = f"tool result: {last.get('output')}" if returned else f"echo: {user}"
    output: list[dict[str, Any]] = [
        {"type": "function_call", "id": f"fc_{i}", "status": "completed", "content": [], **c}
        for i, c in enumerate(calls)
    ]
    if text is not None:
        part = {"type": "output_text", "text": text, "annotations": []}
        output.append({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": [part]})
    response = {
        "id": f"resp_tools_{len(items)}",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": body["model"],
        "output": output,
        "usage": USAGE_RESPONSES,
    }
    if not body.get("stream"):
        return h.send_json(200, response)
    created = {**response, "status": "in_progress", "output": [], "usage": None}
    events: list[Any] = [("response.created", {"type": "response.created", "response": created})]

    def event(kind: str, **fields: Any) -> tuple[str, dict[str, Any]]:
        return kind, {"type": kind, **fields}

    for i, item in enumerate(output[: len(calls)]):
        events.append(event("response.output_item.added", output_index=i, item={**item, "arguments": ""}))
    for i, fragment in interleaved(calls):
        events.append(
            event("response.function_call_arguments.delta", item_id=f"fc_{i}", output_index=i, delta=fragment)
        )
    for i, item in enumerate(output[: len(calls)]):
        args = item["arguments"]
        events.append(event("response.function_call_arguments.done", item_id=f"fc_{i}", output_index=i, arguments=args))
        events.append(event("response.output_item.done", output_index=i, item=item))
    for piece in pieces(text or ""):
        events.append(event("response.output_text.delta", item_id="msg_1", output_index=len(calls), delta=piece))
    events.append(event("response.completed", response=response))
    h.send_sse(events)
