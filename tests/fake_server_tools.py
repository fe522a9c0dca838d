"""DigitalOcean's server-side tools and inference routers for the fake Gradient API (install(fake) adds them).

Requests whose `tools` hold a server-side tool (knowledge_base_retrieval, mcp, web_search, web_fetch) or whose
model is `router:NAME` are answered here; everything else falls through to fake_tools and FakeGradient.

Where the shapes come from:
- Request tools: DigitalOcean docs, "How to Use Server-Side Tools" (docs.digitalocean.com/products/inference/
  how-to/use-server-side-tools/) and its pages retrieve-knowledge-base/, use-mcp/, use-web-search/,
  use-web-fetch/ (checked in tests/spec_checks.py SERVER_TOOLS).
- Replies: DigitalOcean documents none, and forwards OpenAI's, so these are OpenAI's (openai-python types):
  - Chat Completions message `annotations: [{"type": "url_citation", "url_citation": {url, title,
    start_index, end_index}}]` (chat_completion_message.py); streamed, the chunk's `delta.annotations`
    carries them (an assumption: OpenAI's chunk type does not list the field, search models send it).
  - Responses `output_text.annotations: [{"type": "url_citation", url, title, start_index, end_index}]`
    (flat), output items `{"type": "web_search_call", id, status, action: {type: "search", query}}`
    (response_function_web_search.py), `{"type": "mcp_list_tools", id, server_label, tools}` and
    `{"type": "mcp_call", id, server_label, name, arguments, output, status}` (response_output_item.py).
  - Responses stream events `response.output_item.added` / `.done`, `response.web_search_call.in_progress` /
    `.completed`, `response.mcp_call.completed`, `response.output_text.delta`,
    `response.output_text.annotation.added` {annotation, item_id, output_index, content_index} and
    `response.completed` (src/openai/types/responses/*_event.py).
- Routers: `model: "router:NAME"`; the reply's `model` names the model that served, and the header
  `x-model-router-selected-route` the route (DigitalOcean docs, use-inference-router/, and the DO blog "How We
  Built Inference Router"). Here every router is served by ROUTED_MODEL on route `NAME-route`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import fake_tools
from fake_gradient import KNOWN_MODELS, FakeGradient, error_body

SERVER_TOOL_TYPES = {"knowledge_base_retrieval", "mcp", "web_search", "web_fetch"}
ROUTED_MODEL = "openai-gpt-oss-20b"
CITATIONS = [
    ("https://docs.digitalocean.com/products/droplets/details/pricing/", "Droplet pricing"),
    ("https://www.digitalocean.com/blog/inference-router", "How We Built Inference Router"),
]


def install(fake: FakeGradient) -> None:
    """Put these handlers in front of every other chat and responses route (once)."""
    fake_tools.install(fake)  # first, so ours end up in front of its handlers
    if getattr(fake, "server_tools_installed", False):
        return
    fake.add_route("POST", "/v1/chat/completions", chat, model_field=None)
    fake.add_route("POST", "/v1/responses", responses, model_field=None)
    fake.routes[:0] = [fake.routes.pop(), fake.routes.pop()]
    fake.server_tools_installed = True


def _ours(body: Any) -> tuple[list[dict[str, Any]], str | None]:
    """(server-side tools asked for, router name or None)."""
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") in SERVER_TOOL_TYPES]
    model = str(body.get("model"))
    return tools, model[len("router:") :] if model.startswith("router:") else None


def _unknown_model(h, body: dict[str, Any]) -> bool:
    if body.get("model") in KNOWN_MODELS:
        return False
    h.send_json(
        404,
        error_body(f"The model `{body.get('model')}` does not exist.", "invalid_request_error", "model_not_found"),
    )
    return True


def _served(body: dict[str, Any], router: str | None) -> tuple[str, dict[str, str]]:
    if router is None:
        return body["model"], {}
    return ROUTED_MODEL, {"x-model-router-selected-route": f"{router}-route"}


def _answer(tools: list[dict[str, Any]], prompt: str) -> str:
    kinds = sorted({t["type"] for t in tools})
    return f"{' and '.join(kinds) or 'routed'}: {prompt}"


def _searches(tools: list[dict[str, Any]]) -> int:
    return sum(t.get("max_uses", 1) for t in tools if t["type"] == "web_search")


# ---------------------------------------------------------------- Chat Completions


def chat(h, request: dict[str, Any], match) -> None:
    body = request["body"]
    tools, router = _ours(body)
    if not tools and router is None:
        return None if _unknown_model(h, body) else fake_tools.chat(h, request, match)
    model, headers = _served(body, router)
    prompt = str(body["messages"][-1].get("content"))
    text = _answer(tools, prompt)
    cited = CITATIONS if any(t["type"] in ("web_search", "web_fetch") for t in tools) else []
    annotations = [
        {"type": "url_citation", "url_citation": {"url": url, "title": title, "start_index": 0, "end_index": 4}}
        for url, title in cited
    ]
    usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    rid, created = "chatcmpl-server-tools", int(time.time())
    if body.get("stream"):
        base = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model}
        events: list[Any] = [
            {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}]}
        ]
        if annotations:
            events.append(
                {**base, "choices": [{"index": 0, "delta": {"annotations": annotations}, "finish_reason": None}]}
            )
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        events += [{**base, "choices": [], "usage": usage}, "[DONE]"]
        return h.send_sse(events, headers=headers)
    message = {"role": "assistant", "content": text, "annotations": annotations}
    h.send_json(
        200,
        {
            "id": rid,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
            "usage": usage,
        },
        headers,
    )


# ---------------------------------------------------------------- Responses


def tool_items(tools: list[dict[str, Any]], prompt: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for n in range(_searches(tools)):
        action = {"type": "search", "query": prompt}
        items.append({"type": "web_search_call", "id": f"ws_{n}", "status": "completed", "action": action})
    for t in tools:
        if t["type"] == "mcp":
            name = (t.get("allowed_tools") or ["echo"])[0]
            label = t["server_label"]
            tool_list = [{"name": name, "input_schema": {"type": "object"}}]
            items.append({"type": "mcp_list_tools", "id": f"mcpl_{label}", "server_label": label, "tools": tool_list})
            items.append(
                {
                    "type": "mcp_call",
                    "id": f"mcp_{label}",
                    "server_label": label,
                    "name": name,
                    "arguments": json.dumps({"text": prompt}),
                    "output": "done",
                    "status": "completed",
                }
            )
    return items


def responses(h, request: dict[str, Any], match) -> None:
    body = request["body"]
    tools, router = _ours(body)
    if not tools and router is None:
        return None if _unknown_model(h, body) else fake_tools.responses(h, request, match)
    model, headers = _served(body, router)
    prompt = body["input"] if isinstance(body["input"], str) else str(body["input"][-1].get("content"))
    text = _answer(tools, prompt)
    cited = CITATIONS if any(t["type"] in ("web_search", "web_fetch") for t in tools) else []
    annotations = [
        {"type": "url_citation", "url": url, "title": title, "start_index": 0, "end_index": 4} for url, title in cited
    ]
    items = tool_items(tools, prompt)
    message = {
        "type": "message",
        "id": "msg_st",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": annotations}],
    }
    usage = {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 20,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 120,
    }
    response = {
        "id": "resp_server_tools",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": model,
        "output": [*items, message],
        "usage": usage,
    }
    if not body.get("stream"):
        return h.send_json(200, response, headers)
    events: list[Any] = [("response.created", {"type": "response.created", "response": {**response, "output": []}})]
    for index, item in enumerate(items):
        events.append(
            ("response.output_item.added", {"type": "response.output_item.added", "output_index": index, "item": item})
        )
        kind = item["type"]
        if kind in ("web_search_call", "mcp_call"):
            name = f"response.{kind}.completed"
            events.append((name, {"type": name, "item_id": item["id"], "output_index": index}))
        events.append(
            ("response.output_item.done", {"type": "response.output_item.done", "output_index": index, "item": item})
        )
    at = {"item_id": "msg_st", "output_index": len(items), "content_index": 0}
    events.append(("response.output_text.delta", {"type": "response.output_text.delta", **at, "delta": text}))
    for number, annotation in enumerate(annotations):
        kind = "response.output_text.annotation.added"
        events.append((kind, {"type": kind, **at, "annotation_index": number, "annotation": annotation}))
    events.append(("response.completed", {"type": "response.completed", "response": response}))
    h.send_sse(events, headers=headers)
