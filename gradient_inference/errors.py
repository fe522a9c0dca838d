"""Every failure the package raises, for every surface: the commands turn them into exit codes and one line on
stderr, gradient-mcp into tool errors, and Python callers catch them by class (named as openai-python names its own).

GradientError
├── UsageError (also a ValueError): bad input, found before anything is sent (exit 2)
├── APIStatusError: the API answered 4xx/5xx (.status_code, .request_id, .body)
│   ├── AuthenticationError 401, PermissionDeniedError 403, NotFoundError 404, RateLimitError 429
│   └── InternalServerError 5xx
├── APIConnectionError: no answer (refused, dropped, TLS)
│   └── APITimeoutError
└── BudgetExceededError: the budget is spent; nothing was sent
"""

from __future__ import annotations

EXIT_FAIL, EXIT_USAGE = 1, 2


class GradientError(Exception):
    """A failed call: `kind` is the error type the commands print with --json; `exit_code` their exit code."""

    def __init__(
        self,
        message: str,
        kind: str = "error",
        status: int | None = None,
        request_id: str | None = None,
        exit_code: int = EXIT_FAIL,
        attempts: int | None = None,
        body: object = None,
    ) -> None:
        super().__init__(message)
        self.message, self.kind, self.status = message, kind, status
        self.request_id, self.exit_code, self.attempts, self.body = request_id, exit_code, attempts, body

    def __str__(self) -> str:
        return self.message

    @property
    def status_code(self) -> int | None:
        return self.status


CliError = GradientError  # the name the commands' code has always used


class UsageError(GradientError, ValueError):
    """Bad input, refused before anything is sent: exit 2 on the command line, a ValueError in Python."""

    def __init__(self, message: str, kind: str = "usage_error") -> None:
        super().__init__(message, kind=kind, exit_code=EXIT_USAGE)


class APIStatusError(GradientError):
    """The API answered with an HTTP error status."""


class AuthenticationError(APIStatusError):
    """401: the key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this model or route."""


class NotFoundError(APIStatusError):
    """404: no such model, route or object."""


class RateLimitError(APIStatusError):
    """429, after the retries."""


class InternalServerError(APIStatusError):
    """5xx, after the retries."""


class APIConnectionError(GradientError):
    """The API could not be reached, or the connection broke."""


class APITimeoutError(APIConnectionError):
    """No answer within the timeout."""


class BudgetExceededError(GradientError):
    """The budget's window is spent; nothing was sent."""


_BY_STATUS = {401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError, 429: RateLimitError}


def status_error_class(status: int) -> type[APIStatusError]:
    """The class for an HTTP error status."""
    return _BY_STATUS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
