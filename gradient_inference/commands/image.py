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


def generate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any] | None:
    """Make and save the images; what --json prints, or None on --dry-run."""
    from gradient_inference.files.input import read_text

    prompt = read_text(args.prompt, args.prompt_file).strip()
    if args.input_json is not None and not args.model.startswith(FAL_PREFIX):
        parser.error(f"--input-json applies to {FAL_PREFIX} models only")
    if args.model.startswith(FAL_PREFIX) and args.quality:
        parser.error("--quality does not apply to fal models; pass the model's own fields with --input-json")
    if args.model.startswith(FAL_PREFIX) and args.size not in (DEFAULT_SIZE, "auto"):
        parser.error("--size does not apply to fal models; pass image_size in --input-json")
    from gradient_inference.files import output as files

    if args.size not in SPEC_SIZES:
        cli.note(f"warning: size {args.size} is not one the API documents ({', '.join(SPEC_SIZES)}); sending it anyway")
    if args.output is not None:
        files.check_output_arg(args.output)
        if not args.dry_run:
            files.check_targets(files.numbered(args.output, args.n), args.force, before_sending=True)
    from gradient_inference.pipeline.image import generate as make_images

    made = make_images(args.settings, prompt, args.model, args.n, args.size, args.quality, args.input_json,
                       args.max_wait)  # fmt: skip
    if made is None:  # --dry-run
        return None
    images = made["images"]
    if len(images) != args.n:
        cli.note(f"asked for {args.n} image(s), the server returned {len(images)}")
    paths = target_paths(args, prompt, [image["format"] for image in images])
    files.check_targets(paths, args.force)
    files.write_all(paths, [image["bytes"] for image in images], args.force)
    cost = made["cost"]
    if not args.json:  # on stderr, so that stdout stays the paths
        cli.note(f"cost ~${cost['usd']:.6f} (prices from {cost['source']})" if cost else f"cost unknown: {made['why']}")
    from gradient_inference.pipeline.image import describe

    return describe(made, paths)


def target_paths(args, prompt: str, formats: list[str], folder: str = "") -> list[str]:
    """Where the images go: --output (numbered when many), else names made from the prompt in folder."""
    from gradient_inference.files import output as files

    many = args.n > 1 or len(formats) > 1
    if args.output is None:
        return files.default_paths(prompt, [EXTENSIONS[fmt] for fmt in formats], many, args.force, folder=folder)
    paths = files.numbered(args.output, len(formats) if many else 1)
    for path, fmt in zip(paths, formats):
        suffix = os.path.splitext(path)[1]
        if suffix and suffix.lower() not in _suffixes(fmt):
            cli.note(f"{path} holds {fmt.upper()} data despite its {suffix} extension")
    return paths


def _suffixes(fmt: str) -> tuple[str, ...]:
    return {"png": (".png",), "jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"), "webp": (".webp",)}[fmt]


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
