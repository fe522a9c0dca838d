"""Chat Completions (POST /chat/completions), also what a DigitalOcean agent speaks at its own URL.

The interface every text API module offers: build_request(model, messages, **options) -> (path, body),
parse_reply(data, json_schema=None) and stream_reply(resp, echo, json_schema=None) -> the reply dict of
llm/reply.py. Options a module does not take raise ValueError, so the caller need not know which API takes what.
"""

from __future__ import annotations

from gradient_inference.cli import base as cli
from gradient_inference.llm import reply as rp
from gradient_inference.llm import server_tools as st
from gradient_inference.llm import tools as gt
from gradient_inference.network import api as net

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

API = "chat.completions"
DEFAULT_MODEL = "openai-gpt-oss-120b"
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")  # the spec's enum
MIN_COMPLETION_TOKENS = 256  # the spec's minimum for max_completion_tokens (max_tokens: 0)


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
) -> tuple[str, dict[str, Any]]:
    """(path, JSON body). `instructions` is the system prompt, sent as a leading system message; `tools` are in
    the Chat Completions shape (tools.load_tools); `json_schema` is (name, schema) (tools.load_json_schema)."""
    system = [{"role": "system", "content": instructions}] if instructions else []
    body: dict[str, Any] = {"model": model, "messages": [*system, *messages]}
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
    add_shared_fields(body, "chat", temperature, top_p, stop, tools, tool_choice, json_schema, stream)
    return "/chat/completions", body


def add_shared_fields(
    body: dict[str, Any], api: str, temperature, top_p, stop, tools, tool_choice, json_schema, stream
):
    """The fields both OpenAI-style APIs spell alike (sampling, stop, stream), and tools and structured output in
    each API's own shape (llm/tools.py)."""
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


def parse_reply(data: Any, json_schema: tuple[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    message = net.require(data, "choices", 0, "message")
    if not isinstance(message, dict):
        raise cli.CliError("the response's message is not an object", kind="bad_response")
    content = message.get("content") or ""
    reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
    if not isinstance(content, str):
        raise cli.CliError("the response's message content is not text", kind="bad_response")
    finish = data["choices"][0].get("finish_reason")
    cited: list[dict[str, Any]] = []
    st.add_citations(cited, message.get("annotations"))
    calls = gt.chat_calls(message)
    reply = rp.result(
        API, data.get("id"), data.get("model"), content, finish, data.get("usage"), reasoning, calls, cited
    )
    return rp.add_parsed(reply) if json_schema else reply


def stream_reply(
    resp, echo: Callable[[str], None], json_schema: tuple[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    state = rp.new_state()
    for _event, data in net.sse_events(resp):
        if data.strip() == "[DONE]":
            reply = rp.state_result(API, state)
            return rp.add_parsed(reply) if json_schema else reply
        rp.fold_chunk(state, rp.json_event(data), data, echo)
    raise cli.CliError("the stream ended before [DONE]", kind="stream_incomplete")
