"""Prices from the Model Catalog first (with a DigitalOcean token), each fallback, and where the token goes."""

from __future__ import annotations

import json
import stat

import pages
import pytest
from fake_catalog import DO_TOKEN, LIST_PATH
from test_pricing import docs_host_refused, serve


def assert_token_stayed_home(result, *servers) -> None:
    """The DigitalOcean token is in no output, and only in requests to the catalog host."""
    assert DO_TOKEN not in result.out and DO_TOKEN not in result.err and DO_TOKEN[:16] not in result.err
    for host in servers:
        for seen in host.requests:
            assert DO_TOKEN not in json.dumps(seen["headers"]) and DO_TOKEN.encode() not in (seen["raw"] or b"")


def catalog_env(server, catalog, token=DO_TOKEN, **extra):
    env = {**docs_host_refused(server), "GRADIENT_CATALOG_URL": catalog.root + LIST_PATH, **extra}
    if token:
        env["DIGITALOCEAN_TOKEN"] = token
    return env


def test_catalog_comes_first_reads_every_page_and_is_cached(run, server, catalog, cache_dir):
    url = serve(server, pages.TABS_FULL)
    first = run("pricing", "--json", env=catalog_env(server, catalog, GRADIENT_PRICING_URL=url))
    assert first.code == 0, first.err
    data = first.json()
    assert data["source"] == "catalog" and data["source_url"] == catalog.root + LIST_PATH
    pages_read = [r["path"] for r in catalog.requests]
    assert pages_read == [f"{LIST_PATH}?page={n}&limit=100" for n in (1, 2, 3)]  # meta.page < meta.pages
    assert server.requests == []  # the docs page was not needed
    rows = {m["api_id"]: m for m in data["models"]}
    assert len(rows) == 6
    sonnet = rows["anthropic-claude-sonnet-4"]
    assert sonnet["input_price"] == 3 and sonnet["cached_input_price"] == 0.3
    assert sonnet["cache_write_5m_price"] == 3.75 and sonnet["cache_write_1h_price"] == 6
    assert rows["fal-ai/flux/schnell"]["image_price"] == 0.003 and rows["fal-ai/flux/schnell"]["unit"] == "per image"
    assert rows["fal-ai/stable-audio-25/text-to-audio"]["audio_price"] == 0.2
    assert all(r["headers"].get("Authorization") == f"Bearer {DO_TOKEN}" for r in catalog.requests)
    assert stat.S_IMODE((cache_dir / "pricing.json").stat().st_mode) == 0o600
    again = run("pricing", "--json", env=catalog_env(server, catalog))
    assert again.json()["source"] == "cache" and len(catalog.requests) == 3
    assert_token_stayed_home(first, server)
    assert DO_TOKEN not in (cache_dir / "pricing.json").read_text()


def test_doctl_variable_works_too(run, server, catalog):
    env = catalog_env(server, catalog, token=None, DIGITALOCEAN_ACCESS_TOKEN=DO_TOKEN)
    result = run("pricing", "--json", "--no-cache", env=env)
    assert result.json()["source"] == "catalog"


def test_no_token_never_asks_the_catalog(run, server, catalog):
    url = serve(server, pages.TABS_FULL)
    result = run("pricing", "--json", env=catalog_env(server, catalog, token=None, GRADIENT_PRICING_URL=url))
    assert result.json()["source"] == "live" and catalog.requests == []


@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_falls_through_with_one_warning(run, server, catalog, status):
    catalog.queue(LIST_PATH, {"status": status, "json": {"id": "unauthorized", "message": "bad token"}})
    url = serve(server, pages.TABS_FULL)
    result = run("pricing", "--json", env=catalog_env(server, catalog, GRADIENT_PRICING_URL=url))
    assert result.code == 0 and result.json()["source"] == "live"
    warnings = [line for line in result.err.splitlines() if line.strip()]
    assert len(warnings) == 1 and "DIGITALOCEAN_TOKEN" in warnings[0]
    assert_token_stayed_home(result, server)


def test_wrong_token_is_refused_by_the_fake_and_falls_through(run, server, catalog):
    result = run("pricing", "--json", env=catalog_env(server, catalog, token="dop_v1_wrong"))
    assert result.code == 0 and result.json()["source"] == "snapshot"
    assert "DIGITALOCEAN_TOKEN" in result.err


@pytest.mark.parametrize(
    "script",
    [
        {"status": 500, "json": {"id": "server_error", "message": "boom"}},
        {"status": 200, "json": {"models": []}},
        {"status": 200, "body": "<html>not json</html>", "content_type": "text/html"},
    ],
    ids=["500", "no-data-meta", "not-json"],
)
def test_server_error_or_malformed_page_falls_through_quietly(run, server, catalog, script):
    catalog.queue(LIST_PATH, script)
    url = serve(server, pages.TABS_FULL)
    result = run("pricing", "--json", env=catalog_env(server, catalog, GRADIENT_PRICING_URL=url))
    assert result.code == 0 and result.json()["source"] == "live"
    assert "DIGITALOCEAN_TOKEN" not in result.err


def test_token_is_never_sent_over_plain_http_to_another_host(run, server, catalog):
    env = catalog_env(server, catalog, GRADIENT_CATALOG_URL="http://example.invalid/v2/gen-ai/models/catalog")
    result = run("pricing", "--json", env=env)
    assert result.code == 0 and result.json()["source"] == "snapshot" and "https" in result.err
    assert catalog.requests == []
    assert_token_stayed_home(result, server)


def test_chat_never_sends_the_token_to_the_inference_host_or_the_history(run, server, catalog, data_dir):
    from history_db import raw_bytes

    result = run("chat", "--prompt", "hi", "--json", "--verbose", env=catalog_env(server, catalog))
    assert result.code == 0
    assert_token_stayed_home(result, server)
    assert catalog.requests == []
    assert DO_TOKEN.encode() not in raw_bytes(data_dir) and raw_bytes(data_dir)


def test_verbose_catalog_fetch_logs_the_variable_name_not_the_token(run, server, catalog):
    result = run("pricing", "--json", "--no-cache", "--verbose", env=catalog_env(server, catalog))
    assert result.code == 0 and "$DIGITALOCEAN_TOKEN" in result.err
    assert_token_stayed_home(result, server)
