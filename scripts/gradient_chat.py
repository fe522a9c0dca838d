#!/usr/bin/env python3
"""Chat with a Gradient model: Chat Completions by default, the Responses API on request."""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gradient_common as gc  # noqa: E402

DEFAULT_MODEL = "openai-gpt-oss-120b"


def build_parser() -> gc.ArgumentParser:
    parser = gc.new_parser("gradient-chat", "Send a prompt to a Gradient model and print the reply.")
    parser.add_argument("--prompt", help="the prompt; '-' reads stdin (piped stdin is read when omitted)")
    parser.add_argument("--prompt-file", metavar="PATH", help="read the prompt from a UTF-8 file")
    parser.add_argument("--model", type=gc.non_empty, default=DEFAULT_MODEL, help=f"model id (default {DEFAULT_MODEL})")
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
        type=gc.non_empty,
        help="continue a stored response; implies --responses-api",
    )
    parser.add_argument("--temperature", type=gc.temperature, help="sampling temperature, 0 to 2")
    parser.add_argument("--max-tokens", type=gc.positive_int, help="cap on generated tokens (a positive integer)")
    parser.add_argument("--stream", action="store_true", help="print the reply as it arrives (server-sent events)")
    parser.add_argument("--cache-dir", help="pricing cache folder for the cost estimate (env GRADIENT_CACHE_DIR)")
    return parser


def build_request(args: argparse.Namespace, prompt: str) -> tuple[str, dict[str, Any]]:
    """(path, JSON body) for the chosen API."""
    if args.responses_api:
        body: dict[str, Any] = {"model": args.model, "input": prompt}
        if args.system:
            body["instructions"] = args.system
        if args.cache:
            body["store"] = True
        if args.previous_response_id:
            body["previous_response_id"] = args.previous_response_id
        if args.max_tokens:
            body["max_output_tokens"] = args.max_tokens
        path = "/responses"
    else:
        messages = [{"role": "system", "content": args.system}] if args.system else []
        body = {"model": args.model, "messages": [*messages, {"role": "user", "content": prompt}]}
        if args.max_tokens:
            body["max_completion_tokens"] = args.max_tokens  # DigitalOcean documents max_tokens as deprecated
        if args.stream:
            body["stream_options"] = {"include_usage": True}
        path = "/chat/completions"
    if args.temperature is not None:
        body["temperature"] = args.temperature
    if args.stream:
        body["stream"] = True
    return path, body


def usage_of(raw: Any) -> dict[str, int | None]:
    """Token counts with one set of names for both APIs."""
    raw = raw if isinstance(raw, dict) else {}
    in_details = raw.get("input_tokens_details") or raw.get("prompt_tokens_details") or {}
    out_details = raw.get("output_tokens_details") or raw.get("completion_tokens_details") or {}
    return {
        "input_tokens": _first(raw, "input_tokens", "prompt_tokens"),
        "output_tokens": _first(raw, "output_tokens", "completion_tokens"),
        "cached_tokens": _first(in_details, "cached_tokens"),
        "reasoning_tokens": _first(out_details, "reasoning_tokens"),
    }


def _first(d: Any, *names: str) -> int | None:
    for name in names:
        value = d.get(name) if isinstance(d, dict) else None
        if isinstance(value, int):
            return value
    return None


def result(api: str, rid: Any, model: Any, content: str, finish: Any, usage: Any, reasoning: str) -> dict[str, Any]:
    return {
        "id": rid,
        "model": model,
        "api": api,
        "content": content,
        "finish_reason": finish,
        "usage": usage_of(usage),
        "reasoning": reasoning or None,
    }


def parse_chat(data: Any) -> dict[str, Any]:
    message = gc.require(data, "choices", 0, "message")
    content = message.get("content") or ""
    reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
    if not isinstance(content, str):
        raise gc.CliError("the response's message content is not text", kind="bad_response")
    finish = data["choices"][0].get("finish_reason")
    return result("chat.completions", data.get("id"), data.get("model"), content, finish, data.get("usage"), reasoning)


def parse_responses(data: Any) -> dict[str, Any]:
    output = gc.require(data, "output")
    if not isinstance(output, list):
        raise gc.CliError("the response's 'output' is not a list", kind="bad_response")
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

        raise gc.CliError(
            f"the response failed: {gc.summarise_error_body(json.dumps(data).encode())[0]}", kind="response_failed"
        )
    return result(
        "responses",
        data.get("id"),
        data.get("model"),
        "".join(texts),
        finish_of(data),
        data.get("usage"),
        "".join(thoughts),
    )


def finish_of(response: dict[str, Any]) -> str | None:
    """Responses API status mapped onto Chat Completions' finish_reason words."""
    status = response.get("status")
    if status == "completed":
        return "stop"
    if status == "incomplete":
        reason = (response.get("incomplete_details") or {}).get("reason")
        return {"max_output_tokens": "length"}.get(reason, reason or "incomplete")
    return status


def stream_chat(resp, echo: Callable[[str], None]) -> dict[str, Any]:
    parts, thoughts = [], []
    state: dict[str, Any] = {"id": None, "model": None, "finish": None, "usage": None, "done": False}
    for _event, data in gc.sse_events(resp):
        if data.strip() == "[DONE]":
            state["done"] = True
            break
        chunk = _json_event(data)
        if "error" in chunk:
            raise gc.CliError(gc.summarise_error_body(data.encode())[0] or "error event", kind="stream_error")
        state["id"] = state["id"] or chunk.get("id")
        state["model"] = state["model"] or chunk.get("model")
        state["usage"] = chunk.get("usage") or state["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                parts.append(delta["content"])
                echo(delta["content"])
            thought = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(thought, str):
                thoughts.append(thought)
            state["finish"] = choice.get("finish_reason") or state["finish"]
    if not state["done"]:
        raise gc.CliError("the stream ended before [DONE]", kind="stream_incomplete")
    return result(
        "chat.completions",
        state["id"],
        state["model"],
        "".join(parts),
        state["finish"],
        state["usage"],
        "".join(thoughts),
    )


def stream_responses(resp, echo: Callable[[str], None]) -> dict[str, Any]:
    parts, thoughts = [], []
    for event, data in gc.sse_events(resp):
        payload = _json_event(data)
        kind = payload.get("type") or event
        if kind == "response.output_text.delta":
            parts.append(str(payload.get("delta", "")))
            echo(parts[-1])
        elif kind in ("response.reasoning_text.delta", "response.reasoning_summary_text.delta"):
            thoughts.append(str(payload.get("delta", "")))
        elif kind in ("response.completed", "response.incomplete"):
            final = payload.get("response") or {}
            return result(
                "responses",
                final.get("id"),
                final.get("model"),
                "".join(parts),
                finish_of(final),
                final.get("usage"),
                "".join(thoughts),
            )
        elif kind in ("error", "response.failed"):
            raise gc.CliError(gc.summarise_error_body(data.encode())[0] or kind, kind="stream_error")
    raise gc.CliError("the stream ended before response.completed", kind="stream_incomplete")


def _json_event(data: str) -> dict[str, Any]:
    import json  # here, not at the top: --help and usage errors never need it

    try:
        payload = json.loads(data)
    except ValueError:
        raise gc.CliError(
            f"the stream sent an event that is not JSON: {gc.redact(data)[:80]!r}", kind="bad_response"
        ) from None
    if not isinstance(payload, dict):
        raise gc.CliError("the stream sent an event that is not a JSON object", kind="bad_response")
    return payload


def add_cost(reply: dict[str, Any], cache_dir: str | None) -> None:
    """Estimate the call's cost from cached or bundled prices; never fetches live."""
    prices = gc.offline_prices(cache_dir)
    row = gc.match_price(str(reply.get("model") or ""), prices["models"]) if prices else None
    usd = gc.estimate_cost(reply["usage"], row)
    reply["cost"] = None if usd is None else {"usd": usd, "source": prices["source"], "price_model": row["model"]}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = gc.parse(parser, argv)
    prompt = gc.read_prompt(parser, args.prompt, args.prompt_file)
    args.responses_api = args.responses_api or args.cache or bool(args.previous_response_id)
    path, body = build_request(args, prompt)
    resp = gc.api_request(args, parser, "POST", path, body, stream=args.stream)
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

        parse_stream = stream_responses if args.responses_api else stream_chat
        try:
            reply = parse_stream(resp, echo)
        except (requests.exceptions.RequestException, OSError) as exc:
            stalled = "timed out" in str(exc).lower()
            why = f"no data for {args.timeout:g}s" if stalled else "the connection closed mid-way"
            raise _broken(printed, resp, f"the stream broke: {why}") from None
        except gc.CliError as err:
            if printed and not printed[-1].endswith("\n"):
                print()  # keep what was printed, and end its line
            err.request_id = err.request_id or resp.headers.get("x-request-id")
            raise
        finally:
            resp.close()
    else:
        data = gc.read_json(resp)
        reply = parse_responses(data) if args.responses_api else parse_chat(data)
    reply["model"] = reply["model"] or args.model
    add_cost(reply, args.cache_dir)

    if args.json:
        gc.print_json(reply)
        return 0
    if args.stream:
        if not "".join(printed).endswith("\n"):
            print()
    else:
        print(reply["content"], flush=True)
    if args.cache and reply["id"]:
        gc.note(f"response id {reply['id']} (continue with --previous-response-id {reply['id']})")
    if reply["cost"]:
        gc.note(
            f"cost ~${reply['cost']['usd']:.6f} ({_usage_line(reply['usage'])}; prices from {reply['cost']['source']})"
        )
    return 0


def _broken(printed: list[str], resp, message: str) -> gc.CliError:
    if printed and not printed[-1].endswith("\n"):
        print()
    return gc.CliError(message, kind="stream_broken", request_id=resp.headers.get("x-request-id"))


def _usage_line(usage: dict[str, int | None]) -> str:
    text = f"{usage['input_tokens'] or 0} in / {usage['output_tokens'] or 0} out tokens"
    return text + (f", {usage['cached_tokens']} cached" if usage.get("cached_tokens") else "")


def run() -> None:
    gc.run(main)


if __name__ == "__main__":
    run()
