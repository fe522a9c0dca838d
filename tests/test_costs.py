"""Cost of a call from every usage field DigitalOcean's spec defines: cache reads and writes on Chat
Completions and Messages, router-served models, images and audio."""

from __future__ import annotations

import json
import sys
import time

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT))
from gradient_inference.llm import messages as gm  # noqa: E402
from gradient_inference.llm import reply as gr  # noqa: E402
from gradient_inference.prices import table as gp  # noqa: E402

SONNET = {
    "provider": "Anthropic",
    "model": "Claude Sonnet 4",
    "api_id": "anthropic-claude-sonnet-4",
    "input_price": 3.0,
    "output_price": 15.0,
    "cached_input_price": 0.3,
    "cache_write_5m_price": 3.75,
    "cache_write_1h_price": 6.0,
    "unit": "per 1M tokens",
}
PLAIN = {"provider": "OpenAI", "model": "gpt-oss-120b", "api_id": "openai-gpt-oss-120b", "unit": "per 1M tokens"}
PLAIN |= {"input_price": 0.2, "output_price": 0.8}
FLUX = {"provider": "BFL", "model": "FLUX.1 schnell", "api_id": "fal-ai/flux/schnell", "unit": "per image"}
FLUX |= {"image_price": 0.003}
AUDIO = {"provider": "Stability", "model": "Stable Audio", "api_id": "fal-ai/stable-audio-25/text-to-audio"}
AUDIO |= {"unit": "per audio", "audio_price": 0.2}
IMAGE_TOKENS = {"provider": "OpenAI", "model": "GPT-image-1", "api_id": "openai-gpt-image-1", "unit": "per 1M tokens"}
IMAGE_TOKENS |= {"input_price": 5.0, "image_output_price": 40.0}


def write_prices(cache_dir, *rows) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    table = {"format": gp.CACHE_FORMAT, "fetched_at": "2026-01-01T00:00:00+00:00", "fetched_epoch": time.time()}
    table |= {"origin": "catalog", "source_url": "test", "models": list(rows)}
    (cache_dir / "pricing.json").write_text(json.dumps(table))


def test_digitalocean_chat_usage_fields_are_read():
    usage = gr.usage_of(
        {
            "prompt_tokens": 1000,
            "completion_tokens": 10,
            "total_tokens": 1010,
            "cache_read_input_tokens": 600,
            "cache_created_input_tokens": 300,
            "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
        }
    )
    assert usage["cached_tokens"] == 600 and usage["cache_write_tokens"] == 300
    assert usage["cache_write_5m_tokens"] == 100 and usage["cache_write_1h_tokens"] == 200
    openai_style = gr.usage_of({"input_tokens": 9, "output_tokens": 1, "input_tokens_details": {"cached_tokens": 4}})
    assert openai_style["cached_tokens"] == 4 and "cache_write_tokens" not in openai_style


def test_messages_usage_reads_cache_writes():
    usage = gm.usage_of({"input_tokens": 100, "output_tokens": 5, "cache_creation_input_tokens": 50})
    assert usage["input_tokens"] == 150 and usage["cache_write_tokens"] == 50


def test_cache_reads_and_writes_at_their_own_rates_or_the_multipliers():
    usage = {"input_tokens": 1000, "output_tokens": 10, "cached_tokens": 600}
    usage |= {"cache_write_tokens": 300, "cache_write_5m_tokens": 100, "cache_write_1h_tokens": 200}
    # 100 plain x 3 + 600 x 0.3 + 100 x 3.75 + 200 x 6 + 10 x 15
    assert gp.estimate_cost(usage, SONNET) == pytest.approx((300 + 180 + 375 + 1200 + 150) / 1e6)
    bare = {k: v for k, v in SONNET.items() if not k.startswith(("cache", "cached"))}
    # unknown rates: reads at the input price, 5m writes 1.25x, 1h writes 2x
    assert gp.estimate_cost(usage, bare) == pytest.approx((300 + 1800 + 375 + 1200 + 150) / 1e6)
    unsplit = {"input_tokens": 100, "output_tokens": 0, "cache_write_tokens": 100}
    assert gp.estimate_cost(unsplit, bare) == pytest.approx(100 * 3 * 1.25 / 1e6)  # an unsplit write is 5-minute


def chat_reply(model: str, usage: dict) -> dict:
    message = {"role": "assistant", "content": "ok"}
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": model, "usage": usage,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}  # fmt: skip


def test_chat_completions_cache_reads_and_writes_priced(run, server, cache_dir):
    write_prices(cache_dir, SONNET)
    usage = {"prompt_tokens": 1000, "completion_tokens": 10, "total_tokens": 1010, "cache_read_input_tokens": 600}
    usage |= {"cache_created_input_tokens": 300}
    usage["cache_creation"] = {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200}
    server.queue("/v1/chat/completions", {"json": chat_reply("anthropic-claude-sonnet-4", usage)})
    result = run("chat", "--model", "anthropic-claude-sonnet-4", "--prompt", "hi", "--json")
    assert result.code == 0, result.err
    cost = result.json()["cost"]
    assert cost["usd"] == pytest.approx(0.002205) and cost["price_model"] == "Claude Sonnet 4"


def test_messages_cache_writes_priced_at_the_5m_rate(run, server, cache_dir):
    import fake_messages

    fake_messages.install(server)
    write_prices(cache_dir, {**SONNET, "api_id": "anthropic-claude-haiku-4.5"})
    result = run("chat", "--api", "messages", "--prompt", "hi", "--json")
    assert result.code == 0, result.err
    # the fake's usage: 30 plain x 3 + 10 read x 0.3 + 5 written x 3.75 + 7 out x 15
    assert result.json()["cost"]["usd"] == pytest.approx((90 + 3 + 18.75 + 105) / 1e6)


def test_router_model_is_priced_at_the_model_that_served(run, server, cache_dir):
    write_prices(cache_dir, SONNET, PLAIN)
    usage = {"prompt_tokens": 1000, "completion_tokens": 1000, "total_tokens": 2000}
    server.queue("/v1/chat/completions", {"json": chat_reply("openai-gpt-oss-120b", usage)})
    result = run("chat", "--model", "router:cheap", "--prompt", "hi", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["model"] == "openai-gpt-oss-120b" and data["cost"]["price_model"] == "gpt-oss-120b"
    assert data["cost"]["usd"] == pytest.approx(0.001)


def test_image_cost_per_image_and_from_image_tokens(run, server, files_host, cache_dir, data_dir):
    write_prices(cache_dir, FLUX, IMAGE_TOKENS)
    fal = run("image", "--model", "fal-ai/flux/schnell", "--prompt", "fox", "--n", "2", "-o", "fox.png", "--json")
    assert fal.code == 0, fal.err
    assert fal.json()["cost"] == {"usd": 0.006, "source": "cache", "price_model": "FLUX.1 schnell"}
    tokens = run("image", "--prompt", "owl", "-o", "owl.png", "--json")  # usage: 10 text in, 272 image out
    assert tokens.code == 0, tokens.err
    assert tokens.json()["cost"]["usd"] == pytest.approx((10 * 5 + 272 * 40) / 1e6)
    human = run("image", "--prompt", "owl", "-o", "owl2.png")
    assert "cost ~$0.010930" in human.err
    from history_db import rows

    billed = [r for r in rows(data_dir) if r["endpoint"] in ("/async-invoke", "/images/generations")]
    assert [r["cost_usd"] for r in billed] == [0.006, pytest.approx(0.01093), pytest.approx(0.01093)]
    spend = run("usage", "--by", "command", "--json").json()
    assert spend["total_usd"] == pytest.approx(0.006 + 2 * 0.01093)
    assert {r["key"]: r["unpriced_calls"] for r in spend["rows"]} == {"image": 0}  # the GET polls bill nothing


def test_audio_cost_per_unit_and_the_reason_when_unpriced(run, server, files_host, cache_dir):
    write_prices(cache_dir, AUDIO)
    priced = run("audio", "--prompt", "rain", "--seconds", "5", "-o", "rain.wav", "--json")
    assert priced.code == 0, priced.err
    assert priced.json()["cost"] == {"usd": 0.2, "source": "cache", "price_model": "Stable Audio"}
    unpriced = run("audio", "--text", "hello", "-o", "hello.mp3")
    assert unpriced.code == 0 and "cost unknown: no price listed for fal-ai/elevenlabs" in unpriced.err
