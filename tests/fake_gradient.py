"""A loopback HTTP server that behaves like Gradient serverless inference.

Where the shapes come from (public docs, read through stored copies):
- Base URL https://inference.do-ai.run/v1, `Authorization: Bearer <model access key>`, routes
  GET /v1/models, POST /v1/chat/completions, POST /v1/responses, POST /v1/images/generations:
  DigitalOcean docs, "Use Serverless Inference" (docs.digitalocean.com/products/gradient-ai-platform/
  how-to/use-serverless-inference/).
- Model list `{"object": "list", "data": [{"id", "object": "model", "created", "owned_by"}]}`:
  OpenAI API reference, "List models" (the endpoint is OpenAI-compatible).
- Chat completion, chunk (`chat.completion.chunk`, `delta`, `finish_reason`, the final usage chunk with
  empty `choices` when `stream_options.include_usage` is set, `data: [DONE]`): OpenAI API reference,
  "Chat Completions" and "The chat completion chunk object".
- Responses object (`output[].content[]` of type `output_text`, `usage.input_tokens_details.cached_tokens`,
  `usage.output_tokens_details.reasoning_tokens`, `store`, `previous_response_id`) and stream events
  (`response.created`, `response.output_text.delta`, `response.completed`, `error`): OpenAI API
  reference, "Responses" and "Streaming events".
- Images: `{"created", "data": [{"b64_json" | "url", "revised_prompt"}], "usage"}`: OpenAI API
  reference, "Create image".
- Errors `{"error": {"message", "type", "param", "code"}}` with an `x-request-id` header: OpenAI API
  reference, "Error codes" / "Debugging requests". Retry-After on 429: RFC 9110 section 10.2.3.
- `reasoning_content` beside `content` for reasoning models: DeepSeek API docs, "Reasoning Model"
  (DeepSeek-R1 served on Gradient returns it the same way).

Routes live in `FakeGradient.routes`; other test modules add theirs with `add_route` (method, a
regular expression for the path, a handler called as handler(http_handler, request, match)), so each
API's fake stays in its own file. Tests queue scripted responses per path to inject faults (also files under /files/... for image URL
downloads, and {"declared_length": N} for a body cut short of its Content-Length); anything unscripted
gets the default, well-behaved answer. Every request is recorded for assertions.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import socket
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

API_KEY = "test-key-s3cr3t-0123456789abcdef"
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
MODELS = [
    {"id": "openai-gpt-oss-120b", "object": "model", "created": 1754438400, "owned_by": "openai"},
    {"id": "openai-gpt-oss-20b", "object": "model", "created": 1754438400, "owned_by": "openai"},
    {"id": "llama3.3-70b-instruct", "object": "model", "created": 1733356800, "owned_by": "meta"},
    {"id": "anthropic-claude-sonnet-4", "object": "model", "created": 1747872000, "owned_by": "anthropic"},
    {"id": "anthropic-claude-haiku-4.5", "object": "model", "created": 1760486400, "owned_by": "anthropic"},
    {"id": "deepseek-r1-distill-llama-70b", "object": "model", "created": 1737504000, "owned_by": "deepseek"},
    {"id": "openai-gpt-image-1", "object": "model", "created": 1745366400, "owned_by": "openai"},
]
KNOWN_MODELS = {m["id"] for m in MODELS}


def error_body(message: str, kind: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # socketserver's 5 drops a burst of connects (64 gathered calls): 1 s SYN retries

    def handle_error(self, request, client_address) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return  # a client that went away mid-reply (Ctrl-C tests): expected, not worth a traceback
        super().handle_error(request, client_address)


class FakeGradient:
    """State shared by the handler threads: scripted responses and the requests seen."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.scripts: dict[str, deque] = defaultdict(deque)
        self.requests: list[dict[str, Any]] = []
        self.stored: dict[str, dict[str, Any]] = {}
        self.ids = itertools.count(1)
        self.latency = 0.0  # seconds every answer waits first (the tests of concurrency and the bench set it)
        self.lock = threading.Lock()
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., None], str | None, str | None]] = []
        self.add_route("GET", "/v1/models", lambda h, req, m: h.models(req["body"]), model_field=None)
        self.add_route("POST", "/v1/chat/completions", lambda h, req, m: h.chat(req["body"]))
        self.add_route("POST", "/v1/responses", lambda h, req, m: h.responses_api(req["body"]))
        self.add_route("POST", "/v1/images/generations", lambda h, req, m: h.images(req["body"]))
        self.server = Server((host, 0), _handler_for(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def root(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.root + "/v1"

    def start(self) -> FakeGradient:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.scripts.clear()
            self.requests.clear()
            self.stored.clear()
            self.latency = 0.0

    def queue(self, path: str, *responses: dict[str, Any]) -> None:
        """Answer the next requests to `path` (e.g. '/v1/chat/completions') with these, in order."""
        with self.lock:
            self.scripts[path].extend(responses)

    def next_script(self, path: str) -> dict[str, Any] | None:
        with self.lock:
            queue = self.scripts.get(path)
            return queue.popleft() if queue else None

    def add_route(
        self,
        method: str,
        pattern: str,
        handler: Callable[..., None],
        model_field: str | None = "model",
        key: str | None = API_KEY,
    ) -> None:
        """Serve `method pattern` (a regex over the path, query excluded) with handler(http, request, match).

        `model_field`: the body field that must name a known model (404 otherwise), or None.
        `key`: the bearer token the route requires, or None for an open route (a file host)."""
        self.routes.append((method, re.compile(pattern), handler, model_field, key))

    def find_route(self, method: str, path: str) -> tuple[tuple, re.Match[str]] | None:
        for route in self.routes:
            match = route[1].fullmatch(path)
            if match and route[0] == method:
                return route, match
        return None

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]


def _handler_for(fake: FakeGradient):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fake-gradient/1"
        # Headers and body go out in two writes: with Nagle's algorithm on, the body waits for the client's
        # delayed ACK of the headers (about 40 ms on Linux) - a cost of the fake, not of the code under test.
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        # ------------------------------------------------------------ plumbing

        def _record(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            entry = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body, "raw": raw}
            with fake.lock:
                fake.requests.append(entry)
            return entry

        def _start(
            self, status: int, content_type: str, extra: dict[str, str] | None = None, length: int | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("x-request-id", f"req_{next(fake.ids):06d}")
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            if length is None:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(length))
            self.end_headers()

        def send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
            self.send_bytes(status, json.dumps(obj).encode(), "application/json", headers)

        def send_bytes(
            self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self._start(status, content_type, headers, len(body))
            self.wfile.write(body)
            self.wfile.flush()

        def chunk(self, data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def send_sse(
            self,
            events: list[Any],
            delay: float = 0.0,
            cut_after: int | None = None,
            stall_after: int | None = None,
            headers: dict[str, str] | None = None,
        ) -> None:
            """Chunked text/event-stream, one event per chunk, like the real service."""
            self._start(200, "text/event-stream", {"Cache-Control": "no-cache", **(headers or {})})
            for index, event in enumerate(events):
                if cut_after is not None and index >= cut_after:
                    self.chunk(b'data: {"choi')  # half an event, then the connection dies
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if stall_after is not None and index >= stall_after:
                    time.sleep(30)
                    return
                if isinstance(event, tuple):
                    name, data = event
                    frame = f"event: {name}\ndata: {data if isinstance(data, str) else json.dumps(data)}\n\n"
                else:
                    frame = f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n"
                self.chunk(frame.encode())
                if delay:
                    time.sleep(delay)
            self.chunk(b"")

        def _scripted(self, script: dict[str, Any], request: dict[str, Any]) -> None:
            if script.get("stall"):
                time.sleep(script["stall"])
            if script.get("drop"):
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            headers = script.get("headers")
            if "sse" in script:
                self.send_sse(
                    script["sse"], script.get("delay", 0.0), script.get("cut_after"), script.get("stall_after"), headers
                )
            elif "json" in script:
                self.send_json(script.get("status", 200), script["json"], headers)
            elif "redirect" in script:
                self.send_bytes(
                    script.get("status", 307), b"", "text/plain", {"Location": script["redirect"], **(headers or {})}
                )
            elif "declared_length" in script:
                # Promise `declared_length` bytes, send `body`, then drop the connection (a cut download).
                body = script.get("body", b"")
                self._start(
                    script.get("status", 200),
                    script.get("content_type", "text/plain"),
                    headers,
                    script["declared_length"],
                )
                self.wfile.write(body)
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            else:
                body = script.get("body", b"")
                body = body.encode() if isinstance(body, str) else body
                self.send_bytes(script.get("status", 200), body, script.get("content_type", "text/plain"), headers)

        # ------------------------------------------------------------ routes

        def do_GET(self) -> None:
            self._route()

        def do_POST(self) -> None:
            self._route()

        def do_PUT(self) -> None:
            self._route()

        def do_DELETE(self) -> None:
            self._route()

        def do_CONNECT(self) -> None:  # as an HTTPS proxy: recorded, then refused (tests never leave loopback)
            self._route()

        def _route(self) -> None:
            request = self._record()
            if fake.latency:
                time.sleep(fake.latency)
            path = self.path.split("?")[0]
            script = fake.next_script(path)
            if script is not None:
                return self._scripted(script, request)
            if path.startswith("/files/"):  # plain file server, no auth (image URLs)
                return self.send_bytes(404, b"not found", "text/plain")
            found = fake.find_route(self.command, path)
            if found is None:
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    return self.send_json(
                        401, error_body("Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
                    )
                return self.send_json(404, error_body(f"Unknown route {self.command} {path}", "invalid_request_error"))
            (_method, _pattern, handler, model_field, key), match = found
            if key is not None and self.headers.get("Authorization") != f"Bearer {key}":
                return self.send_json(
                    401, error_body("Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
                )
            body = request["body"]
            if self.command == "POST" and model_field is not None:
                if not isinstance(body, dict):
                    return self.send_json(
                        400, error_body("Request body must be a JSON object.", "invalid_request_error")
                    )
                if body.get(model_field) not in KNOWN_MODELS:
                    return self.send_json(
                        404,
                        error_body(
                            f"The model `{body.get(model_field)}` does not exist.",
                            "invalid_request_error",
                            "model_not_found",
                            model_field,
                        ),
                    )
            handler(self, request, match)

        def models(self, _body: Any) -> None:
            self.send_json(200, {"object": "list", "data": MODELS})

        def chat(self, body: dict[str, Any]) -> None:
            messages = body.get("messages") or []
            if not messages or not isinstance(messages, list):
                return self.send_json(
                    400, error_body("'messages' is required.", "invalid_request_error", param="messages")
                )
            prompt = str(messages[-1].get("content", ""))
            reply = f"echo: {prompt}"
            usage = {
                "prompt_tokens": 12,
                "completion_tokens": 5,
                "total_tokens": 17,
                "prompt_tokens_details": {"cached_tokens": 4},
                "completion_tokens_details": {"reasoning_tokens": 2},
            }
            rid, model, created = f"chatcmpl-{next(fake.ids)}", body["model"], int(time.time())
            if body.get("stream"):
                base = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model}
                words = reply.split(" ")
                events: list[Any] = [
                    {
                        **base,
                        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
                    }
                ]
                events.append(
                    {
                        **base,
                        "choices": [{"index": 0, "delta": {"reasoning_content": "thinking"}, "finish_reason": None}],
                    }
                )
                for i, word in enumerate(words):
                    piece = word if i == 0 else " " + word
                    events.append(
                        {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    )
                events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    events.append({**base, "choices": [], "usage": usage})
                events.append("[DONE]")
                return self.send_sse(events)
            self.send_json(
                200,
                {
                    "id": rid,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": reply, "reasoning_content": "thinking"},
                        }
                    ],
                    "usage": usage,
                },
            )

        def responses_api(self, body: dict[str, Any]) -> None:
            prompt = body.get("input")
            if not prompt:
                return self.send_json(400, error_body("'input' is required.", "invalid_request_error", param="input"))
            previous = body.get("previous_response_id")
            if previous and previous not in fake.stored:
                return self.send_json(
                    404,
                    error_body(
                        f"Previous response with id '{previous}' not found.",
                        "invalid_request_error",
                        param="previous_response_id",
                    ),
                )
            context = f" (after {fake.stored[previous]['text']})" if previous else ""
            text = f"echo: {prompt}{context}"
            rid = f"resp_{next(fake.ids):08x}"
            usage = {
                "input_tokens": 20,
                "input_tokens_details": {"cached_tokens": 8},
                "output_tokens": 6,
                "output_tokens_details": {"reasoning_tokens": 3},
                "total_tokens": 26,
            }
            response = {
                "id": rid,
                "object": "response",
                "created_at": int(time.time()),
                "status": "completed",
                "model": body["model"],
                "store": bool(body.get("store")),
                "previous_response_id": previous,
                "instructions": body.get("instructions"),
                "output": [
                    {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "pondered"}]},
                    {
                        "type": "message",
                        "id": "msg_1",
                        "role": "assistant",
                        "status": "completed",
                        "content": [{"type": "output_text", "text": text, "annotations": []}],
                    },
                ],
                "usage": usage,
            }
            if body.get("store"):
                fake.stored[rid] = {"text": text}
            if body.get("stream"):
                created = {**response, "status": "in_progress", "output": [], "usage": None}
                events: list[Any] = [("response.created", {"type": "response.created", "response": created})]
                for i, word in enumerate(text.split(" ")):
                    piece = word if i == 0 else " " + word
                    events.append(
                        (
                            "response.output_text.delta",
                            {
                                "type": "response.output_text.delta",
                                "item_id": "msg_1",
                                "output_index": 1,
                                "content_index": 0,
                                "delta": piece,
                            },
                        )
                    )
                events.append(("response.output_text.done", {"type": "response.output_text.done", "text": text}))
                events.append(("response.completed", {"type": "response.completed", "response": response}))
                return self.send_sse(events)
            self.send_json(200, response)

        def images(self, body: dict[str, Any]) -> None:
            n = int(body.get("n") or 1)
            data = [
                {"b64_json": base64.b64encode(PNG_1PX).decode(), "revised_prompt": f"{body.get('prompt')} #{i}"}
                for i in range(n)
            ]
            self.send_json(
                200,
                {
                    "created": int(time.time()),
                    "data": data,
                    "usage": {"input_tokens": 10, "output_tokens": 272 * n, "total_tokens": 10 + 272 * n},
                },
            )

    return Handler
