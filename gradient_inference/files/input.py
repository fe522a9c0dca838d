"""What the user hands a command as text: a flag's value, a file, or piped stdin."""

from __future__ import annotations

import sys

from gradient_inference.errors import UsageError


def read_text(
    given: str | None,
    path: str | None,
    names: tuple[str, str] = ("--prompt", "--prompt-file"),
    what: str = "prompt",
) -> str:
    """The text from the flag (`-` reads stdin), the file flag, or piped stdin; empty text is a UsageError."""
    flag, file_flag = names
    if given is not None and path is not None:
        raise UsageError(f"give {flag} or {file_flag}, not both")
    if path is not None:
        text = read_file(path, file_flag)
    elif given == "-" or (given is None and not sys.stdin.isatty()):
        text = sys.stdin.read() if sys.stdin else ""
    else:
        text = given or ""
    if not text.strip():
        raise UsageError(f"the {what} is empty: pass {flag} TEXT, {file_flag} PATH, or pipe it on stdin")
    return text


def read_file(path: str, flag: str) -> str:
    """A UTF-8 file given to `flag` (`-` reads stdin); a file that cannot be read is a UsageError."""
    if path == "-":
        return sys.stdin.read() if sys.stdin else ""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {flag} {path}: {getattr(exc, 'strerror', None) or exc}") from None
