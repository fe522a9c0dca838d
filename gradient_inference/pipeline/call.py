"""One call's state: its settings, the history rows its requests opened, and the conversation it keeps.

network/api.py's api_request opens a row on the Call for each request it sends; the surface's operation adds what it
learnt (reply, usage, cost) with history.record.update; closing the Call writes every row and the conversation in one
transaction, the rows still open marked with the error that ended the call (Ctrl-C included). Each call of every
surface has its own Call, so calls from many threads never share rows."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gradient_inference.pipeline.settings import Settings


class Call:
    def __init__(self, settings: Settings, command: str | None = None) -> None:
        self.settings = settings
        self.command = command or settings.surface
        self.rows: list[dict[str, Any]] = []
        self.conversations: list[dict[str, Any]] = []
        self.closed = False

    def __enter__(self) -> Call:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        warning = self.close(error)
        if warning and error is not None and hasattr(error, "message"):
            error.message += f"; history not recorded: {warning}"
        elif warning:
            self.settings.warn(f"warning: history not recorded: {warning}")

    def pending_usd(self) -> float:
        """What this call's rows cost so far, not yet in the history: the budget counts it."""
        return sum(row.get("cost_usd") or 0.0 for row in self.rows)

    def close(self, error: BaseException | None = None) -> str | None:
        """Write the rows (once); the warning text when the history could not be written."""
        if self.closed:
            return None
        self.closed = True
        from gradient_inference.history import record

        return record.flush(self, error)
