"""Conversations as Chat Completions messages: read from a file, checked, and assembled with the prompt.

Every text API starts from this one shape; each API module converts it to its own request.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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
