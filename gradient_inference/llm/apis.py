"""The text APIs by the name a command uses: each module offers build_request, parse_reply and stream_reply
(see llm/completions.py), so a command's code does not branch on the API."""

from __future__ import annotations

NAMES = ("chat", "responses", "messages")


def module(api: str):
    """The module for api 'chat' (Chat Completions, agents too), 'responses' or 'messages'."""
    if api == "messages":
        from gradient_inference.llm import messages as mod
    elif api == "responses":
        from gradient_inference.llm import responses as mod
    else:
        from gradient_inference.llm import completions as mod
    return mod
