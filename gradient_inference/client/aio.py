"""AsyncClient: Client's methods as coroutines. Each call runs the same pipeline in a worker thread of the client's
own pool (as many threads as max_concurrency, 64 by default), so gathered calls really run at once; streams hand
their text to the event loop as it arrives."""

from __future__ import annotations

import asyncio
import functools

from gradient_inference.client import results
from gradient_inference.client.sync import Client, chat_request, finished, run_stream

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from typing import Any

DEFAULT_CONCURRENCY = 64


class AsyncClient:
    def __init__(self, api_key: str | None = None, *, max_concurrency: int = DEFAULT_CONCURRENCY, **settings: Any):
        """Client's arguments, and max_concurrency: calls running at once (more wait for a free worker)."""
        from concurrent.futures import ThreadPoolExecutor

        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ValueError(f"max_concurrency must be a positive whole number, got {max_concurrency!r}")
        self._client = Client(api_key, **settings)
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="gradient")

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    async def _run(self, method, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(method, *args, **kwargs))

    async def models(self, query: str | None = None, *, prices: bool = False) -> list[results.Model]:
        return await self._run(self._client.models, query, prices=prices)

    async def chat(self, prompt: str | None = None, **options: Any) -> results.ChatReply:
        return await self._run(self._client.chat, prompt, **options)

    def stream(self, prompt: str | None = None, **options: Any) -> AsyncChatStream:
        """`async for text in client.stream(...)`; .reply afterwards."""
        return AsyncChatStream(self, chat_request(prompt, {**options, "stream": True}))

    async def embed(self, texts: list[str] | str, model: str | None = None) -> results.Embeddings:
        return await self._run(self._client.embed, texts, model)

    async def image(self, prompt: str, **options: Any) -> results.Images:
        return await self._run(self._client.image, prompt, **options)

    async def prices(self, model: str | None = None, *, offline: bool = False) -> dict[str, Any]:
        return await self._run(self._client.prices, model, offline=offline)

    async def usage(self, since: str | None = None, by: str = "day") -> dict[str, Any]:
        return await self._run(self._client.usage, since, by)


class AsyncChatStream:
    """The pipeline's stream in a worker thread, its text handed to the event loop through a queue."""

    def __init__(self, owner: AsyncClient, request) -> None:
        self.reply: results.ChatReply | None = None
        self._owner, self._request, self._closed = owner, request, False

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue = asyncio.Queue()

        def put(item: tuple) -> None:
            loop.call_soon_threadsafe(pieces.put_nowait, item)

        settings = self._owner._client._settings
        loop.run_in_executor(self._owner._pool, run_stream, settings, self._request, put, lambda: self._closed)
        try:
            while True:
                kind, value = await pieces.get()
                if kind != "text":
                    self.reply = finished(kind, value)
                    return
                yield value
        finally:
            self._closed = True
