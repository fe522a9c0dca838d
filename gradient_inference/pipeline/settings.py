"""Settings: what every call of one surface shares (key, base URL, timeout, retries, dry run, history mode,
budget, data and cache folders, the surface's name), built once and then only read, so many threads may share it.
Unset values come from the environment variables the commands document. Bad values raise UsageError."""

from __future__ import annotations

import os

from gradient_inference.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

DEFAULT_BASE_URL = "https://inference.do-ai.run/v1"
DEFAULT_TIMEOUT, DEFAULT_RETRIES = 120.0, 2
HISTORY_MODES = ("on", "usage", "off")
_HISTORY_WORDS = {"0": "off", "no": "off", "false": "off", "1": "on", "yes": "on", "true": "on"}


def _ignore(message: str) -> None:
    pass


class Settings:
    """Read-only once built (build() checks every value); replace() makes a changed copy. A plain class, not a
    dataclass: importing dataclasses costs a command's start more than the call's own work."""

    __slots__ = ("base_url", "timeout", "max_retries", "dry_run", "history", "budget", "data_dir", "cache_dir",
                 "surface", "api_key", "warn", "session")  # fmt: skip

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_RETRIES,
        dry_run: bool = False,
        history: str = "on",  # on | usage (no text) | off
        budget: tuple[float, str] | None = None,  # (USD, day|week|month)
        data_dir: str = "",
        cache_dir: str | None = None,
        surface: str = "python",  # the history's command column
        api_key: str | None = None,  # None: GRADIENT_API_KEY / MODEL_ACCESS_KEY at send time
        warn: Callable[[str], None] = _ignore,  # remarks for the user (a command's stderr, the library's logger)
        session: Any = None,  # a shared requests.Session, or None for one per call
    ) -> None:
        values = dict(locals())
        del values["self"]
        for name in self.__slots__:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Settings are read-only; use replace()")

    def __repr__(self) -> str:  # never the key
        shown = ", ".join(
            f"{n}={getattr(self, n)!r}" for n in self.__slots__ if n not in ("api_key", "warn", "session")
        )
        return f"Settings({shown})"

    def replace(self, **changes: Any) -> Settings:
        return Settings(**{**{n: getattr(self, n) for n in self.__slots__}, **changes})

    @property
    def no_history(self) -> bool:
        return self.history == "off"


def build(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    dry_run: bool = False,
    history: str | bool | None = None,
    budget: str | None = None,
    data_dir: str | None = None,
    cache_dir: str | None = None,
    surface: str = "python",
    warn: Callable[[str], None] = _ignore,
    session: Any = None,
) -> Settings:
    """Settings from the given values, else the environment, checked: UsageError (a ValueError) when one is bad."""
    from urllib.parse import urlsplit

    url = (base_url or os.environ.get("GRADIENT_BASE_URL") or DEFAULT_BASE_URL).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"base URL must be an http(s) URL, got {url!r}")
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    if not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        raise UsageError(f"timeout must be a positive number of seconds, got {timeout!r}")
    max_retries = DEFAULT_RETRIES if max_retries is None else max_retries
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise UsageError(f"max_retries must be a whole number, 0 or more, got {max_retries!r}")
    if api_key is not None:
        check_key(api_key)
    return Settings(
        base_url=url,
        timeout=float(timeout),
        max_retries=max_retries,
        dry_run=dry_run,
        history=history_mode(history),
        budget=parse_budget(budget if budget is not None else os.environ.get("GRADIENT_BUDGET", "").strip() or None),
        data_dir=data_dir or default_data_dir(),
        cache_dir=cache_dir or None,
        surface=surface,
        api_key=api_key.strip() if api_key else None,
        warn=warn,
        session=session,
    )


def history_mode(given: str | bool | None) -> str:
    """'on', 'usage' or 'off' from the argument (False is off), else GRADIENT_HISTORY; another word is refused."""
    if given is False:
        return "off"
    if given is True:
        return "on"
    text = given if given is not None else os.environ.get("GRADIENT_HISTORY", "on")
    value = text.strip().lower() or "on"
    value = _HISTORY_WORDS.get(value, value)
    if value not in HISTORY_MODES:
        where = "history" if given is not None else "GRADIENT_HISTORY"
        raise UsageError(f"{where} must be on, usage or off, got {text!r}")
    return value


def parse_budget(text: str | None) -> tuple[float, str] | None:
    """(USD, period) from '5/day', '$20/week', '100/month'; None for none; UsageError otherwise."""
    if text is None:
        return None
    import re

    match = re.fullmatch(r"\s*\$?\s*(\d+(?:\.\d+)?)\s*/\s*(day|week|month)\s*", str(text), re.IGNORECASE)
    if not match or float(match.group(1)) <= 0:
        raise UsageError(
            f"budget must be USD/day, USD/week or USD/month with a positive amount (e.g. 5/day), got {text!r}"
        )
    return float(match.group(1)), match.group(2).lower()


def check_key(key: str) -> str:
    """A key that can go in an Authorization header: printable ASCII with no spaces inside."""
    key = key.strip()
    if not key or any(not (33 <= ord(ch) <= 126) for ch in key):
        raise UsageError("malformed key: it must be one word of printable ASCII (check for a stray newline or quote)")
    return key


def default_data_dir() -> str:
    from gradient_inference.history.store import data_dir

    return data_dir()
