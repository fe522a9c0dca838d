"""Text generation on the two OpenAI-style APIs: conversations, request bodies, replies, streams.

Shared by gradient_chat.py and gradient_batch.py. A reply is one dict with the same keys whichever
API produced it: id, model, api, content, finish_reason, usage, reasoning, tool_calls ([{id, name,
arguments}], [] when none). Tools and structured output live in gradient_tools.
"""

from __future__ import annotations

from gradient_inference.cli import base as cli
from gradient_inference.llm import tools as gt
from gradient_inference.llm.tools import load_json_schema, load_tools  # noqa: F401  (part of this module's interface)
from gradient_inference.network import api as net

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

DEFAULT_MODEL = "openai-gpt-oss-120b"
ROLES = ("system", "developer", "user", "assistant", "tool")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")  # the spec's enum
MIN_COMPLETION_TOKENS = 256  # the spec's minimum for max_completion_tokens (max_tokens: 0)


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
        if len(messages) == 1 and not (isinstance(messages[0], dict) and "role" in messages[0]):
            messages = messages[0]  # one JSON value that is no message: say it is not a list
    return check_messages(messages)


def check_messages(messages: Any) -> list[dict[str, Any]]:
    """The messages, if each has a known role and text content or tool calls; else ValueError naming it
    (from 1). The spec's messages carry text only, so content must be a string. Tool calls get the
    spec's required `type`, and arguments written as a JSON object are sent as its JSON string."""
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
        if message.get("content") is not None and not isinstance(message["content"], str):
            raise ValueError(f"message {number} ({role}): content must be a string (the API takes text only)")
        if calls is not None and (role != "assistant" or not isinstance(calls, list)):
            raise ValueError(f"message {number}: tool_calls must be a list on an assistant message")
        for call in calls or []:
            _check_call(call, number)
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise ValueError(f"message {number}: a tool message needs a tool_call_id")
    return messages


def _check_call(call: Any, number: int) -> None:
    import json

    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(call.get("id"), str) or not function.get("name"):
        raise ValueError(f"message {number}: each tool call needs an id and a function with a name")
    call.setdefault("type", "function")
    if isinstance(function.get("arguments"), (dict, list)):
        function["arguments"] = json.dumps(function["arguments"])
    if not isinstance(function.get("arguments"), str):
        raise ValueError(f"message {number}: tool call {call['id']} needs arguments (a JSON string)")


def assemble(system: str | None, messages: list[dict[str, Any]] | None, prompt: str | None) -> list[dict[str, Any]]:
    """The conversation to send: a system message first (if any), then the file's, then the prompt."""
    head = [{"role": "system", "content": system}] if system else []
    tail = [{"role": "user", "content": prompt}] if prompt else []
    return [*head, *(messages or []), *tail]


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
    tools: list[dict[str, Any]] | None = None,
    tool_choice: str | None = None,
    json_schema: tuple[str, dict[str, Any]] | None = None,
    stop: list[str] | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    reasoning_effort: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """(path, JSON body) for api 'chat' or 'responses'. `instructions` is the system prompt: a leading
    system message on Chat Completions, the `instructions` field on Responses (where a leading system
    message becomes it too). `tools` are in the Chat Completions shape (load_tools); `json_schema` is
    (name, schema) (load_json_schema). ValueError for `seed` on Responses, which has no such field."""
    if api == "responses":
        if seed is not None:
            raise ValueError("the Responses API has no seed; use Chat Completions for --seed")
        if instructions is None and messages and messages[0]["role"] == "system" and len(messages) > 1:
            instructions, messages = messages[0]["content"], messages[1:]
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
            body["previous_response_id"] = previous_response_id  # not in the spec either; kept, as for store
        if max_tokens:
            body["max_output_tokens"] = max_tokens
        if reasoning_effort:
            body["reasoning"] = {"effort": reasoning_effort}  # OpenAI's field; the spec has none for Responses
        path = "/responses"
    else:
        system = [{"role": "system", "content": instructions}] if instructions else []
        body = {"model": model, "messages": [*system, *messages]}
        if max_tokens:
            # max_completion_tokens is the current field (max_tokens is deprecated, and reasoning models
            # refuse it), but the spec sets its minimum at 256; below that only max_tokens is valid.
            field = "max_completion_tokens" if max_tokens >= MIN_COMPLETION_TOKENS else "max_tokens"
            body[field] = max_tokens
        if stream:
            body["stream_options"] = {"include_usage": True}
        if seed is not None:
            body["seed"] = seed
        if reasoning_effort:
            body["reasoning_effort"] = reasoning_effort
        path = "/chat/completions"
    if temperature is not None:
        body["temperature"] = temperature
    if top_p is not None:
        body["top_p"] = top_p
    if stop:
        body["stop"] = list(stop)
    body.update(gt.tool_fields(api, tools, tool_choice))
    body.update(gt.format_fields(api, json_schema))
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


def result(
    api: str,
    rid: Any,
    model: Any,
    content: str,
    finish: Any,
    usage: Any,
    reasoning: str,
    tool_calls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if tool_calls and finish in (None, "stop"):
        finish = "tool_calls"  # the Responses API says only "completed"; agents branch on this word
    return {
        "id": rid,
        "model": model,
        "api": api,
        "content": content,
        "finish_reason": finish,
        "usage": usage_of(usage),
        "reasoning": reasoning or None,
        "tool_calls": tool_calls or [],
    }


def add_parsed(reply: dict[str, Any]) -> dict[str, Any]:
    """reply["parsed"]: the structured-output reply as JSON (None when the model called tools instead);
    a CliError of type invalid_json_output when it does not parse."""
    only_calls = reply["tool_calls"] and not reply["content"].strip()
    reply["parsed"] = None if only_calls else gt.parse_structured(reply["content"])
    return reply


def parse_chat(data: Any) -> dict[str, Any]:
    message = net.require(data, "choices", 0, "message")
    if not isinstance(message, dict):
        raise cli.CliError("the response's message is not an object", kind="bad_response")
    content = message.get("content") or ""
    reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
    if not isinstance(content, str):
        raise cli.CliError("the response's message content is not text", kind="bad_response")
    finish = data["choices"][0].get("finish_reason")
    return result(
        "chat.completions",
        data.get("id"),
        data.get("model"),
        content,
        finish,
        data.get("usage"),
        reasoning,
        gt.chat_calls(message),
    )


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
        gt.responses_calls(output),
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


def _new_state() -> dict[str, Any]:
    return {"id": None, "model": None, "finish": None, "usage": None, "parts": [], "thoughts": [], "calls": {}}


def _fold_chunk(state: dict[str, Any], chunk: dict[str, Any], data: str, echo: Callable[[str], None]) -> None:
    """One Chat Completions chunk (or DigitalOcean's chat-style Responses chunk) into the stream state."""
    if "error" in chunk:
        raise cli.CliError(net.summarise_error_body(data.encode())[0] or "error event", kind="stream_error")
    state["id"] = state["id"] or chunk.get("id")
    state["model"] = state["model"] or chunk.get("model")
    state["usage"] = chunk.get("usage") or state["usage"]
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if not isinstance(delta, dict):
            continue
        if delta.get("content"):
            state["parts"].append(delta["content"])
            echo(delta["content"])
        thought = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(thought, str):
            state["thoughts"].append(thought)
        for position, call in enumerate(delta.get("tool_calls") or []):
            if isinstance(call, dict):
                gt.add_call_delta(state["calls"], call, position)
        state["finish"] = choice.get("finish_reason") or state["finish"]


def _state_result(api: str, state: dict[str, Any]) -> dict[str, Any]:
    return result(
        api,
        state["id"],
        state["model"],
        "".join(state["parts"]),
        state["finish"],
        state["usage"],
        "".join(state["thoughts"]),
        gt.finished_calls(state["calls"]),
    )


def stream_chat(resp, echo: Callable[[str], None]) -> dict[str, Any]:
    state = _new_state()
    for _event, data in net.sse_events(resp):
        if data.strip() == "[DONE]":
            return _state_result("chat.completions", state)
        _fold_chunk(state, _json_event(data), data, echo)
    raise cli.CliError("the stream ended before [DONE]", kind="stream_incomplete")


def stream_responses(resp, echo: Callable[[str], None]) -> dict[str, Any]:
    """OpenAI's typed events (response.output_text.delta, response.function_call_arguments.*, ...,
    response.completed); DigitalOcean's spec describes chat-style `response.chunk` chunks ending in
    [DONE] instead, which are read as well."""
    state = _new_state()
    chunked = False
    for event, data in net.sse_events(resp):
        if data.strip() == "[DONE]" and chunked:
            return _state_result("responses", state)
        payload = _json_event(data)
        kind = str(payload.get("type") or event)
        if "choices" in payload or payload.get("object") == "response.chunk":
            chunked = True
            _fold_chunk(state, payload, data, echo)
        elif kind == "response.output_text.delta":
            state["parts"].append(str(payload.get("delta", "")))
            echo(state["parts"][-1])
        elif kind in ("response.reasoning_text.delta", "response.reasoning_summary_text.delta"):
            state["thoughts"].append(str(payload.get("delta", "")))
        elif kind.startswith(("response.output_item.", "response.function_call_arguments.")):
            gt.add_responses_event(state["calls"], kind, payload)
        elif kind in ("response.completed", "response.incomplete"):
            final = payload.get("response") or {}
            output = final.get("output") if isinstance(final.get("output"), list) else []
            calls = gt.finished_calls(state["calls"]) or gt.responses_calls(output)
            return result(
                "responses",
                final.get("id"),
                final.get("model"),
                "".join(state["parts"]),
                finish_of(final),
                final.get("usage"),
                "".join(state["thoughts"]),
                calls,
            )
        elif kind in ("error", "response.failed"):
            raise cli.CliError(net.summarise_error_body(data.encode())[0] or kind, kind="stream_error")
    end = "[DONE]" if chunked else "response.completed"
    raise cli.CliError(f"the stream ended before {end}", kind="stream_incomplete")


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
