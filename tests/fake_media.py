"""Fake async-invoke (fal models) and embeddings routes for FakeGradient, and a separate loopback file host.

Where each shape comes from:
- POST /v1/async-invoke: DigitalOcean's OpenAPI (digitalocean/openapi, specification/resources/inference/
  inference_async_invoke.yml, models/async_invoke_request.yml, models/async_invoke_response.yml). The body is
  {model_id, input, tags?}; input types prompt, text, output_format, num_inference_steps (>= 1),
  guidance_scale, num_images (>= 1), enable_safety_checker and seconds_total (>= 1) and allows other fields.
  The answer (202 here; the spec also allows 200) is {request_id, status, model_id, created_at, started_at,
  completed_at, output, error}, status one of QUEUED, IN_PROGRESS, COMPLETED, FAILED, times ISO 8601.
- GET /v1/async-invoke/{request_id}/status and GET /v1/async-invoke/{request_id} are NOT in the spec, which
  only says to poll with the request_id; the paths are the ones issue 14 gives. Both answer the job object
  above. The status answer leaves output null (only the result read carries it); each status read moves the
  job one step along its plan (see `plan`), so a job goes QUEUED -> IN_PROGRESS -> COMPLETED or FAILED over
  several polls (with no plan it completes at the first read, to keep the other tests quick). FAILED carries the error string the spec's `error` field describes.
- The output is fal's, as issue 14 quotes fal's documentation: image models {"images": [{"url",
  "content_type", "width", "height"}], "seed", ...}; text-to-speech {"audio": {"url", "content_type"}};
  stable-audio {"audio_file": {"url", "content_type"}}. (fal's own page for stable-audio-25 names the key
  "audio"; the client reads either.) The URLs point at the file host, a second FakeGradient on 127.0.0.2
  whose /media/... route is open and records every request's headers, so tests can show no key reaches it.
- POST /v1/embeddings: DigitalOcean's OpenAPI (inference_create_embeddings.yml, models/embeddings_request.yml,
  embeddings_response.yml, embedding_data_item.yml, embeddings_usage.yml). The body is {model, input (a string,
  or 1 to 2048 strings), user?, encoding_format? (float | base64)} with additionalProperties false, so any
  other field is refused (a 400 here; the spec declares no 400, only that unknown fields are rejected). The
  answer is {object: "list", model, data: [{index, object: "embedding", embedding}], usage: {prompt_tokens,
  total_tokens}}.
- Errors use the spec's shared error shape {id, message, request_id}.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from typing import Any

from fake_gradient import PNG_1PX, FakeGradient

IMAGE_MODELS = {"fal-ai/flux/schnell", "fal-ai/fast-sdxl"}
SPEECH_MODELS = {"fal-ai/elevenlabs/tts/multilingual-v2"}
AUDIO_MODELS = {"fal-ai/stable-audio-25/text-to-audio"}
EMBED_MODELS = {"qwen3-embedding-0.6b", "gte-large-en-v1.5"}
DIMENSIONS = 8
# A short MP3: an ID3v2 tag, then one MPEG-1 Layer III frame header (128 kbit/s, 44.1 kHz).
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 413
# A WAV header (RIFF/WAVE, PCM 16-bit mono 8 kHz) and 64 bytes of silence.
WAV = (
    b"RIFF"
    + (36 + 64).to_bytes(4, "little")
    + b"WAVEfmt "
    + (16).to_bytes(4, "little")
    + b"\x01\x00\x01\x00"
    + (8000).to_bytes(4, "little")
    + (16000).to_bytes(4, "little")
    + b"\x02\x00\x10\x00data"
    + (64).to_bytes(4, "little")
    + b"\x00" * 64
)
INPUT_TYPES = {
    "prompt": (str, None),
    "text": (str, None),
    "output_format": (str, None),
    "num_inference_steps": (int, 1),
    "guidance_scale": ((int, float), None),
    "num_images": (int, 1),
    "enable_safety_checker": (bool, None),
    "seconds_total": (int, 1),
}
_lock = threading.Lock()


def install(fake: FakeGradient) -> FakeGradient:
    """Add the async-invoke and embeddings routes to `fake` (once) and return its file host, emptied."""
    host = getattr(fake, "media_host", None)
    if host is None:
        host = FakeGradient(host="127.0.0.2").start()
        host.add_route("GET", r"/media/(.+)", lambda h, req, m: _serve_file(host, h, req), model_field=None, key=None)
        fake.media_host = host
        for method, path, handler in (
            ("POST", "/v1/async-invoke", _submit),
            ("GET", r"/v1/async-invoke/([^/]+)/status", _status),
            ("GET", r"/v1/async-invoke/([^/]+)", _result),
            ("POST", "/v1/embeddings", _embeddings),
        ):
            fake.add_route(method, path, lambda h, req, m, handler=handler: handler(fake, h, req, m), model_field=None)
    host.reset()
    return host


def plan(
    fake: FakeGradient,
    statuses: tuple[str, ...] = ("COMPLETED",),
    error: str = "",
    output: dict[str, Any] | None = None,
    file: tuple[bytes, str] | None = None,
    synchronous: bool = False,
) -> None:
    """How the next jobs go: the status each status read answers in turn (the last repeats), the error
    of a FAILED job, an output to answer instead of the model's usual one, other bytes and content
    type for the files it points at, or `synchronous`: the submit itself answers 200 COMPLETED with
    the output (the spec's "completed synchronously")."""
    fake.stored["plan"] = {
        "statuses": statuses,
        "error": error,
        "output": output,
        "file": file,
        "synchronous": synchronous,
    }


def jobs(fake: FakeGradient) -> list[dict[str, Any]]:
    return [job for key, job in fake.stored.items() if key.startswith("job:")]


def vector(text: str) -> list[float]:
    """The fake's embedding of a text: deterministic, so a test can tell which text a row belongs to."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return [round(b / 255, 4) for b in digest[:DIMENSIONS]]


# ---------------------------------------------------------------- async-invoke


def _error(http, status: int, kind: str, message: str) -> None:
    http.send_json(status, {"id": kind, "message": message, "request_id": f"req-{uuid.uuid4().hex[:8]}"})


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _submit(fake: FakeGradient, http, request: dict[str, Any], _match) -> None:
    body = request["body"]
    problem = _check_submit(body)
    if problem:
        return _error(http, 400, "bad_request", problem)
    model = body["model_id"]
    if model not in IMAGE_MODELS | SPEECH_MODELS | AUDIO_MODELS:
        return _error(http, 404, "not_found", f"model {model} not found")
    needed = "text" if model in SPEECH_MODELS else "prompt"
    if not body["input"].get(needed):
        return _error(http, 400, "bad_request", f"input.{needed} is required for {model}")
    job_plan = fake.stored.get("plan") or {"statuses": ("COMPLETED",), "error": "", "output": None}
    job = {
        "request_id": str(uuid.uuid4()),
        "status": "QUEUED",
        "model_id": model,
        "created_at": _now(),
        "started_at": None,
        "completed_at": None,
        "output": None,
        "error": None,
        "input": body["input"],
        "plan": job_plan,
        "polls": 0,
    }
    if job_plan.get("synchronous"):
        job.update(status="COMPLETED", started_at=_now(), completed_at=_now(), output=_output(fake, job))
    with _lock:
        fake.stored[f"job:{job['request_id']}"] = job
    if job_plan.get("synchronous"):
        return http.send_json(200, _public(job, with_output=True))
    http.send_json(202, _public(job, with_output=False))


def _check_submit(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("model_id"), str):
        return "model_id (string) is required"
    if not isinstance(body.get("input"), dict):
        return "input (object) is required"
    tags = body.get("tags")
    if tags is not None and not (
        isinstance(tags, list)
        and all(isinstance(t, dict) and isinstance(t.get("key"), str) and isinstance(t.get("value"), str) for t in tags)
    ):
        return "tags must be a list of {key, value} strings"
    for name, value in body["input"].items():
        if name not in INPUT_TYPES or (value is None and name not in ("prompt", "text")):
            continue
        kind, minimum = INPUT_TYPES[name]
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            return f"input.{name} has the wrong type"
        if minimum is not None and value < minimum:
            return f"input.{name} must be at least {minimum}"
    return None


def _job(fake: FakeGradient, http, match) -> dict[str, Any] | None:
    job = fake.stored.get(f"job:{match[1]}")
    if job is None:
        _error(http, 404, "not_found", f"no async-invoke request {match[1]}")
    return job


def _status(fake: FakeGradient, http, _request, match) -> None:
    job = _job(fake, http, match)
    if job is None:
        return
    with _lock:
        statuses = job["plan"]["statuses"]
        job["status"] = statuses[min(job["polls"], len(statuses) - 1)]
        job["polls"] += 1
        if job["status"] != "QUEUED" and job["started_at"] is None:
            job["started_at"] = _now()
        if job["status"] in ("COMPLETED", "FAILED") and job["completed_at"] is None:
            job["completed_at"] = _now()
            if job["status"] == "FAILED":
                job["error"] = job["plan"]["error"] or "the model failed"
            else:
                job["output"] = _output(fake, job)
    http.send_json(200, _public(job, with_output=False))


def _result(fake: FakeGradient, http, _request, match) -> None:
    job = _job(fake, http, match)
    if job is not None:
        http.send_json(200, _public(job, with_output=True))


def _public(job: dict[str, Any], with_output: bool) -> dict[str, Any]:
    fields = ("request_id", "status", "model_id", "created_at", "started_at", "completed_at", "output", "error")
    shown = {name: job[name] for name in fields}
    if not with_output:
        shown["output"] = None
    return shown


def _output(fake: FakeGradient, job: dict[str, Any]) -> dict[str, Any]:
    """fal's output for the job's model, its files published on the file host."""
    job_plan = job["plan"]
    if job_plan.get("output") is not None:
        return job_plan["output"]
    host, model, rid = fake.media_host, job["model_id"], job["request_id"]

    def publish(name: str, blob: bytes, ctype: str) -> dict[str, Any]:
        blob, ctype = job_plan.get("file") or (blob, ctype)
        host.stored[f"/media/{rid}/{name}"] = (blob, ctype)
        return {
            "url": f"{host.root}/media/{rid}/{name}",
            "content_type": ctype,
            "file_name": name,
            "file_size": len(blob),
        }

    if model in IMAGE_MODELS:
        count = job["input"].get("num_images") or 1
        images = [{**publish(f"{i}.png", PNG_1PX, "image/png"), "width": 1, "height": 1} for i in range(count)]
        return {"images": images, "seed": 42, "has_nsfw_concepts": [False] * count, "prompt": job["input"]["prompt"]}
    if model in SPEECH_MODELS:
        return {"audio": publish("speech.mp3", MP3, "audio/mpeg")}
    return {"audio_file": publish("audio.wav", WAV, "audio/wav")}


def _serve_file(host: FakeGradient, http, request: dict[str, Any]) -> None:
    found = host.stored.get(request["path"].split("?")[0])
    if found is None:
        return http.send_bytes(404, b"not found", "text/plain")
    blob, ctype = found
    http.send_bytes(200, blob, ctype)


# ---------------------------------------------------------------- embeddings


def _embeddings(fake: FakeGradient, http, request: dict[str, Any], _match) -> None:
    body = request["body"]
    if not isinstance(body, dict):
        return _error(http, 400, "bad_request", "the body must be a JSON object")
    extra = sorted(set(body) - {"model", "input", "user", "encoding_format"})
    if extra:
        return _error(http, 400, "bad_request", f"unknown fields: {', '.join(extra)}")
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not 1 <= len(texts) <= 2048 or not all(isinstance(t, str) for t in texts):
        return _error(http, 400, "bad_request", "input must be a string or 1 to 2048 strings")
    if body.get("encoding_format", "float") not in ("float", "base64"):
        return _error(http, 400, "bad_request", "encoding_format must be float or base64")
    if body.get("model") not in EMBED_MODELS:
        return _error(http, 404, "not_found", f"model {body.get('model')} not found")
    with _lock:
        fake.stored["in_flight"] = fake.stored.get("in_flight", 0) + 1
        fake.stored["max_in_flight"] = max(fake.stored.get("max_in_flight", 0), fake.stored["in_flight"])
    try:
        time.sleep(0.02 + 0.02 * (hashlib.sha256(texts[0].encode()).digest()[0] % 4))  # chunks finish out of order
    finally:
        with _lock:
            fake.stored["in_flight"] -= 1
    tokens = sum(len(t.split()) for t in texts)
    data = [{"index": i, "object": "embedding", "embedding": vector(t)} for i, t in enumerate(texts)]
    data.reverse()  # rows in any order: the client must go by index
    http.send_json(
        200,
        {
            "object": "list",
            "model": body["model"],
            "data": data,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        },
    )
