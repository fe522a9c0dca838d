"""gradient_pricing.py: layouts, cache, fallbacks, matcher, and the cost of a call."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import sys
from pathlib import Path

import pages
import pytest
from conftest import HELP_MODULES, ROOT

sys.path.insert(0, str(ROOT))
from gradient_inference.cli import base as cli  # noqa: E402
from gradient_inference.prices import docs_page as pricepage  # noqa: E402
from gradient_inference.prices import lookup as gp  # noqa: E402
from gradient_inference.prices import table as gprices  # noqa: E402


def serve(server, html, path="/pricing/", status=200):
    server.queue(path, {"status": status, "body": html, "content_type": "text/html; charset=utf-8"})
    return server.root + path


def docs_host_refused(server) -> dict[str, str]:
    """Environment that sends docs.digitalocean.com through the test server as an HTTPS proxy, which records
    the CONNECT and refuses it: the default sources are tried, yet no test leaves loopback."""
    loopback = "127.0.0.1,localhost"
    return {"HTTPS_PROXY": server.root, "https_proxy": server.root, "NO_PROXY": loopback, "no_proxy": loopback}


def prices(run, server, *args, url=None, **kw):
    env = {**docs_host_refused(server), **({"GRADIENT_PRICING_URL": url} if url else {})}
    result = run("pricing", *args, env=env, **kw)
    assert {r["path"] for r in server.requests if r["method"] == "CONNECT"} <= {"docs.digitalocean.com:443"}
    return result


# ---------------------------------------------------------------- layouts


def test_tab_layout_parsed_with_provider_from_label():
    rows = {r["model"]: r for r in pricepage.parse_pricing(pages.TABS)}
    assert rows["gpt-oss-120b"] == {
        "provider": "OpenAI",
        "model": "gpt-oss-120b",
        "input_price": 0.10,
        "output_price": 0.70,
        "cached_input_price": None,
        "unit": "per 1M tokens",
    }
    assert rows["Llama 3.3 Instruct-70B"]["input_price"] == rows["Llama 3.3 Instruct-70B"]["output_price"] == 0.65
    assert rows["Claude Sonnet 4"]["provider"] == "Anthropic" and rows["Claude Sonnet 4"]["output_price"] == 15.0
    assert "Claude Opus 4 (deprecated)" not in rows  # a row without a price is skipped
    assert len(rows) == 4


def test_heading_layout_with_columns_units_and_cached_prices():
    rows = {r["model"]: r for r in pricepage.parse_pricing(pages.HEADINGS)}
    assert rows["GPT-5 mini"]["provider"] == "OpenAI"
    assert (rows["GPT-5 mini"]["input_price"], rows["GPT-5 mini"]["output_price"]) == (0.25, 2.0)
    assert rows["GPT-5 mini"]["cached_input_price"] == 0.025
    assert rows["DeepSeek R1 Distill Llama 70B"]["provider"] == "DeepSeek"
    assert rows["Flux Schnell"]["unit"] == "per image" and rows["Flux Schnell"]["output_price"] == 0.003
    assert rows["Stable Audio 2.5"]["unit"] == "per second"
    assert rows["Old Model"]["input_price"] == pytest.approx(2.0)  # $0.002 per 1K tokens = $2 per 1M
    assert "Reasoning models" not in rows


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$0.10 per 1M input tokens / $0.70 per 1M output tokens", (0.10, 0.70, None, "per 1M tokens")),
        ("$0.65 per 1M tokens", (0.65, 0.65, None, "per 1M tokens")),
        ("$1,250.00 per 1M output tokens", (None, 1250.0, None, "per 1M tokens")),
        (
            "$3 per 1M input tokens, $0.30 per 1M cached input tokens, $15 per 1M output tokens",
            (3.0, 15.0, 0.3, "per 1M tokens"),
        ),
        ("$0.04 per image", (None, 0.04, None, "per image")),
        ("Free", None),
    ],
)
def test_price_cell_styles(text, expected):
    parsed = pricepage.parse_price_text(text)
    if expected is None:
        assert parsed is None
    else:
        got = (parsed["input_price"], parsed["output_price"], parsed["cached_input_price"], parsed["unit"])
        assert got == pytest.approx(expected) if None not in expected else got == expected


@pytest.mark.parametrize("page", [pages.NO_TABLE, pages.TABLE_WITHOUT_MONEY, pages.GARBAGE, ""])
def test_pages_without_a_pricing_table_are_parse_failures(page):
    with pytest.raises(pricepage.PageNotUnderstood):
        pricepage.parse_pricing(page)


def test_markdown_page_with_links_and_bare_price_cells():
    rows = {r["model"]: r for r in pricepage.parse_pricing(pages.MARKDOWN)}
    v32 = rows["DeepSeek V3.2"]
    assert (v32["provider"], v32["input_price"], v32["output_price"], v32["cached_input_price"]) == (
        "DeepSeek",
        0.5,
        1.6,
        0.1,
    )
    assert rows["Llama 3.3 Instruct-70B"]["provider"] == "Meta"
    assert rows["Llama 3.3 Instruct-70B"]["output_price"] == 0.65


def test_unlabelled_price_columns_read_as_input_then_output():
    (row,) = pricepage.parse_pricing(pages.BARE_COLUMNS)
    assert (row["provider"], row["input_price"], row["output_price"]) == ("Kimi", 0.95, 4.0)


def test_truncated_page_still_yields_what_it_has():
    assert [r["model"] for r in pricepage.parse_pricing(pages.TRUNCATED)] == ["gpt-oss-120b", "gpt-oss-20b"]


# ---------------------------------------------------------------- sources and cache


def test_live_fetch_writes_a_private_cache_then_cache_is_used(run, server, cache_dir):
    url = serve(server, pages.TABS_FULL)
    first = prices(run, server, "--json", url=url)
    assert first.code == 0 and first.json()["source"] == "live" and first.json()["source_url"] == url
    cache = cache_dir / "pricing.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    # no temp files left behind (pycache/ holds our bytecode where Python writes none beside the scripts)
    assert [p.name for p in cache_dir.iterdir() if p.name != "pycache"] == ["pricing.json"]
    assert not any("Authorization" in r["headers"] for r in server.requests)
    assert server.paths() == ["/pricing/index.html.md", "/pricing/"]  # no markdown rendition here: HTML
    second = prices(run, server, "--json", url=url)
    assert second.json()["source"] == "cache" and len(server.requests) == 2
    assert second.json()["models"] == first.json()["models"]
    table = prices(run, server, url=url)
    assert "source: cache" in table.out and "old" in table.out


def test_no_cache_skips_reading_the_cache(run, server):
    url = serve(server, pages.TABS_FULL)
    prices(run, server, "--json", url=url)
    serve(server, pages.HEADINGS_FULL)
    data = prices(run, server, "--json", "--no-cache", url=url).json()
    assert data["source"] == "live" and server.paths() == ["/pricing/index.html.md", "/pricing/"] * 2
    assert any(m["model"] == "GPT-5 mini" for m in data["models"])


def write_cache(cache_dir: Path, age_hours: float, models=None, fmt=gprices.CACHE_FORMAT) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    fetched = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=age_hours)
    rows = models or [
        {"provider": "X", "model": "cached-model", "input_price": 1, "output_price": 2, "unit": "per 1M tokens"}
    ]
    (cache_dir / "pricing.json").write_text(
        json.dumps({"format": fmt, "fetched_at": fetched.isoformat(), "source_url": "u", "models": rows})
    )


def test_expired_cache_is_refreshed(run, server, cache_dir):
    write_cache(cache_dir, age_hours=25)
    url = serve(server, pages.TABS_FULL)
    assert prices(run, server, "--json", url=url).json()["source"] == "live"
    write_cache(cache_dir, age_hours=23)
    assert prices(run, server, "--json", url=url).json()["source"] == "cache"


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"models": "nope"}',
        "[]",
        '{"format": "someone-else/9", "fetched_at": "2099-01-01T00:00:00+00:00", "models": [{"model": "x"}]}',
    ],
)
def test_corrupt_or_foreign_cache_is_ignored(run, server, cache_dir, content):
    cache_dir.mkdir(parents=True)
    (cache_dir / "pricing.json").write_text(content)
    url = serve(server, pages.TABS_FULL)
    r = prices(run, server, "--json", url=url)
    assert r.code == 0 and r.json()["source"] == "live"


@pytest.mark.parametrize("failure", ["http500", "no_table", "refused", "oversize"])
def test_live_failure_falls_back_to_snapshot_with_a_note(run, server, failure):
    if failure == "http500":
        url = serve(server, "<h1>oops</h1>", status=500)
    elif failure == "no_table":
        url = serve(server, pages.NO_TABLE)
    elif failure == "oversize":
        url = serve(server, "<table>" + "x" * (pricepage.PAGE_CAP + 10) + "</table>")
    else:
        url = "http://127.0.0.1:9/pricing/"
    r = prices(run, server, "--json", url=url)
    assert r.code == 0
    data = r.json()
    assert data["source"] == "snapshot" and "snapshot" in r.err
    assert len(data["models"]) >= 20


def test_expired_cache_beats_the_older_snapshot_when_live_fails(run, server, cache_dir):
    write_cache(cache_dir, age_hours=30)  # expired, but far newer than the snapshot
    r = prices(run, server, "--json", url=serve(server, "<h1>oops</h1>", status=500))
    assert r.code == 0 and r.json()["source"] == "cache" and "cached prices 30.0 h old" in r.err
    assert r.json()["models"][0]["model"] == "cached-model"
    r = prices(run, server, "--json", "--no-cache", url=serve(server, "<h1>oops</h1>", status=500))
    assert r.json()["source"] == "snapshot"


def test_expired_cache_older_than_the_snapshot_is_not_used(run, server, cache_dir):
    write_cache(cache_dir, age_hours=24 * 3650)
    r = prices(run, server, "--json", url=serve(server, "<h1>oops</h1>", status=500))
    assert r.json()["source"] == "snapshot"


def test_redirects_are_followed(run, server):
    server.queue("/old-pricing/", {"redirect": server.root + "/new-pricing/", "status": 301})
    serve(server, pages.TABS_FULL, path="/new-pricing/")
    r = prices(run, server, "--json", url=server.root + "/old-pricing/")
    assert r.json()["source"] == "live" and r.json()["source_url"] == server.root + "/new-pricing/"
    assert server.paths() == ["/old-pricing/index.html.md", "/old-pricing/", "/new-pricing/"]


# ---------------------------------------------------------------- live sources: order, fallback, source_url

DOCS = "https://docs.digitalocean.com/products"
PAGE = "/products/inference/details/pricing/"  # served by the test server, which stands in for the docs host
MD, OLD = PAGE + "index.html.md", "/products/gradient-ai-platform/details/pricing/"


def test_default_sources_markdown_then_html_then_the_old_page():
    assert gp.sources(None) == [
        (f"{DOCS}/inference/details/pricing/index.html.md", True),
        (f"{DOCS}/inference/details/pricing/", False),
        (f"{DOCS}/gradient-ai-platform/details/pricing/", False),
    ]


def test_an_explicit_url_comes_first_in_both_renditions():
    defaults = gp.sources(None)
    assert gp.sources("https://mirror.example/prices/") == [
        ("https://mirror.example/prices/index.html.md", True),
        ("https://mirror.example/prices/", False),
        *defaults,
    ]
    assert gp.sources("https://mirror.example/prices/index.html.md")[:2] == [
        ("https://mirror.example/prices/index.html.md", True),
        ("https://mirror.example/prices/", False),
    ]
    assert gp.sources("https://mirror.example/p/index.html")[:2] == [
        ("https://mirror.example/p/index.html.md", True),
        ("https://mirror.example/p/index.html", False),
    ]
    assert gp.sources(defaults[1][0]) == defaults  # the default page named explicitly: nothing tried twice


def test_markdown_source_that_works_is_the_only_request(run, server):
    server.queue(MD, {"body": pages.MARKDOWN_FULL, "content_type": "text/markdown; charset=utf-8"})
    r = prices(run, server, "--json", "--verbose", "--pricing-url", server.root + PAGE)
    assert r.json()["source"] == "live" and r.json()["source_url"] == server.root + MD
    assert len(r.json()["models"]) == 12 and server.paths() == [MD]
    assert f"pricing source 1/6: > GET {server.root + MD}" in r.err and "pricing source 1 used" in r.err


def test_markdown_source_is_read_without_bs4(server, cache_dir, imported_modules):
    """The fast path of a live lookup: one GET of the markdown rendition, no HTML parser loaded."""
    server.queue(MD, {"body": pages.MARKDOWN_FULL, "content_type": "text/markdown"})
    env = {**os.environ, "NO_PROXY": "*", "no_proxy": "*", "GRADIENT_CACHE_DIR": str(cache_dir)}
    script = str(ROOT / "scripts" / "gradient_pricing.py")
    mods, out = imported_modules(script, "--json", "--no-cache", "--pricing-url", server.root + PAGE, env=env)
    assert json.loads(out)["source"] == "live" and server.paths() == [MD]
    assert "requests" in mods and not mods & {"bs4", "lxml", "html.parser"}


def fail(server, path: str, mode: str) -> str:
    """Make `path` fail in one way; the text --verbose then gives as the reason."""
    html = "text/html; charset=utf-8"
    if mode == "404":
        server.queue(path, {"status": 404, "body": "<h1>Not found</h1>", "content_type": html})
        return "failed: HTTP 404"
    if mode == "redirect":  # a moved page sent to the docs home page, which has no pricing table
        server.queue(path, {"redirect": server.root + "/", "status": 301})
        server.queue("/", {"body": pages.NO_TABLE, "content_type": html})
        return "failed: an HTML page where" if path.endswith(".md") else "failed: no pricing table"
    if mode == "html":  # a full pricing table, but HTML where the markdown rendition was asked for
        server.queue(path, {"body": pages.TABS_FULL, "content_type": html})
        return "failed: an HTML page where markdown was expected"
    if mode == "too_few":
        body, ctype = (pages.MARKDOWN, "text/markdown") if path.endswith(".md") else (pages.TABS, html)
        server.queue(path, {"body": body, "content_type": ctype})
        return f"failed: only {2 if path.endswith('.md') else 4} models priced per token (fewer than 10)"
    assert mode == "timeout"
    server.queue(path, {"stall": 3, "body": pages.MARKDOWN_FULL, "content_type": "text/markdown"})
    return "failed: timed out after 0.5s"


def visited(path: str, mode: str, log: str) -> list[str]:
    """The paths one failing source asks for; a redirect is followed, and logged by --verbose."""
    if mode == "redirect":
        assert "< 301 redirect to" in log
        return [path, "/"]
    return [path]


@pytest.mark.parametrize("mode", ["404", "redirect", "html", "too_few", "timeout"])
def test_markdown_failing_falls_back_to_the_html_page(run, server, mode):
    why = fail(server, MD, mode)
    serve(server, pages.TABS_FULL, path=PAGE)
    r = prices(run, server, "--json", "--verbose", "--timeout", "0.5", "--pricing-url", server.root + PAGE)
    assert r.code == 0 and r.json()["source"] == "live" and r.json()["source_url"] == server.root + PAGE
    assert server.paths() == [*visited(MD, mode, r.err), PAGE]
    assert f"pricing source 1 {why}" in r.err and "pricing source 2 used" in r.err


@pytest.mark.parametrize("mode", ["404", "redirect", "too_few", "timeout"])
def test_html_failing_too_falls_back_to_the_old_page(run, server, mode, cache_dir):
    fail(server, MD, "404")
    why = fail(server, PAGE, mode)
    serve(server, pages.HEADINGS_FULL, path=OLD)
    r = prices(run, server, "--json", "--verbose", "--timeout", "0.5", url=server.root + PAGE)
    assert r.json()["source"] == "live" and r.json()["source_url"] == server.root + OLD
    assert any(m["model"] == "GPT-5 mini" for m in r.json()["models"])
    assert server.paths() == [MD, *visited(PAGE, mode, r.err), OLD]
    assert f"pricing source 2 {why}" in r.err and "pricing source 3 used" in r.err
    assert json.loads((cache_dir / "pricing.json").read_text())["source_url"] == server.root + OLD


def test_explicit_sources_failing_fall_back_to_the_defaults_then_the_snapshot(run, server):
    """The three loopback sources fail, then the three default addresses are tried, in order, through the
    test server as a proxy that refuses them; the snapshot answers, with a note."""
    fail(server, MD, "html")
    fail(server, PAGE, "too_few")
    fail(server, OLD, "404")
    r = prices(run, server, "--json", "--verbose", "--pricing-url", server.root + PAGE)
    assert r.code == 0 and r.json()["source"] == "snapshot"
    assert r.json()["source_url"].startswith(DOCS + "/inference/details/pricing")
    assert server.paths() == [MD, PAGE, OLD, *["docs.digitalocean.com:443"] * 3]
    tried = [line.split("> GET ")[1] for line in r.err.splitlines() if "> GET " in line]
    assert tried == [server.root + MD, server.root + PAGE, server.root + OLD] + [url for url, _ in gp.sources(None)]
    assert "pricing source 6 failed: cannot fetch it (ProxyError)" in r.err
    assert "live prices unavailable (all 6 pricing sources failed" in r.err and "bundled snapshot" in r.err


def test_pricing_url_flag_beats_the_env_var_and_must_be_http(run, server):
    server.queue("/flag/index.html.md", {"body": pages.MARKDOWN_FULL, "content_type": "text/markdown"})
    r = prices(run, server, "--json", "--pricing-url", server.root + "/flag/", url=server.root + "/env/")
    assert r.json()["source_url"] == server.root + "/flag/index.html.md" and server.paths() == ["/flag/index.html.md"]
    bad = prices(run, server, "--json", "--pricing-url", "ftp://example.com/prices")
    assert bad.code == 2 and "http(s) URL" in bad.err_json()["error"]["message"] and len(server.requests) == 1


def test_offline_uses_cache_then_snapshot_without_network(run, server, cache_dir):
    r = prices(run, server, "--json", "--offline", url=server.root + "/pricing/")
    assert r.json()["source"] == "snapshot" and r.err == "" and server.requests == []
    write_cache(cache_dir, age_hours=1)
    r = prices(run, server, "--json", "--offline")
    assert r.json()["source"] == "cache" and r.json()["models"][0]["model"] == "cached-model"
    assert prices(run, server, "--json", "--offline", "--no-cache").json()["source"] == "snapshot"


def test_all_sources_failing_is_exit_1(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(gprices, "read_snapshot", lambda: None)
    monkeypatch.setenv("GRADIENT_CACHE_DIR", str(tmp_path))
    with pytest.raises(cli.CliError) as err:
        gp.load_prices(gp.PriceQuery(offline=True), warn=print)
    assert "snapshot is missing" in err.value.message


def test_model_filter_matches_model_provider_and_api_ids(run, server):
    only_meta = prices(run, server, "--json", "--offline", "--model", "META").json()["models"]
    assert only_meta and all(m["provider"] == "Meta" for m in only_meta)
    by_id = prices(run, server, "--json", "--offline", "--model", "openai-gpt-oss-120b").json()["models"]
    assert [m["model"] for m in by_id] == ["gpt-oss-120b"]
    none = prices(run, server, "--offline", "--model", "zzz-nothing")
    assert none.code == 0 and "no model matches" in none.err


def test_json_shape(run, server):
    data = prices(run, server, "--json", "--offline").json()
    assert set(data) == {"source", "fetched_at", "source_url", "models"}
    for m in data["models"]:
        assert {"provider", "model", "input_price", "output_price", "unit"} <= set(m)
        assert m["input_price"] is None or isinstance(m["input_price"], (int, float))


def test_default_cache_dir_follows_xdg(run, server, tmp_path):
    url = serve(server, pages.TABS_FULL)
    xdg = tmp_path / "xdg"
    env = {**docs_host_refused(server), "GRADIENT_CACHE_DIR": None, "XDG_CACHE_HOME": str(xdg)}
    r = run("pricing", "--json", env={**env, "GRADIENT_PRICING_URL": url})
    assert r.code == 0 and (xdg / "gradient-inference" / "pricing.json").is_file()


def test_cached_lookup_imports_little_beyond_argparse_and_json(cache_dir, imported_modules):
    """The agent's path (cache hit, --json): no bs4 or requests, and nothing but datetime past the floor."""
    write_cache(cache_dir, age_hours=1)
    env = {**os.environ, "GRADIENT_CACHE_DIR": str(cache_dir)}
    floor_code = "import argparse, json; argparse.ArgumentParser().parse_args([]); json.dumps({})"
    floor, _ = imported_modules("-c", floor_code, env=env)
    ours, out = imported_modules(str(ROOT / "scripts" / "gradient_pricing.py"), "--model", "gpt-oss", "--json", env=env)
    assert json.loads(out)["source"] == "cache"
    assert not ours & {"bs4", "requests", "urllib3", "tabulate"}
    assert (
        sorted(
            ours
            - floor
            - {
                "__future__",
                *HELP_MODULES,
                "gradient_inference.commands.pricing",
                "gradient_inference.prices",
                "gradient_inference.prices.table",
                "gradient_inference.prices.lookup",
                "importlib",
                "importlib.machinery",
                "datetime",
                "_datetime",
                "math",
            }
        )
        == []
    )


# ---------------------------------------------------------------- snapshot, matcher, cost


def test_snapshot_has_20_models_with_dates_and_sources():
    snap = json.loads((ROOT / "snapshots" / "pricing.json").read_text())
    assert len(snap["models"]) >= 20 and snap["snapshot_date"] and snap["source_url"].startswith("https://")
    source_ids = {s["id"] for s in snap["sources"]}
    assert all(m["source"] in source_ids for m in snap["models"])
    by_id = {m["api_id"]: m for m in snap["models"]}
    assert (by_id["openai-gpt-oss-120b"]["input_price"], by_id["openai-gpt-oss-120b"]["output_price"]) == (0.10, 0.70)
    assert (by_id["openai-gpt-oss-20b"]["input_price"], by_id["openai-gpt-oss-20b"]["output_price"]) == (0.05, 0.45)


# Pairs of (API id, pricing-page name) from DigitalOcean's model list and pricing pages.
ID_NAME_PAIRS = [
    ("openai-gpt-oss-120b", "gpt-oss-120b"),
    ("openai-gpt-oss-20b", "gpt-oss-20b"),
    ("llama3.3-70b-instruct", "Llama 3.3 Instruct-70B"),
    ("anthropic-claude-sonnet-4", "Claude Sonnet 4"),
    ("anthropic-claude-3.7-sonnet", "Claude 3.7 Sonnet"),
    ("anthropic-claude-3.5-haiku", "Claude 3.5 Haiku"),
    ("anthropic-claude-4.1-opus", "Claude Opus 4.1"),
    ("anthropic-claude-4.5-sonnet", "Claude Sonnet 4.5"),
    ("anthropic-claude-haiku-4.5", "Claude Haiku 4.5"),
    ("deepseek-r1-distill-llama-70b", "DeepSeek R1 Distill Llama 70B"),
    ("deepseek-3.2", "DeepSeek V3.2"),
    ("deepseek-4-flash", "DeepSeek V4 Flash"),
    ("alibaba-qwen3-32b", "Qwen3-32B"),
    ("qwen3.5-397b-a17b", "Qwen 3.5 397B A17B"),
    ("mistral-nemo-instruct-2407", "NeMo"),
    ("openai-gpt-5-mini", "GPT-5 mini"),
    ("openai-gpt-5", "GPT-5"),
    ("openai-gpt-4o-mini", "GPT-4o mini"),
    ("openai-o3-mini", "o3-mini"),
    ("openai-gpt-5.3-codex", "GPT-5.3-Codex"),
    ("gemma-4-31B-it", "Gemma 4"),
    ("llama-4-maverick", "Llama 4 Maverick 17B 128E Instruct"),
    ("nemotron-3-ultra-550b", "Nemotron 3 Ultra"),
    ("nvidia-nemotron-3-super-120b", "Nemotron-3-Super-120B"),
    ("mimo-v2.5-pro", "MiMo V2.5 Pro"),
    ("kimi-k2.6", "Kimi K2.6"),
    ("glm-5", "GLM 5"),
    ("openai-gpt-image-1", "GPT-image-1"),
]


def test_matcher_maps_every_known_id_to_its_page_name():
    rows = [{"model": name, "input_price": 1, "output_price": 1} for _, name in ID_NAME_PAIRS]
    for model_id, name in ID_NAME_PAIRS:
        row = gprices.match_price(model_id, rows)
        assert row is not None and row["model"] == name, model_id


def test_matcher_refuses_to_guess():
    rows = [{"model": "GPT-5"}, {"model": "Llama 3.1 Instruct-8B"}, {"model": "Llama 3.1 Instruct-70B"}]
    assert gprices.match_price("openai-gpt-5-mini", rows) is None  # GPT-5 is not GPT-5 mini
    assert gprices.match_price("llama3.1-instruct", rows) is None  # two sizes: ambiguous
    assert gprices.match_price("openai-gpt-oss-20b", [{"model": "gpt-oss-120b"}]) is None  # another size
    assert gprices.match_price("llama3.1-70b-instruct", rows[1:2]) is None
    assert gprices.match_price("", rows) is None
    assert gprices.match_price("totally-unknown", rows) is None


def test_matcher_prefers_a_recorded_api_id():
    rows = [{"model": "Weird Name", "api_id": "openai-gpt-oss-120b"}, {"model": "gpt-oss-120b"}]
    assert gprices.match_price("openai-gpt-oss-120b", rows)["model"] == "Weird Name"


def test_cost_arithmetic():
    row = {"input_price": 3.0, "output_price": 15.0, "cached_input_price": 0.3, "unit": "per 1M tokens"}
    usage = {"input_tokens": 1_000_000, "output_tokens": 100_000, "cached_tokens": 400_000}
    assert gprices.estimate_cost(usage, row) == pytest.approx(0.6 * 3 + 0.4 * 0.3 + 0.1 * 15)
    no_cached_price = {**row, "cached_input_price": None}
    assert gprices.estimate_cost(usage, no_cached_price) == pytest.approx(3 + 1.5)
    assert gprices.estimate_cost({"input_tokens": 10}, row) == pytest.approx(10 * 3 / 1e6)
    assert gprices.estimate_cost(usage, None) is None
    assert gprices.estimate_cost(usage, {**row, "unit": "per image"}) is None


def test_chat_reports_cost_from_snapshot_and_never_fetches_live(run, server):
    r = run("chat", "--prompt", "hi", "--json", env={"GRADIENT_PRICING_URL": server.root + "/pricing/"})
    cost = r.json()["cost"]
    # fake usage: 12 input (4 cached, no cached price -> input price), 5 output at $0.10 / $0.70 per 1M
    assert cost["source"] == "snapshot" and cost["usd"] == pytest.approx((12 * 0.10 + 5 * 0.70) / 1e6)
    assert server.paths() == ["/v1/chat/completions"]
    human = run("chat", "--prompt", "hi")
    assert "cost ~$0.000005" in human.err and human.out == "echo: hi\n"


def test_chat_cost_uses_the_cache_and_cached_price(run, server, cache_dir):
    write_cache(
        cache_dir,
        1,
        [
            {
                "provider": "OpenAI",
                "model": "gpt-oss-120b",
                "input_price": 1.0,
                "output_price": 2.0,
                "cached_input_price": 0.5,
                "unit": "per 1M tokens",
            }
        ],
    )
    cost = run("chat", "--prompt", "hi", "--json").json()["cost"]
    assert cost["source"] == "cache" and cost["usd"] == pytest.approx((8 * 1.0 + 4 * 0.5 + 5 * 2.0) / 1e6)


def test_chat_cost_is_null_without_a_price(run, server, cache_dir):
    write_cache(cache_dir, 1, [{"provider": "X", "model": "something else", "input_price": 1, "output_price": 1}])
    assert run("chat", "--prompt", "hi", "--json").json()["cost"] is None
