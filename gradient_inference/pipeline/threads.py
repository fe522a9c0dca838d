"""Which conversation a chat call continues (the last one, an id from the history, or a JSONL file), the tool
results it adds, and keeping the call's turn after a successful reply. The history stores; this decides.

Stored and written in Chat Completions shape; each API module converts from that (as for --messages-file).
"""

from __future__ import annotations

import os

from gradient_inference.errors import GradientError, UsageError
from gradient_inference.history import record, store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gradient_inference.pipeline.call import Call


def open_thread(settings, request) -> dict[str, Any]:
    """{id, new, file, prior, added, model, api}: the conversation the request belongs to, its messages so far,
    and the tool messages it adds. Every bad input is a UsageError here, before anything is sent."""
    from gradient_inference.llm import conversation as conv

    chosen = [f for f, on in (("--continue", request.continue_last), ("--conversation-id", request.conversation_id),
                              ("--conversation", request.conversation_file),
                              ("--messages-file", request.messages is not None)) if on]  # fmt: skip
    if len(chosen) > 1:
        raise UsageError(f"{chosen[0]} and {chosen[1]} cannot be given together")
    file = request.conversation_file
    thread: dict[str, Any] = {"id": None, "new": True, "file": file, "prior": [], "added": [], "model": None}
    if request.continue_last or request.conversation_id:
        if settings.history == "off":
            raise UsageError(f"{chosen[0]} needs the history, which is off (--no-history or GRADIENT_HISTORY=off)")
        try:
            found = store.read_conversation(request.conversation_id, settings.data_dir)
        except store.HistoryError as exc:
            raise UsageError(f"{chosen[0]}: {exc}") from None
        if found is None:
            cid = request.conversation_id
            what = f"no conversation {cid!r}" if cid else "no conversation yet"
            raise UsageError(f"{chosen[0]}: {what} in the history ({store.db_path(settings.data_dir)})")
        thread.update(id=found["id"], new=False, prior=found["messages"], api=found["api"], model=found["model"])
    elif file:
        thread["prior"] = read_file_conversation(file)
        thread["id"] = file_conversation_id(file)
        thread["new"] = not thread["prior"]
    thread["added"] = tool_messages(request.tool_results, thread["prior"], chosen)
    if thread["id"] is None and settings.history != "off":
        thread["id"] = record.new_conversation_id()
    if request.system and thread["prior"] and thread["prior"][0].get("role") == "system":
        thread["prior"] = thread["prior"][1:]  # --system replaces the conversation's own
    try:
        conv.check_messages(thread["prior"] + thread["added"]) if thread["prior"] or thread["added"] else None
    except ValueError as exc:
        raise UsageError(f"{chosen[0] if chosen else '--tool-result'}: {exc}") from None
    return thread


def read_file_conversation(path: str) -> list[dict]:
    """The messages in FILE, read as --messages-file is; a missing or empty FILE is a new conversation."""
    from gradient_inference.files.input import read_file
    from gradient_inference.llm import conversation as conv

    if not os.path.exists(path):
        return []
    text = read_file(path, "--conversation")
    if not text.strip():
        return []
    try:
        return conv.read_conversation(text)
    except ValueError as exc:
        raise UsageError(f"--conversation {path}: {exc}") from None


def file_conversation_id(path: str) -> str:
    """A FILE keeps one id across calls: derived from its real path."""
    import hashlib

    return "c_" + hashlib.sha256(os.path.realpath(path).encode()).hexdigest()[:16]


def unanswered_calls(messages: list[dict]) -> list[str]:
    """The ids of tool calls in the conversation that no tool message answers yet."""
    answered = {m.get("tool_call_id") for m in messages if m.get("role") == "tool"}
    ids = [c.get("id") for m in messages if m.get("role") == "assistant" for c in m.get("tool_calls") or []]
    return [i for i in ids if i not in answered]


def tool_messages(results: list[tuple[str, str]] | None, prior: list[dict], chosen: list[str]) -> list[dict]:
    """{"role": "tool"} messages answering the conversation's open tool calls, from (call id, text) pairs."""
    if not results:
        return []
    if not chosen:
        raise UsageError(
            "--tool-result needs the conversation it answers: --conversation FILE, -c or --conversation-id"
        )
    open_ids = unanswered_calls(prior)
    added: list[dict] = []
    for call_id, text in results:
        if call_id not in open_ids or any(m["tool_call_id"] == call_id for m in added):
            expected = ", ".join(open_ids) or "none"
            raise UsageError(f"--tool-result {call_id}: not an unanswered tool call of this conversation ({expected})")
        added.append({"role": "tool", "tool_call_id": call_id, "content": text})
    return added


def assistant_message(reply: dict[str, Any]) -> dict[str, Any]:
    """The reply as a Chat Completions assistant message, ready to append to a conversation."""
    import json

    message: dict[str, Any] = {"role": "assistant", "content": reply.get("content") or None}
    if reply.get("tool_calls"):
        message["tool_calls"] = [
            {"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": json.dumps(c["arguments"], ensure_ascii=False)
                          if not isinstance(c["arguments"], str) else c["arguments"]}}
            for c in reply["tool_calls"]
        ]  # fmt: skip
    elif message["content"] is None:
        message["content"] = ""
    return message


def keep(call: Call, thread: dict[str, Any], sent: list[dict], message: dict, api: str, model: str, system, prompt):
    """After a successful reply: append this call's turn to FILE (whole lines, fsynced) and to the history's
    conversation (written when the call closes), never rewriting what is there."""
    tail = [{"role": "user", "content": prompt}] if prompt else []
    turn = [*thread["added"], *tail, message]
    if thread["file"]:
        head = [{"role": "system", "content": system}] if system and thread["new"] else []
        append_lines(thread["file"], [*head, *turn])
    if thread["id"]:
        head = sent[: len(sent) - len(turn) + 1]  # what the conversation started with, for a new one
        record.save_conversation(call, thread["id"], api, model, head, turn)


def append_lines(path: str, messages: list[dict]) -> None:
    """Each message one JSONL line, written whole with one write, flushed and fsynced: a crash never leaves
    half a line. A file not ending in a newline gets one first."""
    import json

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise GradientError(f"cannot write --conversation {path}: {exc.strerror or exc}", kind="write_error") from None
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        if size and os.pread(fd, 1, size - 1) != b"\n":
            os.write(fd, b"\n")
        for message in messages:
            os.write(fd, (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))
            os.fsync(fd)
    finally:
        os.close(fd)
