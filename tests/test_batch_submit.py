"""gradient-batch submit, status, results, cancel, list against a fake Batch Inference API and storage host."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fake_batch import BatchAPI
from fake_gradient import API_KEY, FakeGradient, error_body

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
OSS_COST = (12 * 0.1 + 5 * 0.7) / 1e6  # fake chat usage at the snapshot's gpt-oss-120b prices


@pytest.fixture(scope="module")
def hosts():
    api_host = FakeGradient().start()
    storage = FakeGradient(host="127.0.0.2").start()
    api_host.batch = BatchAPI(api_host, storage)
    yield api_host, storage
    api_host.stop()
    storage.stop()


@pytest.fixture
def fake(hosts):
    api_host, storage = hosts
    api_host.reset()
    storage.reset()
    api_host.batch.reset()
    api_host.storage = storage
    return api_host


@pytest.fixture
def batch(run, fake):
    def _batch(*args: str, **kwargs):
        return run("batch", *args, env={"GRADIENT_BASE_URL": fake.url}, **kwargs)

    return _batch


def write_lines(path: Path, lines: list) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def results(path: Path) -> dict[str, dict]:
    return {line["id"]: line for line in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def uploaded(fake) -> list[dict]:
    puts = [r for r in fake.storage.requests if r["method"] == "PUT"]
    return [json.loads(line) for line in puts[-1]["raw"].splitlines()]


def assert_key_only_to_the_api(fake) -> None:
    assert fake.storage.requests, "the storage host was used"
    for req in fake.storage.requests:
        assert "Authorization" not in req["headers"] and "authorization" not in req["headers"]
        assert API_KEY not in json.dumps(req["headers"]) and API_KEY not in req["path"]
    assert all(req["headers"].get("Authorization") == f"Bearer {API_KEY}" for req in fake.requests)


MIXED = [
    {"id": "a", "prompt": "first"},
    {"id": "b", "prompt": "second", "system": "be brief"},
    {"id": "bad", "prompt": "BAD400 please"},
    {"id": "late", "prompt": "EXPIRE me"},
]


# ---------------------------------------------------------------- submit --wait, both providers and endpoints


def test_submit_wait_openai_chat_normalises_results_and_keeps_failed_lines(batch, fake, tmp_path):
    src = write_lines(tmp_path / "jobs.jsonl", MIXED)
    r = batch("submit", str(src), "--wait", "--json")
    assert r.code == 1 and r.err_json()["error"]["type"] == "lines_failed"
    summary = r.json()
    assert summary["ok"] == 2 and summary["failed"] == 2 and summary["status"] == "completed"
    bid = summary["batch_id"]
    assert UUID.match(bid) and summary["output"] == f"{bid}.results.jsonl"

    intent = next(req for req in fake.requests if req["path"] == "/v1/batches/files")
    assert intent["body"] == {"file_name": "jobs.jsonl"}
    lines = uploaded(fake)
    assert [set(line) for line in lines] == [{"custom_id", "method", "url", "body"}] * 4
    assert lines[1]["url"] == "/v1/chat/completions" and lines[1]["method"] == "POST"
    assert lines[1]["body"]["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "second"},
    ]
    create = next(req for req in fake.requests if req["path"] == "/v1/batches" and req["method"] == "POST")
    assert set(create["body"]) == {"file_id", "provider", "endpoint", "completion_window", "request_id"}
    assert create["body"]["provider"] == "openai" and create["body"]["endpoint"] == "/v1/chat/completions"
    assert create["body"]["completion_window"] == "24h" and UUID.match(create["body"]["request_id"])
    assert_key_only_to_the_api(fake)

    out = results(tmp_path / f"{bid}.results.jsonl")
    assert set(out) == {"a", "b", "bad", "late"}
    assert out["a"]["ok"] and out["a"]["content"] == "echo: first" and out["a"]["finish_reason"] == "stop"
    assert out["a"]["usage"]["input_tokens"] == 12 and out["a"]["cost"]["usd"] == pytest.approx(OSS_COST)
    assert out["a"]["cost_basis"] == "serverless"
    assert out["bad"]["ok"] is False
    assert out["bad"]["error"] == {
        "type": "invalid_request_error",
        "message": "That prompt is not allowed.",
        "status": 400,
        "request_id": out["bad"]["error"]["request_id"],
    }
    assert out["bad"]["error"]["request_id"].startswith("req_b")
    assert out["late"]["error"]["type"] == "batch_expired"


def test_submit_wait_openai_responses(batch, fake, tmp_path):
    src = write_lines(tmp_path / "jobs.jsonl", MIXED)
    r = batch("submit", str(src), "--wait", "--responses-api", "--output", "res.jsonl", "--json")
    assert r.code == 1 and (r.json()["ok"], r.json()["failed"]) == (2, 2)
    assert {line["url"] for line in uploaded(fake)} == {"/v1/responses"}
    assert uploaded(fake)[1]["body"]["instructions"] == "be brief"
    create = next(req for req in fake.requests if req["path"] == "/v1/batches" and req["method"] == "POST")
    assert create["body"]["endpoint"] == "/v1/responses"
    out = results(tmp_path / "res.jsonl")
    assert out["b"]["content"] == "echo: second" and out["b"]["usage"]["output_tokens"] == 6
    assert out["bad"]["error"]["status"] == 400 and out["late"]["error"]["type"] == "batch_expired"
    assert_key_only_to_the_api(fake)


def test_submit_wait_anthropic_sends_params_without_endpoint(batch, fake, tmp_path):
    lines = [
        *MIXED,
        {"id": "hist", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
    ]
    src = write_lines(tmp_path / "jobs.jsonl", lines)
    model = "anthropic-claude-haiku-4.5"
    r = batch("submit", str(src), "--model", model, "--wait", "--json")
    assert r.code == 1 and r.json()["ok"] == 3 and r.json()["failed"] == 2
    sent = {line["custom_id"]: line for line in uploaded(fake)}
    assert all(set(line) == {"custom_id", "params"} for line in sent.values())
    assert sent["a"]["params"] == {
        "model": model,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "first"}],
    }
    assert sent["b"]["params"]["system"] == "be brief"
    assert sent["hist"]["params"]["messages"][-1] == {"role": "assistant", "content": "a"}
    create = next(req for req in fake.requests if req["path"] == "/v1/batches" and req["method"] == "POST")
    assert create["body"]["provider"] == "anthropic" and "endpoint" not in create["body"]
    out = results(tmp_path / f"{r.json()['batch_id']}.results.jsonl")
    assert out["a"]["ok"] and out["a"]["content"] == "echo: first" and out["a"]["finish_reason"] == "stop"
    # Anthropic's input_tokens leave out cache reads: 12 uncached + 4 read from the cache
    assert out["a"]["usage"] == {"input_tokens": 16, "output_tokens": 5, "cached_tokens": 4, "reasoning_tokens": None}
    assert out["a"]["cost"]["usd"] == pytest.approx((12 * 1.0 + 4 * 0.1 + 5 * 5.0) / 1e6)
    assert out["bad"]["error"]["type"] == "invalid_request_error"
    assert out["bad"]["error"]["message"] == "That prompt is not allowed."
    assert out["late"]["ok"] is False and out["late"]["error"]["type"] == "expired"
    assert_key_only_to_the_api(fake)


def test_wait_shows_request_counts_on_stderr(batch, fake, tmp_path):
    fake.batch.reset(steps=2)
    src = write_lines(tmp_path / "jobs.jsonl", MIXED[:2])
    r = batch("submit", str(src), "--wait")
    assert r.code == 0, r.err
    assert "in_progress: 1/2 done, 0 failed" in r.err and "completed: 2/2 done, 0 failed" in r.err
    assert "2 ok, 0 failed" in r.err


# ---------------------------------------------------------------- submit, then the other subcommands


def test_submit_prints_the_id_and_the_next_command(batch, fake, tmp_path):
    src = write_lines(tmp_path / "jobs.jsonl", MIXED[:2])
    r = batch("submit", str(src))
    assert r.code == 0 and UUID.match(r.out.strip())
    assert f"gradient-batch status {r.out.strip()}" in r.err
    assert "job manifest " + str(tmp_path / "jobs.batch.json") in r.err
    bid = r.out.strip()
    r = batch("submit", str(src), "--json")  # the same input and manifest: resumes, creates nothing
    assert r.json() == {
        "batch_id": bid,
        "status": "validating",
        "provider": "openai",
        "endpoint": "/v1/chat/completions",
        "total": 2,
        "job": str(tmp_path / "jobs.batch.json"),
        "batches": [{"batch_id": bid, "lines": 2}],
    }
    assert len(fake.batch.batches) == 1


def test_status_results_before_and_after_completion_cancel_and_list(batch, fake, tmp_path):
    fake.batch.reset(steps=4)  # the 4th GET of the batch completes it
    src = write_lines(tmp_path / "jobs.jsonl", MIXED[:2])
    bid = batch("submit", str(src)).out.strip()

    r = batch("status", bid)
    assert r.code == 0 and r.out.strip() == f"{bid}  in_progress: 1/2 done, 0 failed"
    r = batch("results", bid, "--json")
    assert r.code == 1 and r.err_json()["error"]["type"] == "results_not_ready"
    assert "not ready yet (status in_progress)" in r.err_json()["error"]["message"]
    fake.batch.not_ready_412 = True
    r = batch("results", bid)
    assert r.code == 1 and "not ready yet" in r.err
    assert not (tmp_path / f"{bid}.results.jsonl").exists()

    r = batch("status", bid, "--json")
    assert r.json()["status"] == "completed" and r.json()["request_counts"] == {"total": 2, "completed": 2, "failed": 0}
    r = batch("results", bid, "--json")
    assert r.code == 0 and r.json()["ok"] == 2
    assert set(results(tmp_path / f"{bid}.results.jsonl")) == {"a", "b"}
    r = batch("results", bid, "--json")  # again: nothing written twice
    assert r.code == 0 and r.json()["skipped"] == 2 and len(results(tmp_path / f"{bid}.results.jsonl")) == 2

    other = batch("submit", str(src), "--manifest", "other.batch.json").out.strip()
    r = batch("cancel", other, "--json")
    assert r.code == 0 and r.json()["status"] == "cancelling"
    assert fake.requests[-1]["method"] == "POST" and fake.requests[-1]["path"] == f"/v1/batches/{other}/cancel"
    assert batch("status", other).out.split()[1] == "cancelled:"
    r = batch("cancel", other, "--max-retries", "0")  # 409 is retryable by policy; not worth waiting here
    assert r.code == 1 and "HTTP 409" in r.err and "already cancelled" in r.err

    r = batch("list", "--json")
    assert [b["batch_id"] for b in r.json()["batches"]] == [other, bid]
    r = batch("list")
    assert r.code == 0 and bid in r.out and other in r.out and "cancelled" in r.out and "2/2" in r.out


def test_a_batch_id_that_is_not_a_uuid_is_a_usage_error(batch, fake):
    r = batch("status", "../../etc")
    assert r.code == 2 and fake.requests == []


# ---------------------------------------------------------------- refused before any request


@pytest.mark.parametrize(
    "lines, message",
    [
        (
            [{"id": "a", "prompt": "x"}, {"id": "b", "prompt": "y", "model": "anthropic-claude-haiku-4.5"}],
            "one provider",
        ),
        ([{"id": "a", "prompt": "x", "model": "llama3.3-70b-instruct"}], "OpenAI and Anthropic models only"),
        (
            [
                {"id": "a", "prompt": "x"},
                {"custom_id": "b", "method": "POST", "url": "/v1/responses", "body": {"input": "y"}},
            ],
            "one endpoint",
        ),
    ],
)
def test_mixed_or_unsupported_providers_are_refused_before_any_request(batch, fake, tmp_path, lines, message):
    src = write_lines(tmp_path / "jobs.jsonl", lines)
    r = batch("submit", str(src), "--json")
    assert r.code == 2 and message in r.err_json()["error"]["message"]
    assert fake.requests == [] and fake.storage.requests == []


# ---------------------------------------------------------------- retries


def test_a_500_on_create_is_retried_with_the_same_request_id(batch, fake, tmp_path):
    fake.queue("/v1/batches", {"status": 500, "json": error_body("boom", "server_error")})
    src = write_lines(tmp_path / "jobs.jsonl", MIXED[:1])
    r = batch("submit", str(src), "--json")
    assert r.code == 0, r.err
    creates = [req for req in fake.requests if req["path"] == "/v1/batches" and req["method"] == "POST"]
    assert len(creates) == 2 and creates[0]["body"]["request_id"] == creates[1]["body"]["request_id"]
    assert len(fake.batch.batches) == 1


def test_an_expired_upload_url_gets_a_new_file_intent(batch, fake, tmp_path):
    fake.batch.reset(expire_uploads=1)
    src = write_lines(tmp_path / "jobs.jsonl", MIXED[:1])
    r = batch("submit", str(src))
    assert r.code == 0, r.err
    assert [req["path"] for req in fake.requests].count("/v1/batches/files") == 2
    assert [req["method"] for req in fake.storage.requests] == ["PUT", "PUT"]
    assert "asking for a new one" in r.err


def test_a_batch_that_ended_without_results_says_so(batch, fake, tmp_path):
    fake.batch.reset(steps=5)
    src = write_lines(tmp_path / "jobs.jsonl", MIXED[:1])
    bid = batch("submit", str(src)).out.strip()
    fake.batch.batches[bid].update(status="failed", errors=[{"code": "invalid_input_file", "message": "Line 1: bad"}])
    r = batch("results", bid)
    assert r.code == 1 and "ended failed with no results: Line 1: bad" in r.err


def test_results_at_the_catalog_batch_rates_card_fetched_once(run, fake, tmp_path, cache_dir, data_dir):
    import fake_catalog
    from test_catalog import assert_token_stayed_home
    from test_costs import write_prices

    catalog = fake_catalog.start()
    try:
        row = {"provider": "OpenAI", "model": "gpt-oss-120b", "api_id": "openai-gpt-oss-120b", "unit": "per 1M tokens"}
        write_prices(
            cache_dir, row | {"catalog_id": fake_catalog.ENTRIES[0]["id"], "input_price": 0.2, "output_price": 0.8}
        )
        env = {"GRADIENT_BASE_URL": fake.url, "DIGITALOCEAN_TOKEN": fake_catalog.DO_TOKEN}
        env["GRADIENT_CATALOG_URL"] = catalog.root + fake_catalog.LIST_PATH
        src = write_lines(tmp_path / "jobs.jsonl", MIXED[:2])
        r = run("batch", "submit", str(src), "--wait", "--json", env=env)
        assert r.code == 0, r.err
        out = results(tmp_path / f"{r.json()['batch_id']}.results.jsonl")
        assert out["a"]["cost_basis"] == "batch" and out["a"]["cost"]["usd"] == pytest.approx(
            (12 * 0.1 + 5 * 0.4) / 1e6
        )
        assert r.json()["cost_usd"] == pytest.approx(2 * (12 * 0.1 + 5 * 0.4) / 1e6)
        assert [req["path"] for req in catalog.requests] == [
            f"{fake_catalog.LIST_PATH}/{fake_catalog.ENTRIES[0]['id']}"
        ]
        again = run("batch", "results", r.json()["batch_id"], "--output", "again.jsonl", "--json", env=env)
        assert again.code == 0 and len(catalog.requests) == 1  # the card came from the cache
        assert results(tmp_path / "again.jsonl")["a"]["cost_basis"] == "batch"
        from history_db import rows

        spend = [r for r in rows(data_dir) if r["batch_id"] and r["cost_usd"] is not None]
        assert len(spend) == 1 and spend[0]["cost_usd"] == pytest.approx(r.json()["cost_usd"])  # counted once
        assert json.loads(spend[0]["cost"])["cost_basis"] == "batch" and spend[0]["input_tokens"] == 24
        assert_token_stayed_home(r, fake, fake.storage)
        assert_token_stayed_home(again, fake, fake.storage)
    finally:
        catalog.stop()
