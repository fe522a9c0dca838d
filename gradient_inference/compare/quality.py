"""Quality: a prompt's `expect` checks on an answer, and a judge model's score of it (0 to 10, structured output).

json_schema checks use jsonschema when it is importable (it comes with the mcp extra), else a small validator of
type, required, properties, additionalProperties, enum, items, minItems/maxItems and minLength/maxLength."""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

JUDGE_SCHEMA = (
    "score",
    {
        "type": "object",
        "properties": {"score": {"type": "number"}, "reason": {"type": "string"}},
        "required": ["score", "reason"],
    },
)
JUDGE_SYSTEM = (
    "You grade answers. Read the prompt, the rubric and the answer, then score the answer from 0 (useless or "
    'wrong) to 10 (fully correct and well put). Reply with JSON only: {"score": number, "reason": short text}.'
)
DEFAULT_RUBRIC = "Correctness first, then completeness, then clarity and concision."
JUDGE_MAX_TOKENS = 300
JUDGE_ANSWER_CHARS = 12_000  # the answer as the judge sees it, at most


def passes(checks: list[dict[str, Any]], content: str) -> bool:
    """True when the answer meets every check: contains (case-sensitive substring), regex (re.search),
    json_schema (the answer, without a ``` fence, parses as JSON and validates)."""
    for check in checks:
        kind, value = next(iter(check.items()))
        if kind == "contains" and value not in content:
            return False
        if kind == "regex" and not re.search(value, content):
            return False
        if kind == "json_schema" and not matches_schema(content, value):
            return False
    return True


def matches_schema(content: str, schema: dict[str, Any]) -> bool:
    text = content.strip()
    fenced = re.fullmatch(r"```[a-zA-Z]*\s*\n(.*?)\n?```", text, re.S)
    try:
        value = json.loads(fenced.group(1) if fenced else text)
    except ValueError:
        return False
    try:
        import jsonschema
    except ImportError:
        return not problems(value, schema)
    return jsonschema.validators.validator_for(schema)(schema).is_valid(value)


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer(),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def problems(value: Any, schema: Any, where: str = "$") -> list[str]:
    """What keeps value from matching schema (the subset above); [] when it matches."""
    if schema is True or not isinstance(schema, dict):
        return []
    found: list[str] = []
    kinds = schema.get("type")
    if kinds is not None:
        names = kinds if isinstance(kinds, list) else [kinds]
        if not any(_TYPES.get(name, lambda v: True)(value) for name in names):
            return [f"{where}: not of type {kinds}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        found.append(f"{where}: not {schema['const']!r}")
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        found += [f"{where}: {name} is required" for name in schema.get("required", []) if name not in value]
        for name, item in value.items():
            if name in props:
                found += problems(item, props[name], f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: {name} is not allowed")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += problems(item, schema["additionalProperties"], f"{where}.{name}")
    if isinstance(value, list):
        if "items" in schema:
            for index, item in enumerate(value):
                found += problems(item, schema["items"], f"{where}[{index}]")
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            found.append(f"{where}: wrong number of items")
    if isinstance(value, str) and not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
        found.append(f"{where}: wrong length")
    return found


def judge_request(judge: str, prompt: dict[str, Any], answer: str, rubric: str | None):
    """The judge's ChatRequest: structured output with the score schema, not streamed."""
    from gradient_inference.compare.prompts import prompt_text
    from gradient_inference.pipeline.chat import ChatRequest

    shown = answer if len(answer) <= JUDGE_ANSWER_CHARS else answer[:JUDGE_ANSWER_CHARS] + "\n[... cut ...]"
    text = (
        f"Rubric: {rubric or DEFAULT_RUBRIC}\n\n<prompt>\n{prompt_text(prompt)}\n</prompt>\n\n"
        f"<answer>\n{shown}\n</answer>\n\nScore the answer from 0 to 10."
    )
    return ChatRequest(
        model=judge, api="chat", system=JUDGE_SYSTEM, prompt=text, schema=JUDGE_SCHEMA,
        max_tokens=JUDGE_MAX_TOKENS, temperature=0,
    )  # fmt: skip


def judge_score(parsed: Any) -> tuple[float, str]:
    """(score clamped to 0..10, reason) from the judge's parsed reply; ValueError when it has no number."""
    if (
        not isinstance(parsed, dict)
        or not isinstance(parsed.get("score"), (int, float))
        or isinstance(parsed.get("score"), bool)
    ):
        raise ValueError("the judge's reply has no numeric score")
    return min(10.0, max(0.0, float(parsed["score"]))), str(parsed.get("reason") or "")


def judge_chars(prompt_chars: int, max_tokens: int, rubric: str | None) -> int:
    """Characters a judge call is estimated to send: its instructions, the prompt, an answer of max_tokens."""
    return len(JUDGE_SYSTEM) + len(rubric or DEFAULT_RUBRIC) + prompt_chars + 4 * max_tokens + 80
