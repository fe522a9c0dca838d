"""Text generation on the two OpenAI-style APIs: conversations, request bodies, replies, streams.

Shared by gradient_chat.py and gradient_batch.py. A reply is one dict with the same keys whichever
API produced it: id, model, api, content, finish_reason, usage, reasoning.
"""

from __future__ import annotations

import gradient_cli as cli
import gradient_http as net

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

DEFAULT_MODEL = "openai-gpt-oss-120b"
ROLES = ("system", "developer", "user", "assistant", "tool")


def read_conversation(text: str) -> list[dict[str, Any]]:
    """Chat Completions messages from a JSON array or JSONL text; ValueError names the bad message."""
    import json

    stripped = text.strip()
    if not stripped:
        raise ValueError("the conversation is empty")
    if stripped.startswith("["):
        try:
            messages = json.loads(stripped)
        except ValueError as exc:
            raise ValueError(f"not valid JSON: {exc}") from None
    else:
        messages = []
        for number, line in enumerate(stripped.splitlines(), 1):
            if not line.strip():
                continue
            try:
                messages.append(json.loads(line))
            except ValueError:
                raise ValueError(f"message {len(messages) + 1} (line {number}) is not valid JSON") from None
    return check_messages(messages)


def check_messages(messages: Any) -> list[dict[str, Any]]:
    """The messages, if each has a known role and content or tool calls; else ValueError naming it (from 1)."""
    if not isinstance(messages, list):
        raise ValueError("the conversation must be a JSON array of messages (or JSONL, one per line)")
    if not messages:
        raise ValueError("the conversation is empty")
    for number, message in enumerate(messages, 1):
        if not isinstance(message, dict):
            raise ValueError(f"message {number} is not a JSON object")
        role = message.get("role")
        if role not in ROLES:
            raise ValueError(f"message {number} has role {role!r}; expected one of {', '.join(ROLES)}")
        calls = message.get("tool_calls")
        if message.get("content") in (None, "", []) and not (role == "assistant" and calls):
            raise ValueError(f"message {number} ({role}) has neither content nor tool_calls")
        if calls is not None and (role != "assistant" or not isinstance(calls, list)):
            raise ValueError(f"message {number}: tool_calls must be a list on an assistant message")
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise ValueError(f"message {number}: a tool message needs a tool_call_id")
    return messages


def responses_input(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat Completions messages as Responses API input items (OpenAI's item shapes for tool calls)."""
    items: list[dict[str, Any]] = []
    for message in messages:
        if message["role"] == "tool":
            items.append(
                {"type": "function_call_output", "call_id": message["tool_call_id"], "output": message.get("content")}
            )
            continue
        if message.get("content") not in (None, "", []):
            items.append({"role": message["role"], "content": message["content"]})
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            items.append(
                {
                    "type": "function_call",
                    "call_id": call.get("id"),
                    "name": function.get("name"),
                    "arguments": function.get("arguments"),
                }
            )
    return items


def build_request(
    api: str,
    model: str,
    messages: list[dict[str, Any]],
    *,
    instructions: str | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    stream: bool = False,
    store: bool = False,
    previous_response_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """(path, JSON body) for api 'chat' or 'responses'. `instructions` is the system prompt: a leading
    system message on Chat Completions, the `instructions` field on Responses."""
    if api == "responses":
        only_text = len(messages) == 1 and messages[0]["role"] == "user" and isinstance(messages[0]["content"], str)
        body: dict[str, Any] = {
            "model": model,
            "input": messages[0]["content"] if only_text else responses_input(messages),
        }
        if instructions:
            body["instructions"] = instructions
        if store:
            body["store"] = True  # not in the published spec, but DigitalOcean's guide uses it
        if previous_response_id:
            body["previous_response_id"] = previous_response_id
        if max_tokens:
            body["max_output_tokens"] = max_tokens
        path = "/responses"
    else:
        system = [{"role": "system", "content": instructions}] if instructions else []
        body = {"model": model, "messages": [*system, *messages]}
        if max_tokens:
            body["max_completion_tokens"] = max_tokens  # DigitalOcean documents max_tokens as deprecated
        if stream:
            body["stream_options"] = {"include_usage": True}
        path = "/chat/completions"
    if temperature is not None:
        body["temperature"] = temperature
    if stream:
        body["stream"] = True
    return path, body


def usage_of(raw: Any) -> dict[str, int | None]:
    """Token counts with one set of names for both APIs."""
    raw = raw if isinstance(raw, dict) else {}
    in_details = raw.get("input_tokens_details") or raw.get("prompt_tokens_details") or {}
    out_details = raw.get("output_tokens_details") or raw.get("completion_tokens_details") or {}
    return {
        "input_tokens": _first(raw, "input_tokens", "prompt_tokens"),
        "output_tokens": _first(raw, "output_tokens", "completion_tokens"),
        "cached_tokens": _first(in_details, "cached_tokens"),
        "reasoning_tokens": _first(out_details, "reasoning_tokens"),
    }


def _first(d: Any, *names: str) -> int | None:
    for name in names:
        value = d.get(name) if isinstance(d, dict) else None
        if isinstance(value, int):
            return value
    return None


def result(api: str, rid: Any, model: Any, content: str, finish: Any, usage: Any, reasoning: str) -> dict[str, Any]:
    return {
        "id": rid,
        "model": model,
        "api": api,
        "content": content,
        "finish_reason": finish,
        "usage": usage_of(usage),
        "reasoning": reasoning or None,
    }


def parse_chat(data: Any) -> dict[str, Any]:
    message = net.require(data, "choices", 0, "message")
    content = message.get("content") or ""
    reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
    if not isinstance(content, str):
        raise cli.CliError("the response's message content is not text", kind="bad_response")
    finish = data["choices"][0].get("finish_reason")
    return result("chat.completions", data.get("id"), data.get("model"), content, finish, data.get("usage"), reasoning)


def parse_responses(data: Any) -> dict[str, Any]:
    output = net.require(data, "output")
    if not isinstance(output, list):
        raise cli.CliError("the response's 'output' is not a list", kind="bad_response")
    texts, thoughts = [], []
    for item in output:
        if not isinstance(item, dict):
            continue
        for part in item.get("content") or []:
            if isinstance(part, dict) and part.get("type") == "output_text":
                texts.append(str(part.get("text", "")))
            elif isinstance(part, dict) and part.get("type") == "reasoning_text":
                thoughts.append(str(part.get("text", "")))
        if item.get("type") == "reasoning":
            thoughts += [str(s.get("text", "")) for s in item.get("summary") or [] if isinstance(s, dict)]
    if data.get("error"):
        import json

        raise cli.CliError(
            f"the response failed: {net.summarise_error_body(json.dumps(data).encode())[0]}", kind="response_failed"
        )
    return result(
        "responses",
        data.get("id"),
        data.get("model"),
        "".join(texts),
        finish_of(data),
        data.get("usage"),
        "".join(thoughts),
    )


def finish_of(response: dict[str, Any]) -> str | None:
    """Responses API status mapped onto Chat Completions' finish_reason words."""
    status = response.get("status")
    if status == "completed":
        return "stop"
    if status == "incomplete":
        reason = (response.get("incomplete_details") or {}).get("reason")
        return {"max_output_tokens": "length"}.get(reason, reason or "incomplete")
    return status


def stream_chat(resp, echo: Callable[[str], None]) -> dict[str, Any]:
    parts, thoughts = [], []
    state: dict[str, Any] = {"id": None, "model": None, "finish": None, "usage": None, "done": False}
    for _event, data in net.sse_events(resp):
        if data.strip() == "[DONE]":
            state["done"] = True
            break
        chunk = _json_event(data)
        if "error" in chunk:
            raise cli.CliError(net.summarise_error_body(data.encode())[0] or "error event", kind="stream_error")
        state["id"] = state["id"] or chunk.get("id")
        state["model"] = state["model"] or chunk.get("model")
        state["usage"] = chunk.get("usage") or state["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                parts.append(delta["content"])
                echo(delta["content"])
            thought = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(thought, str):
                thoughts.append(thought)
            state["finish"] = choice.get("finish_reason") or state["finish"]
    if not state["done"]:
        raise cli.CliError("the stream ended before [DONE]", kind="stream_incomplete")
    return result(
        "chat.completions",
        state["id"],
        state["model"],
        "".join(parts),
        state["finish"],
        state["usage"],
        "".join(thoughts),
    )


def stream_responses(resp, echo: Callable[[str], None]) -> dict[str, Any]:
    parts, thoughts = [], []
    for event, data in net.sse_events(resp):
        payload = _json_event(data)
        kind = payload.get("type") or event
        if kind == "response.output_text.delta":
            parts.append(str(payload.get("delta", "")))
            echo(parts[-1])
        elif kind in ("response.reasoning_text.delta", "response.reasoning_summary_text.delta"):
            thoughts.append(str(payload.get("delta", "")))
        elif kind in ("response.completed", "response.incomplete"):
            final = payload.get("response") or {}
            return result(
                "responses",
                final.get("id"),
                final.get("model"),
                "".join(parts),
                finish_of(final),
                final.get("usage"),
                "".join(thoughts),
            )
        elif kind in ("error", "response.failed"):
            raise cli.CliError(net.summarise_error_body(data.encode())[0] or kind, kind="stream_error")
    raise cli.CliError("the stream ended before response.completed", kind="stream_incomplete")


def _json_event(data: str) -> dict[str, Any]:
    import json  # here, not at the top: --help and usage errors never need it

    try:
        payload = json.loads(data)
    except ValueError:
        raise cli.CliError(
            f"the stream sent an event that is not JSON: {cli.redact(data)[:80]!r}", kind="bad_response"
        ) from None
    if not isinstance(payload, dict):
        raise cli.CliError("the stream sent an event that is not a JSON object", kind="bad_response")
    return payload


# ---------------------------------------------------------------- PROVISIONAL (issue 16 branch)
# Minimal stand-ins with issue 11's names and signatures, so that --api messages can use
# --messages-file, --tools and --json-schema; issue 11's implementation replaces this block at merge.


def load_tools(path: str) -> list[dict[str, Any]]:
    """Tools from a JSON array file, as Chat Completions tools; ValueError for a bad file or a nameless tool."""
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"cannot read --tools {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"--tools {path}: expected a non-empty JSON array of tools")
    tools = []
    for number, tool in enumerate(raw, 1):
        function = tool.get("function", tool) if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
            raise ValueError(f"--tools {path}: tool {number} has no name")
        keep = {k: function[k] for k in ("name", "description", "parameters") if k in function}
        tools.append({"type": "function", "function": keep})
    return tools


def load_json_schema(path: str) -> tuple[str, dict[str, Any]]:
    """(name, schema) from a file holding a JSON Schema, or {"name", "schema"}; ValueError if unusable."""
    import json
    import os

    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"cannot read --json-schema {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if isinstance(raw, dict) and isinstance(raw.get("schema"), dict):
        return str(raw.get("name") or "structured_output"), raw["schema"]
    if not isinstance(raw, dict):
        raise ValueError(f"--json-schema {path}: expected a JSON Schema object")
    return os.path.splitext(os.path.basename(path))[0] or "structured_output", raw


def assemble(system: str | None, messages: list[dict[str, Any]] | None, prompt: str | None) -> list[dict[str, Any]]:
    """The conversation to send: --system first, then the file's messages, then --prompt as a user message."""
    head = [{"role": "system", "content": system}] if system else []
    tail = [{"role": "user", "content": prompt}] if prompt else []
    return [*head, *(messages or []), *tail]
