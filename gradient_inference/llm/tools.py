"""Tools and structured output for the text APIs: the files an agent passes in, the request fields they
become on each API, and the tool calls that come back (whole or as stream deltas).

Request shapes follow DigitalOcean's published inference spec (tools, tool_choice); the reply and stream
shapes of tool calls follow OpenAI's API reference, which the service mirrors. Loaded only after argument
parsing, like the API modules in llm/.
"""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The spec describes function names as a-z, A-Z, 0-9, underscores and dashes, at most 64 characters.
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
TOOL_CHOICES = ("auto", "none", "required")


def _read_json_file(path: str, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{what} {path} is not valid JSON: {exc}") from None


def load_tools(path: str) -> list[dict[str, Any]]:
    """Tools from a JSON array, each as {"type": "function", "function": {...}} or a bare function object,
    normalised to the Chat Completions shape; ValueError names the bad tool (from 1). A tool of any other
    type (DigitalOcean's server-side tools, a provider's own tools) is passed on unchanged."""
    return normalize_tools(_read_json_file(path, "--tools file"), f"--tools file {path}")


def normalize_tools(data: Any, where: str = "tools") -> list[dict[str, Any]]:
    """load_tools for tools already parsed (the Python API's tools=[...])."""
    if not isinstance(data, list) or not data:
        raise ValueError(f"{where} must hold a non-empty JSON array of tools")
    tools = []
    for number, tool in enumerate(data, 1):
        if isinstance(tool, dict) and tool.get("type", "function") != "function":
            if not isinstance(tool["type"], str) or not tool["type"]:
                raise ValueError(f"tool {number}: type must be a non-empty string")
            tools.append(tool)
            continue
        function = tool.get("function") if isinstance(tool, dict) and "function" in tool else tool
        if not isinstance(function, dict):
            raise ValueError(f"tool {number} is not a JSON object")
        name = function.get("name")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ValueError(f"tool {number} needs a name of 1-64 letters, digits, '_' or '-' (got {name!r})")
        out: dict[str, Any] = {"name": name}
        if function.get("description") is not None:
            if not isinstance(function["description"], str):
                raise ValueError(f"tool {number} ({name}): description must be a string")
            out["description"] = function["description"]
        if function.get("parameters") is not None:
            if not isinstance(function["parameters"], dict):
                raise ValueError(f"tool {number} ({name}): parameters must be a JSON Schema object")
            out["parameters"] = function["parameters"]
        tools.append({"type": "function", "function": out})
    return tools


def load_json_schema(path: str) -> tuple[str, dict[str, Any]]:
    """(name, schema) from a JSON Schema file, or from OpenAI's {"name", "schema"} wrapper (or the whole
    response_format object). The name defaults to the file's stem."""
    import os

    stem = os.path.splitext(os.path.basename(path))[0]
    return schema_of(_read_json_file(path, "--json-schema file"), stem, f"--json-schema file {path}")


def schema_of(data: Any, stem: str = "response", where: str = "schema") -> tuple[str, dict[str, Any]]:
    """load_json_schema for a schema already parsed (the Python API's schema={...}); the name defaults to stem."""
    if isinstance(data, dict) and isinstance(data.get("json_schema"), dict):
        data = data["json_schema"]
    if isinstance(data, dict) and isinstance(data.get("schema"), dict):
        name, schema = data.get("name"), data["schema"]
    else:
        name, schema = re.sub(r"[^A-Za-z0-9_-]", "_", stem)[:64] or "response", data
    if not isinstance(schema, dict) or not schema:
        raise ValueError(f"{where} must hold a JSON Schema object")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(f"--json-schema name must be 1-64 letters, digits, '_' or '-' (got {name!r})")
    return name, schema


def tool_fields(api: str, tools: list[dict[str, Any]] | None, choice: str | None) -> dict[str, Any]:
    """`tools` and `tool_choice` request fields: nested functions on Chat Completions, flat ones on
    Responses, other tools as they are; a forced function is {"type": "function", "function": {"name"}} on both, as the spec says."""
    fields: dict[str, Any] = {}
    if tools:
        if api == "responses":
            fields["tools"] = [{"type": "function", **t["function"]} if is_function(t) else t for t in tools]
        else:
            fields["tools"] = tools
    if choice:
        fields["tool_choice"] = choice if choice in TOOL_CHOICES else {"type": "function", "function": {"name": choice}}
    return fields


def is_function(tool: dict[str, Any]) -> bool:
    return tool.get("type") == "function"


def function_names(tools: list[dict[str, Any]] | None) -> list[str]:
    return [tool["function"]["name"] for tool in tools or [] if is_function(tool)]


def format_fields(api: str, schema: tuple[str, dict[str, Any]] | None) -> dict[str, Any]:
    """Structured-output fields (OpenAI's; DigitalOcean's spec does not list them yet)."""
    if not schema:
        return {}
    spec = {"name": schema[0], "schema": schema[1], "strict": True}
    if api == "responses":
        return {"text": {"format": {"type": "json_schema", **spec}}}
    return {"response_format": {"type": "json_schema", "json_schema": spec}}


def arguments(raw: Any) -> Any:
    """A call's arguments as a JSON value, or the raw string when it does not parse."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def call(cid: Any, name: Any, raw_arguments: Any) -> dict[str, Any]:
    return {"id": cid, "name": name, "arguments": arguments(raw_arguments)}


def chat_calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Tool calls of a Chat Completions message."""
    calls = []
    for item in message.get("tool_calls") or []:
        if isinstance(item, dict):
            function = item.get("function") or {}
            calls.append(call(item.get("id"), function.get("name"), function.get("arguments")))
    return calls


def responses_calls(output: list[Any]) -> list[dict[str, Any]]:
    """Tool calls of a Responses output list; the id is the function call's call_id."""
    return [
        call(item.get("call_id") or item.get("id"), item.get("name"), item.get("arguments"))
        for item in output
        if isinstance(item, dict) and item.get("type") == "function_call"
    ]


def add_call_delta(pending: dict[Any, dict[str, Any]], delta: dict[str, Any], position: int) -> None:
    """Fold one streamed Chat Completions tool-call delta into `pending`, keyed by its index (OpenAI
    sends id and name once, then argument fragments); DigitalOcean's Responses chunks carry no index,
    so their calls are keyed by id, else by position."""
    key = delta.get("index", delta.get("id") or position)
    entry = pending.setdefault(key, {"id": None, "name": None, "arguments": ""})
    function = delta.get("function") or {}
    entry["id"] = entry["id"] or delta.get("id")
    entry["name"] = entry["name"] or function.get("name")
    if isinstance(function.get("arguments"), str):
        entry["arguments"] += function["arguments"]


def add_responses_event(pending: dict[Any, dict[str, Any]], kind: str, payload: dict[str, Any]) -> None:
    """Fold a Responses stream event about a function call into `pending`, keyed by output_index:
    response.output_item.added/done carry the item, response.function_call_arguments.delta/done its
    arguments."""
    key = payload.get("output_index", payload.get("item_id"))
    item = payload.get("item") if isinstance(payload.get("item"), dict) else {}
    if kind.startswith("response.output_item.") and item.get("type") != "function_call":
        return
    entry = pending.setdefault(key, {"id": None, "name": None, "arguments": ""})
    if item:
        entry["id"] = item.get("call_id") or entry["id"]
        entry["name"] = item.get("name") or entry["name"]
        if kind == "response.output_item.done" and isinstance(item.get("arguments"), str):
            entry["arguments"] = item["arguments"]
    elif kind == "response.function_call_arguments.delta":
        entry["arguments"] += str(payload.get("delta", ""))
    elif kind == "response.function_call_arguments.done" and isinstance(payload.get("arguments"), str):
        entry["arguments"] = payload["arguments"]


def finished_calls(pending: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    return [call(entry["id"], entry["name"], entry["arguments"]) for entry in pending.values()]


def parse_structured(content: str) -> Any:
    """The reply as JSON, or a CliError of type invalid_json_output quoting its start."""
    try:
        return json.loads(content)
    except ValueError:
        from gradient_inference.cli import base as cli

        raise cli.CliError(f"the reply is not valid JSON: {content[:200]!r}", kind="invalid_json_output") from None
