"""The prompts to compare on: from --prompt texts, or lines in gradient-batch's input format (id, prompt or messages,
optional system, max_tokens, temperature) plus an optional `expect`, each checked before anything is sent (exit 2)."""

from __future__ import annotations

from gradient_inference.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

EXPECT_KINDS = ("contains", "regex", "json_schema")


def from_texts(texts: list[str], system: str | None) -> list[dict[str, Any]]:
    """Prompts p1, p2, ... from --prompt texts."""
    prompts = []
    for number, text in enumerate(texts, 1):
        if not text.strip():
            raise UsageError(f"prompt {number} is empty")
        prompts.append(_prompt(f"p{number}", [{"role": "user", "content": text}], system, None, None, None))
    return prompts


def from_lines(path: str, system: str | None) -> list[dict[str, Any]]:
    """Prompts from a JSONL file in the batch input format ('-' reads stdin), every line checked."""
    from gradient_inference.batch import lines

    fh = lines.open_input(path)
    try:
        return from_objects(lines._objects(fh), system)
    finally:
        fh.close()


def from_objects(numbered, system: str | None) -> list[dict[str, Any]]:
    """Prompts from (line number, object) pairs in the batch input format; a bad one is an exit-2 error (batch
    lines' invalid_input) naming its line."""
    from gradient_inference.batch import lines

    prompts: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, obj in numbered:
        if not isinstance(obj, dict):
            raise UsageError(f"line {number} is not a JSON object", kind="invalid_input")
        if any(k in obj for k in ("custom_id", "url", "body", "method")):
            raise UsageError(f"line {number}: gradient-compare takes lines with prompt or messages, not a body")
        job = lines.to_job({**obj, "model": "compare"}, number, {"system": system})
        if job["id"] in seen:
            raise UsageError(f"line {number}: duplicate id {job['id']!r}", kind="invalid_input")
        seen.add(job["id"])
        expect = check_expect(obj["expect"], f"line {number}") if "expect" in obj else None
        prompts.append(
            _prompt(job["id"], job["messages"], job["system"], expect, job["max_tokens"], job["temperature"])
        )
    if not prompts:
        raise UsageError("the input is empty: expected JSON lines with a prompt or messages", kind="invalid_input")
    return prompts


def given(items: list, system: str | None) -> list[dict[str, Any]]:
    """Prompts from the Python API or an MCP tool: texts (ids p1, p2, ...) or objects in the batch line format."""
    if not isinstance(items, (list, tuple)) or not items:
        raise UsageError("prompts must be a non-empty list of texts or objects")
    if all(isinstance(item, str) for item in items):
        return from_texts(list(items), system)
    objects = [{"id": f"p{n}", "prompt": item} if isinstance(item, str) else item for n, item in enumerate(items, 1)]
    return from_objects(enumerate(objects, 1), system)


def _prompt(pid: str, messages: list, system: str | None, expect, max_tokens, temperature) -> dict[str, Any]:
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps([messages, system], sort_keys=True).encode()).hexdigest()[:16]
    return {
        "id": pid,
        "messages": messages,
        "system": system,
        "expect": expect,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "digest": digest,  # an --output answer counts for this prompt only while its text is the same
    }


def check_expect(expect: Any, where: str) -> list[dict[str, Any]]:
    """`expect` as a list of one-key checks: {"contains": str}, {"regex": str}, {"json_schema": object}; an
    object with several of these keys means all of them."""
    import re

    given = expect if isinstance(expect, list) else [expect]
    checks: list[dict[str, Any]] = []
    for item in given:
        if not isinstance(item, dict) or not item:
            raise UsageError(f'{where}: expect must be an object such as {{"contains": "Paris"}} (or a list)')
        for kind, value in item.items():
            if kind not in EXPECT_KINDS:
                raise UsageError(f"{where}: expect.{kind} is not a check; use {', '.join(EXPECT_KINDS)}")
            if kind in ("contains", "regex") and (not isinstance(value, str) or not value):
                raise UsageError(f"{where}: expect.{kind} must be a non-empty string")
            if kind == "regex":
                try:
                    re.compile(value)
                except re.error as exc:
                    raise UsageError(f"{where}: expect.regex is not a valid regular expression ({exc})") from None
            if kind == "json_schema" and not isinstance(value, dict):
                raise UsageError(f"{where}: expect.json_schema must be a JSON Schema object")
            checks.append({kind: value})
    return checks


def prompt_chars(prompt: dict[str, Any]) -> int:
    """Characters of text the prompt sends (the estimate's input: about 4 characters a token)."""
    total = len(prompt["system"] or "")
    for message in prompt["messages"]:
        content = message.get("content")
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):
            total += sum(len(str(part.get("text", ""))) for part in content if isinstance(part, dict))
    return total


def prompt_text(prompt: dict[str, Any]) -> str:
    """The prompt as the judge reads it: the last user message (the whole conversation when there are several)."""
    parts = []
    for message in prompt["messages"]:
        content = message.get("content")
        text = (
            content
            if isinstance(content, str)
            else " ".join(str(p.get("text", "")) for p in content or [] if isinstance(p, dict))
        )
        parts.append(text if len(prompt["messages"]) == 1 else f"{message.get('role')}: {text}")
    return "\n".join(parts)
