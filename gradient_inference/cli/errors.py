"""How a failure is reported: one line without --json (gradient-mcp's tool errors are the same line), one JSON
object with it. Loaded only when there is a failure to report, so --help never pays for it."""

from __future__ import annotations


def error_line(err: CliError, prog: str) -> str:  # noqa: F821  (base.CliError; importing base here is a cycle)
    """`PROG: error: MESSAGE (HTTP 404, request id ..., after 3 attempts)`, the message on one line (not redacted:
    the caller redacts)."""
    extras = []
    if err.status is not None:
        extras.append(f"HTTP {err.status}")
    if err.request_id:
        extras.append(f"request id {err.request_id}")
    if err.attempts and err.attempts > 1:
        extras.append(f"after {err.attempts} attempts")
    suffix = f" ({', '.join(extras)})" if extras else ""
    return f"{prog}: error: {' '.join(err.message.split())}{suffix}"


def report(err: CliError, prog: str, as_json: bool, redact) -> None:  # noqa: F821
    """The failure on stderr: {"error": {type, message, status, request_id, attempts?}} with --json, else the line."""
    import sys

    if as_json:
        import json

        message = " ".join(err.message.split())  # always exactly one line
        body = {"type": err.kind, "message": message, "status": err.status, "request_id": err.request_id}
        if err.attempts is not None:
            body["attempts"] = err.attempts
        sys.stderr.write(redact(json.dumps({"error": body})) + "\n")
    else:
        print(redact(error_line(err, prog)), file=sys.stderr)
