"""The Responses API (POST /responses): requests from Chat Completions messages, replies, streams.

Offers the interface of llm/completions.py: build_request, parse_reply, stream_reply.
"""

from __future__ import annotations

from gradient_inference.cli import base as cli
from gradient_inference.llm import reply as rp
from gradient_inference.llm import server_tools as st
from gradient_inference.llm import tools as gt
from gradient_inference.llm.completions import add_shared_fields
from gradient_inference.network import api as net

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

API = "responses"


def build_request(
    model: str,
    messages: list[dict[str, Any]],
    *,
    instructions: str | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    stop: list[str] | None = None,
    seed: int | None = None,
    reasoning_effort: str | None = None,
    tools: list[dict[str, Any]] | None = None,
    tool_choice: str | None = None,
    json_schema: tuple[str, dict[str, Any]] | None = None,
    stream: bool = False,
    store: bool = False,
    previous_response_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """(path, JSON body). `instructions` is the system prompt (a leading system message becomes it too).
    ValueError for `seed`, which the Responses API does not have."""
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
    add_shared_fields(body, "responses", temperature, top_p, stop, tools, tool_choice, json_schema, stream)
    return "/responses", body


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


def parse_reply(data: Any, json_schema: tuple[str, dict[str, Any]] | None = None) -> dict[str, Any]:
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
    reply = rp.result(
        API,
        data.get("id"),
        data.get("model"),
        "".join(texts),
        finish_of(data),
        data.get("usage"),
        "".join(thoughts),
        gt.responses_calls(output),
        citations_of(output),
        st.server_tools_of(output),
    )
    return rp.add_parsed(reply) if json_schema else reply


def citations_of(output: list[Any]) -> list[dict[str, Any]]:
    """The url_citation annotations on the output_text parts of Responses output messages."""
    cited: list[dict[str, Any]] = []
    for item in output:
        for part in item.get("content") or [] if isinstance(item, dict) else []:
            if isinstance(part, dict) and part.get("type") == "output_text":
                st.add_citations(cited, part.get("annotations"))
    return cited


def finish_of(response: dict[str, Any]) -> str | None:
    """Responses API status mapped onto Chat Completions' finish_reason words."""
    status = response.get("status")
    if status == "completed":
        return "stop"
    if status == "incomplete":
        reason = (response.get("incomplete_details") or {}).get("reason")
        return {"max_output_tokens": "length"}.get(reason, reason or "incomplete")
    return status


def stream_reply(
    resp, echo: Callable[[str], None], json_schema: tuple[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """OpenAI's typed events (response.output_text.delta, response.function_call_arguments.*, ...,
    response.completed); DigitalOcean's spec describes chat-style `response.chunk` chunks ending in
    [DONE] instead, which are read as well."""
    state = {**rp.new_state(), "done_items": []}  # server-side tool items, in case the final output has none
    chunked = False
    for event, data in net.sse_events(resp):
        if data.strip() == "[DONE]" and chunked:
            reply = rp.state_result(API, state)
            return rp.add_parsed(reply) if json_schema else reply
        payload = rp.json_event(data)
        kind = str(payload.get("type") or event)
        if "choices" in payload or payload.get("object") == "response.chunk":
            chunked = True
            rp.fold_chunk(state, payload, data, echo)
        elif kind == "response.output_text.delta":
            state["parts"].append(str(payload.get("delta", "")))
            echo(state["parts"][-1])
        elif kind in ("response.reasoning_text.delta", "response.reasoning_summary_text.delta"):
            state["thoughts"].append(str(payload.get("delta", "")))
        elif kind == "response.output_text.annotation.added":
            st.add_citations(state["cited"], [payload.get("annotation")])
        elif kind.startswith(("response.output_item.", "response.function_call_arguments.")):
            gt.add_responses_event(state["calls"], kind, payload)
            if kind == "response.output_item.done" and st.server_tool(payload.get("item")):
                state["done_items"].append(payload["item"])
        elif kind in ("response.completed", "response.incomplete"):
            final = payload.get("response") or {}
            output = final.get("output") if isinstance(final.get("output"), list) else []
            calls = gt.finished_calls(state["calls"]) or gt.responses_calls(output)
            cited = state["cited"] + [c for c in citations_of(output) if c not in state["cited"]]
            reply = rp.result(
                API,
                final.get("id"),
                final.get("model"),
                "".join(state["parts"]),
                finish_of(final),
                final.get("usage"),
                "".join(state["thoughts"]),
                calls,
                cited,
                st.server_tools_of(output) or st.server_tools_of(state["done_items"]),
            )
            return rp.add_parsed(reply) if json_schema else reply
        elif kind in ("error", "response.failed"):
            raise cli.CliError(net.summarise_error_body(data.encode())[0] or kind, kind="stream_error")
    end = "[DONE]" if chunked else "response.completed"
    raise cli.CliError(f"the stream ended before {end}", kind="stream_incomplete")
