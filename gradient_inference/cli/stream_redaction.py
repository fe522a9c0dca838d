"""Keys out of text printed as it streams: a model may echo a key, split across any number of pieces."""

from __future__ import annotations

from gradient_inference.cli.base import redact, secrets

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable


def stream_redactor() -> tuple[Callable[[str], str], Callable[[], str]]:
    """(feed, finish) for text printed as it streams: feed(piece) returns what is safe to print now, holding
    back only a tail that could be the start of a key, so a key split across pieces is still removed."""
    keys = secrets()
    held = [""]

    def feed(piece: str) -> str:
        text = redact(held[0] + piece, keys)
        keep = max((n for key in keys for n in range(1, len(key)) if text.endswith(key[:n])), default=0)
        held[0] = text[len(text) - keep :]
        return text[: len(text) - keep]

    def finish() -> str:
        rest, held[0] = held[0], ""
        return rest

    return feed, finish
