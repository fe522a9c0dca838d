"""Chat with a Gradient model: Chat Completions by default, the Responses or Messages API on request,
or a DigitalOcean agent at its own URL."""

from __future__ import annotations

import os
import sys
import time

from gradient_inference.cli import base as cli

DEFAULT_MODEL = "openai-gpt-oss-120b"  # llm/completions.DEFAULT_MODEL; repeated so --help need not load it
MESSAGES_MODEL = "anthropic-claude-haiku-4.5"  # llm/messages.DEFAULT_MODEL, likewise
AGENT_MODEL = "agent"  # an agent chooses its own model; the field is required, so something is sent
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")  # llm/completions', likewise
MAX_STOP = 4
IMAGE_API_ONLY = "DigitalOcean's contract takes images only on the Messages API (--api messages)"


def build_parser() -> cli.ArgumentParser:
    parser = cli.new_parser("gradient-chat", "Send a prompt to a Gradient model and print the reply.")
    parser.add_argument("--prompt", help="the prompt; '-' reads stdin (piped stdin is read when omitted)")
    parser.add_argument("--prompt-file", metavar="PATH", help="read the prompt from a UTF-8 file")
    parser.add_argument(
        "--model",
        type=cli.non_empty,
        help=f"model id (default {DEFAULT_MODEL}; {MESSAGES_MODEL} with --api messages)",
    )
    parser.add_argument("--system", help="system prompt (instructions with --responses-api)")
    parser.add_argument(
        "--api",
        choices=("chat", "responses", "messages"),
        help="chat: /chat/completions (default); responses: /responses; messages: Anthropic's /messages",
    )
    parser.add_argument("--responses-api", action="store_true", help="same as --api responses")
    parser.add_argument(
        "--cache",
        action="store_true",
        help="store the response (store: true) so it can be continued; implies --responses-api",
    )
    parser.add_argument(
        "--previous-response-id",
        metavar="ID",
        type=cli.non_empty,
        help="continue a stored response; implies --responses-api",
    )
    parser.add_argument(
        "--temperature", type=cli.temperature, help="sampling temperature, 0 to 2 (0 to 1 with --api messages)"
    )
    parser.add_argument("--max-tokens", type=cli.positive_int, help="cap on generated tokens (a positive integer)")
    parser.add_argument("--stream", action="store_true", help="print the reply as it arrives (server-sent events)")
    parser.add_argument(
        "--messages-file",
        metavar="PATH",
        help="conversation so far: a JSON array of Chat Completions messages, or JSONL ('-' reads stdin); "
        "--prompt adds a final user message",
    )
    parser.add_argument(
        "--tools", metavar="PATH", help="JSON array of function tools the model may call (other tool types go as-is)"
    )
    parser.add_argument(
        "--tool-choice", metavar="auto|none|required|NAME", type=cli.non_empty, help="whether and which tool to call"
    )
    cli.add_server_tool_flags(parser)  # --web-search, --knowledge-base, --mcp, ... (Chat Completions, Responses)
    parser.add_argument("--json-schema", metavar="PATH", help="JSON Schema the reply must follow (structured output)")
    parser.add_argument(
        "--stop", action="append", type=stop_text, metavar="TEXT", help=f"stop sequence (up to {MAX_STOP} times)"
    )
    parser.add_argument("--top-p", type=unit_interval, help="nucleus sampling, 0 to 1")
    parser.add_argument("--seed", type=whole_number, help="seed for best-effort determinism (Chat Completions only)")
    parser.add_argument("--reasoning-effort", choices=REASONING_EFFORTS, help="effort for reasoning models")
    parser.add_argument("--cache-dir", help="pricing cache folder for the cost estimate (env GRADIENT_CACHE_DIR)")
    parser.add_argument(
        "--image",
        action="append",
        metavar="PATH",
        help="attach a JPEG, PNG, GIF or WebP file (<= 5 MB; repeat up to 20); implies --api messages",
    )
    parser.add_argument("--top-k", type=cli.non_negative_int, help="sample from the top K tokens (--api messages)")
    parser.add_argument(
        "--agent-url",
        metavar="URL",
        help="chat with a DigitalOcean agent at this URL (env GRADIENT_AGENT_URL; key from GRADIENT_AGENT_KEY)",
    )
    parser.add_argument(
        "-c", "--continue", dest="continue_", action="store_true", help="continue the most recent conversation"
    )
    parser.add_argument("--conversation-id", metavar="ID", type=cli.non_empty, help="continue this conversation")
    parser.add_argument(
        "--conversation",
        metavar="FILE",
        help="keep the conversation in FILE (read as --messages-file; missing = new); the new messages are "
        "appended as JSONL after a successful reply",
    )
    parser.add_argument(
        "--tool-result",
        action="append",
        metavar="CALL_ID=TEXT|CALL_ID=@PATH",
        help="answer a tool call of the conversation before this call (repeatable)",
    )
    return parser


def stop_text(text: str) -> str:
    if not text:
        raise cli.argparse.ArgumentTypeError("a stop sequence must not be empty")
    return text  # not stripped: "\n\n" is a common stop sequence


def unit_interval(text: str) -> float:
    value = cli.number(text, float)
    if not 0 <= value <= 1:
        raise cli.argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def whole_number(text: str) -> int:
    return int(cli.number(text, int))


def check_flags(parser: cli.ArgumentParser, args) -> tuple[str, str | None]:
    """(api, agent URL or None); what needs no file read is refused here, before anything is loaded or sent."""
    responses_only = [
        f for f, on in (("--cache", args.cache), ("--previous-response-id", args.previous_response_id)) if on
    ]
    api = args.api or ("responses" if args.responses_api or responses_only else "messages" if args.image else "chat")
    if args.responses_api and api != "responses":
        parser.error(f"--responses-api means --api responses, not --api {api}")
    if responses_only and api != "responses":
        parser.error(f"{responses_only[0]} needs the Responses API, not --api {api}")
    if args.image and api != "messages":
        parser.error(f"--image: {IMAGE_API_ONLY}, not --api {api}")
    agent = args.agent_url or (os.environ.get("GRADIENT_AGENT_URL") if api == "chat" else None)
    if agent and (api != "chat" or args.image):
        what = f"--api {api}" if args.api or not args.image else f"--image ({IMAGE_API_ONLY})"
        parser.error(f"--agent-url: an agent takes Chat Completions only, not {what}")
    if agent:
        try:
            from gradient_inference.network import api as net

            agent = net.agent_endpoint(agent)
        except ValueError as exc:
            parser.error(str(exc))
    if args.top_k is not None and api != "messages":
        parser.error("--top-k exists only on the Messages API (--api messages)")
    if args.seed is not None and api == "messages":
        parser.error("--seed: the Messages API has no seed")
    if args.seed is not None and api == "responses":
        parser.error("--seed is not part of the Responses API; drop it or use Chat Completions")
    if args.stop and len(args.stop) > MAX_STOP:
        parser.error(f"--stop can be given at most {MAX_STOP} times (the API takes up to {MAX_STOP} sequences)")
    from gradient_inference.llm import server_tools

    if args.tool_choice and not args.tools and not server_tools.flags_given(args):
        parser.error("--tool-choice needs --tools (or a server-side tool such as --knowledge-base)")
    if args.messages_file == "-" and args.prompt == "-":
        parser.error("--messages-file - and --prompt - cannot both read stdin")
    return api, agent


def conversation(parser: cli.ArgumentParser, args, thread: dict) -> tuple[list[dict], str | None]:
    """(the messages to send, the new prompt): --system, then --messages-file or the conversation continued
    with its tool results, then the prompt (required unless a file or tool results give the turn)."""
    from gradient_inference.files.input import read_file, read_text
    from gradient_inference.llm import conversation as conv

    messages = thread["prior"] + thread["added"] or None
    if args.messages_file is not None:
        try:
            messages = conv.read_conversation(read_file(parser, args.messages_file, "--messages-file"))
        except ValueError as exc:
            parser.error(f"--messages-file {args.messages_file}: {exc}")
    prompt = None
    given = args.prompt is not None or args.prompt_file is not None
    if given or not (args.messages_file is not None or thread["added"]):
        prompt = read_text(parser, args.prompt, args.prompt_file)
    return conv.assemble(args.system, messages, prompt), prompt


def request_options(parser: cli.ArgumentParser, args, api: str, agent: str | None) -> dict:
    """The options for the API module's build_request, files read and checked; those not given are left out,
    and check_flags has refused any that the chosen API does not take."""
    from gradient_inference.llm import server_tools
    from gradient_inference.llm import tools as gt

    try:
        tools = gt.load_tools(args.tools) if args.tools else []
        tools += server_tools.tools_from_args(parser, args, api, agent)
        schema = gt.load_json_schema(args.json_schema) if args.json_schema else None
        names = gt.function_names(tools)
        if args.tool_choice and args.tool_choice not in ("auto", "none", "required", *names):
            raise ValueError(
                f"--tool-choice {args.tool_choice!r}: no tool of that name in --tools (or auto, none, required)"
            )
        if args.image:
            from gradient_inference.llm.vision import load_images

            images = load_images(args.image)
    except ValueError as exc:
        parser.error(str(exc))
    options = {
        "max_tokens": args.max_tokens,
        "temperature": args.temperature,
        "top_p": args.top_p,
        "stop": args.stop,
        "seed": args.seed,
        "reasoning_effort": args.reasoning_effort,
        "tools": tools or None,
        "tool_choice": args.tool_choice,
        "json_schema": schema,
        "stream": args.stream,
        "store": args.cache,  # --cache and --previous-response-id: Responses only
        "previous_response_id": args.previous_response_id,
        "images": images if args.image else None,  # --image and --top-k: Messages only
        "top_k": args.top_k,
    }
    return {name: value for name, value in options.items() if value is not None and value is not False}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    printed: list[str] = []

    def echo(text: str) -> None:
        if not args.json:
            sys.stdout.write(text)
            sys.stdout.flush()
            printed.append(text)

    done = complete(parser, args, echo, printed)
    if done is not None:  # None: --dry-run
        render(args, *done, printed)
    return 0


def complete(parser: cli.ArgumentParser, args, echo=None, printed: list[str] | None = None) -> tuple | None:
    """(the reply: the dict --json prints, the conversation thread) for the call the parsed flags describe;
    None on --dry-run. gradient-mcp's chat tool calls this too. Streamed text goes to echo as it arrives."""
    api, agent = check_flags(parser, args)
    from gradient_inference.history import conversations as chats

    thread = chats.open_thread(parser, args)
    messages, prompt = conversation(parser, args, thread)
    same_api = thread["model"] if thread.get("api") == api and not agent else None  # -c keeps its model
    model = args.model or same_api or (AGENT_MODEL if agent else MESSAGES_MODEL if api == "messages" else DEFAULT_MODEL)
    options = request_options(parser, args, api, agent)
    from gradient_inference.llm import apis
    from gradient_inference.network import api as net

    text_api = apis.module(api)
    try:
        path, body = text_api.build_request(model, messages, **options)
    except ValueError as exc:
        parser.error(str(exc))
    target = {"url": agent, "key_env": net.AGENT_KEY_ENV} if agent else {}
    resp = net.api_request(args, parser, "POST", path, body, stream=args.stream, **target)
    if resp is None:  # --dry-run
        return None
    printed = [] if printed is None else printed
    first_token: list[float] = []

    def timed_echo(text: str) -> None:
        first_token.append(first_token[0] if first_token else time.monotonic())
        if echo is not None:
            echo(text)

    reply = read_reply(text_api, resp, args, options.get("json_schema"), timed_echo, printed)
    reply["model"] = reply["model"] or model
    reply["requested_model"], reply["route"] = model, resp.headers.get("x-model-router-selected-route")
    from gradient_inference.llm import server_tools
    from gradient_inference.prices import table as prices

    # an agent's bill also covers its knowledge bases and guardrails: no token-price estimate for it;
    # a router bills the model that served, which the reply names
    unpriced = agent or reply["model"].startswith("router:")
    cost = None if unpriced else prices.call_cost(reply["model"], reply["usage"], args.cache_dir)
    reply["cost"] = server_tools.with_tool_fees(cost, reply, server_tools.asks_web_search(options.get("tools")))
    reply["message"], reply["conversation_id"] = chats.assistant_message(reply), thread["id"]
    from gradient_inference.history import record

    started = resp.history_row["_started"] if getattr(resp, "history_row", None) else None
    ttft = round((first_token[0] - started) * 1000, 3) if first_token and started else None
    record.update(resp, reply=reply, messages=messages, conversation_id=thread["id"], first_token_ms=ttft)
    chats.keep(thread, messages, reply["message"], api, reply["model"], args.system, prompt)
    return reply, thread


def read_reply(text_api, resp, args, schema, echo, printed: list[str]) -> dict:
    """The reply, parsed whole or read from the stream (echoing text as it comes); a broken stream keeps what
    was printed and ends its line."""
    if not args.stream:
        from gradient_inference.network import api as net

        return text_api.parse_reply(net.read_json(resp), schema)
    import requests

    try:
        return text_api.stream_reply(resp, echo, schema)
    except (requests.exceptions.RequestException, OSError) as exc:
        stalled = "timed out" in str(exc).lower()
        why = f"no data for {args.timeout:g}s" if stalled else "the connection closed mid-way"
        raise _broken(printed, resp, f"the stream broke: {why}") from None
    except cli.CliError as err:
        if printed and not printed[-1].endswith("\n"):
            print()  # keep what was printed, and end its line
        err.request_id = err.request_id or resp.headers.get("x-request-id")
        raise
    finally:
        resp.close()


def render(args, reply: dict, thread: dict, printed: list[str]) -> None:
    if args.json:
        cli.print_json(reply)
        return
    if args.stream and printed:
        if not "".join(printed).endswith("\n"):
            print()
    elif reply["content"] or not reply["tool_calls"]:  # a forced --json-schema tool streams no text: print it now
        print(reply["content"], flush=True)
    import json

    for call in reply["tool_calls"]:  # one line each: the function's name and its arguments as JSON
        print(f"{call['name']} {json.dumps(call['arguments'], ensure_ascii=False)}", flush=True)
    for number, cited in enumerate(reply["citations"], 1):
        print(f"[{number}] {cited['title'] or cited['url']} <{cited['url']}>", flush=True)
    if reply["requested_model"].startswith("router:") and reply["model"] != reply["requested_model"]:
        cli.note(f"routed to {reply['model']} (route {reply['route'] or 'not named'})")
    if args.cache and reply["id"]:
        cli.note(f"response id {reply['id']} (continue with --previous-response-id {reply['id']})")
    if thread["new"] and thread["id"]:
        cli.note(f"conversation {thread['id']} (continue with -c or --conversation-id {thread['id']})")
    if reply["cost"]:
        fees = reply["cost"].get("tool_fees")
        fees = "" if fees is None else f"; web search fees {'unknown' if fees == 'unknown' else f'${fees:.2f}'}"
        cli.note(
            f"cost ~${reply['cost']['usd']:.6f} ({_usage_line(reply['usage'])}{fees}; "
            f"prices from {reply['cost']['source']})"
        )


def _broken(printed: list[str], resp, message: str) -> cli.CliError:
    if printed and not printed[-1].endswith("\n"):
        print()
    return cli.CliError(message, kind="stream_broken", request_id=resp.headers.get("x-request-id"))


def _usage_line(usage: dict[str, int | None]) -> str:
    text = f"{usage['input_tokens'] or 0} in / {usage['output_tokens'] or 0} out tokens"
    return text + (f", {usage['cached_tokens']} cached" if usage.get("cached_tokens") else "")


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
