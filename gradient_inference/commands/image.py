"""Generate images with a Gradient model (POST /images/generations) and save them as files."""

from __future__ import annotations

import argparse
import os
import re

from gradient_inference.cli import base as cli

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
# base64, datetime, tempfile and urllib are imported where used, so --help and usage errors stay fast.


DEFAULT_MODEL = "openai-gpt-image-1"
DEFAULT_SIZE = "auto"
SPEC_SIZES = ("auto", "1536x1024", "1024x1536")  # the size enum of DigitalOcean's published spec
MIN_SIDE, MAX_SIDE = 64, 4096
MAX_N = 10
MAX_IMAGE_BYTES = 50 * 1024 * 1024  # per downloaded image; checked while reading, not after
QUALITIES = ("low", "medium", "high", "auto", "standard", "hd")
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
FAL_PREFIX = "fal-ai/"  # these models run as async-invoke jobs (media/async_invoke.py), not /images/generations


def build_parser() -> cli.ArgumentParser:
    parser = cli.new_parser("gradient-image", "Generate images from a text prompt and save them as files.")
    parser.add_argument("--prompt", help="what to draw; '-' reads stdin (piped stdin is read when omitted)")
    parser.add_argument("--prompt-file", metavar="PATH", help="read the prompt from a UTF-8 file")
    parser.add_argument(
        "--model",
        type=cli.non_empty,
        default=DEFAULT_MODEL,
        help=f"model id (default {DEFAULT_MODEL}); {FAL_PREFIX}... models run as async-invoke jobs",
    )
    parser.add_argument(
        "--output",
        "-o",
        metavar="PATH",
        help="file to write; with --n above 1, numbered siblings (cat.png -> cat-1.png, cat-2.png). "
        "Default: a name made from the prompt and the UTC time, in the current folder",
    )
    parser.add_argument(
        "--size",
        type=image_size,
        default=DEFAULT_SIZE,
        help=f"auto, 1536x1024 or 1024x1536 (default {DEFAULT_SIZE}); another WIDTHxHEIGHT is sent with a warning",
    )
    parser.add_argument("--n", type=image_count, default=1, help=f"number of images, 1 to {MAX_N} (default 1)")
    parser.add_argument("--quality", choices=QUALITIES, help="image quality (model-dependent; omitted by default)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    cli.add_job_flags(parser)  # --max-wait, --input-json: fal-ai/ models only
    return parser


def image_size(text: str) -> str:
    value = text.strip().lower()
    if value == "auto":
        return value
    match = re.fullmatch(r"(\d+)x(\d+)", value)
    if not match:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1024x1024, or auto; got {text!r}")
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise argparse.ArgumentTypeError(f"each side must be {MIN_SIDE} to {MAX_SIDE} pixels; got {text!r}")
    return f"{width}x{height}"


def image_count(text: str) -> int:
    value = cli.number(text, int)
    if not 1 <= value <= MAX_N:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_N}; got {text}")
    return value


def build_request(args: argparse.Namespace, prompt: str) -> dict[str, Any]:
    # DigitalOcean's docs send n and size on every call, so they are never left to server defaults.
    body: dict[str, Any] = {"model": args.model, "prompt": prompt, "n": args.n, "size": args.size}
    if args.quality:
        body["quality"] = args.quality
    return body


# ---------------------------------------------------------------- image bytes


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
        raise cli.CliError(f"image {index + 1}: b64_json is not a string", kind="bad_response")
    if text.startswith("data:") and "," in text:  # tolerate a data: URL
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise cli.CliError(f"image {index + 1}: b64_json is not valid base64", kind="bad_response") from None


def fetch_images(data: Any, timeout: float) -> list[dict[str, Any]]:
    """[{bytes, format, revised_prompt}] for each item of data[], verified to be images."""
    from gradient_inference.network import api as net
    from gradient_inference.network.download import download

    items = net.require(data, "data")
    if not isinstance(items, list) or not items:
        raise cli.CliError("the response contains no images", kind="bad_response")
    images = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise cli.CliError(f"image {index + 1}: not a JSON object", kind="bad_response")
        if item.get("b64_json"):
            blob = decode_b64(item["b64_json"], index)
        elif isinstance(item.get("url"), str) and item["url"]:
            blob = download(item["url"], f"image {index + 1}", timeout, MAX_IMAGE_BYTES)
        else:
            raise cli.CliError(f"image {index + 1}: the response has neither b64_json nor url", kind="bad_response")
        fmt = image_format(blob)
        if fmt is None:
            raise cli.CliError(
                f"image {index + 1}: the data is not an image (not PNG, JPEG or WebP); nothing written",
                kind="not_an_image",
            )
        revised = item.get("revised_prompt")
        images.append({"bytes": blob, "format": fmt, "revised_prompt": revised if isinstance(revised, str) else None})
    return images


# ---------------------------------------------------------------- fal models (async-invoke)


def fal_images(
    args: argparse.Namespace, parser: argparse.ArgumentParser, prompt: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Run a fal image job; ({model, request_id}, images) like fetch_images gives, or (None, []) on --dry-run."""
    from gradient_inference.media import async_invoke as jobs

    if args.quality:
        parser.error("--quality does not apply to fal models; pass the model's own fields with --input-json")
    if args.size not in (DEFAULT_SIZE, "auto"):
        parser.error("--size does not apply to fal models; pass image_size in --input-json")
    try:
        fields = jobs.model_input(
            {"prompt": prompt, "num_images": args.n}, args.input_json, {"prompt": "--prompt", "num_images": "--n"}
        )
    except ValueError as exc:
        parser.error(str(exc))
    job = jobs.run_job(args, parser, args.model, fields)
    if job is None:
        return None, []
    from gradient_inference.network.download import download

    images = []
    for index, item in enumerate(jobs.output_files(job, jobs.IMAGE_KEYS)):
        blob = download(item["url"], f"image {index + 1}", args.timeout, MAX_IMAGE_BYTES)
        fmt = image_format(blob)
        if fmt is None:
            raise cli.CliError(
                f"image {index + 1}: the data is not an image (not PNG, JPEG or WebP); nothing written",
                kind="not_an_image",
                request_id=job["request_id"],
            )
        images.append({"bytes": blob, "format": fmt, "revised_prompt": None})
    model = job.get("model_id") if isinstance(job.get("model_id"), str) else args.model
    return {"model": model, "request_id": job["request_id"], "_submit": job.pop("_submit", None)}, images


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    result = generate(parser, args)
    if result is None:  # --dry-run
        return 0
    if args.json:
        cli.print_json(result)
    else:
        for image in result["images"]:
            print(image["path"])
    return 0


def generate(parser: argparse.ArgumentParser, args: argparse.Namespace, folder: str = "") -> dict[str, Any] | None:
    """Make and save the images; what --json prints, or None on --dry-run. Default names go in folder.
    gradient-mcp's generate_image tool calls this too."""
    from gradient_inference.files.input import read_text

    prompt = read_text(parser, args.prompt, args.prompt_file).strip()
    if args.input_json is not None and not args.model.startswith(FAL_PREFIX):
        parser.error(f"--input-json applies to {FAL_PREFIX} models only")
    from gradient_inference.files import output as files
    from gradient_inference.network import api as net

    if args.size not in SPEC_SIZES:
        cli.note(f"warning: size {args.size} is not one the API documents ({', '.join(SPEC_SIZES)}); sending it anyway")
    if args.output is not None:
        files.check_output_arg(parser, args.output)
        if not args.dry_run:
            files.check_targets(files.numbered(args.output, args.n), args.force)
    if args.model.startswith(FAL_PREFIX):
        data, images = fal_images(args, parser, prompt)
        submitted = data.pop("_submit", None) if data else None
    else:
        body = build_request(args, prompt)
        resp = net.api_request(args, parser, "POST", "/images/generations", body, idempotent=False)
        data = net.read_json(resp) if resp is not None else None
        submitted = resp
        images = fetch_images(data, args.timeout) if data is not None else []
    if data is None:  # --dry-run
        return None
    if len(images) != args.n:
        cli.note(f"asked for {args.n} image(s), the server returned {len(images)}")
    many = args.n > 1 or len(images) > 1
    formats = [image["format"] for image in images]
    if args.output is not None:
        paths = files.numbered(args.output, len(images) if many else 1)
        for path, fmt in zip(paths, formats):
            suffix = os.path.splitext(path)[1]
            if suffix and suffix.lower() not in _suffixes(fmt):
                cli.note(f"{path} holds {fmt.upper()} data despite its {suffix} extension")
    else:
        paths = files.default_paths(prompt, [EXTENSIONS[fmt] for fmt in formats], many, args.force, folder=folder)
    files.check_targets(paths, args.force)
    files.write_all(paths, [image["bytes"] for image in images], args.force)
    from gradient_inference.prices import table as prices

    usage = data.get("usage") if isinstance(data, dict) else None
    served = (data.get("model") if isinstance(data.get("model"), str) else None) or args.model
    cost, why = prices.media_cost(served, {"image": len(images)}, usage)
    from gradient_inference.history import record

    record.update(submitted, reply={"model": served, "usage": usage if isinstance(usage, dict) else {}}, cost=cost)
    if not args.json:  # on stderr, so that stdout stays the paths
        cli.note(f"cost ~${cost['usd']:.6f} (prices from {cost['source']})" if cost else f"cost unknown: {why}")
    return {
        "model": served,
        "images": [
            {
                "path": path,
                "bytes": len(image["bytes"]),
                "format": image["format"],
                "revised_prompt": image["revised_prompt"],
            }
            for path, image in zip(paths, images)
        ],
        "usage": usage if isinstance(usage, dict) else None,
        "cost": cost,
        **({"request_id": data["request_id"]} if "request_id" in data else {}),
    }


def _suffixes(fmt: str) -> tuple[str, ...]:
    return {"png": (".png",), "jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"), "webp": (".webp",)}[fmt]


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
