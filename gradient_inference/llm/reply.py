"""The reply every text API gives back: one dict with the same keys whichever API produced it.

Keys: id, model, api, content, finish_reason, usage ({input_tokens, output_tokens, cached_tokens,
reasoning_tokens}), reasoning, tool_calls ([{id, name, arguments}], [] when none), citations ([{url,
title}]) and server_tools ([{type, name?, server?, status?}]: work DigitalOcean did, never for the caller
to run; see llm/server_tools.py); parsed with a JSON schema. Also the pieces the two OpenAI-style streams share: the event parser and chunk folding.
"""

from __future__ import annotations

from gradient_inference.cli import base as cli
from gradient_inference.llm import server_tools as st
from gradient_inference.llm import tools as gt
from gradient_inference.network import api as net

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable


def usage_of(raw: Any) -> dict[str, int | None]:
    """Token counts with one set of names for both APIs."""
    raw = raw if isinstance(raw, dict) else {}
    in_details = raw.get("input_tokens_details") or raw.get("prompt_tokens_details") or {}
    out_details = raw.get("output_tokens_details") or raw.get("completion_tokens_details") or {}
    usage = {
        "input_tokens": _first(raw, "input_tokens", "prompt_tokens"),
        "output_tokens": _first(raw, "output_tokens", "completion_tokens"),
        # DigitalOcean's chat usage (completion_usage.yml) names cache reads apart from OpenAI's details
        "cached_tokens": _first(raw, "cache_read_input_tokens") or _first(in_details, "cached_tokens"),
        "reasoning_tokens": _first(out_details, "reasoning_tokens"),
    }
    return usage | cache_writes(raw, "cache_created_input_tokens")


def cache_writes(raw: dict, total_field: str) -> dict[str, int]:
    """Prompt tokens written to the cache: the total and, where the usage splits it, the 5-minute and
    1-hour parts (cache_creation.ephemeral_*); only the keys the usage reports."""
    split = raw.get("cache_creation") if isinstance(raw.get("cache_creation"), dict) else {}
    found = {
        "cache_write_tokens": _first(raw, total_field),
        "cache_write_5m_tokens": _first(split, "ephemeral_5m_input_tokens"),
        "cache_write_1h_tokens": _first(split, "ephemeral_1h_input_tokens"),
    }
    if found["cache_write_tokens"] is None and (found["cache_write_5m_tokens"] or found["cache_write_1h_tokens"]):
        found["cache_write_tokens"] = (found["cache_write_5m_tokens"] or 0) + (found["cache_write_1h_tokens"] or 0)
    return {k: v for k, v in found.items() if v is not None}


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
    citations: list[dict[str, Any]] | None = None,
    server_tools: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if tool_calls and finish in (None, "stop"):
        finish = "tool_calls"  # the Responses API says only "completed"; agents branch on this word
    elif not tool_calls and finish == "tool_calls":
        finish = "stop"  # only DigitalOcean's own tools ran: the caller has nothing to run
    return {
        "id": rid,
        "model": model,
        "api": api,
        "content": content,
        "finish_reason": finish,
        "usage": usage_of(usage),
        "reasoning": reasoning or None,
        "tool_calls": tool_calls or [],
        "citations": citations or [],
        "server_tools": server_tools or [],
    }


def add_parsed(reply: dict[str, Any]) -> dict[str, Any]:
    """reply["parsed"]: the structured-output reply as JSON (None when the model called tools instead);
    a CliError of type invalid_json_output when it does not parse."""
    only_calls = reply["tool_calls"] and not reply["content"].strip()
    try:
        reply["parsed"] = None if only_calls else gt.parse_structured(reply["content"])
    except cli.CliError as err:
        err.reply = reply  # billed all the same: the pipeline records its usage and cost on the failed row
        raise
    return reply


def new_state() -> dict[str, Any]:
    return {
        "id": None,
        "model": None,
        "finish": None,
        "usage": None,
        "parts": [],
        "thoughts": [],
        "calls": {},
        "cited": [],
    }


def fold_chunk(state: dict[str, Any], chunk: dict[str, Any], data: str, echo: Callable[[str], None]) -> None:
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
        st.add_citations(state["cited"], delta.get("annotations"))
        thought = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(thought, str):
            state["thoughts"].append(thought)
        for position, call in enumerate(delta.get("tool_calls") or []):
            if isinstance(call, dict):
                gt.add_call_delta(state["calls"], call, position)
        state["finish"] = choice.get("finish_reason") or state["finish"]


def state_result(api: str, state: dict[str, Any]) -> dict[str, Any]:
    return result(
        api,
        state["id"],
        state["model"],
        "".join(state["parts"]),
        state["finish"],
        state["usage"],
        "".join(state["thoughts"]),
        gt.finished_calls(state["calls"]),
        state["cited"],
    )


def json_event(data: str) -> dict[str, Any]:
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
