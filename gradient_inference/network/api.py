"""HTTP to the inference API: configuration, the retrying session, requests, errors, bodies, SSE.

Loaded only once a command is about to talk to the network; requests is imported inside the
functions, after argument parsing has succeeded.
"""

from __future__ import annotations

import re
import time

from gradient_inference import errors
from gradient_inference.cli.base import debug, redact
from gradient_inference.errors import CliError
from gradient_inference.network.credentials import (  # noqa: F401  (net.agent_endpoint, net.is_loopback, ...)
    AGENT_KEY_ENV,
    AGENT_KEY_HELP,
    KEY_HELP,
    agent_endpoint,
    api_key,
    is_loopback,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from gradient_inference.pipeline.call import Call

RETRY_STATUSES = frozenset([408, 409, 429, *range(500, 600)])
# A request that starts billable work with no idempotency key (image generation, async-invoke) is retried only
# when the server cannot have started it: refused before sending (connect errors), 429, 503.
UNSTARTED_STATUSES = frozenset([429, 503])
RETRY_AFTER_CAP = 60.0  # seconds; a longer (or unparsable) Retry-After falls back to backoff, as openai-python does
BACKOFF_BASE, BACKOFF_MAX = 0.5, 8.0
MAX_BODY_BYTES = 64 * 1024 * 1024  # image responses with n=10 base64 PNGs stay well under this

# ---------------------------------------------------------------- config


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


def no_netrc(request):
    """requests' `auth` for every request we make: the headers we set are the only credentials. Without an auth,
    requests reads ~/.netrc on every request and, for a host listed there, replaces our Authorization header
    (or adds one to a keyless download); it also costs a stat() per call."""
    return request


def open_session(max_retries: int, pool_size: int | None = None, retry_429: bool = True, idempotent: bool = True):
    """One requests.Session per run, retrying what is safe to retry.

    `pool_size`: connections kept per host (requests' default is 10), sized to a batch's concurrency.
    `retry_429=False` leaves 429s to the caller (gradient-batch lowers its concurrency instead).
    `idempotent=False`: for requests that start billable jobs; retried only on connect errors, 429 and 503,
    never after a read error, a dropped connection or another 5xx, when the job may have started."""
    import requests
    from requests.adapters import HTTPAdapter

    statuses = RETRY_STATUSES if idempotent else UNSTARTED_STATUSES
    retry = _backoff_retry_class()(
        total=max_retries,
        connect=max_retries,
        read=max_retries if idempotent else 0,
        status=max_retries,
        other=0,
        allowed_methods=None,  # POSTs too: the API is stateless per request, like openai-python retries
        status_forcelist=statuses if retry_429 else statuses - {429},
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    session = requests.Session()
    size = pool_size or 10
    adapter = HTTPAdapter(max_retries=retry, pool_connections=size, pool_maxsize=size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = "gradient-inference/0.1"
    session.auth = no_netrc
    return session


def curl_command(method: str, url: str, body: Any = None, key_env: str = "GRADIENT_API_KEY") -> str:
    """The request as a runnable curl command; the key stays a shell variable."""
    import json
    import re
    import shlex

    parts = ["curl", "-sS", "-X", method, shlex.quote(url), "-H", f'"Authorization: Bearer ${key_env}"']
    if body is not None:
        data = shlex.quote(json.dumps(body))
        # A dry run names each MCP token as $GRADIENT_MCP_TOKEN_...: step out of the single quotes around it,
        # so the shell that runs the line puts the token in (inside single quotes it would send the name).
        data = re.sub(r"\$(GRADIENT_MCP_TOKEN_[A-Z0-9_]+)", "'\"$\\1\"'", data)
        parts += ["-H", shlex.quote("Content-Type: application/json"), "-d", data]
    return " ".join(parts)


def api_request(
    call: Call,
    method: str,
    path: str,
    body: Any = None,
    stream: bool = False,
    session=None,
    url: str | None = None,
    key_env: str | None = None,
    idempotent: bool = True,
):
    """Send one API request for the call and return the successful response (or None on a dry run, after printing
    the curl command). The budget is checked before any POST; the request's history row goes on the call.

    `url` replaces base URL + path; its key comes from the variable `key_env` only (an agent's key).
    `idempotent=False` (a request that starts a billable job): its own session, retried only when the server
    cannot have started the job; otherwise the error says the job may have started.
    Every failure becomes a GradientError naming status, server message and request id.
    """
    settings = call.settings
    url = url or settings.base_url + path
    if settings.dry_run:
        print(curl_command(method, url, body, key_env or "GRADIENT_API_KEY"))
        return None
    key = api_key(url, key_env, settings.api_key)
    if method == "POST" and settings.budget is not None:
        from gradient_inference.spend import budget

        budget.check(call)  # before any billed request: at or past the budget, nothing is sent
    import requests

    from gradient_inference.history import record  # imports no sqlite3: rows are written when the call closes

    row = record.open_row(call, method, path, body, url if key_env else None)
    if not idempotent:
        session = open_session(settings.max_retries, idempotent=False)
    session = session or settings.session or open_session(settings.max_retries)
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream" if stream else "application/json"}
    debug(f"> {method} {url}")
    debug("> Authorization: Bearer ***")
    started = time.monotonic()
    timeout = settings.timeout
    try:
        resp = session.request(method, url, json=body, headers=headers, stream=True, timeout=(timeout, timeout))
    except requests.exceptions.RequestException as exc:
        err = _transport_error(exc, url, settings)
        unsent = isinstance(exc, requests.exceptions.ConnectTimeout) or "refused" in err.message
        if not (idempotent or unsent):
            err.attempts = 1  # a read error or a dropped connection is never retried here
            err = may_have_started(err)
        record.failed(row, err)
        raise err from None
    record.answered(row, resp.status_code, _request_id(resp))
    resp.history_row = row
    elapsed = (time.monotonic() - started) * 1000
    request_id = _request_id(resp)
    retries = getattr(getattr(resp.raw, "retries", None), "history", ()) or ()
    debug(f"< {resp.status_code} {resp.reason} {elapsed:.0f} ms request-id={request_id or '-'}")
    if resp.status_code >= 400:
        err = _http_error(resp, request_id, len(retries) + 1, AGENT_KEY_HELP if key_env else KEY_HELP)
        if not idempotent and resp.status_code >= 500 and resp.status_code != 503:
            err = may_have_started(err)
        record.failed(row, err)
        if resp.status_code == 404 and isinstance(body, dict) and key_env is None:  # not for an agent
            suggest_model(err, body, call, session)
        raise err
    return resp


def may_have_started(err: CliError) -> CliError:
    """The error of a billable job request that failed after it was sent: not retried, as it may have run."""
    rid = f" (request id {err.request_id})" if err.request_id else ""
    err.message = (
        f"{err.message.rstrip(' .')}; not retried: the job may have started and be billed{rid}, "
        "so check before running it again"
    )
    return err


def suggest_model(err: CliError, body: dict, call: Call, session) -> None:
    """A 404 naming the requested model costs one GET /models; the closest ids join the error message,
    so an agent can correct itself in one step. A failing lookup leaves the error as it was."""
    import difflib

    model = body.get("model") or body.get("model_id")
    if not isinstance(model, str) or model not in err.message:
        return
    try:
        listing = read_json(api_request(call, "GET", "/models", session=session))["data"]
        ids = {m["id"].lower(): m["id"] for m in listing if isinstance(m, dict) and isinstance(m.get("id"), str)}
    except (CliError, KeyError, TypeError, AttributeError):
        return
    ids.pop(model.lower(), None)  # listed, yet refused: no other id is the answer
    close = [ids[i] for i in ids if model.lower() in i]  # "gpt-oss-120b" -> "openai-gpt-oss-120b"
    close += [ids[i] for i in difflib.get_close_matches(model.lower(), ids, 3, 0.6) if ids[i] not in close]
    if close:
        err.message = f"{err.message.rstrip(' .')}; did you mean {' or '.join(close[:3])}?"


def error_for(resp, attempts: int = 1) -> CliError:
    """The CliError for an HTTP error response (status, server message, request id); reads and closes it."""
    return _http_error(resp, _request_id(resp), attempts)


def _request_id(resp) -> str | None:
    for name in ("x-request-id", "x-do-request-id", "request-id", "cf-ray"):
        if resp.headers.get(name):
            return redact(resp.headers[name])[:200]
    return None


def _transport_error(exc: Exception, url: str, settings) -> CliError:
    from urllib.parse import urlsplit

    import requests

    host = urlsplit(url).netloc
    attempts = settings.max_retries + 1
    text = str(exc)
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in text.lower():
        message = f"timed out after {settings.timeout:g}s talking to {host}"
        return errors.APITimeoutError(message, kind="timeout", attempts=attempts)
    if isinstance(exc, requests.exceptions.SSLError):
        return errors.APIConnectionError(f"TLS error talking to {host}: {exc}", kind="tls_error")
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "refused" in text.lower():
            reason = "connection refused"
        elif "name or service not known" in text.lower() or "nodename nor servname" in text.lower():
            reason = "host name not found"
        else:
            reason = "connection failed or dropped"
        return errors.APIConnectionError(f"cannot reach {host}: {reason}", kind="connection_error", attempts=attempts)
    return errors.APIConnectionError(f"request to {host} failed: {type(exc).__name__}", kind="request_error")


def _http_error(resp, request_id: str | None, attempts: int, key_help: str = KEY_HELP) -> CliError:
    body = read_body(resp, cap=64 * 1024, strict=False)
    message, kind = summarise_error_body(body, resp.headers.get("content-type", ""))
    if not message:
        message = resp.reason or "request failed"
    if resp.status_code == 401:
        message = f"{message}; check your key: {key_help}"
    return errors.status_error_class(resp.status_code)(
        message,
        kind=kind or _status_kind(resp.status_code),
        status=resp.status_code,
        request_id=request_id,
        attempts=attempts,
        body=_body_json(body),
    )


def _body_json(body: bytes) -> Any:
    """The error body as JSON when it is JSON, else its text (for APIStatusError.body), redacted."""
    import json

    text = redact(body.decode("utf-8", "replace"))
    try:
        return json.loads(text)
    except ValueError:
        return text or None


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
            raise errors.APIConnectionError(
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
