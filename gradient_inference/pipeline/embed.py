"""Embeddings (POST /embeddings) for many texts: chunks sent in parallel on one session, vectors kept in input
order, each chunk's usage and cost on its own history row."""

from __future__ import annotations

from gradient_inference.errors import GradientError, UsageError
from gradient_inference.pipeline.call import Call

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gradient_inference.pipeline.settings import Settings

DEFAULT_MODEL = "qwen3-embedding-0.6b"
CHUNK = 128  # inputs per request (the API takes up to 2048; smaller chunks fail and retry more cheaply)
MAX_CONCURRENCY = 16


def check_texts(texts: Any) -> list[str]:
    """The texts as a list of non-blank strings, else UsageError naming the first bad one (from 1)."""
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, (list, tuple)) or not texts:
        raise UsageError("texts must be a non-empty list of strings")
    for number, text in enumerate(texts, 1):
        if not isinstance(text, str) or not text.strip():
            raise UsageError(f"text {number} is blank or not a string")
    return list(texts)


def embed(
    settings: Settings, texts: list[str], model: str | None = None, concurrency: int = 4, command: str | None = None
) -> dict[str, Any] | None:
    """{model, vectors, usage: {prompt_tokens, total_tokens}, cost} for every text in order; None on a dry run
    (each chunk's curl printed)."""
    texts = check_texts(texts)
    model = model or DEFAULT_MODEL
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"concurrency must be 1 to {MAX_CONCURRENCY}, got {concurrency}")
    chunks = [texts[start : start + CHUNK] for start in range(0, len(texts), CHUNK)]
    from gradient_inference.network import api as net

    with Call(settings, command) as call:
        if settings.dry_run:
            for chunk in chunks:
                net.api_request(call, "POST", "/embeddings", {"model": model, "input": chunk})
            return None
        results = _send_all(call, model, chunks, concurrency)
    vectors = [vector for chunk_vectors, _, _ in results for vector in chunk_vectors]
    usage = {name: sum(u[name] for _, u, _ in results) for name in ("prompt_tokens", "total_tokens")}
    costs = [cost for _, _, cost in results]
    cost = None
    if costs and all(costs):  # every chunk priced: one cost object for the whole call
        cost = {**costs[0], "usd": round(sum(c["usd"] for c in costs), 8)}
    return {"model": model, "vectors": vectors, "usage": usage, "cost": cost}


def _send_all(call: Call, model: str, chunks: list[list[str]], concurrency: int) -> list[tuple]:
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    from gradient_inference.history import record
    from gradient_inference.network import api as net
    from gradient_inference.prices import table as prices

    session = call.settings.session or net.open_session(call.settings.max_retries, pool_size=concurrency)

    def send(number: int) -> tuple[list, dict, dict | None]:
        chunk = chunks[number]
        body = {"model": model, "input": chunk}  # the schema rejects any other field
        try:
            resp = net.api_request(call, "POST", "/embeddings", body, session=session)
            data = net.read_json(resp)
            vectors, usage = parse_chunk(data, len(chunk))
            served = data.get("model") if isinstance(data.get("model"), str) else None
            tokens = {"input_tokens": usage["prompt_tokens"], "output_tokens": 0}
            cost = prices.call_cost(served or model, tokens, call.settings.cache_dir) or (
                prices.call_cost(model, tokens, call.settings.cache_dir) if served and served != model else None
            )
            record.update(resp, reply={"model": served, "usage": tokens}, cost=cost)
            return vectors, usage, cost
        except GradientError as err:
            first = number * CHUNK + 1
            err.message = (
                f"chunk {number + 1} of {len(chunks)} (inputs {first}-{first + len(chunk) - 1}): {err.message}"
            )
            raise

    if len(chunks) == 1:
        return [send(0)]
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="embed")
    try:
        futures = [pool.submit(send, number) for number in range(len(chunks))]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:  # in order: the first failure reported is the earliest chunk's
            if future in done and future.exception() is not None:
                raise future.exception()
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def parse_chunk(data: Any, count: int) -> tuple[list[list[float]], dict[str, int]]:
    """The chunk's vectors in input order, and its usage, from an embeddings response."""
    from gradient_inference.network import api as net

    items = net.require(data, "data")
    if not isinstance(items, list) or len(items) != count:
        got = len(items) if isinstance(items, list) else "no"
        raise GradientError(f"the server returned {got} embeddings for {count} inputs", kind="bad_response")
    vectors: list[Any] = [None] * count
    for item in items:
        index = item.get("index") if isinstance(item, dict) else None
        vector = item.get("embedding") if isinstance(item, dict) else None
        if not isinstance(index, int) or not 0 <= index < count or vectors[index] is not None:
            raise GradientError(
                f"the response has a missing, repeated or out-of-range index {index!r}", kind="bad_response"
            )
        if not isinstance(vector, list) or not vector or not isinstance(vector[0], (int, float)):
            raise GradientError(f"embedding {index} is not a list of numbers", kind="bad_response")
        vectors[index] = vector
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return vectors, {name: int(usage.get(name) or 0) for name in ("prompt_tokens", "total_tokens")}
