"""Budgets: `USD/day|week|month` from --budget or GRADIENT_BUDGET, checked against the spend the history
recorded in the current window (calendar day, ISO week or month, UTC) before any billed request.

Parsed when a request is about to be sent, not at import; sqlite3 is loaded only when a budget is set.
"""

from __future__ import annotations

import os
import re

from gradient_inference.cli.base import EXIT_USAGE, CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PERIODS = ("day", "week", "month")
_checked: dict[str, Any] = {}


def parse(text: str) -> tuple[float, str]:
    """(USD, period) from '5/day', '$20/week', '100/month'; CliError (exit 2) otherwise."""
    match = re.fullmatch(r"\s*\$?\s*(\d+(?:\.\d+)?)\s*/\s*(day|week|month)\s*", text or "", re.IGNORECASE)
    if not match or float(match.group(1)) <= 0:
        raise CliError(
            f"budget must be USD/day, USD/week or USD/month with a positive amount (e.g. 5/day), got {text!r}",
            kind="usage_error",
            exit_code=EXIT_USAGE,
        )
    return float(match.group(1)), match.group(2).lower()


def window_start(period: str, now: float) -> float:
    """The epoch second the current calendar window began, in UTC."""
    import datetime as dt

    today = dt.datetime.fromtimestamp(now, dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        today -= dt.timedelta(days=today.weekday())  # ISO weeks start on Monday
    elif period == "month":
        today = today.replace(day=1)
    return today.timestamp()


def configured(args: Any = None) -> str | None:
    """The budget text from --budget, else GRADIENT_BUDGET, else None."""
    return getattr(args, "budget", None) or os.environ.get("GRADIENT_BUDGET", "").strip() or None


def status(args: Any = None, pending: float = 0.0) -> dict[str, Any] | None:
    """{usd, period, since, spent, left} for the budget in force, or None when there is none.
    A malformed budget, or a budget with the history off (nothing to count it from), is exit 2."""
    text = configured(args)
    if text is None:
        return None
    usd, period = parse(text)
    from gradient_inference.history import store

    if store.mode(args) == "off":
        raise CliError(
            "a budget needs the history to count spend from; unset GRADIENT_HISTORY=off / --no-history",
            kind="usage_error",
            exit_code=EXIT_USAGE,
        )
    import time

    since = window_start(period, time.time())
    spent = round(store.spend(since) + pending, 8)
    return {"usd": usd, "period": period, "since": since, "spent": spent, "left": round(max(0.0, usd - spent), 8)}


def check(args: Any = None) -> dict[str, Any] | None:
    """Before a billed request: exit 1 (budget_exceeded) when this window's recorded spend, with the calls this
    run has made but not yet written, is at or past the budget. The budget's status, or None."""
    if configured(args) is None:
        return None
    from gradient_inference.history import record

    pending = sum(row.get("cost_usd") or 0.0 for row in record._pending)
    found = status(args, pending)
    if found and found["spent"] >= found["usd"]:
        raise exceeded(found)
    return found


def exceeded(found: dict[str, Any]) -> CliError:
    return CliError(
        f"budget exceeded: ${found['spent']:.4f} spent this {found['period']} (UTC) of a "
        f"${found['usd']:g}/{found['period']} budget; nothing sent",
        kind="budget_exceeded",
    )
