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
