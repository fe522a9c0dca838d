"""Models that answer at different speeds and quality, for gradient-compare's tests and bench figure: a route for
POST /v1/chat/completions put in front of FakeGradient's own (tests/fake_gradient.py), answering the models given
to install() by their behaviour and every other model as FakeGradient does.

The chunk shapes follow tests/fake_gradient.py, i.e. DigitalOcean's published chat completion chunk schema
(`chat.completion.chunk` objects with `choices[].delta`, a `finish_reason` chunk, the usage in a final chunk with
empty `choices` when `stream_options.include_usage` is set, then `data: [DONE]`). A behaviour:

- ttft: seconds before the first chunk; gap: seconds between the text chunks
- answer: the reply text, or a function of the last user message
- input_tokens: the usage's prompt_tokens (output tokens are the answer's words, one chunk each)
- status: answer every call with this HTTP error instead
- grade: makes the model a judge: a function of the answer it is shown (between <answer> tags) to a 0-10
  score; the reply is the structured-output JSON {"score", "reason"} (not streamed, as the judge is asked)
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from fake_gradient import API_KEY, FakeGradient, error_body


def usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens}  # fmt: skip


def install(fake: FakeGradient, behaviours: dict[str, dict[str, Any]]):
    """Serve these models' behaviours; returns a function that takes the route away again."""

    def handle(h, request: dict, match) -> None:
        body = request["body"]
        behaviour = behaviours.get(body.get("model"))
        if behaviour is None:
            return h.chat(body)
        if behaviour.get("status"):
            return h.send_json(behaviour["status"], error_body("The model is overloaded.", "server_error"))
        messages = body.get("messages") or []
        prompt = str(messages[-1].get("content", "")) if messages else ""
        if "grade" in behaviour:
            return _judge(h, body, behaviour, prompt)
        answer = behaviour["answer"](prompt) if callable(behaviour["answer"]) else behaviour["answer"]
        words = answer.split(" ")
        spent = usage(behaviour.get("input_tokens", 40), len(words))
        base = {"id": f"chatcmpl-c{time.monotonic_ns()}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body["model"]}  # fmt: skip
        if not body.get("stream"):
            return h.send_json(
                200,
                {
                    **base,
                    "object": "chat.completion",
                    "usage": spent,
                    "choices": [
                        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}
                    ],
                },
            )
        h._start(200, "text/event-stream", {"Cache-Control": "no-cache"})
        time.sleep(behaviour.get("ttft", 0.0))
        role = {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
        events: list[Any] = [{**base, "choices": [role]}]
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            events.append({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**base, "choices": [], "usage": spent})
        events.append("[DONE]")
        for index, event in enumerate(events):
            if index > 1 and behaviour.get("gap"):
                time.sleep(behaviour["gap"])
            h.chunk(f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n".encode())
        h.chunk(b"")

    route = ("POST", re.compile("/v1/chat/completions"), handle, "model", API_KEY)
    fake.routes.insert(0, route)
    return lambda: fake.routes.remove(route)


def _judge(h, body: dict, behaviour: dict, prompt: str) -> None:
    found = re.search(r"<answer>\n(.*?)\n</answer>", prompt, re.S)
    score = behaviour["grade"](found.group(1) if found else "")
    content = json.dumps({"score": score, "reason": f"graded {score}"})
    h.send_json(200, {
        "id": f"chatcmpl-j{time.monotonic_ns()}", "object": "chat.completion", "created": int(time.time()),
        "model": body["model"], "usage": usage(behaviour.get("input_tokens", 200), 12),
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
    })  # fmt: skip
