"""The tools gradient-mcp serves: each one's input schema (written by hand) and its call of the pipeline, the same
functions the commands call (so checks, messages, costs and history rows are theirs). Each call is its own
pipeline call, with its own history row under its tool's command, written when it ends.

Nothing here imports the MCP SDK: server.py is the protocol side."""

from __future__ import annotations

import json

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
STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}


def _chat_schema() -> dict[str, Any]:
    properties = {
        "prompt": {"type": "string", "minLength": 1, "description": "the user message"},
        "model": {**MODEL, "description": "model id (default openai-gpt-oss-120b; see list_models)"},
        "system": {"type": "string", "description": "system prompt"},
        "api": {"type": "string", "enum": ["chat", "responses", "messages"], "description": "API (default chat)"},
        "max_tokens": {"type": "integer", "minimum": 1, "description": "cap on generated tokens"},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2, "description": "sampling temperature"},
        "json_schema": {"type": "object", "description": "JSON Schema the reply must follow (structured output)"},
        "conversation_id": {"type": "string", "minLength": 1, "description": "continue a conversation"},
        "web_search": {"type": "boolean", "description": "let the model search the web ($0.01 per search)"},
        "web_fetch": {"type": "boolean", "description": "let the model read web pages and PDFs the prompt names"},
        "knowledge_base": {**STRINGS, "description": "knowledge base ids to retrieve from"},
        "mcp": {**STRINGS, "description": "remote MCP servers the model may use, as LABEL=URL "
                "(token from GRADIENT_MCP_TOKEN_<LABEL>)"},
    }  # fmt: skip
    return _schema(properties, ("prompt",))


# ---------------------------------------------------------------- each tool: its pipeline call


def _chat_run(settings, a: dict[str, Any], output_dir: str) -> tuple[str, dict[str, Any], list]:
    from gradient_inference.llm import tools as gt
    from gradient_inference.pipeline import chat

    request = chat.ChatRequest(
        prompt=a["prompt"],
        model=a.get("model"),
        system=a.get("system"),
        api=a.get("api") or "chat",
        max_tokens=a.get("max_tokens"),
        temperature=a.get("temperature"),
        conversation_id=a.get("conversation_id"),
        web_search=bool(a.get("web_search")),
        web_fetch=bool(a.get("web_fetch")),
        knowledge_base=a.get("knowledge_base"),
        mcp=a.get("mcp"),
    )
    if "json_schema" in a:
        try:
            request.schema = gt.schema_of(a["json_schema"], "response", "json_schema")
        except ValueError as exc:
            raise cli.UsageError(str(exc)) from None
    reply = chat.complete(settings, request, command="chat")
    out = {k: reply.get(k) for k in ("model", "usage", "cost", "conversation_id", "finish_reason")}
    out.update({k: reply[k] for k in ("parsed", "citations", "tool_calls", "reasoning") if reply.get(k)})
    return reply["content"], out, []


def _compare_schema() -> dict[str, Any]:
    prompt = {"oneOf": [{"type": "string", "minLength": 1}, {"type": "object", "description": "a batch input line: "
              "id, prompt or messages, system, expect ({contains}, {regex} or {json_schema})"}]}  # fmt: skip
    properties = {
        "models": {"type": "array", "items": MODEL, "minItems": 2, "maxItems": 16, "description": "models to compare"},
        "prompts": {"type": "array", "items": prompt, "minItems": 1, "description": "texts or batch input lines"},
        "system": {"type": "string", "description": "system prompt for every prompt"},
        "api": {"type": "string", "enum": ["chat", "responses", "messages"], "description": "API (default chat)"},
        "runs": {"type": "integer", "minimum": 1, "maximum": 20, "description": "answers per prompt and model"},
        "max_tokens": {"type": "integer", "minimum": 1, "description": "cap on generated tokens per answer"},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2, "description": "sampling temperature"},
        "judge": {**MODEL, "description": "a model that scores each answer 0-10"},
        "rubric": {"type": "string", "minLength": 1, "description": "what the judge scores on"},
        "within": {"type": "number", "minimum": 0, "description": "quality margin of the recommendation"},
        "max_cost": {"type": "number", "exclusiveMinimum": 0, "description": "refuse above this estimate (USD)"},
    }
    return _schema(properties, ("models", "prompts"))


def _compare_run(settings, a: dict[str, Any], output_dir: str) -> tuple[str, dict[str, Any], list]:
    from gradient_inference.compare import prompts, report
    from gradient_inference.compare.running import compare

    if a.get("rubric") and not a.get("judge"):
        raise cli.UsageError("rubric needs judge")
    options = {k: a[k] for k in ("api", "runs", "max_tokens", "temperature", "within", "max_cost") if k in a}
    out = compare(settings, a["models"], prompts.given(a["prompts"], a.get("system")), judge=a.get("judge"),
                  rubric=a.get("rubric"), concurrency=8, command="compare", **options)  # fmt: skip
    return report.markdown(out), out, []


def _models_run(settings, a: dict[str, Any], output_dir: str) -> tuple[str, dict[str, Any], list]:
    from gradient_inference.pipeline.models import list_models

    models, prices = list_models(settings, a.get("filter"), bool(a.get("with_prices")), command="models")
    out: dict[str, Any] = {"models": models}
    if a.get("with_prices"):
        out["prices_source"] = prices["source"] if prices else None
    return "\n".join(m["id"] for m in models) or "no models match", out, []


def _image_run(settings, a: dict[str, Any], output_dir: str) -> tuple[str, dict[str, Any], list]:
    from gradient_inference.files import output as files
    from gradient_inference.pipeline import image

    made = image.generate(settings, a["prompt"].strip(), a.get("model"), a.get("n", 1), a.get("size", "auto"),
                          command="image")  # fmt: skip
    formats = [found["format"] for found in made["images"]]
    many = len(formats) > 1
    paths = files.default_paths(a["prompt"], [image.EXTENSIONS[f] for f in formats], many, False, folder=output_dir)
    files.write_all(paths, [found["bytes"] for found in made["images"]], False)
    out = image.describe(made, paths)
    inline = [(found["bytes"], f"image/{found['format']}") for found in made["images"]
              if len(found["bytes"]) <= MAX_INLINE_IMAGE]  # fmt: skip
    return "\n".join(paths), out, inline


def _embed_run(settings, a: dict[str, Any], output_dir: str) -> tuple[str, dict[str, Any], list]:
    from gradient_inference.pipeline.embed import embed

    found = embed(settings, a["texts"], a.get("model"), command="embed")
    rows = [{"index": i, "embedding": v} for i, v in enumerate(found["vectors"])]
    out = {"model": found["model"], "embeddings": rows, "usage": found["usage"], "cost": found["cost"]}
    text = f"{len(rows)} embeddings of {len(rows[0]['embedding'])} dimensions from {out['model']}"
    return text, out, []


def _prices_run(settings, a: dict[str, Any], output_dir: str) -> tuple[str, dict[str, Any], list]:
    from gradient_inference.prices import lookup

    query = lookup.PriceQuery(a.get("model"), cache_dir=settings.cache_dir, timeout=lookup.PAGE_TIMEOUT)
    out = lookup.as_json(*lookup.price_rows(query, settings.warn))
    return json.dumps(out, ensure_ascii=False), out, []


def _usage_run(settings, a: dict[str, Any], output_dir: str) -> tuple[str, dict[str, Any], list]:
    from gradient_inference.spend import report

    out = report.usage_report(settings, a.get("since") or "7d", a.get("by") or "day")
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
        "run": _models_run,
    },
    "chat": {
        "command": "chat",
        "description": "Ask a DigitalOcean Gradient model; the reply is the text, with model, usage and cost "
        "(USD estimate) in the structured content.",
        "schema": _chat_schema,
        "run": _chat_run,
    },
    "compare": {
        "command": "compare",
        "description": "Run prompts on 2 to 16 models (streamed): latency, time to first token, cost, quality "
        "(expect checks, an optional judge model's 0-10 score) and the recommended model; text is a markdown table.",
        "schema": _compare_schema,
        "run": _compare_run,
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
        "run": _embed_run,
    },
    "get_prices": {
        "command": "pricing",
        "description": "Gradient serverless inference prices (USD per 1M tokens), with where they came from.",
        "schema": lambda: _schema(
            {"model": {"type": "string", "description": "case-insensitive filter on model, provider or API id"}}
        ),
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
        "run": _usage_run,
    },
}


def schemas() -> dict[str, dict[str, Any]]:
    """name -> {description, schema}, as listed to clients."""
    return {name: {"description": t["description"], "schema": t["schema"]()} for name, t in TOOLS.items()}


# ---------------------------------------------------------------- running a call (in a worker thread)


def call(name: str, arguments: dict[str, Any] | None, schema: dict[str, Any], server) -> tuple[str, dict, list]:
    """(text, structured content, [(image bytes, mime type)]) of one tool call, the key redacted from all of it;
    ToolError with the command's one-line message on any failure. server: the pipeline Settings and output_dir."""
    tool = TOOLS.get(name)
    if tool is None:
        raise ToolError(f"unknown tool {name!r}; the tools are {', '.join(TOOLS)}")
    arguments = arguments or {}
    _check_shape(name, arguments, schema)
    _check_values(name, arguments, schema)
    try:
        text, out, images = tool["run"](server.settings, arguments, server.output_dir)
    except cli.CliError as err:
        from gradient_inference.cli.errors import error_line

        raise ToolError(cli.redact(error_line(err, f"gradient-{tool['command']}"))) from None
    return cli.redact(text), json.loads(cli.redact(json.dumps(out, ensure_ascii=False))), images


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
