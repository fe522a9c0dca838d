"""Serve the commands as MCP tools over stdio (list_models, chat, generate_image, embed, get_prices, usage), for hosts
that speak the Model Context Protocol. The SDK is the optional extra [mcp]: --help and a missing SDK load none of it."""

from __future__ import annotations

import os

from gradient_inference.cli import base as cli

INSTALL_HINT = "pip install 'gradient-inference[mcp]' (Python 3.10 or newer)"
SDK_MAJORS = (1, 2)  # the low-level Server API of both is handled in mcpserver/server.py


def build_parser() -> cli.ArgumentParser:
    parser = cli.new_parser(
        "gradient-mcp",
        "Serve list_models, chat, compare, generate_image, embed, get_prices and usage as MCP tools over stdio. "
        "The key comes from the environment (GRADIENT_API_KEY); logs go to stderr.",
        api=False,
    )
    parser.add_argument(
        "--output-dir", metavar="DIR", help="folder generate_image saves into, never overwriting (default: current)"
    )
    parser.add_argument("--base-url", help=f"API base URL (env GRADIENT_BASE_URL, default {cli.DEFAULT_BASE_URL})")
    parser.add_argument(
        "--timeout", type=cli.positive_float, default=120.0, help="seconds for connect and each read (default 120)"
    )
    parser.add_argument(
        "--max-retries",
        type=cli.non_negative_int,
        default=2,
        help="retries on connection errors, 408, 409, 429 and 5xx (default 2)",
    )
    parser.add_argument("--cache-dir", help="pricing cache folder (env GRADIENT_CACHE_DIR)")
    parser.add_argument(
        "--no-history", action="store_true", help="record no call in the local history (env GRADIENT_HISTORY=off)"
    )
    parser.add_argument(
        "--max-concurrency",
        metavar="N",
        type=cli.positive_int,
        default=32,
        help="tool calls running at once; more wait their turn (default 32)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    args.output_dir = os.path.abspath(args.output_dir or os.getcwd())
    if not os.path.isdir(args.output_dir):
        parser.error(f"--output-dir {args.output_dir}: not a folder")
    import importlib.util

    try:
        found = importlib.util.find_spec("mcp") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise cli.CliError(f"the MCP SDK is not installed: {INSTALL_HINT}", kind="missing_sdk", exit_code=2)
    from importlib.metadata import version

    major = int(version("mcp").split(".")[0])
    if major not in SDK_MAJORS:
        raise cli.CliError(f"mcp {version('mcp')} is not supported: {INSTALL_HINT}", kind="missing_sdk", exit_code=2)
    from gradient_inference.mcpserver import server

    server.serve(Served(args))
    return 0


class Served:
    """What the server needs from its flags: the pipeline's settings, the image folder, the concurrency."""

    def __init__(self, args) -> None:
        self.settings = args.settings
        self.output_dir, self.max_concurrency, self.verbose = args.output_dir, args.max_concurrency, args.verbose


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
