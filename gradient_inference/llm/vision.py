"""Image files for the Messages API: checked and encoded before anything is sent.

DigitalOcean's contract takes images only on POST /v1/messages, as base64 image blocks
(models/messages_image_block_param.yml, messages_image_source_param.yml).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_IMAGES = 20
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # Anthropic's per-image limit on the Messages API
FORMATS = "JPEG, PNG, GIF or WebP"


def media_type(head: bytes) -> str | None:
    """The image's MIME type from its magic bytes, whatever its file name says; None if not one we send."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def load_images(paths: list[str]) -> list[dict[str, Any]]:
    """One base64 image block per path, or ValueError naming the first file that cannot be sent."""
    import base64

    if len(paths) > MAX_IMAGES:
        raise ValueError(f"at most {MAX_IMAGES} --image files per request, got {len(paths)}")
    blocks = []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_IMAGE_BYTES + 1)
        except OSError as exc:
            raise ValueError(f"--image {path}: cannot read it ({exc.strerror or exc})") from None
        if len(data) > MAX_IMAGE_BYTES:
            raise ValueError(f"--image {path}: over the {MAX_IMAGE_BYTES // (1024 * 1024)} MB limit per image")
        kind = media_type(data[:12])
        if kind is None:
            raise ValueError(f"--image {path}: not a {FORMATS} image")
        source = {"type": "base64", "media_type": kind, "data": base64.b64encode(data).decode("ascii")}
        blocks.append({"type": "image", "source": source})
    return blocks
