"""Async-invoke jobs (fal models): build the input, submit, poll until done, read the result, find its files.

DigitalOcean's OpenAPI defines POST /v1/async-invoke: the body {model_id, input, tags?}, where input
types prompt, text, output_format, num_inference_steps, guidance_scale, num_images,
enable_safety_checker and seconds_total and allows any other field; the answer {request_id, status
(QUEUED, IN_PROGRESS, COMPLETED, FAILED), model_id, created_at, started_at, completed_at, output, error}.
The spec names no status or result endpoint; the ones used here, GET /v1/async-invoke/{id}/status and
GET /v1/async-invoke/{id} (the finished job with its output), are the ones the project's issue 14
gives. The output is fal's own: images[].url, audio.url or audio_file.url.
"""

from __future__ import annotations

import sys
import time

from gradient_inference.cli import base as cli
from gradient_inference.cli.base import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TERMINAL = ("COMPLETED", "FAILED")
POLL_FIRST, POLL_MAX = 0.5, 10.0  # seconds between status polls: doubling from the first up to the max
IMAGE_KEYS = ("images", "image")
AUDIO_KEYS = ("audio", "audio_file", "audio_url")
# The input fields the spec types: name -> (JSON type, minimum or None)
INPUT_TYPES = {
    "prompt": ("string", None),
    "text": ("string", None),
    "output_format": ("string", None),
    "num_inference_steps": ("integer", 1),
    "guidance_scale": ("number", None),
    "num_images": ("integer", 1),
    "enable_safety_checker": ("boolean", None),
    "seconds_total": ("integer", 1),
}
NOT_NULL = ("prompt", "text")  # every other typed field is nullable


def model_input(own: dict[str, Any], extra: dict[str, Any] | None, flags: dict[str, str]) -> dict[str, Any]:
    """The job's input: the fields the flags set, plus --input-json's; ValueError on a clash or a wrong type.

    `flags` names the flag behind each of `own`'s fields, so a clash can say which one to use.
    """
    fields = dict(own)
    for name, value in (extra or {}).items():
        if name in flags:
            raise ValueError(f"--input-json sets {name}, which {flags[name]} sets; give it once")
        fields[name] = value
    for name, value in fields.items():
        if name not in INPUT_TYPES or (value is None and name not in NOT_NULL):
            continue
        kind, minimum = INPUT_TYPES[name]
        if not _is_a(value, kind):
            raise ValueError(f"input field {name} must be {'an' if kind[0] in 'aeiou' else 'a'} {kind}")
        if minimum is not None and value < minimum:
            raise ValueError(f"input field {name} must be {minimum} or more, got {value}")
    return fields


def _is_a(value: Any, kind: str) -> bool:
    if isinstance(value, bool):  # JSON true is not the integer 1
        return kind == "boolean"
    return isinstance(value, {"string": str, "integer": int, "number": (int, float), "boolean": bool}[kind])


def run_job(call, model_id: str, fields: dict, max_wait: float) -> dict | None:
    """Submit a job for the pipeline call, wait for COMPLETED within max_wait seconds (--max-wait), return the
    finished job (None on a dry run).

    FAILED, or still running at the deadline, is a CliError carrying the job's request id.
    """
    from gradient_inference.network import api as net

    settings = call.settings
    session = None if settings.dry_run else net.open_session(settings.max_retries)
    started = time.monotonic()
    resp = net.api_request(call, "POST", "/async-invoke", {"model_id": model_id, "input": fields}, idempotent=False)
    if resp is None:  # --dry-run
        return None
    job = net.read_json(resp)
    request_id = net.require(job, "request_id")
    if not isinstance(request_id, str) or not request_id:
        raise CliError("the job has no request id", kind="bad_response")
    path = f"/async-invoke/{_quote(request_id)}"

    def read(url_path: str) -> tuple[dict, str]:
        """GET the job (or its status); a failure names the job so that it can be fetched later."""
        try:
            answer = net.read_json(net.api_request(call, "GET", url_path, session=session))
            return answer, _status(answer)
        except CliError as err:
            err.message = f"{err.message}; the job's request id is {request_id}"
            raise

    cli.debug(f"job {request_id}: {job.get('status')}")
    status, delay = _status(job), POLL_FIRST
    # the command's name when it runs from a shell (not under gradient-mcp or the Python API): who shows progress
    shown = f"gradient-{call.command}" if settings.surface == call.command else None
    try:
        while status not in TERMINAL:
            remaining = max_wait - (time.monotonic() - started)
            if remaining <= 0:
                raise CliError(
                    f"the job is still {status} after {max_wait:g}s (--max-wait); nothing written; "
                    f"fetch the result later with GET {settings.base_url}{path}",
                    kind="max_wait_exceeded",
                    request_id=request_id,
                )
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, POLL_MAX)
            job, status = read(path + "/status")
            cli.debug(f"job {request_id}: {status}")
            _progress(status, time.monotonic() - started, request_id, shown)
    except KeyboardInterrupt:
        _progress(None, 0, request_id, shown)
        settings.warn(f"stopped waiting; the job's request id is {request_id}")
        raise
    _progress(None, 0, request_id, shown)
    finished = isinstance(job.get("output"), dict) if status == "COMPLETED" else bool(job.get("error"))
    if not finished:  # the status answer lacks the output (or the reason): read the whole job
        job, status = read(path)
    if status == "FAILED":
        reason = job.get("error") if isinstance(job.get("error"), str) and job.get("error") else "no reason given"
        raise CliError(f"the job failed: {reason}", kind="job_failed", request_id=request_id)
    if status != "COMPLETED" or not isinstance(job.get("output"), dict):
        raise CliError(f"the finished job has no output (status {status})", kind="bad_response", request_id=request_id)
    job["request_id"], job["_submit"] = request_id, resp  # _submit: the history row to add the cost to
    return job


def _status(job: Any) -> str:
    status = job.get("status") if isinstance(job, dict) else None
    if not isinstance(status, str) or not status:
        raise CliError("the job status is missing from the response", kind="bad_response")
    return status.upper()


def _quote(request_id: str) -> str:
    from urllib.parse import quote

    return quote(request_id, safe="")


def _progress(status: str | None, elapsed: float, request_id: str, shown: str | None) -> None:
    """One updating line on stderr while waiting, only for a command on a terminal; None ends it."""
    if not shown or not sys.stderr.isatty():
        return
    if status is None:
        sys.stderr.write("\r\033[K")
    else:
        sys.stderr.write(cli.redact(f"\r\033[K{shown}: job {request_id} {status} ({elapsed:.0f}s)"))
    sys.stderr.flush()


def output_files(job: dict, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """[{url, content_type}] of the files under the first of `keys` in the job's output.

    fal gives a file as {url, content_type, ...}, a list of them, or a bare URL string.
    """
    output = job["output"]
    for key in keys:
        value = output.get(key)
        if value is None:
            continue
        found = []
        for item in value if isinstance(value, list) else [value]:
            url = item if isinstance(item, str) else item.get("url") if isinstance(item, dict) else None
            if not isinstance(url, str) or not url:
                raise CliError(f"the job output's {key} has an entry without a url", kind="bad_response")
            ctype = item.get("content_type") if isinstance(item, dict) else None
            found.append({"url": url, "content_type": ctype if isinstance(ctype, str) else None})
        if found:
            return found
    names = ", ".join(sorted(output)) or "nothing"
    raise CliError(
        f"the job output has no {' or '.join(keys)} (it has {names})",
        kind="bad_response",
        request_id=job.get("request_id"),
    )
