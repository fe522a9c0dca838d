"""Price rows that lack a price: an input-only catalog row never crashes a command after the billed call.

A missing output price with 0 output tokens costs $0 for output; a missing price the call needs makes the
cost unknown (None, said once on stderr), and what was paid for is written either way. The catalog is
tests/fake_catalog.py's, with two input-only entries added: an embedding model and a chat model.
"""

from __future__ import annotations

import json

import fake_catalog
import pytest
from history_db import rows
from test_batch_run import write_lines
from test_catalog import catalog_env

INPUT_ONLY = [
    {
        "id": "9e9e9e9e-5555-4a5b-8c6d-7e8f9a0b1c2d",
        "model_id": "qwen3-embedding-0.6b",
        "name": "Qwen3 Embedding 0.6B",
        "creator": "Alibaba",
        "provider": "MODEL_PROVIDER_DIGITALOCEAN",
        "type": "embedding",
        "pricing": {"input_price_per_million": 0.02},  # proto-JSON leaves the zero output price out
    },
    {
        "id": "8d8d8d8d-6666-4a5b-8c6d-7e8f9a0b1c2d",
        "model_id": "openai-gpt-oss-20b",
        "name": "gpt-oss-20b",
        "creator": "OpenAI",
        "provider": "MODEL_PROVIDER_DIGITALOCEAN",
        "type": "text-to-text",
        "pricing": {"input_price_per_million": 0.05},
    },
]


@pytest.fixture
def catalog_prices(run, server, catalog, monkeypatch):
    """The catalog, with the input-only rows, fetched into the price cache; its env for the commands."""
    monkeypatch.setattr(fake_catalog, "ENTRIES", fake_catalog.ENTRIES + INPUT_ONLY)
    env = catalog_env(server, catalog)
    fetched = run("pricing", "--json", env=env)
    assert fetched.code == 0 and fetched.json()["source"] == "catalog", fetched.err
    rows_by_id = {m["api_id"]: m for m in fetched.json()["models"]}
    assert rows_by_id["qwen3-embedding-0.6b"].get("output_price") is None
    return env


def reply_with_usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "json": {
            "id": "chatcmpl-x",
            "object": "chat.completion",
            "created": 1,
            "model": "openai-gpt-oss-20b",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": ""}}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    }


def test_embed_on_an_input_only_catalog_row_writes_prices_and_records_every_chunk(
    run, server, files_host, catalog_prices, tmp_path, data_dir
):
    texts = [f"text {n}" for n in range(200)]  # two chunks
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    r = run("embed", "--input-file", "in.txt", "-o", "v.jsonl", "--json", env=catalog_prices)
    assert r.code == 0, r.err
    assert len((tmp_path / "v.jsonl").read_text().splitlines()) == 200
    data = r.json()
    tokens = data["usage"]["prompt_tokens"]
    assert data["cost"]["usd"] == pytest.approx(tokens * 0.02 / 1e6) and data["cost"]["source"] == "cache"
    calls = rows(data_dir, "command = 'embed'")
    assert len(calls) == 2 and all(c["ok"] == 1 and c["cost_usd"] is not None for c in calls)
    assert sum(c["cost_usd"] for c in calls) == pytest.approx(data["cost"]["usd"])


def test_embed_with_snapshot_prices_records_the_cost_it_prints(run, server, files_host, data_dir):
    r = run("embed", "hello", "world")
    assert r.code == 0, r.err
    printed = float(r.out.split("~$")[1].split()[0])
    calls = rows(data_dir, "command = 'embed'")
    assert len(calls) == 1 and calls[0]["cost_usd"] == pytest.approx(printed, abs=1e-6)
    assert json.loads(calls[0]["cost"])["source"] == "snapshot"


def test_embed_without_a_price_says_cost_unknown_once_and_still_writes(
    run, server, files_host, catalog_prices, tmp_path
):
    r = run("embed", "hello", "--model", "gte-large-en-v1.5", "-o", "v.jsonl", env=catalog_prices)
    assert r.code == 0, r.err
    assert len((tmp_path / "v.jsonl").read_text().splitlines()) == 1
    assert r.err.count("cost unknown") == 1 and "~$" not in r.out


def test_chat_with_no_output_tokens_on_an_input_only_row_costs_its_input(run, server, catalog_prices, data_dir):
    server.queue("/v1/chat/completions", reply_with_usage(40, 0))
    r = run("chat", "--prompt", "hi", "--model", "openai-gpt-oss-20b", "--json", env=catalog_prices)
    assert r.code == 0, r.err
    assert r.json()["cost"]["usd"] == pytest.approx(40 * 0.05 / 1e6)
    assert rows(data_dir)[-1]["cost_usd"] == pytest.approx(40 * 0.05 / 1e6)


def test_chat_with_output_tokens_on_an_input_only_row_has_an_unknown_cost(run, server, catalog_prices, data_dir):
    server.queue("/v1/chat/completions", reply_with_usage(40, 3))
    r = run("chat", "--prompt", "hi", "--model", "openai-gpt-oss-20b", "--json", env=catalog_prices)
    assert r.code == 0, r.err
    assert r.json()["cost"] is None
    assert rows(data_dir)[-1]["ok"] == 1 and rows(data_dir)[-1]["cost_usd"] is None


def test_batch_on_an_input_only_row_prices_empty_replies_and_says_cost_unknown_once(
    run, server, catalog_prices, tmp_path, data_dir
):
    server.queue("/v1/chat/completions", *[reply_with_usage(10, 0) for _ in range(3)])
    write_lines(tmp_path / "in.jsonl", [{"id": f"p{i}", "prompt": f"q {i}"} for i in range(5)])
    r = run("batch", "run", "in.jsonl", "--model", "openai-gpt-oss-20b", "--concurrency", "1", env=catalog_prices)
    assert r.code == 0, r.err
    lines = [json.loads(x) for x in (tmp_path / "in.results.jsonl").read_text().splitlines()]
    assert len(lines) == 5 and all(x["ok"] for x in lines)
    priced = [x for x in lines if x["cost"]]
    assert len(priced) == 3 and all(x["cost"]["usd"] == pytest.approx(10 * 0.05 / 1e6) for x in priced)
    assert r.err.count("cost unknown") == 1 and "2 lines" in r.err
    paid = rows(data_dir, "command = 'batch' AND ok = 1")
    assert len(paid) == 5 and sum(c["cost_usd"] is None for c in paid) == 2
