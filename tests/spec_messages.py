"""Request checks for POST /v1/messages, from DigitalOcean's OpenAPI.

Written by hand from digitalocean/openapi, specification/resources/inference/ (read at HEAD 7c1300c):
- MESSAGES_REQUEST: models/messages_create_request.yml and what it references (messages_api_message_param,
  messages_request_content_block_param and its four blocks, messages_image_source_param,
  messages_tool_definition_param, messages_tool_choice_param, messages_thinking_config_param).
- Chat requests (also the body agent_inference_create_chat_completion.yml takes) are checked by
  tests/spec_checks.py; its CHECKS maps /v1/messages here.

A small validator covers the keywords those schemas use: type, nullable, required, properties, enum,
minimum, maximum, minItems, maxItems, items, oneOf. Properties the spec does not declare are reported too
(`extra` lists the ones the project knowingly sends beyond the spec).
"""

from __future__ import annotations

from typing import Any

STRING = {"type": "string"}
OBJECT = {"type": "object"}  # additionalProperties: true, nothing required

TEXT_BLOCK = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"type": "string", "enum": ["text"]}, "text": STRING},
}
IMAGE_BLOCK = {
    "type": "object",
    "required": ["type", "source"],
    "properties": {
        "type": {"type": "string", "enum": ["image"]},
        "source": {
            "type": "object",
            "required": ["type", "media_type", "data"],
            "properties": {"type": STRING, "media_type": STRING, "data": STRING},
        },
    },
}
TOOL_USE_BLOCK = {
    "type": "object",
    "required": ["type", "id", "name", "input"],
    "properties": {"type": {"type": "string", "enum": ["tool_use"]}, "id": STRING, "name": STRING, "input": OBJECT},
}
TOOL_RESULT_BLOCK = {
    "type": "object",
    "required": ["type", "tool_use_id", "content"],
    "properties": {
        "type": {"type": "string", "enum": ["tool_result"]},
        "tool_use_id": STRING,
        "content": {"oneOf": [STRING, {"type": "array", "items": OBJECT}]},
    },
}
MESSAGES_REQUEST = {
    "type": "object",
    "required": ["model", "max_tokens", "messages"],
    "properties": {
        "model": STRING,
        "max_tokens": {"type": "integer", "minimum": 1},
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "properties": {
                    "role": {"type": "string", "enum": ["user", "assistant"]},
                    "content": {
                        "oneOf": [
                            STRING,
                            {
                                "type": "array",
                                "items": {"oneOf": [TEXT_BLOCK, IMAGE_BLOCK, TOOL_USE_BLOCK, TOOL_RESULT_BLOCK]},
                            },
                        ]
                    },
                },
            },
        },
        "system": {"oneOf": [STRING, {"type": "array", "items": TEXT_BLOCK}]},
        "stop_sequences": {"type": "array", "items": STRING},
        "stream": {"type": "boolean"},
        "temperature": {"type": "number", "nullable": True, "minimum": 0, "maximum": 1},
        "top_p": {"type": "number", "nullable": True},
        "top_k": {"type": "integer", "nullable": True, "minimum": 0},
        "tools": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "input_schema"],
                "properties": {"name": STRING, "description": STRING, "input_schema": OBJECT},
            },
        },
        "tool_choice": {
            "oneOf": [
                STRING,
                {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"type": "string", "enum": ["auto", "any", "tool"]}, "name": STRING},
                },
            ]
        },
        "metadata": {"type": "object", "properties": {"user_id": STRING}},
        "reasoning_effort": {
            "type": "string",
            "nullable": True,
            "enum": ["none", "minimal", "low", "medium", "high", "xhigh"],
        },
        "speed": {"type": "string", "nullable": True, "enum": ["standard", "fast"]},
        "thinking": {"type": "object", "nullable": True, "required": ["type"], "properties": {"type": STRING}},
    },
}

_TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def problems(value: Any, schema: dict[str, Any], where: str = "body", strict: bool = False) -> list[str]:
    """What in `value` breaks `schema`; empty when it is valid. `strict` reports undeclared properties."""
    if value is None:
        return [] if schema.get("nullable") or "type" not in schema and "oneOf" not in schema else [f"{where}: null"]
    if "oneOf" in schema:
        found = [problems(value, s, where, strict) for s in schema["oneOf"]]
        if sum(not f for f in found) == 1:
            return []
        if all(found):  # say why the closest branch failed: of the right type, then fewest problems
            closest = min(found, key=lambda f: (f[0].startswith(f"{where}: expected"), len(f)))
            return [f"{where}: matches no oneOf branch: " + "; ".join(closest)]
        return [f"{where}: matches more than one oneOf branch"]
    found: list[str] = []
    kind = schema.get("type")
    if kind and not _TYPES[kind](value):
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in {schema['enum']}")
    if "minimum" in schema and value < schema["minimum"]:
        found.append(f"{where}: {value} below the minimum {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        found.append(f"{where}: {value} above the maximum {schema['maximum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            found.append(f"{where}: fewer than {schema['minItems']} items")
        if len(value) > schema.get("maxItems", len(value)):
            found.append(f"{where}: more than {schema['maxItems']} items")
        for i, item in enumerate(value):
            found += problems(item, schema.get("items", {}), f"{where}[{i}]", strict)
    if isinstance(value, dict):
        found += [f"{where}: missing required {name!r}" for name in schema.get("required", []) if name not in value]
        declared = schema.get("properties", {})
        for name, item in value.items():
            if name in declared:
                found += problems(item, declared[name], f"{where}.{name}", strict)
            elif strict and declared:
                found.append(f"{where}: {name!r} is not in the spec")
    return found


def messages_request_problems(body: Any) -> list[str]:
    """Every way a /v1/messages request body breaks DigitalOcean's schema (strict: no undeclared fields)."""
    return problems(body, MESSAGES_REQUEST, strict=True)
