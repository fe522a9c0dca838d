#!/usr/bin/env python3
"""Chat with a Gradient model: Chat Completions by default, the Responses API on request."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gradient_boot  # noqa: E402, F401  (bytecode where Python writes none beside us)
import gradient_cli as cli  # noqa: E402

DEFAULT_MODEL = "openai-gpt-oss-120b"  # gradient_llm.DEFAULT_MODEL; repeated so --help need not load it


def build_parser() -> cli.ArgumentParser:
    parser = cli.new_parser("gradient-chat", "Send a prompt to a Gradient model and print the reply.")
    parser.add_argument("--prompt", help="the prompt; '-' reads stdin (piped stdin is read when omitted)")
    parser.add_argument("--prompt-file", metavar="PATH", help="read the prompt from a UTF-8 file")
    parser.add_argument(
        "--model", type=cli.non_empty, default=DEFAULT_MODEL, help=f"model id (default {DEFAULT_MODEL})"
    )
    parser.add_argument("--system", help="system prompt (instructions with --responses-api)")
    parser.add_argument("--responses-api", action="store_true", help="use POST /responses instead of /chat/completions")
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
    parser.add_argument("--temperature", type=cli.temperature, help="sampling temperature, 0 to 2")
    parser.add_argument("--max-tokens", type=cli.positive_int, help="cap on generated tokens (a positive integer)")
    parser.add_argument("--stream", action="store_true", help="print the reply as it arrives (server-sent events)")
    parser.add_argument("--cache-dir", help="pricing cache folder for the cost estimate (env GRADIENT_CACHE_DIR)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    from gradient_input import read_text

    prompt = read_text(parser, args.prompt, args.prompt_file)
    args.responses_api = args.responses_api or args.cache or bool(args.previous_response_id)
    import gradient_http as net
    import gradient_llm as llm

    path, body = llm.build_request(
        "responses" if args.responses_api else "chat",
        args.model,
        [{"role": "user", "content": prompt}],
        instructions=args.system,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        stream=args.stream,
        store=args.cache,
        previous_response_id=args.previous_response_id,
    )
    resp = net.api_request(args, parser, "POST", path, body, stream=args.stream)
    if resp is None:  # --dry-run
        return 0

    printed: list[str] = []

    def echo(text: str) -> None:
        if not args.json:
            sys.stdout.write(text)
            sys.stdout.flush()
            printed.append(text)

    if args.stream:
        import requests

        parse_stream = llm.stream_responses if args.responses_api else llm.stream_chat
        try:
            reply = parse_stream(resp, echo)
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
    else:
        data = net.read_json(resp)
        reply = llm.parse_responses(data) if args.responses_api else llm.parse_chat(data)
    reply["model"] = reply["model"] or args.model
    import gradient_prices as prices

    reply["cost"] = prices.call_cost(reply["model"], reply["usage"], args.cache_dir)

    if args.json:
        cli.print_json(reply)
        return 0
    if args.stream:
        if not "".join(printed).endswith("\n"):
            print()
    else:
        print(reply["content"], flush=True)
    if args.cache and reply["id"]:
        cli.note(f"response id {reply['id']} (continue with --previous-response-id {reply['id']})")
    if reply["cost"]:
        cli.note(
            f"cost ~${reply['cost']['usd']:.6f} ({_usage_line(reply['usage'])}; prices from {reply['cost']['source']})"
        )
    return 0


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
