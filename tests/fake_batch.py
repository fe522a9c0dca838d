"""Batch behaviour for the fake Gradient server: latency, a concurrency cap, and per-prompt faults.

`Throttle(fake)` wraps the fake's /v1/chat/completions and /v1/responses handlers:
- `latency` seconds of thinking per request (the window in which requests count as in flight);
- `cap`: more than this many in flight at once are answered 429 with `Retry-After: retry_after`
  (DigitalOcean's shared headers say a 429 carries `retry-after`; spec-facts section 0, "Common
  response headers"; the value is delay-seconds as in RFC 9110 section 10.2.3);
- a prompt containing BAD400 gets a 400, one containing FLAKY500 gets a 500 the first time only.
It records the most requests ever in flight (`max_inflight`) and the 429s sent (`rejected`).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from fake_gradient import FakeGradient, error_body

WRAPPED = ("/v1/chat/completions", "/v1/responses")
STATUSES = ("validating", "in_progress", "finalizing", "completed", "failed", "expired", "cancelling", "cancelled")


def prompt_of(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("input"), str):
        return body["input"]
    messages = body.get("messages") or body.get("input") or []
    return str(messages[-1].get("content", "")) if messages and isinstance(messages[-1], dict) else ""


class Throttle:
    def __init__(self, fake: FakeGradient) -> None:
        self.lock = threading.Lock()
        self.reset()
        for index, (method, pattern, handler, model_field, key) in enumerate(fake.routes):
            if pattern.pattern in WRAPPED:
                fake.routes[index] = (method, pattern, self._wrap(handler), model_field, key)

    def reset(self, latency: float = 0.0, cap: int | None = None, retry_after: str = "1") -> None:
        with self.lock:
            self.latency, self.cap, self.retry_after = latency, cap, retry_after
            self.inflight = self.max_inflight = self.rejected = 0
            self.flaked: set[str] = set()

    def _wrap(self, handler):
        def wrapped(http, request, match) -> None:
            with self.lock:
                full = self.cap is not None and self.inflight >= self.cap
                if full:
                    self.rejected += 1
                else:
                    self.inflight += 1
                    self.max_inflight = max(self.max_inflight, self.inflight)
            if full:
                body = error_body("Too many requests in flight.", "rate_limit_exceeded")
                return http.send_json(429, body, {"Retry-After": self.retry_after})
            try:
                time.sleep(self.latency)
            finally:
                with self.lock:  # out of flight before the reply is sent, so the client never sees it early
                    self.inflight -= 1
            prompt = prompt_of(request["body"])
            if "BAD400" in prompt:
                return http.send_json(400, error_body("That prompt is not allowed.", "invalid_request_error"))
            with self.lock:
                flaky = "FLAKY500" in prompt and prompt not in self.flaked
                self.flaked.add(prompt)
            if flaky:
                return http.send_json(500, error_body("Upstream hiccup.", "server_error"))
            handler(http, request, match)

        return wrapped


# ---------------------------------------------------------------- DigitalOcean Batch Inference


def _now(offset: float = 0) -> str:
    import datetime as dt

    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")


def do_error(status_id: str, message: str) -> dict[str, Any]:
    """DigitalOcean's shared error shape {id, message, request_id?} (shared/models/error.yml)."""
    return {"id": status_id, "message": message}


class BatchAPI:
    """The Batch Inference endpoints on `fake` and a presigned-URL storage host on `storage`.

    Where each shape comes from (DigitalOcean OpenAPI, specification/resources/inference/, read through
    /work/notes/spec-facts.md section 8 and the files themselves):
    - POST /v1/batches/files: request models/batch_file_create_request.yml (file_name, minLength 7, must
      end .jsonl); 201 models/batch_file_create_response.yml {file_id (uuid), upload_url, expires_at}.
    - PUT <upload_url>: inference_upload_batch_file.yml, `security: []`, raw octet-stream body; 200, or 403
      for a bad signature or an expired URL.
    - POST /v1/batches: models/batch_create_request.yml, required file_id, provider (openai|anthropic),
      completion_window ("24h" only), request_id (idempotency: the same id returns the existing job);
      endpoint required for openai (/v1/chat/completions | /v1/responses, matching every line's url) and
      omitted for anthropic; rejected if the upload is not complete. 201 models/batch.yml.
    - models/batch.yml: batch_id, status (validating, in_progress, finalizing, completed, failed, expired,
      cancelling, cancelled), provider, endpoint, completion_window, input/output/error_file_id,
      request_counts {total, completed, failed}, request_id, metadata, errors, ISO-8601 timestamps.
    - GET /v1/batches/{id}: batch.yml. POST /v1/batches/{id}/cancel: batch.yml, 409 when already terminal.
    - GET /v1/batches/{id}/results: models/batch_results_response.yml {batch_id, result_available,
      output_file_url, error_file_url, expires_at}; not ready is result_available false (or a 412 with
      the shared error shape, when `not_ready_412` is set).
    - GET /v1/batches: inference_list_batches.yml, query `after` (the previous page's last_id), `limit`
      (1..100, default 20) and `status` (the batch status enum); models/batch_list_response.yml {object:
      list, data, first_id, last_id, has_more}, newest first.
    Faults for tests: `fail_creates` creates after the first `creates_ok` answer 500 (shared error shape);
    `hold_create` makes a create wait (after the batch exists, before the reply) until released, so a test can
    kill the client between the create and its answer, as a crash would.
    - Errors: shared/models/error.yml {id, message}.
    Result file lines are the providers' formats, which DigitalOcean's spec does not give:
    - OpenAI Batch API request output {"id", "custom_id", "response": {"status_code", "request_id",
      "body"}, "error"} (OpenAI OpenAPI `BatchRequestOutput`); bodies are the fake's chat.completion and
      response objects (see fake_gradient.py for their sources).
    - Anthropic Message Batches results {"custom_id", "result": {"type": "succeeded", "message"} |
      {"type": "errored", "error": {"type": "error", "error": {"type", "message"}}} | {"type": "expired"}}
      (Anthropic API reference, "Retrieve Message Batch results"); messages carry content text blocks,
      stop_reason, usage {input_tokens, output_tokens, cache_read_input_tokens}.
    A prompt with BAD400 fails (a 400 body, or errored), one with EXPIRE gets a line-level error/expired.
    """

    def __init__(self, fake: FakeGradient, storage: FakeGradient) -> None:
        import itertools

        self.fake, self.storage = fake, storage
        self.ids = itertools.count(1)
        self.reset()
        for method, pattern, handler in [
            ("POST", "/v1/batches/files", self.create_file),
            ("POST", "/v1/batches", self.create_batch),
            ("GET", "/v1/batches", self.list_batches),
            ("GET", "/v1/batches/(?P<bid>[^/]+)", self.get_batch),
            ("GET", "/v1/batches/(?P<bid>[^/]+)/results", self.results),
            ("POST", "/v1/batches/(?P<bid>[^/]+)/cancel", self.cancel),
        ]:
            fake.add_route(method, pattern, handler, model_field=None)
        storage.add_route("PUT", "/upload/(?P<fid>[^/]+)", self.put_upload, model_field=None, key=None)
        storage.add_route(
            "GET", "/out/(?P<bid>[^/]+)/(?P<kind>output|error)", self.get_file, model_field=None, key=None
        )

    def reset(
        self,
        steps: int = 1,
        expire_uploads: int = 0,
        not_ready_412: bool = False,
        creates_ok: int = 0,
        fail_creates: int = 0,
    ) -> None:
        import threading

        self.creates_ok, self.fail_creates, self.create_calls = creates_ok, fail_creates, 0
        self.page_size: int | None = None  # a server may return fewer than `limit` per page (has_more says so)
        self.hold_create = None  # a threading.Event: creates wait on it (bounded) before replying
        self.held = threading.Event()  # set once a create is being held
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.outputs: dict[tuple[str, str], bytes] = {}
        self.gets: dict[str, int] = {}
        self.lines: dict[str, list[dict[str, Any]]] = {}
        self.steps, self.expire_uploads, self.not_ready_412 = steps, expire_uploads, not_ready_412

    def uuid(self) -> str:
        return f"00000000-0000-4000-8000-{next(self.ids):012d}"

    # ------------------------------------------------------------ files

    def create_file(self, http, request, match) -> None:
        import re

        name = (request["body"] or {}).get("file_name")
        if not isinstance(name, str) or len(name) < 7 or not re.fullmatch(r".+\.[Jj][Ss][Oo][Nn][Ll]", name):
            return http.send_json(422, do_error("unprocessable_entity", "file_name must end in .jsonl"))
        fid = self.uuid()
        expired = self.expire_uploads > 0
        self.expire_uploads -= expired
        self.files[fid] = {"name": name, "bytes": None, "expired": expired}
        url = f"{self.storage.root}/upload/{fid}?X-Amz-Expires=900&X-Amz-Signature=f4k3"
        http.send_json(201, {"file_id": fid, "upload_url": url, "expires_at": _now(900)})

    def put_upload(self, http, request, match) -> None:
        entry = self.files.get(match["fid"])
        if entry is None or entry["expired"]:
            return http.send_bytes(403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")
        entry["bytes"] = request["raw"]
        http.send_bytes(200, b"", "text/plain")

    # ------------------------------------------------------------ batches

    def create_batch(self, http, request, match) -> None:
        import json

        body = request["body"] or {}
        self.create_calls += 1
        if self.create_calls > self.creates_ok and self.fail_creates > 0:
            self.fail_creates -= 1
            return http.send_json(500, do_error("server_error", "Upstream hiccup."))
        missing = [k for k in ("file_id", "provider", "completion_window", "request_id") if not body.get(k)]
        if missing:
            return http.send_json(400, do_error("bad_request", f"missing {', '.join(missing)}"))
        for existing in self.batches.values():
            if existing["request_id"] == body["request_id"]:
                return http.send_json(201, existing)  # idempotent
        provider, endpoint = body["provider"], body.get("endpoint")
        if provider not in ("openai", "anthropic") or body["completion_window"] != "24h":
            return http.send_json(400, do_error("bad_request", "bad provider or completion_window"))
        if provider == "openai" and endpoint not in ("/v1/chat/completions", "/v1/responses"):
            return http.send_json(400, do_error("bad_request", "endpoint is required for openai"))
        if provider == "anthropic" and "endpoint" in body:
            return http.send_json(400, do_error("bad_request", "endpoint must be omitted for anthropic"))
        entry = self.files.get(body["file_id"])
        if entry is None or entry["bytes"] is None:
            return http.send_json(400, do_error("bad_request", "the input file upload is not complete"))
        lines = [json.loads(line) for line in entry["bytes"].splitlines() if line.strip()]
        for number, line in enumerate(lines, 1):
            if not self._valid_line(line, provider, endpoint):
                return http.send_json(400, do_error("invalid_input_file", f"Line {number}: not a valid request"))
        bid = self.uuid()
        self.batches[bid] = {
            "batch_id": bid,
            "status": "validating",
            "provider": provider,
            "endpoint": endpoint,
            "completion_window": "24h",
            "input_file_id": body["file_id"],
            "output_file_id": None,
            "error_file_id": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "request_id": body["request_id"],
            "metadata": body.get("metadata"),
            "errors": None,
            "created_at": _now(),
            "expires_at": _now(86400),
        }
        self.gets[bid] = 0
        self.lines[bid] = lines
        if self.hold_create is not None:
            self.held.set()
            self.hold_create.wait(30)  # bounded: the client is killed meanwhile
        http.send_json(201, self.batches[bid])

    @staticmethod
    def _valid_line(line: Any, provider: str, endpoint: str | None) -> bool:
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
            return False
        if provider == "openai":
            body = line.get("body")
            return line.get("method") == "POST" and line.get("url") == endpoint and isinstance(body, dict)
        params = line.get("params") or {}
        tokens = params.get("max_tokens")
        return (
            isinstance(params.get("model"), str)
            and isinstance(tokens, int)
            and tokens >= 1
            and isinstance(params.get("messages"), list)
            and bool(params["messages"])
            and set(line) == {"custom_id", "params"}
        )

    def get_batch(self, http, request, match) -> None:
        batch = self.batches.get(match["bid"])
        if batch is None:
            return http.send_json(404, do_error("not_found", "batch not found"))
        self.gets[batch["batch_id"]] += 1
        if batch["status"] == "cancelling":
            batch.update(status="cancelled", cancelled_at=_now())
        elif batch["status"] not in ("completed", "failed", "expired", "cancelled"):
            if self.gets[batch["batch_id"]] >= self.steps:
                self._complete(batch)
            else:
                total = batch["request_counts"]["total"]
                batch.update(status="in_progress", in_progress_at=_now())
                batch["request_counts"].update(completed=total // 2)
        http.send_json(200, batch)

    def _complete(self, batch: dict[str, Any]) -> None:
        import json

        ok, failed = [], []
        for line in self.lines[batch["batch_id"]]:
            result, good = self._result(line, batch)
            (ok if good else failed).append(json.dumps(result) + "\n")
        bid = batch["batch_id"]
        self.outputs[(bid, "output")] = "".join(ok).encode()
        self.outputs[(bid, "error")] = "".join(failed).encode()
        batch.update(status="completed", completed_at=_now(), output_file_id=self.uuid())
        batch["error_file_id"] = self.uuid() if failed else None
        batch["request_counts"].update(completed=len(ok), failed=len(failed))

    def _result(self, line: dict[str, Any], batch: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        cid, n = line["custom_id"], next(self.ids)
        if batch["provider"] == "anthropic":
            params = line["params"]
            prompt = str(params["messages"][-1]["content"])
            if "BAD400" in prompt:
                err = {
                    "type": "error",
                    "error": {"type": "invalid_request_error", "message": "That prompt is not allowed."},
                }
                return {"custom_id": cid, "result": {"type": "errored", "error": err}}, False
            if "EXPIRE" in prompt:
                return {"custom_id": cid, "result": {"type": "expired"}}, False
            message = {
                "id": f"msg_{n:06d}",
                "type": "message",
                "role": "assistant",
                "model": params["model"],
                "content": [{"type": "text", "text": f"echo: {prompt}"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 12, "output_tokens": 5, "cache_read_input_tokens": 4},
            }
            return {"custom_id": cid, "result": {"type": "succeeded", "message": message}}, True
        body, prompt = line["body"], prompt_of(line["body"])
        if "EXPIRE" in prompt:
            error = {"code": "batch_expired", "message": "This request could not be executed before the window."}
            return {"id": f"batch_req_{n}", "custom_id": cid, "response": None, "error": error}, False
        if "BAD400" in prompt:
            status, out = 400, error_body("That prompt is not allowed.", "invalid_request_error")
        elif batch["endpoint"] == "/v1/responses":
            status, out = 200, self._response_body(body, prompt, n)
        else:
            status, out = 200, self._chat_body(body, prompt, n)
        response = {"status_code": status, "request_id": f"req_b{n:05d}", "body": out}
        return {"id": f"batch_req_{n}", "custom_id": cid, "response": response, "error": None}, status == 200

    @staticmethod
    def _chat_body(body: dict[str, Any], prompt: str, n: int) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-b{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": f"echo: {prompt}"}}
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
        }

    @staticmethod
    def _response_body(body: dict[str, Any], prompt: str, n: int) -> dict[str, Any]:
        text = {"type": "output_text", "text": f"echo: {prompt}", "annotations": []}
        return {
            "id": f"resp_b{n}",
            "object": "response",
            "created": int(time.time()),
            "status": "completed",
            "model": body["model"],
            "output": [
                {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": [text]}
            ],
            "usage": {
                "input_tokens": 20,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 6,
                "output_tokens_details": {"reasoning_tokens": 0, "tool_output_tokens": 0},
                "total_tokens": 26,
            },
        }

    def results(self, http, request, match) -> None:
        batch = self.batches.get(match["bid"])
        if batch is None:
            return http.send_json(404, do_error("not_found", "batch not found"))
        bid = batch["batch_id"]
        if (bid, "output") not in self.outputs:
            if self.not_ready_412:
                return http.send_json(412, do_error("precondition_failed", "Batch results are not yet available."))
            return http.send_json(
                200,
                {
                    "batch_id": bid,
                    "result_available": False,
                    "output_file_url": None,
                    "error_file_url": None,
                    "expires_at": None,
                },
            )
        url = f"{self.storage.root}/out/{bid}/%s?X-Amz-Signature=f4k3"
        error_url = url % "error" if self.outputs[(bid, "error")] else None
        http.send_json(
            200,
            {
                "batch_id": bid,
                "result_available": True,
                "output_file_url": url % "output",
                "error_file_url": error_url,
                "expires_at": _now(900),
            },
        )

    def get_file(self, http, request, match) -> None:
        data = self.outputs.get((match["bid"], match["kind"]))
        if data is None:
            return http.send_bytes(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
        http.send_bytes(200, data, "application/octet-stream")

    def cancel(self, http, request, match) -> None:
        batch = self.batches.get(match["bid"])
        if batch is None:
            return http.send_json(404, do_error("not_found", "batch not found"))
        if batch["status"] in ("completed", "failed", "expired", "cancelled"):
            return http.send_json(409, do_error("conflict", f"batch is already {batch['status']}"))
        batch.update(status="cancelling")
        http.send_json(200, batch)

    def list_batches(self, http, request, match) -> None:
        from urllib.parse import parse_qs, urlsplit

        query = {k: v[-1] for k, v in parse_qs(urlsplit(request["path"]).query).items()}
        limit = int(query.get("limit", 20))
        if not 1 <= limit <= 100 or query.get("status", "validating") not in STATUSES:
            return http.send_json(400, do_error("bad_request", "limit is 1..100; status is a batch status"))
        data = sorted(self.batches.values(), key=lambda b: b["batch_id"], reverse=True)
        if "status" in query:
            data = [b for b in data if b["status"] == query["status"]]
        if "after" in query:
            ids = [b["batch_id"] for b in data]
            data = data[ids.index(query["after"]) + 1 :] if query["after"] in ids else []
        size = min(limit, self.page_size or limit)
        page, more = data[:size], len(data) > size
        first, last = (page[0]["batch_id"], page[-1]["batch_id"]) if page else (None, None)
        http.send_json(200, {"object": "list", "data": page, "first_id": first, "last_id": last, "has_more": more})
