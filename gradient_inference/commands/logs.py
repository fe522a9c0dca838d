"""Show the local history of calls: recent ones, filtered or searched, a conversation turn by turn, or one call."""

from __future__ import annotations

import sys

from gradient_inference.cli import base as cli

PROMPT_WIDTH = 48


def build_parser() -> cli.ArgumentParser:
    parser = cli.new_parser("gradient-logs", "Show the local history of calls, newest first.", api=False)
    parser.add_argument("action", nargs="*", metavar="show ID | path", help="show one call whole; print the db path")
    parser.add_argument("-n", type=cli.positive_int, default=20, metavar="N", help="how many calls (default 20)")
    parser.add_argument("--since", metavar="2h|7d|YYYY-MM-DD", help="only calls since then")
    parser.add_argument("--model", type=cli.non_empty, help="only calls asking for or served by this model")
    parser.add_argument("--command", type=cli.non_empty, metavar="NAME", help="only this command's calls (chat ...)")
    parser.add_argument("--errors", action="store_true", help="only failed calls")
    parser.add_argument("-q", metavar="TEXT", type=cli.non_empty, help="search prompts and replies")
    parser.add_argument("--conversation", metavar="ID", type=cli.non_empty, help="one conversation, turn by turn")
    parser.add_argument("--jsonl", action="store_true", help="JSON lines, one call each")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = cli.parse(parser, argv)
    action = args.action
    if action not in ([], ["path"]) and not (len(action) == 2 and action[0] == "show" and action[1].isdigit()):
        parser.error(f"expected 'show ID' (a call's number) or 'path', got {' '.join(action)!r}")
    from gradient_inference.history import query, store

    if action == ["path"]:
        cli.print_json({"path": store.db_path()}) if args.json else print(store.db_path())
        return 0
    since = None
    if args.since:
        try:
            since = query.since_ts(args.since)
        except ValueError as exc:
            parser.error(str(exc))
    try:
        conn = store.connect(create=False)
    except store.HistoryError as exc:
        raise cli.CliError(str(exc), kind="history_error") from None
    rows = []
    if conn is None and action:
        raise cli.CliError(f"no call {action[1]}: there is no history yet ({store.db_path()})", kind="not_found")
    if conn is None and args.conversation:
        raise cli.CliError(f"no conversation {args.conversation}: there is no history yet", kind="not_found")
    if conn is not None:
        import sqlite3

        try:
            if action:
                row = query.one(conn, int(action[1]))
                if row is None:
                    raise cli.CliError(f"no call {action[1]} in the history", kind="not_found")
                return show(args, row)
            if args.conversation:
                rows = query.conversation(conn, args.conversation)
                if not rows:
                    raise cli.CliError(f"no conversation {args.conversation} in the history", kind="not_found")
            else:
                full = args.json or args.jsonl
                filters = {"since": since, "model": args.model, "command": args.command, "errors": args.errors}
                rows = query.recent(conn, args.n, text=args.q, full=full, **filters)
        except sqlite3.Error as exc:
            raise cli.CliError(f"cannot read {store.db_path()}: {exc}", kind="history_error") from None
        finally:
            conn.close()
    if args.jsonl or args.json:
        import json

        if args.jsonl:
            sys.stdout.write("".join(cli.redact(json.dumps(r, ensure_ascii=False)) + "\n" for r in rows))
        else:
            cli.print_json(rows)
    elif args.conversation:
        turns(rows)
    elif rows:
        table(rows)
    return 0


def _when(ts: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _first_words(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= PROMPT_WIDTH else flat[: PROMPT_WIDTH - 1] + "…"


def table(rows: list[dict]) -> None:
    lines = []
    for r in rows:
        tokens = f"{r['input_tokens'] or 0}/{r['output_tokens'] or 0}" if r["input_tokens"] is not None else ""
        cost = f"${r['cost_usd']:.6f}" if r["cost_usd"] is not None else ""
        ms = f"{r['wall_ms']:.0f}" if r["wall_ms"] is not None else ""
        model = r["model"] or r["requested_model"] or ""
        prompt = _first_words(r["prompt"]) if r["ok"] else f"[{r['error_type']}] {_first_words(r['prompt'])}"
        lines.append([r["id"], _when(r["ts"]), r["command"], model, tokens, cost, ms, prompt])
    aligned(lines, ["id", "time", "command", "model", "tokens in/out", "cost", "ms", "prompt"])


def aligned(rows: list[list], headers: list[str]) -> None:
    """tabulate's "simple" table, drawn here: importing tabulate (it loads importlib.metadata) costs ~38 ms,
    more than the whole search it would print."""
    cells = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    cells.insert(1, ["-" * w for w in widths])
    text = "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)
    sys.stdout.write(cli.redact(text) + "\n")


def turns(rows: list[dict]) -> None:
    """Each call of a conversation: its header, the prompt, and what came back."""
    import json

    for r in rows:
        cost = f", ${r['cost_usd']:.6f}" if r["cost_usd"] is not None else ""
        print(f"#{r['id']} {_when(r['ts'])} {r['model'] or r['requested_model']}{cost}")
        if r["prompt"]:
            print(cli.redact(f"  user: {r['prompt']}"))
        reply = r["reply"] if isinstance(r["reply"], dict) else {}
        if reply.get("content"):
            print(cli.redact(f"  assistant: {reply['content']}"))
        for call in reply.get("tool_calls") or []:
            print(cli.redact(f"  tool call {call.get('id')}: {call.get('name')} {json.dumps(call.get('arguments'))}"))
        if not r["ok"]:
            print(f"  error: {r['error_type']}")


def show(args, row: dict) -> int:
    if args.json or args.jsonl:
        cli.print_json(row)
        return 0
    import json

    for name, value in row.items():
        if value is None:
            continue
        if name == "ts":
            value = f"{value} ({_when(value)})"
        elif isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False, indent=2)
        print(cli.redact(f"{name}: {value}"))
    return 0


def run() -> None:
    cli.run(main)


if __name__ == "__main__":
    run()
