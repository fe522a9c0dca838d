"""Figures 11 and 12 of bench.py: the Python API against its floors, on the loopback fake (tests/fake_gradient.py).

11. `client.chat` with the history on vs the thinnest script making the same call (a bare
    `requests.Session().post` of the same body, reading the JSON) at 20 ms server latency, medians of 31
    interleaved calls                                                                                    <= 1.10x
12. 64 `AsyncClient.chat` calls gathered at 200 ms latency vs one such call                             <= 2.5x
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent.parent


def run_client_figures(record: Callable[..., Any], interleave, med, server, key: str, tmp: Path) -> None:
    sys.path.insert(0, str(ROOT))
    import requests

    from gradient_inference import AsyncClient, Client

    data, cache = tmp / "client-data", tmp / "client-cache"
    print("\n[11] client.chat (history on) vs a bare requests.Session().post, 20 ms latency")
    server.latency = 0.020
    try:
        client = Client(key, base_url=server.url, data_dir=data, cache_dir=cache)
        session = requests.Session()
        url, headers = server.url + "/chat/completions", {"Authorization": f"Bearer {key}"}
        body = {"model": "openai-gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]}

        def ours() -> float:
            start = time.perf_counter()
            assert client.chat("hi").text == "echo: hi"
            return (time.perf_counter() - start) * 1000

        def floor() -> float:
            start = time.perf_counter()
            reply = session.post(url, json=body, headers=headers, timeout=30).json()
            assert reply["choices"][0]["message"]["content"] == "echo: hi"
            return (time.perf_counter() - start) * 1000

        times = interleave([ours, floor], 31, warmup=3)
        record(
            "11 client.chat, history on, vs requests.Session().post (20 ms latency)",
            med(times[0]),
            med(times[1]),
            1.10,
            note="medians of 31 interleaved calls",
        )
    finally:
        server.latency = 0.0

    print("\n[12] 64 AsyncClient.chat gathered vs one call, 200 ms latency")
    server.latency = 0.200

    async def gathered() -> tuple[list[float], list[float]]:
        async with AsyncClient(key, base_url=server.url, data_dir=data, cache_dir=cache) as aclient:
            await aclient.chat("warm")
            one, many = [], []
            for _ in range(3):
                start = time.perf_counter()
                await aclient.chat("one")
                one.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                replies = await asyncio.gather(*(aclient.chat(f"q{i}") for i in range(64)))
                many.append((time.perf_counter() - start) * 1000)
                assert len(replies) == 64
            return one, many

    try:
        one, many = asyncio.run(gathered())
        record("12 64 AsyncClient.chat gathered vs one call (200 ms latency)", med(many), med(one), 2.5,
               note="medians of 3 interleaved rounds")  # fmt: skip
    finally:
        server.latency = 0.0
