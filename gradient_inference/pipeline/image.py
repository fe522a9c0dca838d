"""Image generation, whichever surface asks: POST /images/generations, or an async-invoke job for fal-ai/ models;
the images fetched and checked to be images, their cost, and the history row. Saving them is the caller's."""

from __future__ import annotations

from gradient_inference.errors import GradientError, UsageError
from gradient_inference.pipeline.call import Call

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gradient_inference.pipeline.settings import Settings

DEFAULT_MODEL = "openai-gpt-image-1"
MAX_N = 10
MAX_IMAGE_BYTES = 50 * 1024 * 1024  # per downloaded image; checked while reading, not after
FAL_PREFIX = "fal-ai/"  # these models run as async-invoke jobs (media/async_invoke.py), not /images/generations
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
MIN_SIDE, MAX_SIDE = 64, 4096


def generate(
    settings: Settings,
    prompt: str,
    model: str | None = None,
    n: int = 1,
    size: str = "auto",
    quality: str | None = None,
    input_json: dict | None = None,
    max_wait: float = 600.0,
    command: str | None = None,
) -> dict[str, Any] | None:
    """{model, images: [{bytes, format, revised_prompt}], usage, cost, why (the reason a cost is unknown),
    request_id?}; None on a dry run. The cost lands on the history row before this returns."""
    model = model or DEFAULT_MODEL
    if not isinstance(prompt, str) or not prompt.strip():
        raise UsageError("the prompt is empty")
    if not isinstance(n, int) or not 1 <= n <= MAX_N:
        raise UsageError(f"n must be 1 to {MAX_N}, got {n!r}")
    check_size(size)
    from gradient_inference.network import api as net

    with Call(settings, command) as call:
        if model.startswith(FAL_PREFIX):
            data, images = fal_images(call, model, prompt, n, input_json, max_wait)
            submitted = data.pop("_submit", None) if data else None
        else:
            body = {"model": model, "prompt": prompt, "n": n, "size": size}  # DigitalOcean's docs send n and size
            if quality:
                body["quality"] = quality
            resp = net.api_request(call, "POST", "/images/generations", body, idempotent=False)
            data = net.read_json(resp) if resp is not None else None
            submitted = resp
            images = fetch_images(data, settings.timeout) if data is not None else []
        if data is None:  # dry run
            return None
        from gradient_inference.history import record
        from gradient_inference.prices import table as prices

        usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
        served = (data.get("model") if isinstance(data.get("model"), str) else None) or model
        cost, why = prices.media_cost(served, {"image": len(images)}, usage, settings.cache_dir)
        record.update(submitted, reply={"model": served, "usage": usage or {}}, cost=cost)
    made = {"model": served, "images": images, "usage": usage, "cost": cost, "why": why}
    if data.get("request_id"):
        made["request_id"] = data["request_id"]
    return made


def check_size(size: str) -> str:
    """auto or WIDTHxHEIGHT with each side 64 to 4096 pixels, else UsageError."""
    import re

    match = re.fullmatch(r"(\d+)x(\d+)", size) if isinstance(size, str) else None
    if size != "auto" and not (match and all(MIN_SIDE <= int(side) <= MAX_SIDE for side in match.groups())):
        raise UsageError(f"size must be auto or WIDTHxHEIGHT, each side {MIN_SIDE} to {MAX_SIDE} pixels; got {size!r}")
    return size


def describe(made: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """What gradient-image --json prints (and gradient-mcp's generate_image returns) for images saved at paths."""
    return {
        "model": made["model"],
        "images": [
            {
                "path": path,
                "bytes": len(image["bytes"]),
                "format": image["format"],
                "revised_prompt": image["revised_prompt"],
            }
            for path, image in zip(paths, made["images"])
        ],  # fmt: skip
        "usage": made["usage"],
        "cost": made["cost"],
        **({"request_id": made["request_id"]} if made.get("request_id") else {}),
    }


def fal_images(call: Call, model: str, prompt: str, n: int, input_json: dict | None, max_wait: float):
    """Run a fal image job; ({model, request_id, _submit}, images) like fetch_images gives, or (None, [])."""
    from gradient_inference.media import async_invoke as jobs

    try:
        fields = jobs.model_input(
            {"prompt": prompt, "num_images": n}, input_json, {"prompt": "--prompt", "num_images": "--n"}
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    job = jobs.run_job(call, model, fields, max_wait)
    if job is None:
        return None, []
    from gradient_inference.network.download import download

    images = []
    for index, item in enumerate(jobs.output_files(job, jobs.IMAGE_KEYS)):
        blob = download(item["url"], f"image {index + 1}", call.settings.timeout, MAX_IMAGE_BYTES)
        fmt = image_format(blob)
        if fmt is None:
            raise GradientError(
                f"image {index + 1}: the data is not an image (not PNG, JPEG or WebP); nothing written",
                kind="not_an_image",
                request_id=job["request_id"],
            )
        images.append({"bytes": blob, "format": fmt, "revised_prompt": None})
    served = job.get("model_id") if isinstance(job.get("model_id"), str) else model
    return {"model": served, "request_id": job["request_id"], "_submit": job.pop("_submit", None)}, images


def image_format(data: bytes) -> str | None:
    """'png', 'jpeg' or 'webp' from the file's magic bytes, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def decode_b64(text: Any, index: int) -> bytes:
    import base64
    import binascii

    if not isinstance(text, str):
        raise GradientError(f"image {index + 1}: b64_json is not a string", kind="bad_response")
    if text.startswith("data:") and "," in text:  # tolerate a data: URL
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise GradientError(f"image {index + 1}: b64_json is not valid base64", kind="bad_response") from None


def fetch_images(data: Any, timeout: float) -> list[dict[str, Any]]:
    """[{bytes, format, revised_prompt}] for each item of data[], verified to be images."""
    from gradient_inference.network import api as net
    from gradient_inference.network.download import download

    items = net.require(data, "data")
    if not isinstance(items, list) or not items:
        raise GradientError("the response contains no images", kind="bad_response")
    images = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise GradientError(f"image {index + 1}: not a JSON object", kind="bad_response")
        if item.get("b64_json"):
            blob = decode_b64(item["b64_json"], index)
        elif isinstance(item.get("url"), str) and item["url"]:
            blob = download(item["url"], f"image {index + 1}", timeout, MAX_IMAGE_BYTES)
        else:
            raise GradientError(f"image {index + 1}: the response has neither b64_json nor url", kind="bad_response")
        fmt = image_format(blob)
        if fmt is None:
            raise GradientError(
                f"image {index + 1}: the data is not an image (not PNG, JPEG or WebP); nothing written",
                kind="not_an_image",
            )
        revised = item.get("revised_prompt")
        images.append({"bytes": blob, "format": fmt, "revised_prompt": revised if isinstance(revised, str) else None})
    return images
