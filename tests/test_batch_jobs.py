"""gradient-batch jobs of many DigitalOcean batches: sharding, the manifest, resuming, and every page of list.

Against the fake Batch Inference API (fake_batch.BatchAPI) with the per-batch limits lowered through the
test-only settings GRADIENT_TEST_BATCH_MAX_LINES / GRADIENT_TEST_BATCH_MAX_BYTES (and once at the real 50,000).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import SCRIPTS
from fake_batch import BatchAPI
from fake_gradient import API_KEY, FakeGradient


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
    def _batch(*args: str, lines: int | None = None, size: int | None = None, **kwargs):
        env = {"GRADIENT_BASE_URL": fake.url}
        if lines:
            env["GRADIENT_TEST_BATCH_MAX_LINES"] = str(lines)
        if size:
            env["GRADIENT_TEST_BATCH_MAX_BYTES"] = str(size)
        return run("batch", *args, env=env, **kwargs)

    return _batch


def write_prompts(path: Path, n: int, start: int = 0) -> Path:
    path.write_text("".join(json.dumps({"id": f"p{i}", "prompt": f"prompt {i}"}) + "\n" for i in range(start, n)))
    return path


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def uploads(fake) -> list[list[str]]:
    """custom_ids of every uploaded file, in upload order."""
    puts = [r for r in fake.storage.requests if r["method"] == "PUT"]
    return [[json.loads(line)["custom_id"] for line in p["raw"].splitlines()] for p in puts]


def creates(fake) -> list[dict]:
    return [r["body"] for r in fake.requests if r["method"] == "POST" and r["path"] == "/v1/batches"]


def complete(fake, bid: str) -> None:
    fake.batch._complete(fake.batch.batches[bid])


def assert_key_only_to_the_api(fake) -> None:
    assert fake.storage.requests
    for req in fake.storage.requests:
        assert "authorization" not in {k.lower() for k in req["headers"]}
        assert API_KEY not in json.dumps(req["headers"]) and API_KEY not in req["path"]


# ---------------------------------------------------------------- sharding


def test_shards_by_line_count_keep_input_order_and_merge_every_id_once(batch, fake, tmp_path):
    src = write_prompts(tmp_path / "jobs.jsonl", 8)
    r = batch("submit", str(src), "--json", lines=3)
    assert r.code == 0, r.err
    out = r.json()
    assert out["job"] == str(tmp_path / "jobs.batch.json") and out["total"] == 8
    assert [b["lines"] for b in out["batches"]] == [3, 3, 2] and out["batch_id"] == out["batches"][0]["batch_id"]
    assert uploads(fake) == [["p0", "p1", "p2"], ["p3", "p4", "p5"], ["p6", "p7"]]
    names = [r["body"]["file_name"] for r in fake.requests if r["path"] == "/v1/batches/files"]
    assert names == ["jobs-1-of-3.jsonl", "jobs-2-of-3.jsonl", "jobs-3-of-3.jsonl"]
    assert len({c["request_id"] for c in creates(fake)}) == 3 and len(fake.batch.batches) == 3
    assert_key_only_to_the_api(fake)

    manifest = json.loads((tmp_path / "jobs.batch.json").read_text())
    assert [(s["first_line"], s["last_line"]) for s in manifest["shards"]] == [(1, 3), (4, 6), (7, 8)]
    assert [s["batch_id"] for s in manifest["shards"]] == [b["batch_id"] for b in out["batches"]]
    assert [s["request_id"] for s in manifest["shards"]] == [c["request_id"] for c in creates(fake)]

    human = batch("status", "jobs.batch.json", lines=3)
    assert human.code == 0 and human.out.count("in_progress") + human.out.count("completed") == 3
    r = batch("results", "jobs.batch.json", "--output", "all.jsonl", "--json", lines=3)
    assert r.code == 0, r.err
    assert r.json()["ok"] == 8 and r.json()["shards"] == 3 and r.json()["unfinished"] == 0
    merged = read_lines(tmp_path / "all.jsonl")
    assert sorted(line["id"] for line in merged) == sorted(f"p{i}" for i in range(8))
    fake.reset()
    r = batch("results", "jobs.batch.json", "--output", "all.jsonl", lines=3)  # nothing new: nothing fetched
    assert r.code == 0 and not [q for q in fake.requests if q["path"].endswith("/results")]
    assert len(read_lines(tmp_path / "all.jsonl")) == 8


def test_shards_by_size_counted_on_the_uploaded_file(batch, fake, tmp_path):
    src = write_prompts(tmp_path / "jobs.jsonl", 10)
    one = len(json.dumps({"custom_id": "p0", "method": "POST", "url": "/v1/chat/completions"}))
    limit = 4 * (one + 120)  # a few provider lines per file
    r = batch("submit", str(src), "--json", size=limit)
    assert r.code == 0, r.err
    files = [p["raw"] for p in fake.storage.requests if p["method"] == "PUT"]
    assert len(files) > 1 and all(len(f) <= limit for f in files)
    assert [i for ids in uploads(fake) for i in ids] == [f"p{i}" for i in range(10)]
    assert sum(b["lines"] for b in r.json()["batches"]) == 10


def test_the_real_50000_line_limit_splits_120000_lines_50000_50000_20000(batch, fake, tmp_path):
    src = tmp_path / "big.jsonl"
    src.write_text("".join(f'{{"id":"{i}","prompt":"p"}}\n' for i in range(120_000)))
    r = batch("submit", str(src), "--json", timeout=240)
    assert r.code == 0, r.err
    assert [b["lines"] for b in r.json()["batches"]] == [50_000, 50_000, 20_000]
    assert [len(ids) for ids in uploads(fake)] == [50_000, 50_000, 20_000]


def test_mixed_providers_are_refused_before_any_upload_at_any_size(batch, fake, tmp_path):
    lines = [{"id": f"a{i}", "prompt": "x"} for i in range(5)] + [
        {"id": "b", "prompt": "y", "model": "anthropic-claude-haiku-4.5"}
    ]
    src = tmp_path / "jobs.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    r = batch("submit", str(src), lines=2)
    assert r.code == 2 and "one provider" in r.err
    assert fake.requests == [] and fake.storage.requests == [] and not (tmp_path / "jobs.batch.json").exists()


# ---------------------------------------------------------------- resuming


def test_a_failed_create_on_the_second_shard_resumes_with_one_create_per_shard(batch, fake, tmp_path):
    src = write_prompts(tmp_path / "jobs.jsonl", 6)
    fake.batch.reset(creates_ok=1, fail_creates=100)
    r = batch("submit", str(src), "--max-retries", "1", lines=2)
    assert r.code == 1 and "shard 2 of 3" in r.err and "rerun the same submit to resume" in r.err
    manifest = json.loads((tmp_path / "jobs.batch.json").read_text())
    assert manifest["shards"][0]["batch_id"] and manifest["shards"][1]["file_id"]
    assert manifest["shards"][1]["batch_id"] is None and manifest["shards"][2]["file_id"] is None
    fake.batch.fail_creates = 0
    r = batch("submit", str(src), lines=2)
    assert r.code == 0, r.err
    assert len(fake.batch.batches) == 3 and len(r.out.split("\n")) == 4  # three shard lines
    ids = [s["request_id"] for s in json.loads((tmp_path / "jobs.batch.json").read_text())["shards"]]
    created = [b["request_id"] for b in fake.batch.batches.values()]
    assert sorted(created) == sorted(ids)  # exactly one batch per shard
    sent = [c["request_id"] for c in creates(fake)]
    assert sent.count(ids[0]) == 1 and sent.count(ids[2]) == 1 and sent.count(ids[1]) >= 2
    assert len(uploads(fake)) == 3  # shard 2's upload was recorded, so it was not sent again


def child_env(fake, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIENT_", "MODEL_ACCESS"))}
    env.update({"GRADIENT_API_KEY": API_KEY, "GRADIENT_BASE_URL": fake.url, "NO_PROXY": "*", **extra})
    return env


@pytest.mark.parametrize("how", ["kill", "ctrl-c"])
def test_a_crash_between_upload_and_create_resends_the_same_request_id(batch, fake, tmp_path, how):
    import threading

    src = write_prompts(tmp_path / "jobs.jsonl", 4)
    fake.batch.hold_create = threading.Event()
    argv = [sys.executable, str(SCRIPTS / "gradient_batch.py"), "submit", str(src)]
    env = child_env(fake, GRADIENT_TEST_BATCH_MAX_LINES="2", GRADIENT_CACHE_DIR=str(tmp_path / "c"))
    proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert fake.batch.held.wait(30), "the create never arrived"
        proc.send_signal(signal.SIGKILL if how == "kill" else signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        fake.batch.hold_create.set()
        proc.kill()
    if how == "ctrl-c":
        assert proc.returncode == 130 and b"rerun to resume" in err and b"Traceback" not in err
    manifest = json.loads((tmp_path / "jobs.batch.json").read_text())  # whole, never half-written
    first = manifest["shards"][0]
    assert first["file_id"] and first["batch_id"] is None and len(fake.batch.batches) == 1
    fake.batch.hold_create = None

    r = batch("submit", str(src), "--json", lines=2)
    assert r.code == 0, r.err
    sent = [c["request_id"] for c in creates(fake)]
    assert sent[:2] == [first["request_id"], first["request_id"]]  # the same create, sent again
    assert len(fake.batch.batches) == 2 and len(uploads(fake)) == 2  # idempotent: one batch per shard


def test_a_manifest_that_does_not_match_exits_2_before_anything_is_sent(batch, fake, tmp_path):
    src = write_prompts(tmp_path / "jobs.jsonl", 4)
    assert batch("submit", str(src), lines=2).code == 0
    for args, change in [
        (["--model", "openai-gpt-oss-20b"], None),
        (["--system", "be brief"], None),
        (["--max-tokens", "5"], None),
        ([], lambda: write_prompts(src, 5)),
    ]:
        if change:
            change()
        fake.reset()
        fake.storage.reset()
        r = batch("submit", str(src), *args, "--json", lines=2)
        assert r.code == 2 and r.err_json()["error"]["type"] == "bad_manifest", args
        assert "belongs to another job" in r.err_json()["error"]["message"]
        assert fake.requests == [] and fake.storage.requests == []
    r = batch("submit", str(src), "--manifest", "new.batch.json", lines=2)
    assert r.code == 0 and (tmp_path / "new.batch.json").exists()


# ---------------------------------------------------------------- status, results, cancel on a manifest


def test_status_results_partial_then_complete_and_cancel_on_a_manifest(batch, fake, tmp_path):
    fake.batch.reset(steps=1000)  # nothing completes unless the test says so
    src = write_prompts(tmp_path / "jobs.jsonl", 4)
    r = batch("submit", str(src), "--json", lines=2)
    first, second = [b["batch_id"] for b in r.json()["batches"]]
    complete(fake, first)

    r = batch("status", "jobs.batch.json", "--json", lines=2)
    assert r.code == 0 and [b["status"] for b in r.json()["batches"]] == ["completed", "in_progress"]
    assert r.json()["total"] == {"total": 4, "completed": 3, "failed": 0} and r.json()["finished"] == 1
    r = batch("status", "jobs.batch.json", lines=2)
    assert first in r.out and second in r.out and "total  1/2 batches ended: 3/4 done" in r.out

    r = batch("results", "jobs.batch.json", "--output", "out.jsonl", lines=2)
    assert r.code == 1 and "1 of 2 batches have no results" in r.err and "shard 2 not finished" in r.err
    assert sorted(x["id"] for x in read_lines(tmp_path / "out.jsonl")) == ["p0", "p1"]
    complete(fake, second)
    fake.reset()
    r = batch("results", "jobs.batch.json", "--output", "out.jsonl", "--json", lines=2)
    assert r.code == 0, r.err
    assert sorted(x["id"] for x in read_lines(tmp_path / "out.jsonl")) == ["p0", "p1", "p2", "p3"]
    fetched = {q["path"].split("/")[3] for q in fake.requests if q["path"].endswith("/results")}
    assert fetched == {second}  # only the new shard

    r = batch("submit", str(src), "--manifest", "other.batch.json", lines=2)
    r = batch("cancel", "other.batch.json", "--json", lines=2)
    assert r.code == 0 and {b["status"] for b in r.json()["batches"]} == {"cancelled"}
    cancels = [q["path"] for q in fake.requests if q["path"].endswith("/cancel")]
    assert len(cancels) == 2
    r = batch("cancel", "other.batch.json", lines=2)  # all ended: nothing to cancel, no 409 retries
    assert r.code == 0 and len([q for q in fake.requests if q["path"].endswith("/cancel")]) == 2


def test_submit_wait_polls_every_shard_and_downloads_as_they_finish(batch, fake, tmp_path):
    fake.batch.reset(steps=2)
    src = write_prompts(tmp_path / "jobs.jsonl", 5)
    r = batch("submit", str(src), "--wait", "--output", "out.jsonl", "--json", lines=2)
    assert r.code == 0, r.err
    assert r.json()["ok"] == 5 and r.json()["shards"] == 3 and r.json()["status"] == "completed"
    assert sorted(x["id"] for x in read_lines(tmp_path / "out.jsonl")) == [f"p{i}" for i in range(5)]
    r = batch("submit", str(src), "--wait", "--output", "out.jsonl", lines=2)  # rerun: nothing new
    assert r.code == 0 and len(read_lines(tmp_path / "out.jsonl")) == 5 and "3/3 batches ended" in r.err


# ---------------------------------------------------------------- list


def test_list_follows_every_page_with_status_and_limit(batch, fake, tmp_path):
    for i in range(9):
        bid = fake.batch.uuid()
        status = "completed" if i % 3 else "failed"
        fake.batch.batches[bid] = {"batch_id": bid, "status": status, "provider": "openai", "request_counts": {}}
    fake.batch.page_size = 2
    r = batch("list", "--status", "completed", "--limit", "50", "--json")
    assert r.code == 0 and len(r.json()["batches"]) == 6
    assert {b["status"] for b in r.json()["batches"]} == {"completed"}
    queries = [parse_qs(urlsplit(q["path"]).query) for q in fake.requests if q["path"].startswith("/v1/batches?")]
    assert len(queries) == 3 and all(q["status"] == ["completed"] for q in queries)
    assert "after" not in queries[0] and queries[1]["after"] == [r.json()["batches"][1]["batch_id"]]
    fake.reset()
    r = batch("list", "--limit", "5")
    assert r.code == 0 and r.out.count("00000000-") == 5
    assert batch("list", "--status", "nope").code == 2


# ---------------------------------------------------------------- run's cheap resume still checks the input


def test_a_resume_still_refuses_a_duplicate_of_a_done_id_and_a_bad_id(batch, fake, tmp_path):
    src = write_prompts(tmp_path / "in.jsonl", 3)
    assert batch("run", str(src)).code == 0
    with open(src, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "p1", "prompt": "again"}) + "\n")
    r = batch("run", str(src))
    assert r.code == 2 and "line 4: duplicate id 'p1'" in r.err
    write_prompts(src, 3)
    with open(src, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": ["p9"], "prompt": "x"}) + "\n")
    fake.reset()
    r = batch("run", str(src))
    assert r.code == 2 and "id must be a non-empty string" in r.err and fake.requests == []
    write_prompts(src, 4)
    r = batch("run", str(src), "--json")
    assert r.code == 0 and r.json()["skipped"] == 3 and r.json()["ok"] == 1


def test_a_shard_whose_download_fails_is_fetched_on_the_next_run_and_nothing_is_lost(batch, fake, tmp_path):
    src = write_prompts(tmp_path / "jobs.jsonl", 4)
    r = batch("submit", str(src), "--json", lines=2)
    first, second = [b["batch_id"] for b in r.json()["batches"]]
    complete(fake, first)
    complete(fake, second)
    fake.storage.queue(f"/out/{second}/output", {"status": 500, "body": b"<Error>InternalError</Error>"})
    r = batch("results", "jobs.batch.json", "--output", "out.jsonl", lines=2)
    assert r.code == 1 and "shard 2: output file: download from" in r.err
    assert sorted(x["id"] for x in read_lines(tmp_path / "out.jsonl")) == ["p0", "p1"]
    r = batch("results", "jobs.batch.json", "--output", "out.jsonl", "--json", lines=2)
    assert r.code == 0 and r.json()["ok"] == 2, r.err
    assert sorted(x["id"] for x in read_lines(tmp_path / "out.jsonl")) == ["p0", "p1", "p2", "p3"]
