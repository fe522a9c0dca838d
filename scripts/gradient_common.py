"""Shared plumbing for the gradient_* scripts: flags, config, HTTP, errors, prices.

Imports happen inside the functions that need them (even json), so `--help` pays only for
argparse and a cached price lookup only for argparse and json.
"""

from __future__ import annotations

import argparse  # its own imports (re, gettext) are the floor of every start-up
import os
import re
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs a few ms per start
    from collections.abc import Iterator
    from typing import Any, Callable, NoReturn
# Everything else (pathlib, urllib, datetime, tempfile, requests, tabulate...) is imported where used.

DEFAULT_BASE_URL = "https://inference.do-ai.run/v1"
DEFAULT_PRICING_URL = "https://docs.digitalocean.com/products/gradient-ai-platform/details/pricing/"
KEY_HELP = (
    "set GRADIENT_API_KEY (or MODEL_ACCESS_KEY) to a model access key; create one in the "
    "DigitalOcean control panel under Gradient AI > Serverless Inference > Model Access Keys "
    "(https://cloud.digitalocean.com/gen-ai/model-access-keys)"
)
RETRY_STATUSES = frozenset([408, 409, 429, *range(500, 600)])
RETRY_AFTER_CAP = 60.0  # seconds; a longer (or unparsable) Retry-After falls back to backoff, as openai-python does
BACKOFF_BASE, BACKOFF_MAX = 0.5, 8.0
MAX_BODY_BYTES = 64 * 1024 * 1024  # image responses with n=10 base64 PNGs stay well under this
CACHE_MAX_AGE = 24 * 3600
CACHE_FORMAT = "gradient-inference-pricing/1"

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_state: dict[str, Any] = {"json": False, "verbose": False, "prog": "gradient"}


class CliError(Exception):
    """A failure to report as one line (or one JSON object) on stderr."""

    def __init__(
        self,
        message: str,
        kind: str = "error",
        status: int | None = None,
        request_id: str | None = None,
        exit_code: int = EXIT_FAIL,
        attempts: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.kind, self.status = message, kind, status
        self.request_id, self.exit_code, self.attempts = request_id, exit_code, attempts


# ---------------------------------------------------------------- output


def redact(text: str) -> str:
    """Remove the API key from anything we print, even if a server echoes it back."""
    for name in ("GRADIENT_API_KEY", "MODEL_ACCESS_KEY"):
        key = os.environ.get(name, "")
        if len(key) >= 4:
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


def report_error(err: CliError) -> None:
    message = " ".join(err.message.split())  # always exactly one line
    if _state["json"]:
        import json

        body = {"type": err.kind, "message": message, "status": err.status, "request_id": err.request_id}
        if err.attempts is not None:
            body["attempts"] = err.attempts
        sys.stderr.write(redact(json.dumps({"error": body})) + "\n")
        return
    extras = []
    if err.status is not None:
        extras.append(f"HTTP {err.status}")
    if err.request_id:
        extras.append(f"request id {err.request_id}")
    if err.attempts and err.attempts > 1:
        extras.append(f"after {err.attempts} attempts")
    suffix = f" ({', '.join(extras)})" if extras else ""
    print(redact(f"{_state['prog']}: error: {message}{suffix}"), file=sys.stderr)


def run(main: Callable[[list[str] | None], int | None]) -> NoReturn:
    """Run a script's main with the output contract: 0 ok, 1 failure, 2 usage, 130 Ctrl-C."""
    try:
        code = main(None) or EXIT_OK
    except CliError as err:
        report_error(err)
        code = err.exit_code
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): silence the final flush too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_OK
    except Exception as exc:  # last resort: the contract says never a traceback
        if _state["verbose"]:
            import traceback

            traceback.print_exc()
        report_error(CliError(f"unexpected {type(exc).__name__}: {exc}", kind="internal_error"))
        code = EXIT_FAIL
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


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's formatter with the width found without importing shutil (a few ms per start)."""
    try:
        width = int(os.environ.get("COLUMNS") or os.get_terminal_size(sys.stdout.fileno()).columns)
    except (OSError, ValueError, AttributeError):
        width = 100
    return argparse.HelpFormatter(prog, width=max(40, min(width, 120) - 2))


def new_parser(prog: str, description: str, api: bool = True) -> ArgumentParser:
    _state["prog"] = prog
    parser = ArgumentParser(prog=prog, description=description, formatter_class=_help_formatter)
    parser.add_argument(
        "--json", action="store_true", help="machine-readable JSON on stdout (errors as JSON on stderr)"
    )
    if api:
        parser.add_argument("--base-url", help=f"API base URL (env GRADIENT_BASE_URL, default {DEFAULT_BASE_URL})")
        parser.add_argument(
            "--timeout", type=positive_float, default=120.0, help="seconds for connect and each read (default 120)"
        )
        parser.add_argument(
            "--max-retries",
            type=non_negative_int,
            default=2,
            help="retries on connection errors, 408, 409, 429 and 5xx (default 2)",
        )
        parser.add_argument("--dry-run", action="store_true", help="print the request as a curl command; send nothing")
    parser.add_argument("--verbose", action="store_true", help="log requests, responses and retries to stderr")
    return parser


def parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    _state["json"] = args.json
    _state["verbose"] = args.verbose or os.environ.get("GRADIENT_LOG", "").lower() == "debug"
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
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def non_empty(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text.strip()


def read_prompt(parser: argparse.ArgumentParser, prompt: str | None, prompt_file: str | None) -> str:
    """The prompt from --prompt, --prompt - (stdin), --prompt-file, or piped stdin."""
    if prompt is not None and prompt_file is not None:
        parser.error("give --prompt or --prompt-file, not both")
    if prompt_file is not None:
        try:
            with open(prompt_file, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            parser.error(f"cannot read --prompt-file {prompt_file}: {getattr(exc, 'strerror', None) or exc}")
    elif prompt == "-" or (prompt is None and not sys.stdin.isatty()):
        text = sys.stdin.read() if sys.stdin else ""
    else:
        text = prompt or ""
    if not text.strip():
        parser.error("the prompt is empty: pass --prompt TEXT, --prompt-file PATH, or pipe it on stdin")
    return text


# ---------------------------------------------------------------- config


def base_url(args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    from urllib.parse import urlsplit

    url = (args.base_url or os.environ.get("GRADIENT_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        parser.error(f"base URL must be an http(s) URL, got {url!r}")
    return url


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_key(url: str) -> str:
    key = (os.environ.get("GRADIENT_API_KEY") or os.environ.get("MODEL_ACCESS_KEY") or "").strip()
    if not key:
        raise CliError(f"no API key: {KEY_HELP}", kind="missing_api_key")
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "https" and not is_loopback(parts.hostname):
        raise CliError(
            f"refusing to send the API key over plain http:// to {parts.hostname}; use https:// "
            "(plain http is allowed only for loopback hosts)",
            kind="insecure_base_url",
        )
    return key


# ---------------------------------------------------------------- HTTP


def _backoff_retry_class():
    import random

    from urllib3.util.retry import Retry

    class LoggedRetry(Retry):
        """urllib3's Retry with jittered backoff from the first retry, a capped Retry-After, and logging."""

        def sleep(self, response=None) -> None:
            attempt = len(self.history)
            wait = None
            if response is not None:
                try:
                    wait = self.get_retry_after(response)
                except Exception:  # an unparsable Retry-After: use backoff
                    wait = None
                if wait is not None and wait > RETRY_AFTER_CAP:
                    debug(f"ignoring Retry-After of {wait:.0f}s (over the {RETRY_AFTER_CAP:.0f}s cap)")
                    wait = None
            if wait is None:
                wait = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
            last = self.history[-1] if self.history else None
            why = f"HTTP {last.status}" if last and last.status else (type(last.error).__name__ if last else "?")
            debug(f"retry {attempt}: {why}; waiting {wait:.2f}s")
            time.sleep(wait)

    return LoggedRetry


def open_session(max_retries: int):
    """One requests.Session per run, retrying what is safe to retry."""
    import requests
    from requests.adapters import HTTPAdapter

    retry = _backoff_retry_class()(
        total=max_retries,
        connect=max_retries,
        read=max_retries,
        status=max_retries,
        other=0,
        allowed_methods=None,  # POSTs too: the API is stateless per request, like openai-python retries
        status_forcelist=RETRY_STATUSES,
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = "gradient-inference/0.1"
    return session


def curl_command(method: str, url: str, body: Any = None) -> str:
    """The request as a runnable curl command; the key stays a shell variable."""
    import json
    import shlex

    parts = ["curl", "-sS", "-X", method, shlex.quote(url), "-H", '"Authorization: Bearer $GRADIENT_API_KEY"']
    if body is not None:
        parts += ["-H", shlex.quote("Content-Type: application/json"), "-d", shlex.quote(json.dumps(body))]
    return " ".join(parts)


def api_request(
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
    method: str,
    path: str,
    body: Any = None,
    stream: bool = False,
    session=None,
):
    """Send one API request and return the successful response (or None with --dry-run).

    Every failure becomes a CliError naming status, server message and request id.
    """
    url = base_url(args, parser) + path
    if getattr(args, "dry_run", False):
        print(curl_command(method, url, body))
        return None
    key = api_key(url)
    import requests

    session = session or open_session(args.max_retries)
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream" if stream else "application/json"}
    debug(f"> {method} {url}")
    debug("> Authorization: Bearer ***")
    started = time.monotonic()
    try:
        resp = session.request(
            method, url, json=body, headers=headers, stream=True, timeout=(args.timeout, args.timeout)
        )
    except requests.exceptions.RequestException as exc:
        raise _transport_error(exc, url, args) from None
    elapsed = (time.monotonic() - started) * 1000
    request_id = _request_id(resp)
    retries = getattr(getattr(resp.raw, "retries", None), "history", ()) or ()
    debug(f"< {resp.status_code} {resp.reason} {elapsed:.0f} ms request-id={request_id or '-'}")
    if resp.status_code >= 400:
        raise _http_error(resp, request_id, len(retries) + 1)
    return resp


def _request_id(resp) -> str | None:
    for name in ("x-request-id", "x-do-request-id", "request-id", "cf-ray"):
        if resp.headers.get(name):
            return redact(resp.headers[name])[:200]
    return None


def _transport_error(exc: Exception, url: str, args: argparse.Namespace) -> CliError:
    from urllib.parse import urlsplit

    import requests

    host = urlsplit(url).netloc
    attempts = args.max_retries + 1
    text = str(exc)
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in text.lower():
        return CliError(f"timed out after {args.timeout:g}s talking to {host}", kind="timeout", attempts=attempts)
    if isinstance(exc, requests.exceptions.SSLError):
        return CliError(f"TLS error talking to {host}: {exc}", kind="tls_error")
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "refused" in text.lower():
            reason = "connection refused"
        elif "name or service not known" in text.lower() or "nodename nor servname" in text.lower():
            reason = "host name not found"
        else:
            reason = "connection failed or dropped"
        return CliError(f"cannot reach {host}: {reason}", kind="connection_error", attempts=attempts)
    return CliError(f"request to {host} failed: {type(exc).__name__}", kind="request_error")


def _http_error(resp, request_id: str | None, attempts: int) -> CliError:
    body = read_body(resp, cap=64 * 1024, strict=False)
    message, kind = summarise_error_body(body, resp.headers.get("content-type", ""))
    if not message:
        message = resp.reason or "request failed"
    if resp.status_code == 401:
        message = f"{message}; check your key: {KEY_HELP}"
    return CliError(
        message,
        kind=kind or _status_kind(resp.status_code),
        status=resp.status_code,
        request_id=request_id,
        attempts=attempts,
    )


def _status_kind(status: int) -> str:
    return {
        400: "bad_request",
        401: "authentication_error",
        403: "permission_denied",
        404: "not_found",
        408: "timeout",
        409: "conflict",
        413: "request_too_large",
        422: "invalid_request",
        429: "rate_limited",
    }.get(status, "server_error" if status >= 500 else "http_error")


def summarise_error_body(body: bytes, content_type: str = "") -> tuple[str, str | None]:
    """The server's own error message and type from OpenAI-, DigitalOcean- or FastAPI-style bodies."""
    import json

    text = redact(body.decode("utf-8", "replace").strip())  # before any truncation can cut a key in half
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, str):
            return err[:500], None
        if isinstance(err, dict):
            message = err.get("message") or err.get("detail") or err.get("msg")
            kind = err.get("type") or err.get("code") or err.get("id")
            if isinstance(message, (list, dict)):
                message = json.dumps(message)[:500]
            if message:
                return str(message)[:500], str(kind) if kind else None
    if "html" in content_type.lower() or re.match(r"(?is)\s*<(!doctype|html)", text):
        title = re.search(r"(?is)<title[^>]*>(.*?)</title>", text) or re.search(r"(?is)<h1[^>]*>(.*?)</h1>", text)
        summary = re.sub(r"<[^>]+>|\s+", " ", title.group(1)).strip() if title else "no title"
        return f"the server returned an HTML page instead of JSON ({summary[:120]})", None
    if text:
        return f"unexpected response: {' '.join(text.split())[:200]}", None
    return "", None


def read_body(resp, cap: int = MAX_BODY_BYTES, strict: bool = True) -> bytes:
    """Read a response body up to `cap` bytes; a larger one is an error (or truncated if not strict)."""
    declared = resp.headers.get("content-length", "")
    if strict and declared.isdigit() and int(declared) > cap:
        resp.close()
        raise CliError(f"response larger than the {cap // (1024 * 1024)} MiB cap", kind="response_too_large")
    chunks, size = [], 0
    try:
        for chunk in resp.iter_content(64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                if strict:
                    raise CliError(
                        f"response larger than the {cap // (1024 * 1024)} MiB cap", kind="response_too_large"
                    )
                break
    except CliError:
        raise
    except Exception as exc:
        if strict:
            raise CliError(
                f"the connection broke off while reading the response ({type(exc).__name__})",
                kind="connection_error",
                request_id=_request_id(resp),
            ) from None
    finally:
        resp.close()
    return b"".join(chunks)


def read_json(resp, cap: int = MAX_BODY_BYTES) -> Any:
    """The response body as JSON, or a clear error when a 200 carries something else."""
    import json

    body = read_body(resp, cap)
    try:
        return json.loads(body)
    except ValueError:
        message, _ = summarise_error_body(body, resp.headers.get("content-type", ""))
        raise CliError(
            f"the server sent a response that is not valid JSON ({message or 'empty body'})",
            kind="bad_response",
            status=resp.status_code,
            request_id=_request_id(resp),
        ) from None


def sse_events(resp) -> Iterator[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream, yielded as each arrives."""
    event, data = "", []
    for raw in resp.iter_lines(chunk_size=1024):
        line = raw.decode("utf-8", "replace")
        if not line:
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", []
        elif line.startswith(":"):
            continue  # comment / keep-alive
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
    if data:
        yield event or "message", "\n".join(data)


def require(data: Any, *path: str | int) -> Any:
    """data[path...] or a clear 'missing field' error instead of a KeyError traceback."""
    current = data
    for step in path:
        try:
            current = current[step]
        except (KeyError, IndexError, TypeError):
            where = "".join(f"[{p!r}]" for p in path)
            raise CliError(f"the response is missing {where}", kind="bad_response") from None
    return current


# ---------------------------------------------------------------- prices (no bs4, no requests)


def cache_dir(explicit: str | None = None) -> str:
    if explicit or os.environ.get("GRADIENT_CACHE_DIR"):
        return os.path.expanduser(explicit or os.environ["GRADIENT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gradient-inference")


def cache_file(explicit: str | None = None) -> str:
    return os.path.join(cache_dir(explicit), "pricing.json")


def snapshot_file() -> str | None:
    """The bundled snapshot: beside scripts/ in a checkout, under share/ when pip-installed."""
    import site
    import sysconfig

    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.path.join(os.path.dirname(here), "snapshots", "pricing.json")]
    for base in (sys.prefix, sysconfig.get_path("data"), site.USER_BASE or ""):
        if base:
            candidates.append(os.path.join(base, "share", "gradient-inference", "snapshots", "pricing.json"))
    return next((p for p in candidates if os.path.isfile(p)), None)


def valid_price_table(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("models"), list)
        and bool(data["models"])
        and all(isinstance(m, dict) and isinstance(m.get("model"), str) for m in data["models"])
    )


def read_cache(explicit_dir: str | None = None, max_age: float = CACHE_MAX_AGE) -> dict | None:
    """A fresh cache written by us, or None (missing, stale, corrupt or foreign caches are ignored)."""
    import datetime as dt
    import json

    try:
        with open(cache_file(explicit_dir), encoding="utf-8") as fh:
            data = json.load(fh)
        fetched = dt.datetime.fromisoformat(data["fetched_at"])
        age = (dt.datetime.now(dt.timezone.utc) - fetched).total_seconds()
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if data.get("format") != CACHE_FORMAT or not valid_price_table(data) or not 0 <= age < max_age:
        return None
    data["age_seconds"] = age
    return data


def write_cache(table: dict, explicit_dir: str | None = None) -> str:
    """Write atomically with mode 0600: a temp file in the same folder, then rename."""
    import json
    import tempfile

    path = cache_file(explicit_dir)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".pricing-", suffix=".tmp", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp already made it 0600
            json.dump({**table, "format": CACHE_FORMAT}, fh, indent=1)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_snapshot() -> dict | None:
    import json

    path = snapshot_file()
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if valid_price_table(data) else None


def offline_prices(explicit_dir: str | None = None, use_cache: bool = True) -> dict | None:
    """Prices without touching the network: fresh cache first, then the bundled snapshot."""
    cached = read_cache(explicit_dir) if use_cache else None
    if cached:
        return {**cached, "source": "cache"}
    snap = read_snapshot()
    if snap:
        return {**snap, "source": "snapshot", "fetched_at": snap.get("snapshot_date")}
    return None


PROVIDER_WORDS = {
    "openai",
    "anthropic",
    "meta",
    "mistral",
    "mistralai",
    "deepseek",
    "alibaba",
    "google",
    "nvidia",
    "xai",
    "cohere",
    "digitalocean",
    "latest",
}
LOOSE_WORDS = {"instruct", "chat", "it", "preview", "versatile", "model", "v"}
SIZE_OR_DATE = re.compile(r"\d+(?:\.\d+)?[bmke]|\d{4,8}")  # 70b, 128e, 2407, 20250514


def model_tokens(name: str) -> frozenset[str]:
    """Order-free tokens of a model name: 'Llama 3.3 Instruct-70B' == 'llama3.3-70b-instruct'."""
    text = re.sub(r"(?<=[a-z])(?=\d)", " ", name.lower())  # llama3.3 -> llama 3.3, v3.2 -> v 3.2
    tokens = re.findall(r"\d+(?:\.\d+)*[a-z]*|[a-z]+", text)
    return frozenset(t for t in tokens if t not in PROVIDER_WORDS)


def _core_tokens(tokens: frozenset[str]) -> frozenset[str]:
    """Tokens without sizes, dates and filler words: 'gemma-4-31B-it' -> {gemma, 4}."""
    return frozenset(t for t in tokens if t not in LOOSE_WORDS and not SIZE_OR_DATE.fullmatch(t))


def match_price(model_id: str, rows: list[dict]) -> dict | None:
    """The price row for an API model id, or None unless exactly one row is a confident match.

    Tried in order: the row's recorded api_id, the same name tokens in any order, then the same
    tokens ignoring sizes, dates and words like 'instruct'. Ambiguity means no match, never a guess.
    """
    wanted = model_id.strip().lower()
    if not wanted:
        return None
    for row in rows:
        if str(row.get("api_id") or "").lower() == wanted or str(row.get("model", "")).lower() == wanted:
            return row
    tokens = model_tokens(wanted)
    for key in (lambda t: t, _core_tokens):
        target = key(tokens)
        found = [r for r in rows if target and key(model_tokens(str(r.get("model", "")))) == target]
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


def estimate_cost(usage: dict, row: dict | None) -> float | None:
    """USD for a call: uncached input + cached input (at its own price when known) + output."""
    if not row or row.get("input_price") is None or row.get("output_price") is None:
        return None
    if "token" not in str(row.get("unit") or "per 1M tokens").lower():
        return None
    inp = usage.get("input_tokens") or 0
    out = usage.get("output_tokens") or 0
    cached = min(usage.get("cached_tokens") or 0, inp)
    cached_price = row.get("cached_input_price")
    if cached_price is None:
        cached_price = row["input_price"]
    usd = ((inp - cached) * row["input_price"] + cached * cached_price + out * row["output_price"]) / 1_000_000
    return round(usd, 8)


def format_age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
