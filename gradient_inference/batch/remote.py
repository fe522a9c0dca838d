"""DigitalOcean Batch Inference: provider lines, the upload, the job, and its results as `run`'s lines.

Facts from DigitalOcean's OpenAPI (specification/resources/inference/): POST /v1/batches/files
{file_name: *.jsonl} -> 201 {file_id, upload_url}; PUT the bytes to upload_url with no auth
(security: []); POST /v1/batches {file_id, provider: openai|anthropic, endpoint (openai only),
completion_window: "24h", request_id (idempotency key)}; GET /v1/batches/{id} (status, request_counts);
GET /v1/batches/{id}/results {result_available, output_file_url, error_file_url} or 412 when not ready;
POST /v1/batches/{id}/cancel; GET /v1/batches?limit=1..100&after=LAST_ID&status=S {data, has_more, last_id}.

The result files' lines are the providers' own formats (DigitalOcean's spec does not give them):
- OpenAI, the Batch API's request output object: {"id", "custom_id", "response": {"status_code",
  "request_id", "body"} | null, "error": {"code", "message"} | null} (OpenAI OpenAPI `BatchRequestOutput`,
  "The per-line object of the batch output and error files"; read via docs.rs/openai-struct).
- Anthropic, Message Batches results: {"custom_id", "result": {"type": "succeeded" | "errored" | "canceled" |
  "expired", "message" (succeeded) | "error" (errored: {"type": "error", "error": {"type", "message"}})}}
  (Anthropic API reference, "Retrieve Message Batch results", platform.claude.com/docs/en/api/messages/batches).
"""

from __future__ import annotations

from gradient_inference.cli import base as cli
from gradient_inference.cli.base import CliError
from gradient_inference.network import api as net

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_LINES = 50_000
MAX_BYTES = 200 * 1024 * 1024
MAX_RESULT_BYTES = 2 * 1024 * 1024 * 1024  # a result file bigger than this is not a result file
TERMINAL = ("completed", "failed", "expired", "cancelled")
ANTHROPIC_MAX_TOKENS = 1024
OPENAI_ENDPOINTS = {"chat": "/v1/chat/completions", "responses": "/v1/responses"}


def provider_of(model: str) -> str | None:
    for provider in ("openai", "anthropic"):
        if model.lower().startswith(provider + "-"):
            return provider
    return None


def choose(models: set[str], apis: set[str]) -> tuple[str, str | None]:
    """(provider, endpoint) for a whole file; exit 2 for mixed or unsupported providers."""
    providers = {provider_of(m) for m in models}
    if None in providers or len(providers) != 1:
        others = sorted(m for m in models if provider_of(m) is None)
        detail = f"not {', '.join(others)}" if others else "not both in one file"
        raise CliError(
            f"batch inference takes OpenAI and Anthropic models only (openai-*, anthropic-*), one provider per "
            f"file; {detail}; use gradient-batch run for other models",
            kind="unsupported_provider",
            exit_code=cli.EXIT_USAGE,
        )
    provider = providers.pop()
    if provider == "anthropic":
        return provider, None
    if len(apis) != 1:
        raise CliError(
            "an OpenAI batch has one endpoint: lines for /v1/chat/completions and /v1/responses cannot share a file",
            kind="mixed_endpoints",
            exit_code=cli.EXIT_USAGE,
        )
    return provider, OPENAI_ENDPOINTS[apis.pop()]


def provider_line(job: dict[str, Any], provider: str) -> dict[str, Any]:
    if provider == "openai":
        return {"custom_id": job["id"], "method": "POST", "url": "/v1" + job["path"], "body": job["body"]}
    return {"custom_id": job["id"], "params": anthropic_params(job)}


def anthropic_params(job: dict[str, Any]) -> dict[str, Any]:
    """Anthropic Messages params from a simple line, or from an OpenAI line's body."""
    from gradient_inference.batch import lines as jl

    if "messages" in job:
        messages, system, tokens, temp = job["messages"], job["system"], job["max_tokens"], job["temperature"]
    else:
        body = job["body"]
        given = body.get("messages") or body.get("input")
        messages = [{"role": "user", "content": given}] if isinstance(given, str) else given
        system, temp = body.get("instructions"), body.get("temperature")
        tokens = body.get("max_completion_tokens") or body.get("max_tokens") or body.get("max_output_tokens")
    systems = [system] if system else []
    turns = []
    for message in messages:
        if message.get("role") in ("system", "developer"):
            systems.append(message["content"])
        elif message.get("role") in ("user", "assistant") and not message.get("tool_calls"):
            turns.append({"role": message["role"], "content": message["content"]})
        else:
            raise jl.bad_input(f"{job['id']}: tool calls and tool messages cannot go to an Anthropic batch")
    params: dict[str, Any] = {"model": job["model"], "max_tokens": tokens or ANTHROPIC_MAX_TOKENS, "messages": turns}
    if systems:
        params["system"] = "\n\n".join(systems)
    if temp is not None:
        if temp > 1:
            raise jl.bad_input(f"{job['id']}: Anthropic models take a temperature from 0 to 1")
        params["temperature"] = temp
    return params


def upload(args, call, session, path: str, file_name: str) -> str:
    """Create a file intent and PUT the bytes to its presigned URL, never with the key; returns file_id.
    An expired or rejected URL (403) gets one fresh intent."""
    for attempt in range(2):
        resp = net.api_request(call, "POST", "/batches/files", {"file_name": file_name}, session=session)
        intent = net.read_json(resp)
        file_id, url = net.require(intent, "file_id"), net.require(intent, "upload_url")
        status = put_file(url, path, args.timeout)
        if status == 403 and attempt == 0:
            cli.note("the upload URL was refused (expired?); asking for a new one")
            continue
        if status >= 400:
            raise CliError("uploading the batch file failed", kind="upload_error", status=status)
        return file_id
    raise AssertionError("unreachable")


def put_file(url: str, path: str, timeout: float) -> int:
    """PUT the file to the URL exactly as given: no Authorization header, octet-stream as the spec asks."""
    import requests

    from gradient_inference.network.download import check_download_url

    check_download_url(url, "the upload URL")  # https only (plain http only to loopback)
    cli.debug("> PUT upload URL (no API key)")
    with open(path, "rb") as fh:
        try:
            resp = requests.put(  # a redirect is not followed: the bytes go only where the API said
                url,
                data=fh,
                headers={"Content-Type": "application/octet-stream"},
                timeout=(timeout, timeout),
                allow_redirects=False,
            )
        except requests.exceptions.RequestException as exc:
            raise CliError(f"uploading the batch file failed: {type(exc).__name__}", kind="upload_error") from None
    resp.close()
    return resp.status_code


def create(args, call, session, file_id: str, provider: str, endpoint: str | None, request_id: str) -> dict:
    """POST /v1/batches with the job's request_id: a retried create (session retries, or a rerun after a
    crash) sends the same one, which DigitalOcean answers with the existing job instead of a second one."""
    body: dict[str, Any] = {"file_id": file_id, "provider": provider, "completion_window": "24h"}
    if endpoint:
        body["endpoint"] = endpoint  # anthropic must not send it
    body["request_id"] = request_id
    return net.read_json(net.api_request(call, "POST", "/batches", body, session=session))


def get(args, call, session, path: str, method: str = "GET") -> Any:
    return net.read_json(net.api_request(call, method, path, session=session))


def progress_text(batch: dict[str, Any]) -> str:
    counts = batch.get("request_counts") or {}
    return (
        f"{batch.get('status')}: {counts.get('completed') or 0}/{counts.get('total') or 0} done, "
        f"{counts.get('failed') or 0} failed"
    )


def wait(args, call, session, batch_id: str) -> dict[str, Any]:
    """Poll until a terminal status, backing off from 1 s to 60 s, showing request_counts on stderr
    (not with --json, where stderr carries only an error)."""
    import time

    delay, shown = 1.0, ""
    while True:
        batch = get(args, call, session, f"/batches/{batch_id}")
        text = progress_text(batch)
        if text != shown and not args.json:
            cli.note(text)
            shown = text
        if batch.get("status") in TERMINAL:
            return batch
        time.sleep(delay)
        delay = min(60.0, delay * 2)


def result_urls(args, call, session, batch_id: str) -> dict[str, Any]:
    """The results' download URLs, or exit 1 saying they are not ready (with the status)."""
    try:
        links = get(args, call, session, f"/batches/{batch_id}/results")
    except CliError as err:
        if err.status != 412:
            raise
        links = {"result_available": False}
    if not links.get("result_available"):
        batch = get(args, call, session, f"/batches/{batch_id}")
        status = batch.get("status")
        if status in TERMINAL and status != "completed":  # waiting will not help; a completed one may lag
            errors = [e.get("message") for e in batch.get("errors") or [] if isinstance(e, dict)]
            why = f": {errors[0]}" if errors and errors[0] else ""
            raise CliError(f"batch {batch_id} ended {status} with no results{why}", kind="no_results")
        raise CliError(
            f"the results of batch {batch_id} are not ready yet (status {status}); "
            f"check with gradient-batch status {batch_id}",
            kind="results_not_ready",
        )
    return links


def file_lines(url: str, what: str, timeout: float):
    """A result file's lines from its presigned URL: no key, redirects checked, capped in size."""
    from gradient_inference.network.download import download_lines

    return download_lines(url, what, timeout, MAX_RESULT_BYTES)


def normalise(raw: bytes, costs) -> dict[str, Any]:
    """One provider result line as a `run` result line; the cost at batch rates when known, marked by cost_basis."""
    import json

    from gradient_inference.batch import lines as jl
    from gradient_inference.llm import completions, responses

    try:
        obj = json.loads(raw)
        job_id = str(obj["custom_id"])
    except (ValueError, KeyError, TypeError):
        return jl.error_line("?", CliError("a result line could not be read", kind="bad_response"))
    try:
        if "result" in obj:
            reply = _anthropic_reply(obj["result"] or {})
        else:
            response = obj.get("response") or {}
            body, status = response.get("body"), response.get("status_code")
            if obj.get("error") or not isinstance(body, dict) or (status or 200) >= 400:
                return jl.error_line(job_id, _openai_error(obj, body, status, response.get("request_id")))
            reply = (responses if "output" in body else completions).parse_reply(body)
    except CliError as err:
        return jl.error_line(job_id, err)
    cost, basis = costs.batch_cost(reply["model"] or "", reply["usage"])
    return {**jl.ok_line(job_id, reply, cost), "cost_basis": basis}


def _openai_error(obj: dict, body: Any, status: int | None, request_id: str | None) -> CliError:
    import json

    error = obj.get("error") or {}
    if error:
        message, kind = error.get("message"), error.get("code")
    else:
        message, kind = net.summarise_error_body(json.dumps(body).encode())
    return CliError(message or "the request failed", kind=kind or "error", status=status, request_id=request_id)


def _anthropic_reply(result: dict[str, Any]) -> dict[str, Any]:
    """A Message Batches result: its message read as llm/messages.py reads a /v1/messages reply."""
    kind = result.get("type")
    if kind == "errored":
        error = result.get("error") or {}
        error = error.get("error") if isinstance(error.get("error"), dict) else error
        raise CliError(error.get("message") or "the request errored", kind=error.get("type") or "errored")
    if kind != "succeeded":
        raise CliError(f"the request was {kind or 'not run'}", kind=str(kind or "unknown"))
    from gradient_inference.llm import messages as msgs

    return msgs.parse_reply(result.get("message") or {})


LIST_PAGE_MAX = 100  # the spec's maximum `limit`


def list_path(limit: int, status: str | None, after: str | None) -> str:
    from urllib.parse import urlencode

    query = {"limit": min(limit, LIST_PAGE_MAX), "after": after, "status": status}
    return "/batches?" + urlencode({k: v for k, v in query.items() if v is not None})


def list_all(args, call, session, limit: int, status: str | None) -> list[dict[str, Any]]:
    """GET /v1/batches page after page (`after` = the previous page's last_id) while has_more, up to `limit`."""
    batches: list[dict[str, Any]] = []
    after = None
    while len(batches) < limit:  # each round adds at least one batch or stops, so this ends
        page = get(args, call, session, list_path(limit - len(batches), status, after))
        data = net.require(page, "data")
        batches.extend(data[: limit - len(batches)])
        after = page.get("last_id") or (data[-1].get("batch_id") if data else None)
        if not data or not page.get("has_more") or not after:
            break
    return batches
