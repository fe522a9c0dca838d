"""DigitalOcean's server-side tools: the tool objects the flags of cli/base.add_server_tool_flags become,
what a reply says about the tool work done on DigitalOcean's side, and what that work costs.

Request shapes are DigitalOcean's documented ones ("How to Use Server-Side Tools" and its pages
retrieve-knowledge-base/, use-mcp/, use-web-search/, use-web-fetch/); the reply shapes (url_citation
annotations, web_search_call / mcp_call output items) are OpenAI's, which DigitalOcean forwards.
Loaded only after argument parsing.
"""

from __future__ import annotations

import os
import re

from gradient_inference.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

LABEL = re.compile(r"[A-Za-z0-9_-]{1,64}")
TOKEN_PREFIX = "GRADIENT_MCP_TOKEN_"
WEB_SEARCH_USD = 0.01  # $10 per 1,000 searches (DigitalOcean's server-side tools page)
FLAGS = ("web_search", "web_fetch", "knowledge_base", "mcp", "mcp_allow", "web_max_uses", "web_max_results")
CLIENT_ITEMS = ("message", "function_call", "reasoning")  # Responses output items that are not server work


def flags_given(args) -> list[str]:
    """The server-side tool flags on the command line, as they are spelt there."""
    return ["--" + name.replace("_", "-") for name in FLAGS if getattr(args, name, None) not in (None, False, [])]


def token_env(label: str) -> str:
    return TOKEN_PREFIX + label.upper().replace("-", "_")


def tools_from_args(args, api: str = "chat", agent: str | None = None, dry_run: bool = False) -> list[dict[str, Any]]:
    """The server-side tool objects that args (the flags, or a ChatRequest: the same names) ask for ([] when none);
    bad values and APIs that do not take them are UsageErrors. On a dry run an MCP token is its variable's name."""
    given = flags_given(args)
    if not given:
        return []
    if api not in ("chat", "responses") or agent:
        where = "--agent-url" if agent else f"--api {api}"
        raise UsageError(
            f"{given[0]}: server-side tools work on Chat Completions and Responses (--api chat or responses)"
            f", not {where}"
        )
    for name, top in (("web_max_uses", 5), ("web_max_results", 10)):
        value = getattr(args, name)
        if value is not None and not 1 <= value <= top:
            raise UsageError(f"--{name.replace('_', '-')} must be from 1 to {top}, got {value}")
    if args.web_max_uses is not None and not (args.web_search or args.web_fetch):
        raise UsageError("--web-max-uses needs --web-search or --web-fetch")
    if args.web_max_results is not None and not args.web_search:
        raise UsageError("--web-max-results needs --web-search")
    tools: list[dict[str, Any]] = [
        {"type": "knowledge_base_retrieval", "knowledge_base_id": kb} for kb in args.knowledge_base or []
    ]
    tools += _mcp_tools(args, dry_run)
    uses = {"max_uses": args.web_max_uses} if args.web_max_uses is not None else {}
    if args.web_search:
        results = {"max_results": args.web_max_results} if args.web_max_results is not None else {}
        tools.append({"type": "web_search", **uses, **results})
    if args.web_fetch:
        tools.append({"type": "web_fetch", **uses})
    return tools


def _mcp_tools(args, dry_run: bool) -> list[dict[str, Any]]:
    from urllib.parse import urlsplit

    from gradient_inference.network.api import is_loopback

    servers: dict[str, dict[str, Any]] = {}
    for pair in args.mcp or []:
        label, sep, url = pair.partition("=")
        if not sep or not LABEL.fullmatch(label):
            raise UsageError(f"--mcp {pair!r}: expected LABEL=URL, LABEL 1-64 letters, digits, '_' or '-'")
        if label in servers:
            raise UsageError(f"--mcp: the label {label!r} is given twice; labels must be unique")
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise UsageError(f"--mcp {label}: {url!r} is not an https:// URL")
        if parts.scheme != "https" and not is_loopback(parts.hostname):
            raise UsageError(f"--mcp {label}: the URL must be https:// (plain http only to loopback), got {url!r}")
        server: dict[str, Any] = {"type": "mcp", "server_label": label, "server_url": url}
        env = token_env(label)
        if os.environ.get(env):
            token = f"${env}" if dry_run else os.environ[env]
            server["authorization"] = f"Bearer {token}"
        servers[label] = server
    for pair in args.mcp_allow or []:
        label, sep, tool = pair.partition(":")
        if not sep or not tool:
            raise UsageError(f"--mcp-allow {pair!r}: expected LABEL:TOOL")
        if label not in servers:
            raise UsageError(f"--mcp-allow {pair!r}: no --mcp server has the label {label!r}")
        servers[label].setdefault("allowed_tools", []).append(tool)
    return list(servers.values())


# ---------------------------------------------------------------- replies


def citation(annotation: Any) -> dict[str, Any] | None:
    """{url, title} of a url_citation annotation: nested under url_citation on Chat Completions, flat on
    Responses; None for any other annotation."""
    if not isinstance(annotation, dict) or annotation.get("type") != "url_citation":
        return None
    inner = annotation.get("url_citation") if isinstance(annotation.get("url_citation"), dict) else annotation
    if not isinstance(inner.get("url"), str):
        return None
    return {"url": inner["url"], "title": inner.get("title") if isinstance(inner.get("title"), str) else None}


def add_citations(found: list[dict[str, Any]], annotations: Any) -> None:
    """Append the url_citations among `annotations` to `found`, each URL once."""
    seen = {c["url"] for c in found}
    for annotation in annotations if isinstance(annotations, list) else []:
        cited = citation(annotation)
        if cited and cited["url"] not in seen:
            seen.add(cited["url"])
            found.append(cited)


def server_tool(item: Any) -> dict[str, Any] | None:
    """{type, name?, server?, status?} for a Responses output item that records DigitalOcean-side tool work
    (web_search_call, mcp_call, mcp_list_tools, any other *_call); None for messages, function calls, reasoning."""
    if not isinstance(item, dict) or not isinstance(item.get("type"), str) or item["type"] in CLIENT_ITEMS:
        return None
    if not (item["type"].endswith("_call") or item["type"].startswith("mcp_")):
        return None
    out: dict[str, Any] = {"type": item["type"]}
    for field, key in (("name", "name"), ("server", "server_label"), ("status", "status")):
        if isinstance(item.get(key), str):
            out[field] = item[key]
    return out


def server_tools_of(output: Any) -> list[dict[str, Any]]:
    return [found for item in output if (found := server_tool(item))] if isinstance(output, list) else []


# ---------------------------------------------------------------- cost


def with_tool_fees(cost: dict[str, Any] | None, reply: dict[str, Any], web_search: bool) -> dict[str, Any] | None:
    """The cost object with web-search fees: $0.01 per web_search_call the reply reports. A Chat Completions
    reply does not report its searches, so there tool_fees is "unknown" rather than a made-up zero."""
    if not web_search or cost is None:
        return cost
    if reply.get("api") != "responses":
        return {**cost, "tool_fees": "unknown"}
    searches = sum(1 for tool in reply.get("server_tools") or [] if tool["type"] == "web_search_call")
    fees = round(searches * WEB_SEARCH_USD, 8)
    return {**cost, "usd": round(cost["usd"] + fees, 8), "tool_fees": fees}


def asks_web_search(tools: list[dict[str, Any]] | None) -> bool:
    return any(isinstance(t, dict) and str(t.get("type", "")).startswith("web_search") for t in tools or [])
