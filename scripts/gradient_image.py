#!/usr/bin/env python3
"""Generate images with a Gradient model (POST /images/generations) and save them as files."""

from __future__ import annotations

import argparse
import os
import re
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
# base64, datetime, tempfile and urllib are imported where used, so --help and usage errors stay fast.

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gradient_common as gc  # noqa: E402

DEFAULT_MODEL = "openai-gpt-image-1"
DEFAULT_SIZE = "1024x1024"
MIN_SIDE, MAX_SIDE = 64, 4096
MAX_N = 10
MAX_IMAGE_BYTES = 50 * 1024 * 1024  # per downloaded image; checked while reading, not after
MAX_REDIRECTS = 5
QUALITIES = ("low", "medium", "high", "auto", "standard", "hd")
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
SLUG_WORDS = 6


def build_parser() -> gc.ArgumentParser:
    parser = gc.new_parser("gradient-image", "Generate images from a text prompt and save them as files.")
    parser.add_argument("--prompt", help="what to draw; '-' reads stdin (piped stdin is read when omitted)")
    parser.add_argument("--prompt-file", metavar="PATH", help="read the prompt from a UTF-8 file")
    parser.add_argument("--model", type=gc.non_empty, default=DEFAULT_MODEL, help=f"model id (default {DEFAULT_MODEL})")
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
        help=f"WIDTHxHEIGHT or auto (default {DEFAULT_SIZE}; DigitalOcean documents 256x256, 512x512, 1024x1024)",
    )
    parser.add_argument("--n", type=image_count, default=1, help=f"number of images, 1 to {MAX_N} (default 1)")
    parser.add_argument("--quality", choices=QUALITIES, help="image quality (model-dependent; omitted by default)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
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
    value = gc.number(text, int)
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
        raise gc.CliError(f"image {index + 1}: b64_json is not a string", kind="bad_response")
    if text.startswith("data:") and "," in text:  # tolerate a data: URL
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise gc.CliError(f"image {index + 1}: b64_json is not valid base64", kind="bad_response") from None


def check_download_url(url: str, index: int) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and gc.is_loopback(parts.hostname):
        return
    raise gc.CliError(
        f"image {index + 1}: refusing to download from {parts.scheme or 'a'}:// URL on {parts.hostname or '?'}; "
        "only https:// URLs are fetched",
        kind="insecure_url",
    )


def download(url: str, index: int, timeout: float) -> bytes:
    """GET an image URL without the API key, following a few redirects, capped while reading."""
    from urllib.parse import urljoin, urlsplit

    import requests

    headers = {"User-Agent": "gradient-inference/0.1", "Accept": "image/*"}
    for _hop in range(MAX_REDIRECTS + 1):
        check_download_url(url, index)
        host = urlsplit(url).hostname
        gc.debug(f"> GET {urlsplit(url)._replace(query='').geturl()} (image {index + 1}, no API key)")
        try:
            resp = requests.get(url, headers=headers, stream=True, timeout=(timeout, timeout), allow_redirects=False)
        except requests.exceptions.RequestException as exc:
            why = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "connection failed"
            raise gc.CliError(f"image {index + 1}: download from {host} {why}", kind="download_error") from None
        gc.debug(f"< {resp.status_code} {resp.reason} {resp.headers.get('content-type', '-')}")
        if resp.is_redirect and resp.headers.get("location"):
            url = urljoin(url, resp.headers["location"])
            resp.close()
            continue
        break
    else:
        raise gc.CliError(f"image {index + 1}: too many redirects downloading the image", kind="download_error")
    try:
        if resp.status_code >= 400:
            raise gc.CliError(f"download from {host} failed", kind="download_error", status=resp.status_code)
        ctype = resp.headers.get("content-type", "").strip().lower()
        if not ctype.startswith("image/"):
            raise gc.CliError(f"the URL returned {ctype or 'no content type'}, not an image", kind="not_an_image")
        return gc.read_body(resp, cap=MAX_IMAGE_BYTES)  # checks Content-Length, then the cap while reading
    except gc.CliError as err:  # one place names the image for every download failure
        err.message = f"image {index + 1}: {err.message}"
        raise
    finally:
        resp.close()


def fetch_images(data: Any, timeout: float) -> list[dict[str, Any]]:
    """[{bytes, format, revised_prompt}] for each item of data[], verified to be images."""
    items = gc.require(data, "data")
    if not isinstance(items, list) or not items:
        raise gc.CliError("the response contains no images", kind="bad_response")
    images = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise gc.CliError(f"image {index + 1}: not a JSON object", kind="bad_response")
        if item.get("b64_json"):
            blob = decode_b64(item["b64_json"], index)
        elif isinstance(item.get("url"), str) and item["url"]:
            blob = download(item["url"], index, timeout)
        else:
            raise gc.CliError(f"image {index + 1}: the response has neither b64_json nor url", kind="bad_response")
        fmt = image_format(blob)
        if fmt is None:
            raise gc.CliError(
                f"image {index + 1}: the data is not an image (not PNG, JPEG or WebP); nothing written",
                kind="not_an_image",
            )
        revised = item.get("revised_prompt")
        images.append({"bytes": blob, "format": fmt, "revised_prompt": revised if isinstance(revised, str) else None})
    return images


# ---------------------------------------------------------------- file names


def slug(prompt: str) -> str:
    words = re.findall(r"[a-z0-9]+", prompt.lower())[:SLUG_WORDS]
    return "-".join(words)[:60].strip("-") or "image"


def numbered(path: str, count: int) -> list[str]:
    """cat.png -> [cat.png] for one image, [cat-1.png, cat-2.png, ...] for more."""
    if count == 1:
        return [path]
    root, ext = os.path.splitext(path)
    return [f"{root}-{i}{ext}" for i in range(1, count + 1)]


def default_paths(prompt: str, formats: list[str], numbered_names: bool, force: bool) -> list[str]:
    """Names from the prompt and UTC time; a counter keeps them clear of files already there."""
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = f"{slug(prompt)}-{stamp}"
    for attempt in range(1, 1000):
        stem = base if attempt == 1 else f"{base}-{attempt}"
        if numbered_names:
            paths = [f"{stem}-{i}{EXTENSIONS[fmt]}" for i, fmt in enumerate(formats, 1)]
        else:
            paths = [stem + EXTENSIONS[formats[0]]]
        if force or not any(os.path.lexists(p) for p in paths):
            return paths
    raise gc.CliError("cannot find a free default file name; pass --output", kind="file_exists")


def check_output_arg(parser: argparse.ArgumentParser, output: str) -> None:
    """Usage errors for --output that need no request: empty, a folder, or ending in a separator."""
    if not output.strip():
        parser.error("--output must not be empty")
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        what = "is a folder" if os.path.isdir(output) else "ends with a path separator"
        parser.error(f"--output {output} {what}; give a file name such as {os.path.join(output, 'image.png')}")


def check_targets(paths: list[str], force: bool) -> None:
    """Fail before any write (and before paying for images, when the names are known) if a target is taken."""
    for path in paths:
        if os.path.isdir(path):
            raise gc.CliError(f"{path} is a folder, not a file name", kind="is_a_directory", exit_code=gc.EXIT_USAGE)
        if not force and os.path.lexists(path):
            raise _exists_error(path)
    for parent in {os.path.dirname(p) or "." for p in paths}:
        ancestor = os.path.abspath(parent)
        while not os.path.exists(ancestor) and ancestor != os.path.dirname(ancestor):
            ancestor = os.path.dirname(ancestor)
        if not os.path.isdir(ancestor):
            raise gc.CliError(f"cannot write into {parent}: {ancestor} is not a folder", kind="write_error")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise gc.CliError(f"cannot write into {parent}: permission denied on {ancestor}", kind="write_error")


# ---------------------------------------------------------------- writing


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_all(paths: list[str], blobs: list[bytes], force: bool) -> None:
    """Write every image to a temp file beside its target, then move them into place.

    A failure (or Ctrl-C) at any point removes the temp files, so a target is either the whole
    new image or untouched.
    """
    import tempfile

    temps: list[str] = []
    try:
        for path in paths:
            parent = os.path.dirname(path) or "."
            if not os.path.exists(parent):
                try:
                    os.makedirs(parent, exist_ok=True)
                except OSError as exc:
                    raise _write_error(path, exc) from None
                gc.note(f"created folder {parent}")
        mode = _file_mode()
        for path, blob in zip(paths, blobs):
            try:
                fd, temp = tempfile.mkstemp(
                    prefix=f".{os.path.basename(path)}.", suffix=".part", dir=os.path.dirname(path) or "."
                )
            except OSError as exc:
                raise _write_error(path, exc) from None
            temps.append(temp)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(blob)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(temp, mode)
            except OSError as exc:
                raise _write_error(path, exc) from None
        for index, (path, temp) in enumerate(zip(paths, temps)):
            try:
                _commit(temp, path, force)
            except FileExistsError:
                raise _exists_error(path) from None
            except OSError as exc:
                raise _write_error(path, exc) from None
            temps[index] = ""
    finally:
        for temp in temps:
            if temp:
                try:
                    os.unlink(temp)
                except OSError:
                    pass


def _commit(temp: str, path: str, force: bool) -> None:
    """Move temp to path; without force, never replace a file that appeared meanwhile."""
    if force:
        os.replace(temp, path)
        return
    try:
        os.link(temp, path)  # atomic create-if-absent
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some file systems): check, then rename
        if os.path.lexists(path):
            raise FileExistsError(str(path)) from None
        os.replace(temp, path)
        return
    os.unlink(temp)


def _exists_error(path: str) -> gc.CliError:
    return gc.CliError(f"{path} already exists; pass --force to overwrite it", kind="file_exists")


def _write_error(path: str, exc: OSError) -> gc.CliError:
    return gc.CliError(f"cannot write {path}: {exc.strerror or exc}", kind="write_error")


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = gc.parse(parser, argv)
    prompt = gc.read_prompt(parser, args.prompt, args.prompt_file).strip()
    if args.output is not None:
        check_output_arg(parser, args.output)
        if not args.dry_run:
            check_targets(numbered(args.output, args.n), args.force)
    resp = gc.api_request(args, parser, "POST", "/images/generations", build_request(args, prompt))
    if resp is None:  # --dry-run
        return 0
    data = gc.read_json(resp)
    images = fetch_images(data, args.timeout)
    if len(images) != args.n:
        gc.note(f"asked for {args.n} image(s), the server returned {len(images)}")
    many = args.n > 1 or len(images) > 1
    formats = [image["format"] for image in images]
    if args.output is not None:
        paths = numbered(args.output, len(images) if many else 1)
        for path, fmt in zip(paths, formats):
            suffix = os.path.splitext(path)[1]
            if suffix and suffix.lower() not in _suffixes(fmt):
                gc.note(f"{path} holds {fmt.upper()} data despite its {suffix} extension")
    else:
        paths = default_paths(prompt, formats, many, args.force)
    check_targets(paths, args.force)
    write_all(paths, [image["bytes"] for image in images], args.force)

    if args.json:
        usage = data.get("usage") if isinstance(data, dict) else None
        gc.print_json(
            {
                "model": (data.get("model") if isinstance(data.get("model"), str) else None) or args.model,
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
            }
        )
    else:
        for path in paths:
            print(path)
    return 0


def _suffixes(fmt: str) -> tuple[str, ...]:
    return {"png": (".png",), "jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"), "webp": (".webp",)}[fmt]


def run() -> None:
    gc.run(main)


if __name__ == "__main__":
    run()
