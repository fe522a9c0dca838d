"""A chat call, whichever surface asks: the request checked, the conversation it continues, the API's body,
the send (whole or streamed), the reply parsed, its cost (server-tool fees included) and its history row.

ChatRequest holds what a caller may ask, under the names the flags have (gradient-chat fills it from argparse,
gradient-mcp from tool arguments, the Python API from keyword arguments); complete() makes the call."""

from __future__ import annotations

import time

from gradient_inference.errors import GradientError, UsageError
from gradient_inference.pipeline.call import Call

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from gradient_inference.pipeline.settings import Settings

DEFAULT_MODEL = "openai-gpt-oss-120b"
MESSAGES_MODEL = "anthropic-claude-haiku-4.5"
AGENT_MODEL = "agent"  # an agent chooses its own model; the field is required, so something is sent
APIS = ("chat", "responses", "messages")
MAX_STOP = 4
IMAGE_API_ONLY = "DigitalOcean's contract takes images only on the Messages API (--api messages)"


# What a chat call may ask, and its default when not given: the flags' names, so that server_tools reads either.
REQUEST_FIELDS: dict[str, Any] = {
    "prompt": None,
    "messages": None,  # the conversation so far (Chat Completions shape)
    "model": None,
    "api": "chat",
    "system": None,
    "agent_url": None,  # an agent's endpoint (network.api.agent_endpoint); its key is GRADIENT_AGENT_KEY
    "tools": None,  # function tools (either shape) and other tools as they are
    "tool_choice": None,
    "schema": None,  # (name, JSON Schema): structured output
    "temperature": None,
    "max_tokens": None,
    "top_p": None,
    "stop": None,
    "seed": None,
    "reasoning_effort": None,
    "top_k": None,
    "store": False,  # Responses: keep the response to continue it
    "previous_response_id": None,
    "images": None,  # llm/vision.load_images blocks (Messages only)
    "stream": False,
    "web_search": False,
    "web_fetch": False,
    "web_max_uses": None,
    "web_max_results": None,
    "knowledge_base": None,
    "mcp": None,  # ["LABEL=URL"]; each token comes from GRADIENT_MCP_TOKEN_<LABEL>
    "mcp_allow": None,  # ["LABEL:TOOL"]
    "continue_last": False,
    "conversation_id": None,
    "conversation_file": None,
    "tool_results": None,  # [(call id, text)]
}


class ChatRequest:
    """One chat call's request (a plain class: a dataclass would cost every command's start its import)."""

    def __init__(self, **given: Any) -> None:
        unknown = set(given) - set(REQUEST_FIELDS)
        if unknown:
            raise TypeError(f"unknown chat option {sorted(unknown)[0]!r}")
        for name, default in REQUEST_FIELDS.items():
            setattr(self, name, given.get(name, default))


def check(request: ChatRequest) -> None:
    """What the chosen API does not take, refused before anything is read or sent (UsageError)."""
    api = request.api
    if api not in APIS:
        raise UsageError(f"api must be one of {', '.join(APIS)}, got {api!r}")
    if request.images and api != "messages":
        raise UsageError(f"--image: {IMAGE_API_ONLY}, not --api {api}")
    if (request.store or request.previous_response_id) and api != "responses":
        flag = "--cache" if request.store else "--previous-response-id"
        raise UsageError(f"{flag} needs the Responses API, not --api {api}")
    if request.agent_url and api != "chat":
        raise UsageError(f"--agent-url: an agent takes Chat Completions only, not --api {api}")
    if request.top_k is not None and api != "messages":
        raise UsageError("--top-k exists only on the Messages API (--api messages)")
    if request.seed is not None and api == "messages":
        raise UsageError("--seed: the Messages API has no seed")
    if request.seed is not None and api == "responses":
        raise UsageError("--seed is not part of the Responses API; drop it or use Chat Completions")
    if request.stop and len(request.stop) > MAX_STOP:
        raise UsageError(f"--stop can be given at most {MAX_STOP} times (the API takes up to {MAX_STOP} sequences)")
    if request.max_tokens is not None and (not isinstance(request.max_tokens, int) or request.max_tokens < 1):
        raise UsageError(f"max_tokens must be a positive whole number (1 or more), got {request.max_tokens!r}")
    if request.temperature is not None and not 0 <= request.temperature <= 2:
        raise UsageError(f"temperature must be between 0 and 2, got {request.temperature!r}")
    from gradient_inference.llm import server_tools

    server_tools.tools_from_args(request, api, request.agent_url, dry_run=True)  # the flags' own checks
    if request.tool_choice and not request.tools and not server_tools.flags_given(request):
        raise UsageError("--tool-choice needs --tools (or a server-side tool such as --knowledge-base)")


def options_of(settings: Settings, request: ChatRequest) -> dict[str, Any]:
    """The options for the API module's build_request; those not given are left out."""
    from gradient_inference.llm import server_tools
    from gradient_inference.llm import tools as gt

    try:
        tools = gt.normalize_tools(request.tools, "tools") if request.tools else []
        tools += server_tools.tools_from_args(request, request.api, request.agent_url, settings.dry_run)
        names = gt.function_names(tools)
        if request.tool_choice and request.tool_choice not in ("auto", "none", "required", *names):
            raise UsageError(
                f"--tool-choice {request.tool_choice!r}: no tool of that name in --tools (or auto, none, required)"
            )
    except UsageError:
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    options = {
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": request.stop,
        "seed": request.seed,
        "reasoning_effort": request.reasoning_effort,
        "tools": tools or None,
        "tool_choice": request.tool_choice,
        "json_schema": request.schema,
        "stream": request.stream,
        "store": request.store,
        "previous_response_id": request.previous_response_id,
        "images": request.images,
        "top_k": request.top_k,
    }
    return {name: value for name, value in options.items() if value is not None and value is not False}


def complete(
    settings: Settings,
    request: ChatRequest,
    on_text: Callable[[str], None] | None = None,
    command: str | None = None,
    thread_out: dict | None = None,
) -> dict[str, Any] | None:
    """The reply (the dict gradient-chat --json prints) of one chat call; None on a dry run. Streamed text goes
    to on_text as it arrives; thread_out, when given, receives the conversation's id and whether it is new.
    The history row (and the conversation's turn) is written before this returns."""
    check(request)
    with Call(settings, command) as call:
        return _complete(call, request, on_text, thread_out if thread_out is not None else {})


def _complete(call: Call, request: ChatRequest, on_text, thread_out: dict) -> dict[str, Any] | None:
    from gradient_inference.llm import apis
    from gradient_inference.llm import conversation as conv
    from gradient_inference.network import api as net
    from gradient_inference.pipeline import threads

    settings, api, agent = call.settings, request.api, request.agent_url
    thread = threads.open_thread(settings, request)
    thread_out.update(id=thread["id"], new=thread["new"], agent=bool(agent))
    prior = thread["prior"] + thread["added"] or None
    messages = conv.assemble(request.system, request.messages if request.messages is not None else prior,
                             request.prompt)  # fmt: skip
    same_api = thread["model"] if thread.get("api") == api and not agent else None  # -c keeps its model
    model = (
        request.model or same_api or (AGENT_MODEL if agent else MESSAGES_MODEL if api == "messages" else DEFAULT_MODEL)
    )
    options = options_of(settings, request)
    text_api = apis.module(api)
    try:
        path, body = text_api.build_request(model, messages, **options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if settings.budget is not None and not settings.dry_run:
        require_price(settings, model, agent)
    target = {"url": agent, "key_env": net.AGENT_KEY_ENV} if agent else {}
    resp = net.api_request(call, "POST", path, body, stream=request.stream, **target)
    if resp is None:  # dry run
        return None
    first_token: list[float] = []

    def timed(text: str) -> None:
        if not first_token:
            first_token.append(time.monotonic())
        if on_text is not None:
            on_text(text)

    try:
        reply = read_reply(text_api, resp, settings, request.stream, options.get("json_schema"), timed)
    except GradientError as err:
        failed = getattr(err, "reply", None)
        if failed is not None:  # a reply that failed after HTTP 200 was billed: its row keeps usage and cost
            finish_reply(call, resp, failed, model, agent, options, messages, thread, first_token, err.kind)
        raise
    finish_reply(call, resp, reply, model, agent, options, messages, thread, first_token)
    reply["message"], reply["conversation_id"] = threads.assistant_message(reply), thread["id"]
    threads.keep(call, thread, messages, reply["message"], api, reply["model"], request.system, request.prompt)
    return reply


def require_price(settings: Settings, model: str, agent: str | None) -> None:
    """With a budget, a call whose price is unknown is refused before sending: the budget could not bound it."""
    from gradient_inference.prices import table as prices

    if agent or model.startswith("router:") or prices.find_price(model, settings.cache_dir) is None:
        what = "an agent" if agent else f"model {model}"
        raise UsageError(
            f"a budget is set, but the price of {what} is unknown, so the budget cannot bound it; "
            "unset the budget or choose a priced model (gradient-pricing lists them)",
            kind="unknown_price",
        )


def finish_reply(call, resp, reply, model, agent, options, messages, thread, first_token, error=None) -> None:
    """The reply's served model, route and cost, and its history row (failed with error, a kind, when given)."""
    from gradient_inference.history import record

    reply["model"] = reply["model"] or model
    reply["requested_model"], reply["route"] = model, resp.headers.get("x-model-router-selected-route")
    reply["cost"] = reply_cost(call.settings, reply, model, agent, options.get("tools"))
    started = resp.history_row["_started"] if getattr(resp, "history_row", None) else None
    ttft = round((first_token[0] - started) * 1000, 3) if first_token and started else None
    record.update(resp, reply=reply, messages=messages, conversation_id=thread["id"], first_token_ms=ttft)
    if error and resp.history_row is not None:
        resp.history_row.update(ok=0, error_type=error)


def reply_cost(settings: Settings, reply: dict, requested: str, agent: str | None, tools, price=None) -> dict | None:
    """The one cost rule for a text reply (chat, compare and batch lines): the served model's price for the tokens
    used (the requested model's when the served name has none), plus server-tool fees. An agent's bill also covers
    its knowledge bases and guardrails, so it gets no token-price estimate; a router bills the model that served,
    which the reply names (unknown when it names none). price(model, usage) defaults to the offline price table."""
    from gradient_inference.llm import server_tools
    from gradient_inference.prices import table as prices

    if price is None:
        cache_dir = settings.cache_dir

        def price(model: str, usage: dict) -> dict | None:
            return prices.call_cost(model, usage, cache_dir)

    served = reply["model"] or requested
    cost = None
    if not agent:
        cost = None if served.startswith("router:") else price(served, reply["usage"])
        if cost is None and served != requested and not requested.startswith("router:"):
            cost = price(requested, reply["usage"])
    return server_tools.with_tool_fees(cost, reply, server_tools.asks_web_search(tools))


def read_reply(text_api, resp, settings: Settings, stream: bool, schema, echo) -> dict[str, Any]:
    """The reply, parsed whole or read from the stream (echoing text as it comes)."""
    from gradient_inference.network import api as net

    if not stream:
        return text_api.parse_reply(net.read_json(resp), schema)
    import requests

    try:
        return text_api.stream_reply(resp, echo, schema)
    except (requests.exceptions.RequestException, OSError) as exc:
        stalled = "timed out" in str(exc).lower()
        why = f"no data for {settings.timeout:g}s" if stalled else "the connection closed mid-way"
        raise GradientError(
            f"the stream broke: {why}", kind="stream_broken", request_id=resp.headers.get("x-request-id")
        ) from None
    except GradientError as err:
        err.request_id = err.request_id or resp.headers.get("x-request-id")
        raise
    finally:
        resp.close()
