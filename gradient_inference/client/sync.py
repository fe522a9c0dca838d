"""Client: the Python API. Each method builds its request, calls the pipeline (the same functions the commands
call) and wraps the reply; every call is a history row of command `python`, budgets and retries apply, and
nothing is printed: remarks go to the `gradient_inference` logger. Safe to share between threads."""

from __future__ import annotations

import logging
import os

from gradient_inference.client import results
from gradient_inference.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

log = logging.getLogger("gradient_inference")
POOL_SIZE = 64  # connections kept to the API: as many threads as are likely to share a Client
COMPARE_OPTIONS = {"api", "runs", "concurrency", "temperature", "max_tokens", "within", "output", "max_cost"}


class Client:
    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        budget: str | None = None,
        history: bool | str | None = None,
        data_dir: str | os.PathLike | None = None,
        cache_dir: str | os.PathLike | None = None,
    ) -> None:
        """Unset values come from the commands' environment variables (GRADIENT_API_KEY, GRADIENT_BASE_URL,
        GRADIENT_BUDGET, GRADIENT_HISTORY, GRADIENT_DATA_DIR, GRADIENT_CACHE_DIR). A bad value is a ValueError."""
        from gradient_inference.pipeline import settings

        built = settings.build(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            budget=budget,
            history=history,
            data_dir=os.fspath(data_dir) if data_dir is not None else None,
            cache_dir=os.fspath(cache_dir) if cache_dir is not None else None,
            surface="python",
            warn=log.warning,
        )
        if built.api_key:
            from gradient_inference.cli.base import add_secret

            add_secret(built.api_key)  # never in an error message, a log line or the history
        from gradient_inference.network import api as net

        self._settings = built.replace(session=net.open_session(built.max_retries, pool_size=POOL_SIZE))

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._settings.session.close()

    def __repr__(self) -> str:
        return f"Client(base_url={self._settings.base_url!r})"

    # ------------------------------------------------------------ methods

    def models(self, query: str | None = None, *, prices: bool = False) -> list[results.Model]:
        """The models the key can use, sorted by id (with input_price and output_price when prices=True)."""
        from gradient_inference.pipeline.models import list_models

        models, _ = list_models(self._settings, query, prices)
        return [results.Model(m) for m in models]

    def chat(self, prompt: str | None = None, **options: Any) -> results.ChatReply:
        """One reply; see references/python.md for the options (messages, model, api, system, tools, tool_choice,
        schema, temperature, max_tokens, stop, conversation_id, web_search, web_fetch, knowledge_base, mcp...)."""
        from gradient_inference.pipeline import chat

        return results.ChatReply(chat.complete(self._settings, chat_request(prompt, options)))

    def stream(self, prompt: str | None = None, **options: Any) -> ChatStream:
        """chat() streamed: iterate for the text as it arrives; .reply is the whole reply afterwards."""
        return ChatStream(self._settings, chat_request(prompt, {**options, "stream": True}))

    def embed(self, texts: list[str] | str, model: str | None = None) -> results.Embeddings:
        """Embedding vectors for texts, in order."""
        from gradient_inference.pipeline.embed import embed

        return results.Embeddings(embed(self._settings, texts, model))

    def image(
        self, prompt: str, *, model: str | None = None, n: int = 1, size: str | None = None, quality: str | None = None
    ) -> results.Images:
        """Generated images (bytes; .save(path) writes one without clobbering); size None is auto."""
        from gradient_inference.pipeline.image import generate

        return results.images_of(generate(self._settings, prompt, model, n, size or "auto", quality))

    def prices(self, model: str | None = None, *, offline: bool = False) -> dict[str, Any]:
        """The price table (what gradient-pricing --json prints), filtered by model, provider or API id."""
        from gradient_inference.prices import lookup

        query = lookup.PriceQuery(model, offline, cache_dir=self._settings.cache_dir, timeout=lookup.PAGE_TIMEOUT)
        return lookup.as_json(*lookup.price_rows(query, self._settings.warn))

    def compare(
        self,
        models: list[str],
        prompts: list[str | dict[str, Any]],
        *,
        system: str | None = None,
        judge: str | None = None,
        rubric: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """What gradient-compare --json prints (with "answers"): prompts are texts or batch-format objects (id,
        prompt or messages, system, expect); options: api, runs, concurrency, temperature, max_tokens, within,
        output, max_cost (see references/compare.md)."""
        from gradient_inference.compare import prompts as given
        from gradient_inference.compare.running import compare

        unknown = set(options) - COMPARE_OPTIONS
        if unknown:
            raise UsageError(f"unknown compare option {sorted(unknown)[0]!r}")
        if rubric is not None and not judge:
            raise UsageError("rubric needs judge")
        return compare(self._settings, list(models), given.given(prompts, system), judge=judge, rubric=rubric,
                       **options)  # fmt: skip

    def usage(self, since: str | None = None, by: str = "day") -> dict[str, Any]:
        """What recorded calls cost (what gradient-usage --json prints)."""
        from gradient_inference.spend import report

        return report.usage_report(self._settings, since or "7d", by)


class ChatStream:
    """Iterate for text pieces as they arrive; afterwards .reply is the whole ChatReply. The call runs in a worker
    thread; breaking off early stops it (recorded as cancelled)."""

    def __init__(self, settings, request) -> None:
        import queue
        import threading

        self.reply: results.ChatReply | None = None
        self._pieces: queue.Queue = queue.Queue()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(settings, request), daemon=True)
        self._thread.start()

    def _run(self, settings, request) -> None:
        run_stream(settings, request, self._pieces.put, self._stopped.is_set)

    def __iter__(self) -> Iterator[str]:
        while True:
            kind, value = self._pieces.get()
            if kind != "text":
                self.reply = finished(kind, value)
                return
            yield value

    def close(self) -> None:
        self._stopped.set()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_stream(settings, request, put, stopped) -> None:
    """A streamed call for a reader in another thread: put(("text", piece)) as text arrives, then ("done", reply)
    or ("error", exception). A reader that stopped (stopped() true) ends the call at its next piece."""
    from gradient_inference.errors import GradientError
    from gradient_inference.pipeline import chat

    def on_text(text: str) -> None:
        if stopped():
            raise GradientError("the stream was closed by its reader", kind="cancelled")
        put(("text", text))

    try:
        put(("done", chat.complete(settings, request, on_text)))
    except BaseException as exc:  # handed to the reader's thread, raised there
        put(("error", exc))


def finished(kind: str, value: Any) -> results.ChatReply:
    """The end of a stream: the whole reply, or the call's exception raised in the reader's thread."""
    if kind == "error":
        raise value
    return results.ChatReply(value)


def chat_request(prompt: str | None, options: dict[str, Any]):
    """The pipeline's ChatRequest from the Python API's keyword arguments; ValueError (UsageError) when bad."""
    from gradient_inference.llm import conversation as conv
    from gradient_inference.llm import tools as gt
    from gradient_inference.pipeline import chat

    given = dict(options)
    try:
        if given.get("messages") is not None:
            given["messages"] = conv.check_messages(list(given["messages"]))
        if given.get("tools") is not None:
            given["tools"] = gt.normalize_tools(list(given["tools"]))
        if given.get("schema") is not None:
            given["schema"] = gt.schema_of(given["schema"], "response")
        if given.get("images") is not None:
            from gradient_inference.llm.vision import load_images

            given["images"] = load_images([os.fspath(p) for p in given["images"]])
    except UsageError:
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for name in ("stop", "knowledge_base"):
        if isinstance(given.get(name), str):
            given[name] = [given[name]]
    if isinstance(given.get("mcp"), dict):  # {label: url}
        given["mcp"] = [f"{label}={url}" for label, url in given["mcp"].items()]
    if given.get("agent_url"):
        from gradient_inference.network import api as net

        given["agent_url"] = net.agent_endpoint(given["agent_url"])
    try:
        request = chat.ChatRequest(prompt=prompt, **given)
    except TypeError as exc:
        raise UsageError(str(exc)) from None
    if prompt is None and request.messages is None:
        raise UsageError("give a prompt or messages")
    chat.check(request)
    return request
