"""Spend over a time range from the history's calls table, grouped by UTC day, model or command.

A call whose cost is unknown (cost_usd NULL) is counted apart as unpriced, never as zero. Calls that bill
nothing (GET requests such as listing models, failed calls, Batch Inference's file and create requests) are not
counted as unpriced.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

GROUPS = {
    "day": "strftime('%Y-%m-%d', ts, 'unixepoch')",
    "model": "COALESCE(model, requested_model, '?')",
    "command": "COALESCE(command, '?')",
}
# Billed calls: successful POSTs, but not Batch Inference's own requests (file intents, create, cancel), whose
# spend is the one row with a batch_id recorded when the results are downloaded.
BILLED = (
    "ok = 1 AND COALESCE(json_extract(extra, '$.method'), 'POST') = 'POST' "
    "AND NOT (COALESCE(endpoint, '') LIKE '/batches%' AND batch_id IS NULL)"
)


def dollars(value: float) -> str:
    """A dollar amount as plain decimals, never an exponent: 0.00001 -> '0.00001', 2.0 -> '2', 0.5 -> '0.5'.
    To the cent-millionth (8 places), as costs are rounded; for budgets and prices printed after '$'."""
    text = f"{value:.8f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def since_ts(text: str, now: float | None = None) -> float:
    """Epoch seconds for '24h', '7d', '30d' (ago) or 'YYYY-MM-DD' (midnight UTC); ValueError otherwise."""
    import calendar
    import re
    import time

    match = re.fullmatch(r"(\d+)\s*([hd])", text.strip().lower())
    if match:
        return (now or time.time()) - int(match.group(1)) * (3600 if match.group(2) == "h" else 86400)
    try:
        return float(calendar.timegm(time.strptime(text.strip(), "%Y-%m-%d")))
    except ValueError:
        raise ValueError(f"--since must be like 24h, 7d, 30d or YYYY-MM-DD, got {text!r}") from None


def usage_report(settings, since: str = "7d", by: str = "day") -> dict[str, Any]:
    """What gradient-usage --json prints (and the MCP usage tool and Client.usage return): the spend per group
    since `since`, and the budget's window when one is set. UsageError for a bad since or by."""
    from gradient_inference.errors import GradientError, UsageError
    from gradient_inference.history import store
    from gradient_inference.spend import budget

    if by not in GROUPS:
        raise UsageError(f"by must be one of {', '.join(GROUPS)}, got {by!r}")
    try:
        start = since_ts(since)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    window = budget.status(settings)
    try:
        rows = spend_rows(start, by, settings.data_dir)
    except store.HistoryError as exc:
        raise GradientError(str(exc), kind="history_error") from None
    out = {"since": iso(start), "by": by, "rows": rows, "total_usd": round(sum(r["usd"] or 0.0 for r in rows), 8)}
    if window is not None:
        out["budget"] = {**window, "since": iso(window["since"])}
    return out


def iso(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds")


def spend_rows(since: float, by: str, folder: str | None = None) -> list[dict[str, Any]]:
    """[{key, calls, input_tokens, output_tokens, usd, unpriced_calls}] since a time, grouped `by`; [] when
    there is no history file. HistoryError when it cannot be read."""
    import sqlite3

    from gradient_inference.history import store

    conn = store.connect(create=False, folder=folder)
    if conn is None:
        return []
    sql = (
        f"SELECT {GROUPS[by]} AS key, COUNT(*), SUM(COALESCE(input_tokens, 0)), SUM(COALESCE(output_tokens, 0)), "
        f"SUM(cost_usd), SUM(cost_usd IS NULL AND {BILLED}) FROM calls WHERE ts >= ? GROUP BY key ORDER BY key"
    )
    try:
        found = conn.execute(sql, (since,)).fetchall()
    except sqlite3.Error as exc:
        raise store.HistoryError(f"cannot read {store.db_path(folder)}: {exc}") from None
    finally:
        conn.close()
    names = ("key", "calls", "input_tokens", "output_tokens", "usd", "unpriced_calls")
    rows = [dict(zip(names, row)) for row in found]
    for row in rows:
        row["usd"] = round(row["usd"], 8) if row["usd"] is not None else None
    return rows


def batch_recorded(batch_id: str, folder: str | None = None) -> bool:
    """Whether the history already holds a batch's spend (a row with this batch_id and a cost)."""
    import sqlite3

    from gradient_inference.history import store

    try:
        conn = store.connect(create=False, folder=folder)
    except store.HistoryError:
        return False
    if conn is None:
        return False
    try:
        found = conn.execute("SELECT 1 FROM calls WHERE batch_id = ? AND cost_usd IS NOT NULL LIMIT 1", (batch_id,))
        return found.fetchone() is not None
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def record_batch_spend(settings, batch_id: str, usd: float | None, tokens: tuple[int, int], basis: str) -> None:
    """The spend of a DigitalOcean batch, recorded once: when its results are first downloaded."""
    from gradient_inference.history import record

    if usd is None or settings.history == "off" or batch_recorded(batch_id, settings.data_dir):
        return
    cost = {"usd": usd, "source": "batch results", "price_model": None, "cost_basis": basis}
    usage = {"input_tokens": tokens[0], "output_tokens": tokens[1]}
    endpoint = f"/batches/{batch_id}/results"
    record.call(settings, "batch", endpoint, requested_model=None, reply={"usage": usage}, cost=cost, batch_id=batch_id)
