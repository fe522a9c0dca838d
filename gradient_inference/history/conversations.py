"""gradient-chat's conversations: which one a call continues (-c, --conversation-id, --conversation FILE),
the tool results it adds (--tool-result), and keeping it after a successful reply.

Stored and written in Chat Completions shape; each API module converts from that (as for --messages-file).
"""

from __future__ import annotations

import os

from gradient_inference.history import record, store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def open_thread(parser, args) -> dict[str, Any]:
    """{id, new, file, prior, added}: the conversation this call belongs to, its messages so far, and the
    tool messages this call adds. Every bad input exits 2 here, before anything is sent."""
    from gradient_inference.llm import conversation as conv

    chosen = [f for f, on in (("--continue", args.continue_), ("--conversation-id", args.conversation_id),
                              ("--conversation", args.conversation), ("--messages-file", args.messages_file)) if on]  # fmt: skip
    if len(chosen) > 1:
        parser.error(f"{chosen[0]} and {chosen[1]} cannot be given together")
    thread: dict[str, Any] = {"id": None, "new": True, "file": args.conversation, "prior": [], "added": []}
    if args.continue_ or args.conversation_id:
        if store.mode(args) == "off":
            parser.error(f"{chosen[0]} needs the history, which is off (--no-history or GRADIENT_HISTORY=off)")
        try:
            found = store.read_conversation(args.conversation_id)
        except store.HistoryError as exc:
            parser.error(f"{chosen[0]}: {exc}")
        if found is None:
            what = f"no conversation {args.conversation_id!r}" if args.conversation_id else "no conversation yet"
            parser.error(f"{chosen[0]}: {what} in the history ({store.db_path()})")
        thread.update(id=found[0], new=False, prior=found[1])
    elif args.conversation:
        thread["prior"] = read_file_conversation(parser, args.conversation)
        thread["id"] = file_conversation_id(args.conversation)
        thread["new"] = not thread["prior"]
    thread["added"] = tool_messages(parser, args, thread["prior"], chosen)
    if thread["id"] is None and store.mode(args) != "off":
        thread["id"] = record.new_conversation_id()
    if args.system and thread["prior"] and thread["prior"][0].get("role") == "system":
        thread["prior"] = thread["prior"][1:]  # --system replaces the conversation's own
    try:
        conv.check_messages(thread["prior"] + thread["added"]) if thread["prior"] or thread["added"] else None
    except ValueError as exc:
        parser.error(f"{chosen[0] if chosen else '--tool-result'}: {exc}")
    return thread


def read_file_conversation(parser, path: str) -> list[dict]:
    """The messages in FILE, read as --messages-file is; a missing or empty FILE is a new conversation."""
    from gradient_inference.files.input import read_file
    from gradient_inference.llm import conversation as conv

    if not os.path.exists(path):
        return []
    text = read_file(parser, path, "--conversation")
    if not text.strip():
        return []
    try:
        return conv.read_conversation(text)
    except ValueError as exc:
        parser.error(f"--conversation {path}: {exc}")


def file_conversation_id(path: str) -> str:
    """A FILE keeps one id across calls: derived from its real path."""
    import hashlib

    return "c_" + hashlib.sha256(os.path.realpath(path).encode()).hexdigest()[:16]


def unanswered_calls(messages: list[dict]) -> list[str]:
    """The ids of tool calls in the conversation that no tool message answers yet."""
    answered = {m.get("tool_call_id") for m in messages if m.get("role") == "tool"}
    ids = [c.get("id") for m in messages if m.get("role") == "assistant" for c in m.get("tool_calls") or []]
    return [i for i in ids if i not in answered]


def tool_messages(parser, args, prior: list[dict], chosen: list[str]) -> list[dict]:
    """{"role": "tool"} messages from --tool-result CALL_ID=TEXT or CALL_ID=@PATH."""
    if not args.tool_result:
        return []
    if not chosen:
        parser.error("--tool-result needs the conversation it answers: --conversation FILE, -c or --conversation-id")
    open_ids = unanswered_calls(prior)
    added: list[dict] = []
    for given in args.tool_result:
        call_id, sep, text = given.partition("=")
        if not sep or not call_id:
            parser.error(f"--tool-result must be CALL_ID=TEXT or CALL_ID=@PATH, got {given!r}")
        if call_id not in open_ids or any(m["tool_call_id"] == call_id for m in added):
            expected = ", ".join(open_ids) or "none"
            parser.error(f"--tool-result {call_id}: not an unanswered tool call of this conversation ({expected})")
        if text.startswith("@"):
            from gradient_inference.files.input import read_file

            text = read_file(parser, text[1:], "--tool-result")
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


def keep(thread: dict[str, Any], sent: list[dict], message: dict, api: str, model: str, system, prompt) -> None:
    """After a successful reply: append this call's new messages to FILE (whole lines, fsynced), and save the
    whole conversation with this run's history rows."""
    if thread["file"]:
        head = [{"role": "system", "content": system}] if system and thread["new"] else []
        tail = [{"role": "user", "content": prompt}] if prompt else []
        append_lines(thread["file"], [*head, *thread["added"], *tail, message])
    if thread["id"]:
        record.save_conversation(thread["id"], api, model, [*sent, message])


def append_lines(path: str, messages: list[dict]) -> None:
    """Each message one JSONL line, written whole with one write, flushed and fsynced: a crash never leaves
    half a line. A file not ending in a newline gets one first."""
    import json

    from gradient_inference.cli import base as cli

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise cli.CliError(f"cannot write --conversation {path}: {exc.strerror or exc}", kind="write_error") from None
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        if size and os.pread(fd, 1, size - 1) != b"\n":
            os.write(fd, b"\n")
        for message in messages:
            os.write(fd, (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))
            os.fsync(fd)
    finally:
        os.close(fd)
