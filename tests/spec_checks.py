"""Request bodies checked against DigitalOcean's published inference spec (digitalocean/openapi,
specification/resources/inference/models/), one function per request schema, each returning a list of
problems ([] when the body is valid).

The rules are written here from the spec's constraints (required fields, types, ranges, enums); no spec
text is copied. Where the issue tells us to go beyond the spec, that is allowed explicitly and named:
- Chat Completions: `response_format` (structured output; not in the spec yet).
- Responses: `store` and `previous_response_id` (DigitalOcean's guide uses them), `text.format`
  (structured output) and `reasoning.effort` (OpenAI's field for --reasoning-effort); input items that
  are tool calls or tool results take OpenAI's `function_call` / `function_call_output` shapes, since
  the spec's `{role, content}` items cannot carry them.
A field the spec does not list (and no exception names) is a problem too: it catches typos and
accidental fields, although the chat and responses schemas do not forbid extra properties.

CHECKS maps an API path to its function; check_request(path, body) dispatches.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from spec_messages import messages_request_problems

REASONING_EFFORTS = {"none", "minimal", "low", "medium", "high", "xhigh"}
ROLES_CHAT = {"system", "developer", "user", "assistant", "tool"}
ROLES_RESPONSES = {"user", "assistant", "system", "tool", "developer"}
TOOL_CHOICES = {"none", "auto", "required"}
IMAGE_SIZES = {"auto", "1536x1024", "1024x1536"}


# ---------------------------------------------------------------- small rules


def _is(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "boolean": bool, "object": dict, "array": list}[kind])


def _field(
    problems: list[str],
    obj: dict[str, Any],
    name: str,
    kind: str,
    *,
    where: str = "",
    required: bool = False,
    nullable: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    enum: set[str] | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
) -> None:
    label = f"{where}{name}"
    if name not in obj:
        if required:
            problems.append(f"{label}: required")
        return
    value = obj[name]
    if value is None:
        if not nullable:
            problems.append(f"{label}: null is not allowed")
        return
    if not _is(value, kind):
        problems.append(f"{label}: expected {kind}, got {type(value).__name__}")
        return
    if minimum is not None and value < minimum:
        problems.append(f"{label}: {value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        problems.append(f"{label}: {value} is above the maximum {maximum}")
    if enum is not None and value not in enum:
        problems.append(f"{label}: {value!r} is not one of {sorted(enum)}")
    if min_length is not None and len(value) < min_length:
        problems.append(f"{label}: shorter than {min_length}")
    if max_length is not None and len(value) > max_length:
        problems.append(f"{label}: longer than {max_length}")


def _known(problems: list[str], obj: dict[str, Any], allowed: set[str], where: str = "") -> None:
    for name in sorted(set(obj) - allowed):
        problems.append(f"{where}{name}: not in the spec")


def _stop(problems: list[str], body: dict[str, Any]) -> None:
    stop = body.get("stop")
    if stop is None or isinstance(stop, str):
        return
    if not isinstance(stop, list) or not 1 <= len(stop) <= 4 or not all(isinstance(s, str) for s in stop):
        problems.append(f"stop: must be a string or 1 to 4 strings, got {stop!r}")


def _tool_choice(problems: list[str], body: dict[str, Any]) -> None:
    if "tool_choice" not in body:
        return
    choice = body["tool_choice"]
    if isinstance(choice, str):
        if choice not in TOOL_CHOICES:
            problems.append(f"tool_choice: {choice!r} is not one of {sorted(TOOL_CHOICES)}")
        return
    if not isinstance(choice, dict) or choice.get("type") != "function":
        problems.append(f"tool_choice: expected a string or {{type: function, function: {{name}}}}, got {choice!r}")
        return
    function = choice.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        problems.append("tool_choice.function.name: required string")


def _function(problems: list[str], function: Any, where: str) -> None:
    if not isinstance(function, dict):
        problems.append(f"{where}: expected object")
        return
    _field(problems, function, "name", "string", where=where + ".", required=True)
    _field(problems, function, "description", "string", where=where + ".")
    _field(problems, function, "parameters", "object", where=where + ".")
    _known(problems, function, {"name", "description", "parameters"}, where + ".")


def _stream_options(problems: list[str], body: dict[str, Any]) -> None:
    _field(problems, body, "stream_options", "object", nullable=True)
    if isinstance(body.get("stream_options"), dict):
        _field(problems, body["stream_options"], "include_usage", "boolean", where="stream_options.")
        _known(problems, body["stream_options"], {"include_usage"}, "stream_options.")


def _metadata(problems: list[str], body: dict[str, Any]) -> None:
    _field(problems, body, "metadata", "object", nullable=True)
    for key, value in (body.get("metadata") or {}).items():
        if not isinstance(value, str):
            problems.append(f"metadata.{key}: values must be strings")


def _json_schema_format(problems: list[str], fmt: Any, where: str) -> None:
    """OpenAI's json_schema format (issue 11 sends it although the spec does not list it)."""
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        problems.append(f"{where}: expected type json_schema")
        return
    _field(problems, fmt, "name", "string", where=where + ".", required=True)
    _field(problems, fmt, "schema", "object", where=where + ".", required=True)
    _field(problems, fmt, "strict", "boolean", where=where + ".")


# ---------------------------------------------------------------- Chat Completions


CHAT_FIELDS = {
    "model", "messages", "max_tokens", "max_completion_tokens", "frequency_penalty", "presence_penalty",
    "top_logprobs", "logprobs", "logit_bias", "tools", "tool_choice", "stream", "stream_options", "stop", "n",
    "reasoning_effort", "seed", "metadata", "temperature", "top_p", "user",
}  # fmt: skip
CHAT_EXTENSIONS = {"response_format"}
MESSAGE_FIELDS = {"role", "content", "refusal", "tool_calls", "tool_call_id", "reasoning_content"}


# DigitalOcean's server-side tools: the documented exceptions to the spec's function-only `tools`, the same on
# Chat Completions and Responses ("How to Use Server-Side Tools", docs.digitalocean.com/products/inference/
# how-to/use-server-side-tools/: retrieve-knowledge-base/, use-mcp/, use-web-search/, use-web-fetch/; ranges from
# DigitalOcean's community tutorial server-side-tools-ai-agents-architecture; the MCP fields as in the gen-ai
# schema apiMcpServer, minus headers). Exactly these fields, nothing else.
SERVER_TOOLS = {
    "knowledge_base_retrieval": {"knowledge_base_id": ("string", True, None)},
    "mcp": {
        "server_label": ("string", True, None),
        "server_url": ("string", True, None),
        "authorization": ("string", False, None),
        "allowed_tools": ("array", False, None),
    },
    "web_search": {"max_uses": ("integer", False, 5), "max_results": ("integer", False, 10)},
    "web_fetch": {"max_uses": ("integer", False, 5)},
}


def _server_tool(problems: list[str], tool: dict[str, Any], where: str) -> None:
    fields = SERVER_TOOLS[tool["type"]]
    _known(problems, tool, {"type", *fields}, where)
    for name, (kind, required, top) in fields.items():
        limits = {"minimum": 1, "maximum": top} if top else {}
        _field(problems, tool, name, kind, where=where, required=required, **limits)
    if tool["type"] == "mcp":
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(tool.get("server_label"))):
            problems.append(f"{where}server_label: expected 1-64 of [A-Za-z0-9_-]")
        if not all(isinstance(name, str) for name in tool.get("allowed_tools") or []):
            problems.append(f"{where}allowed_tools: expected strings")
        if not str(tool.get("authorization", "Bearer ")).startswith("Bearer "):
            problems.append(f"{where}authorization: expected 'Bearer TOKEN'")


def check_chat_request(body: Any) -> list[str]:
    """POST /v1/chat/completions: chat_completion_request.yml and chat_message.yml."""
    if not isinstance(body, dict):
        return ["body: expected a JSON object"]
    problems: list[str] = []
    _known(problems, body, CHAT_FIELDS | CHAT_EXTENSIONS)
    _field(problems, body, "model", "string", required=True)
    _field(problems, body, "messages", "array", required=True, min_length=1)
    for index, message in enumerate(body.get("messages") or []):
        _chat_message(problems, message, f"messages[{index}].")
    _field(problems, body, "max_tokens", "integer", nullable=True, minimum=0)
    _field(problems, body, "max_completion_tokens", "integer", nullable=True, minimum=256)
    for name in ("frequency_penalty", "presence_penalty"):
        _field(problems, body, name, "number", nullable=True, minimum=-2, maximum=2)
    _field(problems, body, "top_logprobs", "integer", nullable=True, minimum=0, maximum=20)
    _field(problems, body, "logprobs", "boolean", nullable=True)
    _field(problems, body, "logit_bias", "object", nullable=True)
    _field(problems, body, "tools", "array")
    for index, tool in enumerate(body.get("tools") or []):
        where = f"tools[{index}]"
        if isinstance(tool, dict) and tool.get("type") in SERVER_TOOLS:
            _server_tool(problems, tool, where + ".")
            continue
        if not isinstance(tool, dict) or tool.get("type") != "function":
            problems.append(f"{where}.type: must be function")
            continue
        _known(problems, tool, {"type", "function"}, where + ".")
        _function(problems, tool.get("function"), where + ".function")
    _tool_choice(problems, body)
    _field(problems, body, "stream", "boolean", nullable=True)
    _stream_options(problems, body)
    _stop(problems, body)
    _field(problems, body, "n", "integer", nullable=True, minimum=1, maximum=128)
    _field(problems, body, "reasoning_effort", "string", nullable=True, enum=REASONING_EFFORTS)
    _field(problems, body, "seed", "integer", nullable=True)
    _metadata(problems, body)
    _field(problems, body, "temperature", "number", nullable=True, minimum=0, maximum=2)
    _field(problems, body, "top_p", "number", nullable=True, minimum=0, maximum=1)
    _field(problems, body, "user", "string")
    if "response_format" in body:
        fmt = body["response_format"]
        if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
            problems.append("response_format: expected type json_schema")
        else:
            _json_schema_format(problems, {"type": "json_schema", **(fmt.get("json_schema") or {})}, "json_schema")
    return problems


def _chat_message(problems: list[str], message: Any, where: str) -> None:
    if not isinstance(message, dict):
        problems.append(f"{where[:-1]}: expected object")
        return
    _known(problems, message, MESSAGE_FIELDS, where)
    _field(problems, message, "role", "string", where=where, required=True, enum=ROLES_CHAT)
    _field(problems, message, "content", "string", where=where, nullable=True)  # text only in the spec
    _field(problems, message, "refusal", "string", where=where, nullable=True)
    _field(problems, message, "reasoning_content", "string", where=where, nullable=True)
    _field(problems, message, "tool_call_id", "string", where=where)
    _field(problems, message, "tool_calls", "array", where=where)
    for index, call in enumerate(message.get("tool_calls") or []):
        at = f"{where}tool_calls[{index}]."
        if not isinstance(call, dict):
            problems.append(f"{at[:-1]}: expected object")
            continue
        _field(problems, call, "id", "string", where=at, required=True)
        _field(problems, call, "type", "string", where=at, required=True, enum={"function"})
        _field(problems, call, "function", "object", where=at, required=True)
        if isinstance(call.get("function"), dict):
            _field(problems, call["function"], "name", "string", where=at + "function.", required=True)
            _field(problems, call["function"], "arguments", "string", where=at + "function.", required=True)


# ---------------------------------------------------------------- Responses


RESPONSES_FIELDS = {
    "model", "input", "max_output_tokens", "temperature", "top_p", "stream", "stream_options", "instructions",
    "tools", "tool_choice", "stop", "metadata", "user",
}  # fmt: skip
RESPONSES_EXTENSIONS = {"store", "previous_response_id", "text", "reasoning"}


def check_responses_request(body: Any) -> list[str]:
    """POST /v1/responses: create_response_request.yml (plus the extensions named above)."""
    if not isinstance(body, dict):
        return ["body: expected a JSON object"]
    problems: list[str] = []
    _known(problems, body, RESPONSES_FIELDS | RESPONSES_EXTENSIONS)
    _field(problems, body, "model", "string", required=True)
    if "input" not in body:
        problems.append("input: required")
    elif isinstance(body["input"], list):
        if not body["input"]:
            problems.append("input: at least 1 item")
        for index, item in enumerate(body["input"]):
            _input_item(problems, item, f"input[{index}].")
    elif not isinstance(body["input"], str):
        problems.append("input: expected a string or an array of items")
    _field(problems, body, "max_output_tokens", "integer", nullable=True, minimum=1)
    _field(problems, body, "temperature", "number", nullable=True, minimum=0, maximum=2)
    _field(problems, body, "top_p", "number", nullable=True, minimum=0, maximum=1)
    _field(problems, body, "stream", "boolean", nullable=True)
    _stream_options(problems, body)
    _field(problems, body, "instructions", "string", nullable=True)
    _field(problems, body, "tools", "array", nullable=True)
    for index, tool in enumerate(body.get("tools") or []):
        where = f"tools[{index}]."
        if not isinstance(tool, dict):
            problems.append(f"{where[:-1]}: expected object")
            continue
        if tool.get("type") in SERVER_TOOLS:
            _server_tool(problems, tool, where)
            continue
        _field(problems, tool, "type", "string", where=where, required=True, enum={"function"})
        _field(problems, tool, "name", "string", where=where)
        _field(problems, tool, "description", "string", where=where)
        _field(problems, tool, "parameters", "object", where=where)
        _known(problems, tool, {"type", "name", "description", "parameters"}, where)
    _tool_choice(problems, body)
    _stop(problems, body)
    _metadata(problems, body)
    _field(problems, body, "user", "string", nullable=True)
    _field(problems, body, "store", "boolean")
    _field(problems, body, "previous_response_id", "string")
    if "text" in body:
        text = body["text"]
        if not isinstance(text, dict) or set(text) != {"format"}:
            problems.append("text: expected {format}")
        else:
            _json_schema_format(problems, text["format"], "text.format")
    if "reasoning" in body:
        reasoning = body["reasoning"]
        if not isinstance(reasoning, dict) or set(reasoning) != {"effort"}:
            problems.append("reasoning: expected {effort}")
        else:
            _field(problems, reasoning, "effort", "string", where="reasoning.", enum=REASONING_EFFORTS)
    return problems


def _input_item(problems: list[str], item: Any, where: str) -> None:
    if not isinstance(item, dict):
        problems.append(f"{where[:-1]}: expected object")
        return
    kind = item.get("type")
    if kind == "function_call":  # OpenAI's item shape: the spec's items cannot carry a call
        for name in ("call_id", "name", "arguments"):
            _field(problems, item, name, "string", where=where, required=True)
        _known(problems, item, {"type", "call_id", "name", "arguments"}, where)
    elif kind == "function_call_output":  # likewise for a tool result
        for name in ("call_id", "output"):
            _field(problems, item, name, "string", where=where, required=True)
        _known(problems, item, {"type", "call_id", "output"}, where)
    else:
        _field(problems, item, "role", "string", where=where, enum=ROLES_RESPONSES)
        _field(problems, item, "content", "string", where=where, required=True)
        _known(problems, item, {"role", "content"}, where)


# ---------------------------------------------------------------- Images


IMAGE_FIELDS = {
    "prompt", "model", "n", "size", "quality", "background", "output_format", "output_compression",
    "moderation", "stream", "partial_images", "user",
}  # fmt: skip


def check_image_request(body: Any) -> list[str]:
    """POST /v1/images/generations: create_image_request.yml."""
    if not isinstance(body, dict):
        return ["body: expected a JSON object"]
    problems: list[str] = []
    _known(problems, body, IMAGE_FIELDS)
    _field(problems, body, "prompt", "string", required=True, min_length=1)
    _field(problems, body, "model", "string", required=True)
    _field(problems, body, "n", "integer", required=True, minimum=1, maximum=10)
    _field(problems, body, "size", "string", enum=IMAGE_SIZES)
    for name in ("quality", "background", "output_format", "moderation"):
        _field(problems, body, name, "string", nullable=True)
    _field(problems, body, "output_compression", "integer", nullable=True, minimum=0)
    _field(problems, body, "stream", "boolean", nullable=True)
    _field(problems, body, "partial_images", "integer", nullable=True, minimum=0)
    _field(problems, body, "user", "string", nullable=True, max_length=256)
    if body.get("stream") and not (isinstance(body.get("partial_images"), int) and body["partial_images"] > 0):
        problems.append("partial_images: must be above 0 when stream is true")
    return problems


CHECKS: dict[str, Callable[[Any], list[str]]] = {
    "/v1/chat/completions": check_chat_request,
    "/v1/responses": check_responses_request,
    "/v1/images/generations": check_image_request,
    "/v1/messages": messages_request_problems,
}


def check_request(path: str, body: Any) -> list[str] | None:
    """Problems with a request to `path`, or None when no schema is checked for that path."""
    check = CHECKS.get(path.split("?")[0])
    return None if check is None else check(body)
