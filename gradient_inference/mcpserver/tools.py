"""The tools gradient-mcp serves: each one's input schema (written by hand), and a call that turns the tool's
arguments into the matching command's flags, parses them with that command's own parser (so checks and messages
are the command's) and runs the command's own function. No second HTTP client, no second price table.

Nothing here imports the MCP SDK: server.py is the protocol side."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import tempfile
import threading

from gradient_inference.cli import base as cli

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_INLINE_IMAGE = 1024 * 1024  # images up to this size also travel as image content; larger ones as paths only


class ToolError(Exception):
    """A failure returned as a tool error (isError): the one line the command would print."""


def _schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


MODEL = {"type": "string", "minLength": 1, "description": "model id (see list_models)"}


def _chat_schema() -> dict[str, Any]:
    properties = {
        "prompt": {"type": "string", "minLength": 1, "description": "the user message"},
        "model": {**MODEL, "description": "model id (default openai-gpt-oss-120b; see list_models)"},
        "system": {"type": "string", "description": "system prompt"},
        "api": {"type": "string", "enum": ["chat", "responses", "messages"], "description": "API (default chat)"},
        "max_tokens": {"type": "integer", "minimum": 1, "description": "cap on generated tokens"},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2, "description": "sampling temperature"},
        "json_schema": {"type": "object", "description": "JSON Schema the reply must follow (structured output)"},
    }
    if _has_flag("chat", "--conversation-id"):  # the history store's conversations, once gradient-chat has them
        properties["conversation_id"] = {"type": "string", "minLength": 1, "description": "continue a conversation"}
    return _schema(properties, ("prompt",))


# ---------------------------------------------------------------- each tool: flags from arguments, then the call


def _chat_argv(a: dict[str, Any], temp: str) -> list[str]:
    argv = _flags(a, prompt="--prompt", model="--model", system="--system", api="--api")
    argv += _flags(a, max_tokens="--max-tokens", temperature="--temperature", conversation_id="--conversation-id")
    if "json_schema" in a:
        path = os.path.join(temp, "response.json")  # the command names the schema after the file: "response"
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(a["json_schema"], fh)
        argv.append(f"--json-schema={path}")
    return argv


def _chat_run(module, parser, args, settings) -> tuple[str, dict[str, Any], list]:
    reply, _thread = module.complete(parser, args)
    out = {k: reply.get(k) for k in ("model", "usage", "cost", "conversation_id", "finish_reason")}
    out.update({k: reply[k] for k in ("parsed", "citations", "tool_calls", "reasoning") if reply.get(k)})
    return reply["content"], out, []


def _models_run(module, parser, args, settings) -> tuple[str, dict[str, Any], list]:
    models, prices = module.fetch_models(parser, args)
    out = module.as_json(args, models, prices)
    return "\n".join(m["id"] for m in models) or "no models match", out, []


def _image_run(module, parser, args, settings) -> tuple[str, dict[str, Any], list]:
    out = module.generate(parser, args, folder=settings.output_dir)
    inline = []
    for image in out["images"]:
        if image["bytes"] <= MAX_INLINE_IMAGE:
            with open(image["path"], "rb") as fh:  # as written: what the user has is what the client sees
                inline.append((fh.read(), f"image/{image['format']}"))
    return "\n".join(image["path"] for image in out["images"]), out, inline


def _embed_run(module, parser, args, settings) -> tuple[str, dict[str, Any], list]:
    out = module.embed_result(parser, args)
    rows = out["embeddings"]
    text = f"{len(rows)} embeddings of {len(rows[0]['embedding'])} dimensions from {out['model']}"
    return text, out, []


def _prices_run(module, parser, args, settings) -> tuple[str, dict[str, Any], list]:
    out = module.as_json(*module.price_rows(parser, args))
    return json.dumps(out, ensure_ascii=False), out, []


def _usage_run(module, parser, args, settings) -> tuple[str, dict[str, Any], list]:
    out = module.spend_report(parser, args)
    return json.dumps(out, ensure_ascii=False), out, []


TOOLS: dict[str, dict[str, Any]] = {
    "list_models": {
        "command": "models",
        "description": "List the models your Gradient model access key can use, optionally with their prices.",
        "schema": lambda: _schema(
            {
                "filter": {"type": "string", "description": "case-insensitive substring of the model id or owner"},
                "with_prices": {"type": "boolean", "description": "add input/output USD per 1M tokens"},
            }
        ),
        "argv": lambda a, temp: _flags(a, filter="--filter") + (["--prices"] if a.get("with_prices") else []),
        "run": _models_run,
    },
    "chat": {
        "command": "chat",
        "description": "Ask a DigitalOcean Gradient model; the reply is the text, with model, usage and cost "
        "(USD estimate) in the structured content.",
        "schema": _chat_schema,
        "argv": _chat_argv,
        "run": _chat_run,
    },
    "generate_image": {
        "command": "image",
        "description": "Draw images from a prompt; saves them in the server's output folder (never overwriting) "
        "and returns their paths, and the images themselves when each is at most 1 MB.",
        "schema": lambda: _schema(
            {
                "prompt": {"type": "string", "minLength": 1, "description": "what to draw"},
                "model": {**MODEL, "description": "image model id (default openai-gpt-image-1)"},
                "size": {"type": "string", "description": "auto, 1536x1024 or 1024x1536 (default auto)"},
                "n": {"type": "integer", "minimum": 1, "maximum": 10, "description": "number of images"},
            },
            ("prompt",),
        ),
        "argv": lambda a, temp: _flags(a, prompt="--prompt", model="--model", size="--size", n="--n"),
        "run": _image_run,
    },
    "embed": {
        "command": "embed",
        "description": "Turn texts into embedding vectors (structured content: embeddings, usage, cost).",
        "schema": lambda: _schema(
            {
                "texts": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                "model": {**MODEL, "description": "embedding model id (default qwen3-embedding-0.6b)"},
            },
            ("texts",),
        ),
        "argv": lambda a, temp: _flags(a, model="--model") + ["--", *map(str, a.get("texts") or [])],
        "run": _embed_run,
    },
    "get_prices": {
        "command": "pricing",
        "description": "Gradient serverless inference prices (USD per 1M tokens), with where they came from.",
        "schema": lambda: _schema(
            {"model": {"type": "string", "description": "case-insensitive filter on model, provider or API id"}}
        ),
        "argv": lambda a, temp: _flags(a, model="--model"),
        "run": _prices_run,
    },
    "usage": {
        "command": "usage",
        "description": "What the calls recorded in the local history cost (USD), per day, model or command, "
        "with the budget's rest when one is set.",
        "schema": lambda: _schema(
            {
                "since": {"type": "string", "description": "24h, 7d, 30d or YYYY-MM-DD (default 7d)"},
                "by": {"type": "string", "enum": ["day", "model", "command"], "description": "grouping (default day)"},
            }
        ),
        "argv": lambda a, temp: _flags(a, since="--since", by="--by"),
        "run": _usage_run,
    },
}


def schemas() -> dict[str, dict[str, Any]]:
    """name -> {description, schema}, as listed to clients."""
    return {name: {"description": t["description"], "schema": t["schema"]()} for name, t in TOOLS.items()}


# ---------------------------------------------------------------- running a call (in a worker thread)


def call(name: str, arguments: dict[str, Any] | None, schema: dict[str, Any], settings) -> tuple[str, dict, list]:
    """(text, structured content, [(image bytes, mime type)]) of one tool call, the key redacted from all of it;
    ToolError with the command's one-line message on any failure."""
    tool = TOOLS.get(name)
    if tool is None:
        raise ToolError(f"unknown tool {name!r}; the tools are {', '.join(TOOLS)}")
    arguments = arguments or {}
    _check_shape(name, arguments, schema)
    module = importlib.import_module(f"gradient_inference.commands.{tool['command']}")
    parser = module.build_parser()
    prog = parser.prog

    def refuse(message: str):  # argparse and the command's own checks call this: a tool error, not an exit
        raise ToolError(f"{prog}: error: {message}")

    parser.error = refuse  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(prefix="gradient-mcp-") as temp, _recorded():
        try:
            argv = _server_flags(parser, settings) + tool["argv"](arguments, temp)  # before a "--"
            args = parser.parse_args(argv)
            _check_values(name, arguments, schema)
            text, out, images = tool["run"](module, parser, args, settings)
        except cli.CliError as err:
            from gradient_inference.cli.errors import error_line

            raise ToolError(cli.redact(error_line(err, prog))) from None
        except SystemExit as exc:  # never expected: a command that exits instead of raising
            raise ToolError(f"{prog}: error: the command exited with status {exc.code}") from None
    return cli.redact(text), json.loads(cli.redact(json.dumps(out, ensure_ascii=False))), images


_history = {"lock": threading.Lock(), "active": 0}


@contextlib.contextmanager
def _recorded():
    """Around each call: when the last call in flight ends, the history rows of the calls so far are written
    (history.record keeps one run's rows in memory until the run ends; here a run never ends)."""
    with _history["lock"]:
        _history["active"] += 1
    try:
        yield
    finally:
        with _history["lock"]:  # held while writing, so no call opens a row mid-write
            _history["active"] -= 1
            if _history["active"] == 0:
                write_history()


def write_history() -> None:
    """Write the calls recorded so far (nothing is loaded if no request was ever sent); a fault is logged."""
    record = sys.modules.get("gradient_inference.history.record")
    warning = record.flush(None) if record is not None else None
    if warning:
        cli.note(f"warning: history not recorded: {warning}")


def _check_shape(name: str, arguments: dict[str, Any], schema: dict[str, Any]) -> None:
    """Unknown, missing and mistyped arguments, before anything is parsed; values are the command's to judge."""
    import jsonschema  # a dependency of the MCP SDK, so present wherever the server runs

    for error in jsonschema.Draft202012Validator(schema).iter_errors(arguments):
        if error.validator in ("required", "additionalProperties", "type"):
            raise ToolError(f"{name}: invalid arguments: {_where(error)}{error.message}")


def _check_values(name: str, arguments: dict[str, Any], schema: dict[str, Any]) -> None:
    """What the schema promises and the command's parser let through (e.g. a size outside the enum)."""
    import jsonschema

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(arguments))
    if error is not None:
        raise ToolError(f"{name}: invalid arguments: {_where(error)}{error.message}")


def _where(error) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return f"{path}: " if path else ""


def _flags(arguments: dict[str, Any], **flags: str) -> list[str]:
    """--flag=value for each argument given (the = form, so a value starting with '-' stays a value)."""
    return [f"{flag}={_text(arguments[key])}" for key, flag in flags.items() if arguments.get(key) is not None]


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _server_flags(parser: argparse.ArgumentParser, settings) -> list[str]:
    """gradient-mcp's own --base-url, --timeout, --max-retries, --cache-dir, --no-history, for the commands that
    take them."""
    flags = []
    for flag, value in (
        ("--base-url", settings.base_url),
        ("--timeout", settings.timeout),
        ("--max-retries", settings.max_retries),
        ("--cache-dir", settings.cache_dir),
        ("--no-history", settings.no_history or None),
    ):
        if value is not None and flag in parser._option_string_actions and not _is_pricing_timeout(parser, flag):
            flags.append(flag if value is True else f"{flag}={value}")
    return flags


def _is_pricing_timeout(parser: argparse.ArgumentParser, flag: str) -> bool:
    return flag == "--timeout" and parser.prog == "gradient-pricing"  # its --timeout is per price page: own default


def _has_flag(command: str, flag: str) -> bool:
    module = importlib.import_module(f"gradient_inference.commands.{command}")
    return flag in module.build_parser()._option_string_actions
