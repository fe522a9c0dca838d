"""gradient-batch run's ends: the lock file goes with every run, and Ctrl-C keeps exactly what was paid for.

Uses tests/test_batch_run.py's throttled fake (tests/fake_batch.py) and the history file the run writes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import SCRIPTS
from fake_batch import Throttle
from fake_gradient import API_KEY, FakeGradient
from test_batch_run import prompts, results, write_lines


@pytest.fixture(scope="module")
def slow_fake():
    fake = FakeGradient().start()
    fake.throttle = Throttle(fake)
    yield fake
    fake.stop()


@pytest.fixture
def fake(slow_fake):
    slow_fake.reset()
    slow_fake.throttle.reset()
    return slow_fake


def start_run(fake, tmp_path, data_dir, *args: str) -> subprocess.Popen:
    env = {**os.environ, "GRADIENT_API_KEY": API_KEY, "GRADIENT_BASE_URL": fake.url, "NO_PROXY": "*"}
    env.update(GRADIENT_CACHE_DIR=str(tmp_path / "cache"), GRADIENT_DATA_DIR=str(data_dir))
    return subprocess.Popen(
        [sys.executable, str(SCRIPTS / "gradient_batch.py"), "run", *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.01)
    assert predicate()


def interrupted_run(fake, tmp_path, data_dir, lines: int, latency: float, concurrency: int, after: int):
    """A run of `lines` prompts on in.jsonl at `latency` per reply, sent SIGINT once `after` requests arrived."""
    fake.throttle.reset(latency=latency)
    write_lines(tmp_path / "in.jsonl", prompts(lines))
    proc = start_run(fake, tmp_path, data_dir, "in.jsonl", "--concurrency", str(concurrency))
    wait_for(lambda: len(fake.requests) >= after)
    proc.send_signal(signal.SIGINT)
    return proc


@pytest.mark.parametrize("bad", [False, True], ids=["all-ok", "a-line-failed"])
def test_a_finished_run_leaves_no_lock_file(run, fake, tmp_path, bad):
    lines = prompts(5) + ([{"id": "x", "prompt": "BAD400"}] if bad else [])
    write_lines(tmp_path / "in.jsonl", lines)
    r = run("batch", "run", "in.jsonl", env={"GRADIENT_BASE_URL": fake.url})
    assert r.code == (1 if bad else 0), r.err
    assert len(results(tmp_path / "in.results.jsonl")) == len(lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "in.results.jsonl"]


def test_an_interrupted_run_leaves_no_lock_file(fake, tmp_path, data_dir):
    proc = interrupted_run(fake, tmp_path, data_dir, lines=100, latency=0.05, concurrency=2, after=4)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert not (tmp_path / "in.results.jsonl.lock").exists()


def test_ctrl_c_drains_what_is_in_flight_and_the_resume_sends_only_the_rest(fake, tmp_path, data_dir):
    """2,000 lines, 64 at once, 200 ms each: after Ctrl-C, requests sent = lines in the file = paid rows."""
    from history_db import rows

    n = 2000
    out = tmp_path / "in.results.jsonl"
    proc = interrupted_run(fake, tmp_path, data_dir, lines=n, latency=0.2, concurrency=64, after=300)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in err, err
    sent, held, paid = len(fake.requests), len(results(out)), len(rows(data_dir, "command = 'batch'"))
    assert 300 <= sent < n and sent == held == paid, (sent, held, paid, err)
    assert f"holds {held} result lines" in err and "every reply in flight was written" in err
    assert all(line["ok"] for line in results(out))

    fake.reset()
    proc = start_run(fake, tmp_path, data_dir, "in.jsonl", "--concurrency", "64")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert sent + len(fake.requests) == n
    assert len(rows(data_dir, "command = 'batch'")) == n
    assert sorted(line["id"] for line in results(out)) == sorted(f"p{i}" for i in range(n))


def test_a_second_ctrl_c_stops_at_once(fake, tmp_path, data_dir):
    proc = interrupted_run(fake, tmp_path, data_dir, lines=20, latency=3.0, concurrency=4, after=4)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    began = time.monotonic()
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and time.monotonic() - began < 2, err
    assert "stopped at once" in err and "Traceback" not in err
    assert len(fake.requests) == 4  # nothing sent after the first Ctrl-C
