"""Make embeddings (POST /embeddings) for many texts: chunks sent in parallel, rows kept in input order."""

from __future__ import annotations

import argparse
import sys

from gradient_inference.cli import base as cli

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_MODEL = "qwen3-embedding-0.6b"
CHUNK = 128  # inputs per request (the API takes up to 2048; smaller chunks fail and retry more cheaply)
DEFAULT_CONCURRENCY, MAX_CONCURRENCY = 4, 16


def build_parser() -> cli.ArgumentParser:
    parser = cli.new_parser("gradient-embed", "Turn texts into embedding vectors (for search and retrieval).")
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to embed (or use --input-file, or pipe lines)")
    parser.add_argument(
        "--input-file", metavar="PATH", help="one text per line, UTF-8; '-' reads stdin. A blank line is refused"
    )
    parser.add_argument(
        "--model", type=cli.non_empty, default=DEFAULT_MODEL, help=f"embedding model id (default {DEFAULT_MODEL})"
    )
    parser.add_argument(
        "--concurrency",
        metavar="N",
        type=concurrency,
        default=DEFAULT_CONCURRENCY,
        help=f"requests of up to {CHUNK} texts in flight at once, 1 to {MAX_CONCURRENCY} (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--output", "-o", metavar="PATH", help='write JSONL rows {"index", "embedding"}, one per input, in order'
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing --output file")
    parser.add_argument("--cache-dir", help="pricing cache folder for the cost estimate (env GRADIENT_CACHE_DIR)")
    return parser


def concurrency(text: str) -> int:
    value = cli.number(text, int)
    if not 1 <= value <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_CONCURRENCY}; got {text}")
    return value


def read_inputs(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The texts: positional arguments, else the lines of --input-file or piped stdin; blanks refused."""
    if args.texts and args.input_file is not None:
        parser.error("give texts as arguments or --input-file, not both")
    if args.texts:
        for number, text in enumerate(args.texts, 1):
            if not text.strip():
                parser.error(f"text {number} is blank")
        return list(args.texts)
    if args.input_file is None and sys.stdin.isatty():
        parser.error("no input: give texts as arguments, --input-file PATH, or pipe one text per line on stdin")
    source = "stdin" if args.input_file in (None, "-") else args.input_file
    try:
        if source == "stdin":
            raw = sys.stdin.buffer.read().decode("utf-8")
        else:
            with open(source, encoding="utf-8") as fh:
                raw = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        parser.error(f"cannot read {source}: {getattr(exc, 'strerror', None) or exc}")
    lines = raw.split("\n")  # not splitlines(): form feeds and the like stay inside a line
    if lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if not lines:
        parser.error(f"no input: {source} is empty")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            parser.error(f"line {number} of {source} is blank; every line must hold a text (row N is line N)")
    return lines


def parse_chunk(data: Any, count: int) -> tuple[list[list[float]], dict[str, int]]:
    """The chunk's vectors in input order, and its usage, from an embeddings response."""
    from gradient_inference.network import api as net

    items = net.require(data, "data")
    if not isinstance(items, list) or len(items) != count:
        got = len(items) if isinstance(items, list) else "no"
        raise cli.CliError(f"the server returned {got} embeddings for {count} inputs", kind="bad_response")
    vectors: list[Any] = [None] * count
    for item in items:
        index = item.get("index") if isinstance(item, dict) else None
        vector = item.get("embedding") if isinstance(item, dict) else None
        if not isinstance(index, int) or not 0 <= index < count or vectors[index] is not None:
            raise cli.CliError(
                f"the response has a missing, repeated or out-of-range index {index!r}", kind="bad_response"
            )
        if not isinstance(vector, list) or not vector or not isinstance(vector[0], (int, float)):
            raise cli.CliError(f"embedding {index} is not a list of numbers", kind="bad_response")
        vectors[index] = vector
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return vectors, {name: int(usage.get(name) or 0) for name in ("prompt_tokens", "total_tokens")}


def embed_all(args: argparse.Namespace, parser: argparse.ArgumentParser, inputs: list[str]) -> tuple[list, dict]:
    """Every vector in input order and the summed usage; up to --concurrency chunks in flight."""
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    from gradient_inference.history import record
    from gradient_inference.network import api as net
    from gradient_inference.prices import table as prices

    chunks = [inputs[start : start + CHUNK] for start in range(0, len(inputs), CHUNK)]
    session = net.open_session(args.max_retries, pool_size=args.concurrency)
    table = prices.offline_prices(args.cache_dir)  # read once: each chunk's history row carries its cost
    row = prices.match_price(args.model, table["models"]) if table else None

    def embed(number: int) -> tuple[list, dict]:
        chunk = chunks[number]
        body = {"model": args.model, "input": chunk}  # the schema rejects any other field
        try:
            resp = net.api_request(args, parser, "POST", "/embeddings", body, session=session)
            data = net.read_json(resp)
            vectors, usage = parse_chunk(data, len(chunk))
            model = data.get("model") if isinstance(data.get("model"), str) else None
            billed = {"input_tokens": usage["prompt_tokens"], "output_tokens": 0}
            cost = prices.cost_object(billed, row, table["source"]) if table else None
            record.update(resp, reply={"model": model, "usage": billed}, cost=cost)
            return vectors, usage
        except cli.CliError as err:
            first = number * CHUNK + 1
            err.message = (
                f"chunk {number + 1} of {len(chunks)} (inputs {first}-{first + len(chunk) - 1}): {err.message}"
            )
            raise

    pool = ThreadPoolExecutor(max_workers=args.concurrency, thread_name_prefix="embed")
    try:
        futures = [pool.submit(embed, number) for number in range(len(chunks))]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:  # in order: the first failure reported is the earliest chunk's
            if future in done and future.exception() is not None:
                raise future.exception()
        results = [future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    vectors = [vector for chunk_vectors, _ in results for vector in chunk_vectors]
    usage = {name: sum(chunk_usage[name] for _, chunk_usage in results) for name in ("prompt_tokens", "total_tokens")}
    return vectors, usage


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    result = embed_result(parser, args)
    if result is None:  # --dry-run
        return 0
    if args.json:
        import json

        sys.stdout.write(cli.redact(json.dumps(result, separators=(",", ":"))) + "\n")  # one line: vectors are long
        return 0
    cost, usage, vectors = result["cost"], result["usage"], result.get("embeddings")
    dimensions = result.get("dimensions") or len(vectors[0]["embedding"])
    count = result.get("count") or len(vectors)
    where = f" -> {args.output}" if args.output is not None else ""
    money = f", ~${cost['usd']:.6f} (prices from {cost['source']})" if cost else ""
    print(f"{count} embeddings of {dimensions} dimensions from {args.model}{where}")
    print(f"{usage['prompt_tokens']} tokens{money}")
    if cost is None:
        cli.note(f"cost unknown: no token price listed for {args.model}")
    return 0


def embed_result(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any] | None:
    """What --json prints (the vectors, or where --output wrote them); None on --dry-run.
    gradient-mcp's embed tool calls this too."""
    inputs = read_inputs(parser, args)
    from gradient_inference.files import output as files

    if args.output is not None:
        files.check_output_arg(parser, args.output)
        if not args.dry_run:
            files.check_targets([args.output], args.force)
    if args.dry_run:
        from gradient_inference.network import api as net

        for start in range(0, len(inputs), CHUNK):
            net.api_request(
                args, parser, "POST", "/embeddings", {"model": args.model, "input": inputs[start : start + CHUNK]}
            )
        return None
    vectors, usage = embed_all(args, parser, inputs)
    import json

    dimensions = len(vectors[0])
    if args.output is not None:  # what was paid for is on disk before any cost is worked out
        rows = "".join(
            json.dumps({"index": i, "embedding": v}, separators=(",", ":")) + "\n" for i, v in enumerate(vectors)
        )
        files.write_all([args.output], [rows.encode("utf-8")], args.force)
    from gradient_inference.prices import table as prices

    cost = prices.call_cost(args.model, {"input_tokens": usage["prompt_tokens"], "output_tokens": 0}, args.cache_dir)
    result: dict[str, Any] = {"model": args.model}
    if args.output is not None:
        result.update(path=args.output, count=len(vectors), dimensions=dimensions)
    else:
        result["embeddings"] = [{"index": i, "embedding": v} for i, v in enumerate(vectors)]
    result.update(usage=usage, cost=cost)
    return result


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
