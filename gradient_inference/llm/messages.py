"""Anthropic's Messages API as DigitalOcean serves it (POST /v1/messages): requests, replies, streams.

The contract is DigitalOcean's OpenAPI (inference_create_messages.yml, models/messages_*.yml).
Conversations stay in the Chat Completions shape everywhere else in the skill; this module converts
them, and turns replies back into the reply dict llm/reply.py gives for the other APIs (plus
`stop_reason`). Images are loaded by llm/vision.py.
"""

from __future__ import annotations

import json

from gradient_inference.cli import base as cli
from gradient_inference.llm.reply import json_event  # one event parser for every API's streams
from gradient_inference.network import api as net

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

DEFAULT_MODEL = "anthropic-claude-haiku-4.5"
DEFAULT_MAX_TOKENS = 1024  # max_tokens is required on this API
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")  # the spec's enum (a DO extension)
FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}
SCHEMA_TOOL_DESCRIPTION = "Give your final answer as this tool's input. It must match the input schema."


# ---------------------------------------------------------------- conversation


def convert_messages(messages: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    """Chat Completions messages -> (system text or None, Messages API turns).

    system/developer messages join the top-level system; an assistant's tool_calls become tool_use
    blocks; tool messages become user turns of tool_result blocks; consecutive turns of one role merge.
    ValueError names the message (from 1)."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for number, message in enumerate(messages, 1):
        role = message["role"]
        if role in ("system", "developer"):
            system.append(_text_of(message.get("content"), number))
            continue
        if role == "tool":
            content = message.get("content")
            result = content if isinstance(content, (str, list)) else json.dumps(content)
            blocks = [{"type": "tool_result", "tool_use_id": message["tool_call_id"], "content": result}]
            role = "user"
        else:
            blocks = []
            if message.get("content") not in (None, "", []):
                blocks.append({"type": "text", "text": _text_of(message["content"], number)})
            for call in message.get("tool_calls") or []:
                blocks.append(_tool_use_block(call, number))
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns:
        raise ValueError("the conversation has no user or assistant message")
    for turn in turns:  # a lone text block is sent as the plain string the spec also allows
        if len(turn["content"]) == 1 and turn["content"][0]["type"] == "text":
            turn["content"] = turn["content"][0]["text"]
    return ("\n\n".join(system) or None), turns


def _text_of(content: Any, number: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in content):
        return "".join(str(p.get("text", "")) for p in content)
    raise ValueError(f"message {number}: content must be text on the Messages API")


def _tool_use_block(call: Any, number: int) -> dict[str, Any]:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not function.get("name") or not call.get("id"):
        raise ValueError(f"message {number}: each tool call needs an id and a function name")
    arguments = function.get("arguments") or "{}"
    try:
        parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValueError(f"message {number}: tool call {call['id']} has arguments that are not a JSON object")
    return {"type": "tool_use", "id": call["id"], "name": function["name"], "input": parsed}


def attach_images(turns: list[dict[str, Any]], images: list[dict[str, Any]]) -> None:
    """Put image blocks into the final user turn, before its text (ValueError if there is none)."""
    if not images:
        return
    if turns[-1]["role"] != "user":
        raise ValueError("--image needs a final user message: add --prompt")
    content = turns[-1]["content"]
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    first_text = next((i for i, b in enumerate(blocks) if b["type"] == "text"), len(blocks))
    turns[-1]["content"] = blocks[:first_text] + images + blocks[first_text:]


# ---------------------------------------------------------------- tools


def convert_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chat Completions tools -> Messages tool definitions (input_schema is required there); a provider's
    own tools (e.g. tool_search_tool_regex_20251119) go as they are."""
    converted = []
    for tool in tools:
        if tool.get("type") != "function":
            converted.append(tool)
            continue
        function = tool["function"]
        definition = {"name": function["name"]}
        if function.get("description"):
            definition["description"] = function["description"]
        definition["input_schema"] = function.get("parameters") or {"type": "object", "properties": {}}
        converted.append(definition)
    return converted


def choice_field(choice: str, tool_names: list[str]) -> dict[str, Any]:
    """auto -> auto, required -> any, NAME -> that tool (ValueError for a NAME not among the tools)."""
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    if choice not in tool_names:
        raise ValueError(f"--tool-choice {choice}: no tool of that name in --tools")
    return {"type": "tool", "name": choice}


def schema_tool(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The forced tool that carries --json-schema: its input is the structured answer."""
    import re

    if schema.get("type") != "object":
        raise ValueError('--json-schema: the Messages API needs a schema with "type": "object" at the top')
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "structured_output"
    return {"name": safe, "description": SCHEMA_TOOL_DESCRIPTION, "input_schema": schema}


# ---------------------------------------------------------------- request


def build_request(
    model: str,
    messages: list[dict[str, Any]],
    *,
    images: list[dict[str, Any]] | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    top_k: int | None = None,
    stop: list[str] | None = None,
    reasoning_effort: str | None = None,
    tools: list[dict[str, Any]] | None = None,
    tool_choice: str | None = None,
    json_schema: tuple[str, dict[str, Any]] | None = None,
    stream: bool = False,
    seed: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """(path, body) for POST /messages from Chat Completions messages; ValueError for what cannot be sent.
    The interface of llm/completions.py, plus `images` (llm/vision.py) and `top_k`."""
    choice = tool_choice
    if seed is not None:
        raise ValueError("--seed: the Messages API has no seed")
    if temperature is not None and not 0 <= temperature <= 1:
        raise ValueError(f"--temperature must be between 0 and 1 on the Messages API, got {temperature:g}")
    if top_p is not None and not 0 <= top_p <= 1:
        raise ValueError(f"--top-p must be between 0 and 1, got {top_p:g}")
    if top_k is not None and top_k < 0:
        raise ValueError(f"--top-k must be 0 or more, got {top_k}")
    if reasoning_effort is not None and reasoning_effort not in REASONING_EFFORTS:
        raise ValueError(f"--reasoning-effort must be one of {', '.join(REASONING_EFFORTS)}")
    system, turns = convert_messages(messages)
    attach_images(turns, images or [])
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens or DEFAULT_MAX_TOKENS, "messages": turns}
    if system:
        body["system"] = system
    definitions = convert_tools(tools or []) if choice != "none" else []
    if json_schema:
        if choice is not None:
            raise ValueError("--json-schema forces its own tool: drop --tool-choice")
        forced = schema_tool(*json_schema)
        if forced["name"] in {d.get("name") for d in definitions}:
            raise ValueError(f"--json-schema: its name {forced['name']!r} is already a tool in --tools")
        definitions.append(forced)
        body["tool_choice"] = {"type": "tool", "name": forced["name"]}
    elif choice not in (None, "none"):
        if not definitions:
            raise ValueError(f"--tool-choice {choice} needs --tools")
        body["tool_choice"] = choice_field(choice, [d.get("name") for d in definitions])
    if definitions:
        body["tools"] = definitions
    if stop:
        body["stop_sequences"] = list(stop)
    for field, value in (("temperature", temperature), ("top_p", top_p), ("top_k", top_k)):
        if value is not None:
            body[field] = value
    if reasoning_effort is not None:
        body["reasoning_effort"] = reasoning_effort
    if stream:
        body["stream"] = True
    return "/messages", body


# ---------------------------------------------------------------- replies


def usage_of(raw: Any) -> dict[str, int | None]:
    """Messages usage in the skill's common names. Anthropic's input_tokens leave out cache reads and
    writes, which the other APIs count in their input, so they are added back; reads are cached_tokens."""
    raw = raw if isinstance(raw, dict) else {}
    counts = {k: raw.get(k) for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")}
    known = [v for v in counts.values() if isinstance(v, int)]
    output = raw.get("output_tokens")
    read = counts["cache_read_input_tokens"]
    from gradient_inference.llm.reply import cache_writes

    return {
        "input_tokens": sum(known) if known else None,
        "output_tokens": output if isinstance(output, int) else None,
        "cached_tokens": read if isinstance(read, int) else None,
        "reasoning_tokens": None,  # the Messages usage does not report them apart
    } | cache_writes(raw, "cache_creation_input_tokens")


def reply_from(message: dict[str, Any], blocks: list[Any], schema_name: str | None) -> dict[str, Any]:
    """The common reply dict from a message object and its content blocks."""
    texts, thoughts, calls, cited, server = [], [], [], [], []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            texts.append(str(block.get("text", "")))
            for found in block.get("citations") or []:  # Anthropic's web search citations
                if isinstance(found, dict) and isinstance(found.get("url"), str):
                    if found["url"] not in {c["url"] for c in cited}:
                        cited.append({"url": found["url"], "title": found.get("title")})
        elif block.get("type") == "server_tool_use":  # a provider tool the provider ran itself
            server.append({"type": "server_tool_use", "name": block.get("name")})
        elif block.get("type") == "thinking":  # not in DO's spec; Anthropic models may still send it
            thoughts.append(str(block.get("thinking", "")))
        elif block.get("type") == "tool_use":
            calls.append({"id": block.get("id"), "name": block.get("name"), "arguments": block.get("input")})
    stop_reason = message.get("stop_reason") if isinstance(message.get("stop_reason"), str) else None
    reply = {
        "id": message.get("id"),
        "model": message.get("model"),
        "api": "messages",
        "content": "".join(texts),
        "finish_reason": FINISH.get(stop_reason, stop_reason),
        "stop_reason": stop_reason,
        "usage": usage_of(message.get("usage")),
        "reasoning": "".join(thoughts) or None,
        "tool_calls": calls,
        "citations": cited,
        "server_tools": server,
    }
    if schema_name is not None:
        forced = next((c for c in calls if c["name"] == schema_name), None)
        if forced is None or not isinstance(forced["arguments"], dict):
            shown = reply["content"][:200] or "no text"
            raise cli.CliError(
                f"the model did not answer through the {schema_name} tool (reply: {shown})", kind="invalid_json_output"
            )
        reply["parsed"] = forced["arguments"]
        reply["content"] = json.dumps(forced["arguments"], ensure_ascii=False)
        reply["tool_calls"] = [c for c in calls if c is not forced]
        if reply["finish_reason"] == "tool_calls" and not reply["tool_calls"]:
            reply["finish_reason"] = "stop"  # the structured answer is the reply, as on the other APIs
    return reply


def parse_reply(data: Any, json_schema: tuple[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    content = net.require(data, "content")
    if not isinstance(content, list):
        raise cli.CliError("the response's 'content' is not a list", kind="bad_response")
    return reply_from(data, content, _schema_name(json_schema))


def _schema_name(json_schema: tuple[str, dict[str, Any]] | None) -> str | None:
    """The forced tool's name that carries the structured answer, as build_request named it."""
    return schema_tool(*json_schema)["name"] if json_schema else None


def stream_reply(
    resp, echo: Callable[[str], None], json_schema: tuple[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Read the event stream: text deltas are echoed as they arrive, tool input JSON is assembled."""
    schema_name = _schema_name(json_schema)
    message: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, list[str]] = {}
    for event, data in net.sse_events(resp):
        payload = json_event(data)
        kind = payload.get("type") or event
        index = payload.get("index") if isinstance(payload.get("index"), int) else 0
        if kind == "message_start":
            message = dict(_obj(payload.get("message")))
            message["usage"] = dict(_obj(message.get("usage")))
        elif kind == "content_block_start":
            blocks[index] = dict(_obj(payload.get("content_block")))
        elif kind == "content_block_delta":
            delta = _obj(payload.get("delta"))
            block = blocks.setdefault(index, {"type": "text", "text": ""})
            if delta.get("type") == "text_delta":
                block["text"] = block.get("text", "") + str(delta.get("text", ""))
                if schema_name is None:
                    echo(str(delta.get("text", "")))
            elif delta.get("type") == "input_json_delta":
                partial.setdefault(index, []).append(str(delta.get("partial_json", "")))
            elif delta.get("type") == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + str(delta.get("thinking", ""))
        elif kind == "message_delta":
            message.update(_obj(payload.get("delta")))
            message["usage"] = {**_obj(message.get("usage")), **_obj(payload.get("usage"))}
        elif kind == "message_stop":
            for index, pieces in partial.items():
                blocks[index]["input"] = _tool_input("".join(pieces), blocks[index].get("name"))
            return reply_from(message, [blocks[i] for i in sorted(blocks)], schema_name)
        elif kind == "error":
            error = _obj(payload.get("error")) or payload
            raise cli.CliError(
                str(error.get("message") or "error event"), kind=str(error.get("type") or "stream_error")
            )
        # ping, content_block_stop and event types added later need nothing
    raise cli.CliError("the stream ended before message_stop", kind="stream_incomplete")


def _obj(value: Any) -> dict[str, Any]:
    """A JSON object from the server, or {} for anything else (a stream is not trusted to be well-formed)."""
    return value if isinstance(value, dict) else {}


def _tool_input(text: str, name: Any) -> Any:
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError:
        raise cli.CliError(f"the streamed input of tool call {name} is not valid JSON", kind="bad_response") from None
