"""gradient-mcp's protocol side: the official MCP SDK's low-level server over stdio. Each tool call runs in a worker
thread of the server's own limiter, so a slow chat never holds up get_prices, and every failure comes back as a tool
error (isError), never as a crash or a hung request. Works with SDK 1.x (decorators) and 2.x (constructor handlers).

stdout belongs to the protocol: the wire gets a private copy of fd 1, and fd 1 itself (print, child processes)
goes to stderr; stdin likewise, so no command can read the protocol as its input."""

from __future__ import annotations

import logging
import os
import sys
import time
from importlib.metadata import version
from io import TextIOWrapper

import anyio
import anyio.to_thread
import mcp.types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from gradient_inference.cli import base as cli
from gradient_inference.mcpserver import tools

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

log = logging.getLogger("gradient-mcp")
SDK_MAJOR = int(version("mcp").split(".")[0])


def _text(text: str) -> types.TextContent:
    return types.TextContent(type="text", text=text)


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[_text(message)], isError=True)


def build_server(settings) -> Server:
    """settings: .settings (the pipeline's), .output_dir, .max_concurrency."""
    listed = tools.schemas()
    tool_list = [
        types.Tool(name=name, description=t["description"], inputSchema=t["schema"]) for name, t in listed.items()
    ]
    limiter = anyio.CapacityLimiter(settings.max_concurrency)

    async def dispatch(name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        """Never raises: every failure is a tool error carrying the command's one line."""
        start = time.perf_counter()
        schema = listed.get(name, {}).get("schema", {})
        try:
            text, out, images = await anyio.to_thread.run_sync(
                tools.call, name, arguments, schema, settings, limiter=limiter, abandon_on_cancel=True
            )
        except tools.ToolError as err:
            log.info("%s failed in %.0f ms: %s", name, (time.perf_counter() - start) * 1000, cli.redact(str(err)))
            return _error(cli.redact(str(err)))
        except Exception as exc:  # a bug of ours: still an answer, and the server carries on
            message = cli.redact(f"gradient-mcp: error: unexpected {type(exc).__name__}: {exc}")
            log.error("%s: %s", name, message)
            return _error(message)
        log.info("%s ok in %.0f ms", name, (time.perf_counter() - start) * 1000)
        import base64

        content: list[Any] = [_text(text)]
        content += [
            types.ImageContent(type="image", data=base64.b64encode(blob).decode("ascii"), mimeType=mime)
            for blob, mime in images
        ]
        return types.CallToolResult(content=content, structuredContent=out)

    info = {
        "version": _our_version(),
        "instructions": "DigitalOcean Gradient serverless inference: models (list_models), chat, "
        "which model to use on the user's own prompts (compare), images (generate_image), embeddings (embed), "
        "prices (get_prices) and the spend from the local history (usage); "
        "each result carries its cost where the API reports usage.",
    }
    if SDK_MAJOR >= 2:

        async def on_list_tools(ctx, params) -> types.ListToolsResult:
            return types.ListToolsResult(tools=tool_list)

        async def on_call_tool(ctx, params) -> types.CallToolResult:
            return await dispatch(params.name, params.arguments)

        return Server("gradient-inference", on_list_tools=on_list_tools, on_call_tool=on_call_tool, **info)
    server = Server("gradient-inference", **info)

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return tool_list

    @server.call_tool(validate_input=False)  # dispatch checks: the same messages on both SDK majors
    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        return await dispatch(name, arguments)

    return server


def _our_version() -> str:
    try:
        return version("gradient-inference")
    except Exception:  # a checkout that was never installed
        return "0"


def _claim_stdio() -> tuple[TextIOWrapper, TextIOWrapper]:
    """Private copies of fds 0 and 1 for the wire; fd 0 then reads /dev/null and fd 1 writes to stderr."""
    wire_in = os.fdopen(os.dup(0), "rb", buffering=0)
    wire_out = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115  (for the life of the process)
    sys.stdout = sys.stderr
    return (
        TextIOWrapper(wire_in, encoding="utf-8", errors="replace"),
        TextIOWrapper(wire_out, encoding="utf-8", write_through=True),
    )


def serve(settings) -> None:
    """Serve until the client closes stdin, then exit at once (threads still waiting on the API are abandoned)."""
    level = logging.INFO if settings.verbose else logging.WARNING
    logging.basicConfig(stream=sys.stderr, level=level, format="gradient-mcp: %(levelname)s %(message)s")
    server = build_server(settings)
    wire_in, wire_out = _claim_stdio()

    async def main() -> None:
        async with stdio_server(stdin=anyio.wrap_file(wire_in), stdout=anyio.wrap_file(wire_out)) as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)  # each tool call wrote its own history row when it ended; abandoned ones never got a reply
    log.info("stdin closed; exiting")
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)  # worker threads are not daemons: waiting for an abandoned one would outlive the client's grace
