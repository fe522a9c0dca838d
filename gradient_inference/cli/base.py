"""The command line: parser factory, flag types, output, errors and the exit-code contract.
This is all that `--help` and a usage error load, so it imports nothing past argparse at the top;
json and tabulate are imported inside the functions that use them.
"""

from __future__ import annotations

import argparse  # its own imports (re, gettext) are the floor of every start-up
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs a few ms per start
    from typing import Any, Callable, NoReturn


DEFAULT_BASE_URL = "https://inference.do-ai.run/v1"
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_state: dict[str, Any] = {"json": False, "verbose": False, "prog": "gradient"}


# ---------------------------------------------------------------- output


_SECRETS: set[str] = set()  # keys given in code (Client(api_key=...)): redacted like the environment's


def add_secret(key: str) -> None:
    _SECRETS.add(key) if len(key) >= 4 else None


def secrets() -> list[str]:
    """Every key this process holds (scanning the environment costs ~10 us: reuse the list within one row)."""
    mcp_tokens = [name for name in os.environ if name.startswith("GRADIENT_MCP_TOKEN_")]
    names = ("GRADIENT_API_KEY", "MODEL_ACCESS_KEY", "GRADIENT_AGENT_KEY", *mcp_tokens)
    return [key for key in (os.environ.get(name, "") for name in names) if len(key) >= 4] + list(_SECRETS)


def redact(text: str, keys: list[str] | None = None) -> str:
    """Remove every key (or the given `keys`, from secrets()) from anything we print or record, even if a server
    echoes it back."""
    for key in secrets() if keys is None else keys:
        text = text.replace(key, "***")
    return text


def print_json(obj: Any, stream=None) -> None:
    import json

    (stream or sys.stdout).write(redact(json.dumps(obj, indent=2, ensure_ascii=False)) + "\n")


def print_table(rows: list[list[Any]], headers: list[str]) -> None:
    from tabulate import tabulate

    print(redact(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)))


def note(message: str) -> None:
    """Human-facing remark on stderr (stdout stays the answer)."""
    print(redact(f"{_state['prog']}: {message}"), file=sys.stderr, flush=True)


def debug(message: str) -> None:
    if _state["verbose"]:
        print(redact(f"[debug] {message}"), file=sys.stderr, flush=True)


def __getattr__(name: str) -> Any:  # cli.CliError and cli.UsageError, loaded on first use: --help needs neither
    if name in ("CliError", "UsageError"):
        from gradient_inference import errors

        return getattr(errors, name)
    raise AttributeError(name)


def run(main: Callable[[list[str] | None], int | None]) -> NoReturn:
    """Run a script's main with the output contract: 0 ok, 1 failure, 2 usage, 130 Ctrl-C."""
    failure = None
    try:
        code = main(None) or EXIT_OK
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (e.g. `| head`): silence the final flush too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    except Exception as exc:
        from gradient_inference.errors import CliError  # here, not at the top: --help never loads it

        if isinstance(exc, CliError):
            failure, code = exc, exc.exit_code
        else:  # last resort: the contract says never a traceback
            if _state["verbose"]:
                __import__("traceback").print_exc()
            failure, code = CliError(f"unexpected {type(exc).__name__}: {exc}", kind="internal_error"), EXIT_FAIL
    if failure:
        from gradient_inference.cli.errors import report

        report(failure, _state["prog"], _state["json"], redact)
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)


# ---------------------------------------------------------------- arguments


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but usage errors follow the contract: exit 2, JSON on stderr with --json."""

    def error(self, message: str) -> NoReturn:
        if _state["json"] or "--json" in sys.argv[1:]:
            import json

            err = {"type": "usage_error", "message": message, "status": None, "request_id": None}
            sys.stderr.write(json.dumps({"error": err}) + "\n")
        else:
            self.print_usage(sys.stderr)
            print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, wrapping at spaces without textwrap (whose import and regexes cost ~3% of a start)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        lines: list[str] = []
        for word in text.split():
            if lines and len(lines[-1]) + 1 + len(word) <= width:
                lines[-1] += " " + word
            else:
                lines.append(word)
        return lines

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line for line in self._split_lines(text, width - len(indent)))


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    """The formatter, with the width found without importing shutil (a few ms per start)."""
    try:
        width = int(os.environ.get("COLUMNS") or os.get_terminal_size(sys.stdout.fileno()).columns)
    except (OSError, ValueError, AttributeError):
        width = 100
    return HelpFormatter(prog, width=max(40, min(width, 120) - 2))


def new_parser(prog: str, description: str, api: bool = True) -> ArgumentParser:
    _state["prog"] = prog
    parser = ArgumentParser(prog=prog, description=description, formatter_class=_help_formatter)
    machine = "machine-readable JSON on stdout (errors as JSON on stderr)"
    parser.add_argument("--json", action="store_true", help=machine)
    if api:
        parser.add_argument("--base-url", help=f"API base URL (env GRADIENT_BASE_URL, default {DEFAULT_BASE_URL})")
        timeout = "seconds for connect and each read (default 120)"
        parser.add_argument("--timeout", type=positive_float, default=120.0, help=timeout)
        retries = "retries on connection errors, 408, 409, 429 and 5xx (default 2)"
        parser.add_argument("--max-retries", type=non_negative_int, default=2, help=retries)
        parser.add_argument("--dry-run", action="store_true", help="print the request as a curl command; send nothing")
        parser.add_argument("--no-history", action="store_true", help="record nothing in the local history")
        parser.add_argument("--budget", metavar="USD/PERIOD", help="spend cap, e.g. 5/day (env GRADIENT_BUDGET)")
    parser.add_argument("--verbose", action="store_true", help="log requests, responses and retries to stderr")
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The flags; for a command that calls the API also args.settings, the pipeline's Settings, so that a bad
    budget, history mode or base URL is a usage error (exit 2) before anything else happens."""
    args = parser.parse_args(argv)
    _state["json"] = args.json
    _state["verbose"] = args.verbose or os.environ.get("GRADIENT_LOG", "").lower() == "debug"
    if hasattr(args, "base_url") or hasattr(args, "budget"):
        from gradient_inference.cli.settings import settings

        args.settings = settings(args, _state["prog"], note)
    return args


def number(text: str, kind: type) -> float:
    """`kind(text)` for an argparse type function, with a usage message instead of a ValueError."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a {'whole ' if kind is int else ''}number: {text!r}") from None


def positive_float(text: str) -> float:
    value = number(text, float)
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def temperature(text: str) -> float:
    value = number(text, float)
    if not 0 <= value <= 2:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def positive_int(text: str) -> int:
    value = number(text, int)
    if value < 1:  # one message for 0 and for -3: the same fault
        raise argparse.ArgumentTypeError(f"must be a positive whole number (1 or more), got {text!r}")
    return value


def non_empty(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text.strip()


def json_object(text: str) -> dict:
    """A JSON object given on the command line (e.g. --input-json '{"seed": 7}')."""
    import json

    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object such as '{\"seed\": 7}'")
    return value


def add_job_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of commands that run an async-invoke (fal) job: --max-wait and --input-json."""
    wait = "fal models: give up waiting for the job after this long; the error names its request id (default 600)"
    parser.add_argument("--max-wait", metavar="SECONDS", type=positive_float, default=600.0, help=wait)
    fields = "fal models: extra model input fields as a JSON object, e.g. '{\"seed\": 7}'"
    parser.add_argument("--input-json", metavar="JSON", type=json_object, help=fields)


def add_server_tool_flags(parser: argparse.ArgumentParser) -> None:
    """DigitalOcean's server-side tools (chat, batch run); llm/server_tools.py checks and builds them."""
    for flag, kind, text in (
        ("--web-search", {"action": "store_true"}, "let the model search the web ($0.01 per search)"),
        ("--web-fetch", {"action": "store_true"}, "let the model read web pages and PDFs the prompt names"),
        ("--web-max-uses", {"type": int, "metavar": "N"}, "web searches or fetches per request, 1 to 5"),
        ("--web-max-results", {"type": int, "metavar": "N"}, "results per web search, 1 to 10"),
        ("--knowledge-base", {"action": "append", "metavar": "ID"}, "retrieve from this knowledge base (repeatable)"),
        ("--mcp", {"action": "append", "metavar": "LABEL=URL"}, "a remote MCP server the model may use (repeatable)"),
        ("--mcp-allow", {"action": "append", "metavar": "LABEL:TOOL"}, "allow only this tool of a server (repeatable)"),
    ):
        parser.add_argument(flag, **kind, help=text)
