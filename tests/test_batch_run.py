"""gradient-batch run: many prompts at once, resumable, within budget, never losing a line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, SCRIPTS
from fake_batch import Throttle
from fake_gradient import API_KEY, FakeGradient

CALL_COST = (12 * 0.1 + 5 * 0.7) / 1e6  # the fake's chat usage at the snapshot's gpt-oss-120b prices


@pytest.fixture(scope="module")
def batch_fake():
    fake = FakeGradient().start()
    fake.throttle = Throttle(fake)
    yield fake
    fake.stop()


@pytest.fixture
def fake(batch_fake):
    batch_fake.reset()
    batch_fake.throttle.reset()
    return batch_fake


@pytest.fixture
def batch(run, fake):
    """batch('run', 'in.jsonl', ...) against the throttled fake."""

    def _batch(*args: str, **kwargs):
        env = {"GRADIENT_BASE_URL": fake.url, **kwargs.pop("env", {})}
        return run("batch", *args, env=env, **kwargs)

    return _batch


def write_lines(path: Path, lines: list) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def results(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def prompts(n: int, text: str = "prompt") -> list[dict]:
    return [{"id": f"p{i}", "prompt": f"{text} {i}"} for i in range(n)]


# ---------------------------------------------------------------- the 200-prompt run


def test_200_prompts_each_once_with_its_own_answer_within_concurrency(batch, fake, tmp_path):
    fake.throttle.reset(latency=0.01)
    src = write_lines(tmp_path / "in.jsonl", prompts(200))
    r = batch("run", str(src), "--concurrency", "8", "--json")
    assert r.code == 0, r.err
    summary = r.json()
    assert set(summary) == {"total", "ok", "failed", "skipped", "seconds", "cost_usd", "cost_unknown", "output"}
    assert (summary["total"], summary["ok"], summary["failed"], summary["skipped"]) == (200, 200, 0, 0)
    assert summary["output"] == str(tmp_path / "in.results.jsonl")
    assert summary["cost_usd"] == pytest.approx(200 * CALL_COST)
    lines = results(tmp_path / "in.results.jsonl")
    assert sorted(line["id"] for line in lines) == sorted(f"p{i}" for i in range(200))
    for line in lines:
        assert line["ok"] is True and line["content"] == f"echo: prompt {line['id'][1:]}"
        assert line["model"] == "openai-gpt-oss-120b" and line["finish_reason"] == "stop"
        assert line["usage"]["input_tokens"] == 12 and line["cost"]["usd"] == pytest.approx(CALL_COST)
        assert set(line["cost"]) == {"usd", "source", "price_model"}
        assert "tool_calls" not in line
    assert len(fake.requests) == 200
    assert 1 < fake.throttle.max_inflight <= 8
    assert "200 ok, 0 failed, 0 skipped" in r.err and "results in" in r.err


def test_cap_of_4_with_concurrency_16_fails_no_line(batch, fake, tmp_path):
    fake.throttle.reset(latency=0.02, cap=4, retry_after="1")
    src = write_lines(tmp_path / "in.jsonl", prompts(40))
    started = time.monotonic()
    r = batch("run", str(src), "--concurrency", "16", "--max-retries", "0", "--verbose")
    assert r.code == 0, r.err
    lines = results(tmp_path / "in.results.jsonl")
    assert len(lines) == 40 and all(line["ok"] for line in lines)
    assert fake.throttle.rejected > 0  # the cap was hit, and 429s did not count against --max-retries
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was waited out, not hammered
    assert "in-flight limit lowered to 8" in r.err
    assert fake.throttle.rejected < 40  # fewer in flight after a 429, not 12 retries of every burst


def test_the_in_flight_limit_halves_on_429_and_grows_back_with_successes():
    sys.path.insert(0, str(ROOT))
    from gradient_inference.batch import runner as gradient_runner

    limiter = gradient_runner.Limiter(16)
    limiter.rate_limited()
    limiter.rate_limited()  # a burst of 429s within the cool-down counts once
    assert limiter.limit == 8
    limiter.last_cut -= gradient_runner.DECREASE_COOLDOWN
    limiter.rate_limited()
    assert limiter.limit == 4
    for _ in range(4):
        limiter.succeeded()
    assert 4.9 < limiter.limit < 5.1  # +1 per round of successes
    for _ in range(500):
        limiter.succeeded()
    assert limiter.limit == 16  # never above --concurrency


# ---------------------------------------------------------------- failures, retries, resume


def test_400_is_a_failed_line_500_is_retried_and_a_rerun_resends_only_failures(batch, fake, tmp_path):
    src = write_lines(
        tmp_path / "in.jsonl",
        [{"id": "good", "prompt": "fine"}, {"id": "bad", "prompt": "BAD400"}, {"id": "flaky", "prompt": "FLAKY500"}],
    )
    r = batch("run", str(src), "--json")
    assert r.code == 1
    assert r.err_json()["error"]["type"] == "lines_failed"
    assert r.json()["ok"] == 2 and r.json()["failed"] == 1
    by_id = {line["id"]: line for line in results(tmp_path / "in.results.jsonl")}
    assert by_id["good"]["ok"] and by_id["flaky"]["ok"] and by_id["flaky"]["content"] == "echo: FLAKY500"
    error = by_id["bad"]["error"]
    assert by_id["bad"]["ok"] is False and error["status"] == 400 and error["request_id"].startswith("req_")
    assert error["message"] == "That prompt is not allowed." and error["type"] == "invalid_request_error"
    assert len(fake.requests) == 4  # flaky twice

    fake.reset()
    r = batch("run", str(src), "--json")
    assert r.code == 1 and r.json()["skipped"] == 2
    assert [prompt["body"]["messages"][-1]["content"] for prompt in fake.requests] == ["BAD400"]


def test_a_result_file_in_the_old_bare_number_cost_shape_resumes_and_new_lines_get_the_object(batch, fake, tmp_path):
    src = write_lines(tmp_path / "in.jsonl", prompts(3))
    old = {"id": "p0", "ok": True, "model": "openai-gpt-oss-120b", "content": "x", "finish_reason": "stop"}
    write_lines(tmp_path / "in.results.jsonl", [{**old, "usage": {"input_tokens": 12}, "cost": 0.0000123}])
    r = batch("run", str(src), "--json")
    assert r.code == 0 and r.json()["skipped"] == 1 and r.json()["ok"] == 2
    assert sorted(req["body"]["messages"][-1]["content"] for req in fake.requests) == ["prompt 1", "prompt 2"]
    new = [line for line in results(tmp_path / "in.results.jsonl") if line["id"] != "p0"]
    assert all(set(line["cost"]) == {"usd", "source", "price_model"} for line in new)
    assert r.json()["cost_usd"] == pytest.approx(2 * CALL_COST)  # the summary counts this run's lines


def test_partial_last_line_is_ignored_and_never_corrupts_the_file(batch, fake, tmp_path):
    src = write_lines(tmp_path / "in.jsonl", prompts(3))
    out = tmp_path / "in.results.jsonl"
    out.write_text(json.dumps({"id": "p0", "ok": True, "content": "old"}) + '\n{"id": "p1", "ok": tr', encoding="utf-8")
    r = batch("run", str(src))
    assert r.code == 0, r.err
    assert sorted(req["body"]["messages"][-1]["content"] for req in fake.requests) == ["prompt 1", "prompt 2"]
    raw = out.read_text(encoding="utf-8").split("\n")[:-1]
    assert raw[1] == '{"id": "p1", "ok": tr\x1e'  # the crash fragment stays on a line of its own, marked
    assert json.loads(raw[0])["id"] == "p0" and sorted(json.loads(line)["id"] for line in raw[2:]) == ["p1", "p2"]


def test_ctrl_c_keeps_finished_lines_and_a_rerun_sends_only_the_rest(batch, fake, tmp_path):
    fake.throttle.reset(latency=0.05)
    n = 60
    src = write_lines(tmp_path / "in.jsonl", prompts(n))
    out = tmp_path / "in.results.jsonl"
    env = {**os.environ, "GRADIENT_API_KEY": API_KEY, "GRADIENT_BASE_URL": fake.url, "NO_PROXY": "*"}
    env["GRADIENT_CACHE_DIR"] = str(tmp_path / "cache")
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPTS / "gradient_batch.py"), "run", str(src), "--concurrency", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 10):
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130 and time.monotonic() - sent < 2, err
    assert "Traceback" not in err and "rerun" in err
    first = results(out)  # every line whole
    assert 10 <= len(first) < n and all(line["ok"] for line in first)

    fake.reset()
    r = batch("run", str(src))
    assert r.code == 0, r.err
    done_before = {line["id"] for line in first}
    resent = {req["body"]["messages"][-1]["content"] for req in fake.requests}
    assert resent == {f"prompt {i}" for i in range(n) if f"p{i}" not in done_before}
    final = results(out)
    assert sorted(line["id"] for line in final) == sorted(f"p{i}" for i in range(n))  # each id ok exactly once


# ---------------------------------------------------------------- refused before sending


@pytest.mark.parametrize(
    "lines, message",
    [
        (['{"id": "a", "prompt": "x"}', '{"id": "b", "prompt": '], "line 2 is not valid JSON"),
        (['{"id": "a", "prompt": "x"}', '["a list"]'], "line 2 is not a JSON object"),
        ([{"id": "a", "prompt": "x"}, {"id": "a", "prompt": "y"}], "line 2: duplicate id 'a'"),
        ([{"prompt": "x"}, {"id": "line-1", "prompt": "y"}], "line 2: duplicate id 'line-1'"),
        ([{"id": "a", "prompt": "x"}, {"id": "b"}], "line 2 has no prompt, messages or body"),
        ([{"id": "a", "messages": [{"role": "robot", "content": "x"}]}], "line 1: message 1 has role 'robot'"),
        ([{"id": "a", "prompt": "x", "max_tokens": 0}], "line 1: max_tokens must be a positive integer"),
        ([{"id": "a", "prompt": "x", "temperature": 3}], "line 1: temperature must be a number from 0 to 2"),
        ([{"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {}}], "line 1: url must be one of"),
        ([], "the input is empty"),
        (["", "   "], "the input is empty"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(batch, fake, tmp_path, lines, message):
    src = write_lines(tmp_path / "in.jsonl", lines)
    r = batch("run", str(src), "--json")
    assert r.code == 2 and message in r.err_json()["error"]["message"]
    assert fake.requests == [] and not (tmp_path / "in.results.jsonl").exists()


def test_stdin_needs_output_and_then_works(batch, fake, tmp_path):
    text = "".join(json.dumps(p) + "\n" for p in prompts(3))
    r = batch("run", "-", stdin=text)
    assert r.code == 2 and "--output is required" in r.err and fake.requests == []
    r = batch("run", "-", "--output", str(tmp_path / "out.jsonl"), stdin=text)
    assert r.code == 0 and len(results(tmp_path / "out.jsonl")) == 3


# ---------------------------------------------------------------- line formats and overrides


def test_line_formats_and_overrides_reach_the_request(batch, fake, tmp_path):
    src = write_lines(
        tmp_path / "in.jsonl",
        [
            {"id": "s", "prompt": "simple"},
            {"id": "o", "prompt": "own", "model": "openai-gpt-oss-20b", "system": "be brief", "temperature": 0.5},
            {"id": "m", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]},
            {
                "custom_id": "c",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {"model": "llama3.3-70b-instruct", "messages": [{"role": "user", "content": "oa"}]},
            },
            {"custom_id": "r", "method": "POST", "url": "/v1/responses", "body": {"input": "via responses"}},
        ],
    )
    r = batch("run", str(src), "--system", "default sys", "--max-tokens", "300")
    assert r.code == 0, r.err
    sent = {(req["path"], json.dumps(req["body"], sort_keys=True)) for req in fake.requests}
    bodies = {
        req["body"].get("messages", [{}])[-1].get("content") or req["body"]["input"]: req for req in fake.requests
    }
    assert bodies["simple"]["body"]["messages"][0] == {"role": "system", "content": "default sys"}
    assert bodies["simple"]["body"]["max_completion_tokens"] == 300
    own = bodies["own"]["body"]
    assert own["model"] == "openai-gpt-oss-20b" and own["temperature"] == 0.5
    assert own["messages"][0] == {"role": "system", "content": "be brief"}
    assert bodies["yo"]["body"]["messages"][-2] == {"role": "user", "content": "hi"}
    assert bodies["oa"]["body"] == {"model": "llama3.3-70b-instruct", "messages": [{"role": "user", "content": "oa"}]}
    assert bodies["via responses"]["path"] == "/v1/responses"
    assert bodies["via responses"]["body"]["model"] == "openai-gpt-oss-120b"
    assert len(sent) == 5
    by_id = {line["id"]: line for line in results(tmp_path / "in.results.jsonl")}
    assert by_id["r"]["content"] == "echo: via responses" and by_id["c"]["model"] == "llama3.3-70b-instruct"


def test_responses_api_flag_sends_simple_lines_to_responses(batch, fake, tmp_path):
    src = write_lines(tmp_path / "jobs.jsonl", prompts(2))
    r = batch("run", str(src), "--responses-api", "--output", str(tmp_path / "o.jsonl"))
    assert r.code == 0 and {req["path"] for req in fake.requests} == {"/v1/responses"}
    assert {line["content"] for line in results(tmp_path / "o.jsonl")} == {"echo: prompt 0", "echo: prompt 1"}


def test_dry_run_prints_the_first_request_and_sends_nothing(batch, fake, tmp_path):
    src = write_lines(tmp_path / "in.jsonl", prompts(2))
    r = batch("run", str(src), "--dry-run")
    assert r.code == 0 and r.out.startswith("curl ") and "/chat/completions" in r.out and "prompt 0" in r.out
    assert "$GRADIENT_API_KEY" in r.out and fake.requests == []


def test_tool_calls_are_kept_in_the_result_line():
    sys.path.insert(0, str(ROOT))
    from gradient_inference.batch import lines as gradient_jobs

    call = {"id": "call_1", "name": "lookup", "arguments": '{"q": 1}'}
    line = gradient_jobs.ok_line("x", {"content": "", "usage": {}, "tool_calls": [call]}, None)
    assert line["tool_calls"] == [call]
    assert "tool_calls" not in gradient_jobs.ok_line("x", {"content": "hi", "tool_calls": []}, None)


# ---------------------------------------------------------------- budget


def test_max_cost_stops_within_one_request_of_the_budget_and_a_rerun_continues(batch, fake, tmp_path):
    budget = 10.5 * CALL_COST
    src = write_lines(tmp_path / "in.jsonl", prompts(30))
    r = batch("run", str(src), "--concurrency", "4", "--max-cost", f"{budget:.10f}", "--json")
    assert r.code == 1
    err = r.err_json()["error"]
    assert err["type"] == "budget_reached" and "--max-cost" in err["message"]
    assert "budget of $0.00004935 reached" in err["message"] and "e-05" not in err["message"]  # plain dollars
    spent = r.json()["cost_usd"]
    assert budget - CALL_COST <= spent <= budget + CALL_COST
    assert len(fake.requests) == r.json()["ok"] == 10

    fake.reset()
    r = batch("run", str(src), "--max-cost", "1")
    assert r.code == 0 and len(fake.requests) == 20


def test_max_cost_with_an_unpriced_model_exits_2_before_sending(batch, fake, tmp_path):
    src = write_lines(tmp_path / "in.jsonl", [{"id": "a", "prompt": "x", "model": "anthropic-claude-sonnet-4"}])
    r = batch("run", str(src), "--max-cost", "1")
    assert r.code == 2 and "anthropic-claude-sonnet-4" in r.err and fake.requests == []


# ---------------------------------------------------------------- progress


def on_a_terminal(fake, tmp_path, *args: str, pythonpath: str = "") -> str:
    """Run gradient-batch run with stderr on a pseudo-terminal (what turns the progress bar on); what it showed."""
    import fcntl
    import pty
    import struct
    import termios

    env = {**os.environ, "GRADIENT_API_KEY": API_KEY, "GRADIENT_BASE_URL": fake.url, "NO_PROXY": "*"}
    env["GRADIENT_CACHE_DIR"] = str(tmp_path / "cache")
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a real terminal has a size
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPTS / "gradient_batch.py"), "run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    shown = b"".join(chunks).decode(errors="replace")
    assert proc.wait(timeout=60) == 0, shown
    return shown


def test_a_terminal_gets_a_tqdm_bar_and_the_summary(fake, tmp_path):
    shown = on_a_terminal(fake, tmp_path, str(write_lines(tmp_path / "in.jsonl", prompts(5))))
    assert "5/5" in shown and "req/s" in shown and "ok=5" in shown  # tqdm's bar with our counts
    assert "5 ok, 0 failed, 0 skipped" in shown


def test_a_terminal_without_tqdm_gets_plain_progress_lines(fake, tmp_path):
    blocked = tmp_path / "no-tqdm"
    blocked.mkdir()
    (blocked / "tqdm.py").write_text('raise ImportError("tqdm is blocked in this test")\n')
    fake.throttle.reset(latency=0.4)
    src = write_lines(tmp_path / "in.jsonl", prompts(30))
    shown = on_a_terminal(fake, tmp_path, str(src), "--concurrency", "2", pythonpath=str(blocked))  # about 6 s
    assert "ModuleNotFoundError" not in shown and "error" not in shown and "req/s" not in shown  # no bar, no crash
    assert re.search(r": \d+/30 done, 0 failed, [\d.]+/s, ETA \d+s", shown), shown
    assert "30 ok, 0 failed, 0 skipped" in shown
    assert len(results(tmp_path / "in.results.jsonl")) == 30


def test_without_a_terminal_progress_is_a_line_at_most_every_five_seconds(batch, fake, tmp_path):
    fake.throttle.reset(latency=0.4)
    src = write_lines(tmp_path / "in.jsonl", prompts(30))
    started = time.monotonic()
    r = batch("run", str(src), "--concurrency", "2")  # about 6 s: 15 rounds of 0.4 s
    elapsed = time.monotonic() - started
    assert r.code == 0, r.err
    progress = [line for line in r.err.splitlines() if "/30 done" in line]
    assert 1 <= len(progress) <= elapsed / 5 + 1, r.err
    assert all(re.search(r": \d+/30 done, 0 failed, [\d.]+/s, ETA \d+s$", line) for line in progress), progress


# ---------------------------------------------------------------- never paying twice


def test_a_second_run_on_the_same_output_exits_at_once_naming_the_holder(batch, fake, tmp_path):
    fake.throttle.reset(latency=2.0)  # the first run sends one line per 2 s
    src = write_lines(tmp_path / "in.jsonl", prompts(20))
    out = tmp_path / "in.results.jsonl"
    env = {**os.environ, "GRADIENT_API_KEY": API_KEY, "GRADIENT_BASE_URL": fake.url, "NO_PROXY": "*"}
    env["GRADIENT_CACHE_DIR"] = str(tmp_path / "cache")
    first = subprocess.Popen(
        [sys.executable, str(SCRIPTS / "gradient_batch.py"), "run", str(src), "--concurrency", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not fake.requests:
            time.sleep(0.02)
        sent_before = len(fake.requests)
        started = time.monotonic()
        second = batch("run", str(src), "--json")
        assert second.code == 1 and time.monotonic() - started < 5
        error = second.err_json()["error"]
        assert error["type"] == "output_locked" and f"pid {first.pid}" in error["message"]
        assert len(fake.requests) <= sent_before + 1  # the second run sent nothing (the first goes on, one at a time)
    finally:
        first.kill()  # the lock dies with its process
        first.communicate(timeout=10)
    fake.throttle.reset()
    fake.reset()
    again = batch("run", str(src), "--json")
    assert again.code == 0, again.err
    assert sorted(line["id"] for line in results(out) if line["ok"]) == sorted(f"p{i}" for i in range(20))
    sent = [req["body"]["messages"][-1]["content"] for req in fake.requests]
    assert len(sent) == len(set(sent))  # each remaining line once


def test_a_key_in_a_prompt_and_its_echo_reaches_neither_the_results_nor_the_history(batch, fake, tmp_path, data_dir):
    from history_db import raw_bytes, rows

    src = write_lines(tmp_path / "in.jsonl", [{"id": f"k{i}", "prompt": f"my key is {API_KEY}"} for i in range(3)])
    r = batch("run", str(src), "--json")  # the fake echoes each prompt back
    assert r.code == 0, r.err
    out = (tmp_path / "in.results.jsonl").read_bytes()
    assert API_KEY.encode() not in out and b"my key is ***" in out
    assert len(rows(data_dir, "command = 'batch'")) == 3
    assert API_KEY.encode() not in raw_bytes(data_dir)
