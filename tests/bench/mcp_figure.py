"""Figure 10 of bench.py: one `chat` tool call to a running gradient-mcp (a persistent MCP session, the SDK's own
stdio client) vs a gradient-chat subprocess making the same call, both against the loopback fake. Target <= 0.5x:
a host that keeps the server running pays no interpreter start per call."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent.parent


def run_mcp_figure(record: Callable[..., Any], interleave, med, env: dict[str, str], rounds: int, timed_run) -> None:
    print("\n[7] one chat tool call to a running gradient-mcp vs a gradient-chat subprocess")
    figure = "10 chat tool call (MCP session) vs gradient-chat subprocess"
    if importlib.util.find_spec("mcp") is None:
        record(figure, None, None, 0.5, note="the mcp SDK is not installed here")
        return
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    holder: dict[str, Any] = {}
    ready = threading.Event()
    errlog = tempfile.TemporaryFile("w+")

    async def hold() -> None:
        params = StdioServerParameters(
            command=sys.executable, args=[str(ROOT / "scripts" / "gradient_mcp.py")], env=env
        )
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await session.list_tools()
            holder["session"], holder["stop"] = session, asyncio.Event()
            ready.set()
            await holder["stop"].wait()

    main = asyncio.run_coroutine_threadsafe(hold(), loop)
    if not ready.wait(60):
        errlog.seek(0)
        raise RuntimeError(f"gradient-mcp did not start: {errlog.read()[-500:]}")

    def tool_call() -> float:
        start = time.perf_counter()
        result = asyncio.run_coroutine_threadsafe(holder["session"].call_tool("chat", {"prompt": "hi"}), loop).result(
            60
        )
        elapsed = (time.perf_counter() - start) * 1000
        if result.content[0].text != "echo: hi":
            raise RuntimeError(f"chat tool call failed: {result.content[0].text}")
        return elapsed

    chat_argv = [sys.executable, str(ROOT / "scripts" / "gradient_chat.py"), "--prompt", "hi"]
    try:
        times = interleave([tool_call, lambda: timed_run(chat_argv, env)], rounds)
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        main.result(30)
        loop.call_soon_threadsafe(loop.stop)
    record(figure, med(times[0]), med(times[1]), 0.5, note="medians of interleaved runs; floor: the subprocess")
