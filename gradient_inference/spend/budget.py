"""Budgets: `USD/day|week|month` (Settings.budget, from --budget or GRADIENT_BUDGET, parsed when the settings are
built), checked against the spend the history recorded in the current window (calendar day, ISO week or month,
UTC) before any billed request. sqlite3 is loaded only when a budget is set."""

from __future__ import annotations

from gradient_inference.errors import BudgetExceededError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PERIODS = ("day", "week", "month")


def parse(text: str) -> tuple[float, str]:
    """(USD, period) from '5/day', '$20/week', '100/month'; UsageError (exit 2) otherwise."""
    from gradient_inference.pipeline.settings import parse_budget

    found = parse_budget(text if text is not None else "")
    assert found is not None
    return found


def window_start(period: str, now: float) -> float:
    """The epoch second the current calendar window began, in UTC."""
    import datetime as dt

    today = dt.datetime.fromtimestamp(now, dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        today -= dt.timedelta(days=today.weekday())  # ISO weeks start on Monday
    elif period == "month":
        today = today.replace(day=1)
    return today.timestamp()


def status(settings: Any, pending: float = 0.0) -> dict[str, Any] | None:
    """{usd, period, since, spent, left} for the budget in force, or None when there is none.
    A budget with the history off (nothing to count it from) is a usage error."""
    if settings.budget is None:
        return None
    usd, period = settings.budget
    if settings.history == "off":
        raise UsageError("a budget needs the history to count spend from; unset GRADIENT_HISTORY=off / --no-history")
    import time

    from gradient_inference.history import store

    since = window_start(period, time.time())
    spent = round(store.spend(since, settings.data_dir) + pending, 8)
    return {"usd": usd, "period": period, "since": since, "spent": spent, "left": round(max(0.0, usd - spent), 8)}


def check(call: Any) -> dict[str, Any] | None:
    """Before a billed request: BudgetExceededError (exit 1) when this window's recorded spend, with what the call
    has spent but not yet written, is at or past the budget. The budget's status, or None."""
    if call.settings.budget is None:
        return None
    found = status(call.settings, call.pending_usd())
    if found and found["spent"] >= found["usd"]:
        raise exceeded(found)
    return found


def exceeded(found: dict[str, Any]) -> BudgetExceededError:
    return BudgetExceededError(
        f"budget exceeded: {usd_text(found['spent'])} spent this {found['period']} (UTC) of a "
        f"{usd_text(found['usd'])}/{found['period']} budget; nothing sent",
        kind="budget_exceeded",
    )


def usd_text(value: float) -> str:
    """Dollars written plainly: $0.00001, $5, $1.2345 (never $1e-05)."""
    text = f"{value:.8f}".rstrip("0").rstrip(".")
    return f"${text or '0'}"
