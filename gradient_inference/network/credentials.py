"""Which key goes where: the model key (or an agent's) from the caller or the environment, checked before it is
sent, and only over https (plain http only to loopback); an agent's endpoint from its URL or host."""

from __future__ import annotations

import os

from gradient_inference.errors import UsageError

KEY_HELP = (
    "set GRADIENT_API_KEY (or MODEL_ACCESS_KEY) to a model access key; create one in the "
    "DigitalOcean control panel under Gradient AI > Serverless Inference > Model Access Keys "
    "(https://cloud.digitalocean.com/gen-ai/model-access-keys)"
)
AGENT_KEY_ENV = "GRADIENT_AGENT_KEY"
AGENT_KEY_HELP = f"set {AGENT_KEY_ENV} to the agent's endpoint access key (the agent's Settings in the control panel)"


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def agent_endpoint(text: str) -> str:
    """An agent's chat URL, URL/api/v1/chat/completions?agent=true, from its bare host or https URL (which may
    already end in /api/v1); ValueError unless https (plain http only to loopback)."""
    from urllib.parse import urlsplit

    url = text.strip() if "://" in text else "https://" + text.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(f"--agent-url must be the agent's https URL or host, got {text!r}")
    if parts.scheme != "https" and not is_loopback(parts.hostname):
        raise UsageError(f"--agent-url must be https:// (plain http only to loopback), got {text!r}")
    url = url.rstrip("/")
    for suffix in ("/api/v1", "/api"):
        url = url[: -len(suffix)] if url.endswith(suffix) else url
    return url + "/api/v1/chat/completions?agent=true"


def api_key(url: str, key_env: str | None = None, given: str | None = None) -> str:
    """The model key (given, else from the environment), or with key_env the key in that variable only (an
    agent's). A missing or malformed key is refused before sending (exit 2), as is plain http to another host."""
    names = (key_env,) if key_env else ("GRADIENT_API_KEY", "MODEL_ACCESS_KEY")
    key = (given if not key_env else None) or next((os.environ[n] for n in names if os.environ.get(n, "").strip()), "")
    if not key and key_env:
        raise UsageError(f"no agent key: {AGENT_KEY_HELP}", kind="missing_agent_key")
    if not key:
        raise UsageError(f"no API key: {KEY_HELP}", kind="missing_api_key")
    from gradient_inference.pipeline.settings import check_key

    key = check_key(key)
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "https" and not is_loopback(parts.hostname):
        raise UsageError(
            f"refusing to send the API key over plain http:// to {parts.hostname}; use https:// "
            "(plain http is allowed only for loopback hosts)",
            kind="insecure_base_url",
        )
    return key
