"""Make embeddings (POST /embeddings) for many texts: chunks sent in parallel, rows kept in input order."""

from __future__ import annotations

import argparse
import sys

from gradient_inference.cli import base as cli

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_MODEL = "qwen3-embedding-0.6b"  # pipeline/embed's; repeated so --help need not load it
CHUNK = 128  # pipeline/embed's, likewise
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
    """What --json prints (the vectors, or where --output wrote them); None on --dry-run."""
    inputs = read_inputs(parser, args)
    from gradient_inference.files import output as files

    if args.output is not None:
        files.check_output_arg(args.output)
        if not args.dry_run:
            files.check_targets([args.output], args.force, before_sending=True)
    from gradient_inference.pipeline.embed import embed

    found = embed(args.settings, inputs, args.model, args.concurrency)
    if found is None:  # --dry-run
        return None
    vectors = found["vectors"]
    if args.output is not None:  # written before anything else can fail: the call is paid for
        import json

        rows = "".join(
            json.dumps({"index": i, "embedding": v}, separators=(",", ":")) + "\n" for i, v in enumerate(vectors)
        )
        files.write_all([args.output], [rows.encode("utf-8")], args.force)
    result: dict[str, Any] = {"model": args.model}
    if args.output is not None:
        result.update(path=args.output, count=len(vectors), dimensions=len(vectors[0]))
    else:
        result["embeddings"] = [{"index": i, "embedding": v} for i, v in enumerate(vectors)]
    result.update(usage=found["usage"], cost=found["cost"])
    return result


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
