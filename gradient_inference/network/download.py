"""File downloads from URLs a response hands us (images, audio): never with the API key.

Only https, or plain http to a loopback host; every redirect is checked again; the size is capped while
reading; the content type must be what the caller expects.
"""

from __future__ import annotations

from gradient_inference.cli.base import CliError, debug
from gradient_inference.network.api import is_loopback, no_netrc, read_body

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_REDIRECTS = 5


def check_download_url(url: str, what: str) -> None:
    """Only https, or plain http to loopback: a file URL from a response is not trusted blindly."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return
    raise CliError(
        f"{what}: refusing to download from {parts.scheme or 'a'}:// URL on {parts.hostname or '?'}; "
        "only https:// URLs are fetched",
        kind="insecure_url",
    )


def download(url: str, what: str, timeout: float, cap: int, media: str | tuple[str, ...] = "image") -> bytes:
    """GET a file URL without the API key (see download_file); the bytes only."""
    return download_file(url, what, timeout, cap, media)[0]


def download_file(
    url: str, what: str, timeout: float, cap: int, media: str | tuple[str, ...] = "image"
) -> tuple[bytes, str]:
    """GET a file URL without the API key, capped while reading; (bytes, content type).

    `what` names the file in errors ("image 2"). The content type must start with one of `media`:
    "image" means image/*, a full type such as "application/octet-stream" means itself.
    """
    accepted = (media,) if isinstance(media, str) else tuple(media)
    prefixes = tuple(m if "/" in m else f"{m}/" for m in accepted)
    resp = open_url(url, what, timeout, ", ".join(m if "/" in m else f"{m}/*" for m in accepted))
    try:
        ctype = resp.headers.get("content-type", "").strip().lower()
        if not ctype.startswith(prefixes):
            first = accepted[0]
            article = "an" if first[0] in "aeiou" else "a"
            kind = f"not_{article}_{first}" if isinstance(media, str) else f"not_{first.split('/')[0]}"
            raise CliError(f"{what}: the URL returned {ctype or 'no content type'}, not {article} {first}", kind=kind)
        try:
            return read_body(resp, cap=cap), ctype  # checks Content-Length, then the cap while reading
        except CliError as err:
            err.message = f"{what}: {err.message}"
            raise
    finally:
        resp.close()


def download_lines(url: str, what: str, timeout: float, cap: int) -> Iterator[bytes]:
    """The non-blank lines of a text file at a URL (a batch's results), streamed, without the key, capped."""
    resp = open_url(url, what, timeout, "*/*")
    with resp:
        size = 0
        for raw in resp.iter_lines(chunk_size=64 * 1024):
            size += len(raw) + 1
            if size > cap:
                raise CliError(f"{what}: larger than the {cap // (1024 * 1024)} MiB cap", kind="response_too_large")
            if raw.strip():
                yield raw


def open_url(url: str, what: str, timeout: float, accept: str):
    """The streamed response to GET url without the key; each redirect is checked before it is followed."""
    from urllib.parse import urljoin, urlsplit

    import requests

    headers = {"User-Agent": "gradient-inference/0.1", "Accept": accept}
    for _hop in range(MAX_REDIRECTS + 1):
        check_download_url(url, what)
        host = urlsplit(url).hostname
        debug(f"> GET {urlsplit(url)._replace(query='').geturl()} ({what}, no API key)")
        try:
            resp = requests.get(
                url, headers=headers, stream=True, timeout=(timeout, timeout), allow_redirects=False, auth=no_netrc
            )
        except requests.exceptions.RequestException as exc:
            why = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "connection failed"
            raise CliError(f"{what}: download from {host} {why}", kind="download_error") from None
        debug(f"< {resp.status_code} {resp.reason} {resp.headers.get('content-type', '-')}")
        if resp.is_redirect and resp.headers.get("location"):
            url = urljoin(url, resp.headers["location"])
            resp.close()
            continue
        if resp.status_code >= 400:
            resp.close()
            raise CliError(f"{what}: download from {host} failed", kind="download_error", status=resp.status_code)
        return resp
    raise CliError(f"{what}: too many redirects downloading it", kind="download_error")
