"""Chat with a Gradient model: Chat Completions by default, the Responses or Messages API on request,
or a DigitalOcean agent at its own URL."""

from __future__ import annotations

import os
import sys

from gradient_inference.cli import base as cli

DEFAULT_MODEL = "openai-gpt-oss-120b"  # pipeline/chat.DEFAULT_MODEL; repeated so --help need not load it
MESSAGES_MODEL = "anthropic-claude-haiku-4.5"  # pipeline/chat.MESSAGES_MODEL, likewise
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")  # llm/completions', likewise
MAX_STOP = 4
IMAGE_API_ONLY = "DigitalOcean's contract takes images only on the Messages API (--api messages)"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from gradient_inference.pipeline.chat import ChatRequest


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


def chat_request(parser: cli.ArgumentParser, args) -> ChatRequest:
    """The pipeline's ChatRequest from the flags, files read; flag conflicts exit 2 here, before anything is sent."""
    from gradient_inference.files.input import read_file, read_text
    from gradient_inference.llm import conversation as conv
    from gradient_inference.llm import tools as gt
    from gradient_inference.pipeline.chat import ChatRequest

    responses_only = [
        f for f, on in (("--cache", args.cache), ("--previous-response-id", args.previous_response_id)) if on
    ]
    api = args.api or ("responses" if args.responses_api or responses_only else "messages" if args.image else "chat")
    if args.responses_api and api != "responses":
        parser.error(f"--responses-api means --api responses, not --api {api}")
    agent = args.agent_url or (os.environ.get("GRADIENT_AGENT_URL") if api == "chat" else None)
    if agent and (api != "chat" or args.image):
        what = f"--api {api}" if args.api or not args.image else f"--image ({IMAGE_API_ONLY})"
        parser.error(f"--agent-url: an agent takes Chat Completions only, not {what}")
    if args.messages_file == "-" and args.prompt == "-":
        parser.error("--messages-file - and --prompt - cannot both read stdin")
    request = ChatRequest(
        model=args.model,
        api=api,
        system=args.system,
        tool_choice=args.tool_choice,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        top_p=args.top_p,
        stop=args.stop,
        seed=args.seed,
        reasoning_effort=args.reasoning_effort,
        top_k=args.top_k,
        store=args.cache,
        previous_response_id=args.previous_response_id,
        images=[] if args.image else None,  # loaded after the checks, below
        stream=args.stream,
        web_search=args.web_search,
        web_fetch=args.web_fetch,
        web_max_uses=args.web_max_uses,
        web_max_results=args.web_max_results,
        knowledge_base=args.knowledge_base,
        mcp=args.mcp,
        mcp_allow=args.mcp_allow,
        continue_last=args.continue_,
        conversation_id=args.conversation_id,
        conversation_file=args.conversation,
        tool_results=tool_results(parser, args.tool_result),
    )
    if agent:
        from gradient_inference.network import api as net

        request.agent_url = net.agent_endpoint(agent)
    from gradient_inference.pipeline import chat as pipeline_chat

    try:
        request.tools = gt.load_tools(args.tools) if args.tools else None
        request.schema = gt.load_json_schema(args.json_schema) if args.json_schema else None
        pipeline_chat.check(request)
        if args.image:
            from gradient_inference.llm.vision import load_images

            request.images = load_images(args.image)
    except cli.UsageError:
        raise  # already one line naming its flag (as --agent-url's and --base-url's are): no usage block
    except ValueError as exc:
        parser.error(str(exc))
    if args.messages_file is not None:
        try:
            request.messages = conv.read_conversation(read_file(args.messages_file, "--messages-file"))
        except ValueError as exc:
            parser.error(f"--messages-file {args.messages_file}: {exc}")
    given = args.prompt is not None or args.prompt_file is not None
    if given or not (args.messages_file is not None or args.tool_result):
        request.prompt = read_text(args.prompt, args.prompt_file)
    return request


def tool_results(parser: cli.ArgumentParser, given: list[str] | None) -> list[tuple[str, str]]:
    """(call id, text) pairs from --tool-result CALL_ID=TEXT or CALL_ID=@PATH."""
    from gradient_inference.files.input import read_file

    pairs = []
    for value in given or []:
        call_id, sep, text = value.partition("=")
        if not sep or not call_id:
            parser.error(f"--tool-result must be CALL_ID=TEXT or CALL_ID=@PATH, got {value!r}")
        pairs.append((call_id, read_file(text[1:], "--tool-result") if text.startswith("@") else text))
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    request = chat_request(parser, args)
    printed: list[str] = []
    from gradient_inference.cli.stream_redaction import stream_redactor

    safe, held_back = stream_redactor()  # a model may echo a key: never print one, even split across pieces

    def echo(text: str) -> None:
        if not args.json and (text := safe(text)):
            sys.stdout.write(text)
            sys.stdout.flush()
            printed.append(text)

    def finish_stream() -> None:
        if rest := held_back():
            sys.stdout.write(rest)
            printed.append(rest)

    from gradient_inference.pipeline import chat as pipeline_chat

    thread: dict = {}
    try:
        reply = pipeline_chat.complete(args.settings, request, echo, thread_out=thread)
    except (cli.CliError, KeyboardInterrupt):
        finish_stream()
        if printed and not printed[-1].endswith("\n"):
            print()  # keep what was printed, and end its line
        raise
    finish_stream()
    if reply is not None:  # None: --dry-run
        render(args, reply, printed, thread)
    return 0


def render(args, reply: dict, printed: list[str], thread: dict) -> None:
    if args.json:
        cli.print_json(reply)
        return
    if args.stream and printed:
        if not "".join(printed).endswith("\n"):
            print()
    elif reply["content"] or not reply["tool_calls"]:  # a forced --json-schema tool streams no text: print it now
        print(cli.redact(reply["content"]), flush=True)
    import json

    for call in reply["tool_calls"]:  # one line each: the function's name and its arguments as JSON
        print(cli.redact(f"{call['name']} {json.dumps(call['arguments'], ensure_ascii=False)}"), flush=True)
    for number, cited in enumerate(reply["citations"], 1):
        print(cli.redact(f"[{number}] {cited['title'] or cited['url']} <{cited['url']}>"), flush=True)
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
    elif not thread.get("agent"):  # an agent's bill is not per token: no estimate is expected
        cli.note(f"cost unknown: no price listed for {reply['model']} ({_usage_line(reply['usage'])})")


def _usage_line(usage: dict[str, int | None]) -> str:
    text = f"{usage['input_tokens'] or 0} in / {usage['output_tokens'] or 0} out tokens"
    return text + (f", {usage['cached_tokens']} cached" if usage.get("cached_tokens") else "")


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
