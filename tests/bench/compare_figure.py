"""Figure 13 of bench.py: `gradient-compare -c 16` on 3 models x 50 prompts at 100 ms server latency vs a bare thread
pool making the same 150 streamed calls (concurrent.futures, 16 workers, one requests.Session with stream=True,
each SSE stream read until [DONE]). Both run as subprocesses against the loopback fake, so both pay an interpreter
start; ours also pays its history rows, prices and report. Target <= 1.15x."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent.parent
MODELS = ("openai-gpt-oss-120b", "openai-gpt-oss-20b", "llama3.3-70b-instruct")
PROMPTS, WORKERS, LATENCY = 50, 16, 0.100

FLOOR = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
import requests
from requests.adapters import HTTPAdapter

url, key, bodies = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
session = requests.Session()
session.mount("http://", HTTPAdapter(pool_connections=16, pool_maxsize=16))
headers = {"Authorization": "Bearer " + key}

def call(body):
    with session.post(url, json=body, headers=headers, stream=True, timeout=60) as resp:
        resp.raise_for_status()
        for line in resp.iter_lines():
            if line == b"data: [DONE]":
                return True
    raise RuntimeError("no [DONE]")

with ThreadPoolExecutor(max_workers=16) as pool:
    assert all(pool.map(call, bodies))
"""


def timed_run(argv: list[str], env: dict[str, str]) -> float:
    """Wall time in ms of one subprocess run, which must succeed."""
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    elapsed = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[1:3]} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-500:]}")
    return elapsed


def run_compare_figure(record: Callable[..., Any], interleave, med, server, env: dict[str, str], tmp: Path) -> None:
    from fake_gradient import API_KEY

    print(f"\n[13] gradient-compare -c {WORKERS}, {len(MODELS)} models x {PROMPTS} prompts, 100 ms latency, "
          "vs a bare thread pool")  # fmt: skip
    prompts = tmp / "compare-prompts.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"question {i}"}) + "\n" for i in range(PROMPTS)))
    bodies = [
        {"model": model, "messages": [{"role": "user", "content": f"question {i}"}], "stream": True,
         "stream_options": {"include_usage": True}}
        for i in range(PROMPTS) for model in MODELS
    ]  # fmt: skip
    (tmp / "compare-bodies.json").write_text(json.dumps(bodies))
    floor = tmp / "compare_floor.py"
    floor.write_text(FLOOR)
    ours_argv = [sys.executable, str(ROOT / "scripts" / "gradient_compare.py"), str(prompts), "-c", str(WORKERS),
                 "--json", *[arg for model in MODELS for arg in ("--model", model)]]  # fmt: skip
    floor_argv = [
        sys.executable,
        str(floor),
        server.url + "/chat/completions",
        API_KEY,
        str(tmp / "compare-bodies.json"),
    ]
    server.latency = LATENCY
    try:
        times = interleave([lambda: timed_run(ours_argv, env), lambda: timed_run(floor_argv, env)], 5)
    finally:
        server.latency = 0.0
    record(
        f"13 gradient-compare -c {WORKERS}, 3 models x {PROMPTS} prompts vs a bare thread pool (100 ms latency)",
        med(times[0]),
        med(times[1]),
        1.15,
        note="medians of 5 interleaved subprocess runs; floor: concurrent.futures + requests.Session streaming",
    )


if __name__ == "__main__":  # the figure alone: python tests/bench/compare_figure.py
    import statistics
    import tempfile

    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "bench")]
    import bench
    from fake_gradient import API_KEY, FakeGradient

    fake = FakeGradient().start()
    try:
        with tempfile.TemporaryDirectory(prefix="gradient-bench-") as folder:
            env = bench.clean_env(GRADIENT_API_KEY=API_KEY, GRADIENT_BASE_URL=fake.url,
                                  GRADIENT_CACHE_DIR=f"{folder}/cache", GRADIENT_DATA_DIR=f"{folder}/data")  # fmt: skip
            run_compare_figure(bench.record, bench.interleave, statistics.median, fake, env, Path(folder))
    finally:
        fake.stop()
