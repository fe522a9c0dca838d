"""Batch figures (issue 12), each against a floor measured in the same run:

  B1. `gradient-batch run` of 200 prompts at 100 ms server latency, --concurrency 10, vs a minimal
      requests + ThreadPoolExecutor(10) script making the same 200 calls        target <= 1.15x
  B2. the same run vs `xargs -P 10` running gradient_chat.py once per prompt   target <= 0.8x
  B3. peak memory (VmHWM / ru_maxrss of the child) for a 20,000-line input     target <= 100 MB

    python3 tests/bench/bench.py --only 6 [--batch-rounds N]

From bench.py: `record`, `interleave` and `med` are bench.py's own helpers; `server_factory()` returns a
started FakeGradient that this function may wrap with fake_batch.Throttle (give it a fresh one; the
caller stops it). B1/B2 take about a minute per round on 2 cores (xargs starts 200 processes).

Timings are medians of interleaved runs (A, B, A, B ...); everything talks to a loopback fake.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCRIPTS = ROOT / "scripts"
PY = sys.executable
sys.path.insert(0, str(ROOT / "tests"))
from fake_batch import Throttle  # noqa: E402
from fake_gradient import API_KEY, FakeGradient  # noqa: E402

PROMPTS = 200
LATENCY = 0.1
BIG = 20_000

FLOOR = """
import json, os, sys, requests
from concurrent.futures import ThreadPoolExecutor
from requests.adapters import HTTPAdapter
url = os.environ["GRADIENT_BASE_URL"] + "/chat/completions"
headers = {"Authorization": "Bearer " + os.environ["GRADIENT_API_KEY"]}
session = requests.Session()
session.mount("http://", HTTPAdapter(pool_maxsize=10))
lines = [json.loads(line) for line in open(sys.argv[1])]
def call(line):
    body = {"model": "openai-gpt-oss-120b", "messages": [{"role": "user", "content": line["prompt"]}]}
    r = session.post(url, json=body, headers=headers, timeout=120)
    r.raise_for_status()
    return {"id": line["id"], "content": r.json()["choices"][0]["message"]["content"]}
with ThreadPoolExecutor(10) as pool, open(sys.argv[2], "w") as out:
    for result in pool.map(call, lines):
        out.write(json.dumps(result) + "\\n")
"""

PEAK = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
if proc.returncode:
    sys.exit(proc.stderr.decode()[-300:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # KiB on Linux: the child's VmHWM
"""


def _env(server: FakeGradient, cache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIENT_", "MODEL_ACCESS"))}
    env.update(
        {
            "GRADIENT_API_KEY": API_KEY,
            "GRADIENT_BASE_URL": server.url,
            "GRADIENT_CACHE_DIR": cache,
            "GRADIENT_DATA_DIR": cache + "-history",  # never the user's history
            "NO_PROXY": "*",
            "no_proxy": "*",
        }
    )
    return env


def _timed(argv: list[str], env: dict[str, str], stdin_path: str | None = None, before=None) -> float:
    if before:
        before()
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    started = time.perf_counter()
    try:
        proc = subprocess.run(argv, env=env, stdin=stdin, capture_output=True, timeout=600)
    finally:
        if stdin_path:
            stdin.close()
    elapsed = (time.perf_counter() - started) * 1000
    if proc.returncode:
        raise RuntimeError(f"{argv[:4]} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-400:]}")
    return elapsed


def _write_input(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"q{i}", "prompt": f"classify item {i}: is it a fruit?"}) + "\n")


def run_batch_figures(
    record: Callable[..., Any],
    interleave: Callable[[list[Callable[[], float]], int], list[list[float]]],
    med: Callable[[list[float]], float],
    server_factory: Callable[[], FakeGradient],
    rounds: int = 3,
) -> None:
    server = server_factory()
    throttle = getattr(server, "throttle", None) or Throttle(server)
    server.throttle = throttle
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = _env(server, str(tmp / "cache"))
        src = tmp / "in.jsonl"
        _write_input(src, PROMPTS)
        (tmp / "prompts.txt").write_text(
            "".join(json.loads(line)["prompt"] + "\n" for line in src.read_text().splitlines())
        )
        out = tmp / "out.jsonl"

        def fresh() -> None:  # every run starts from nothing, so none resumes
            out.unlink(missing_ok=True)
            server.reset()

        ours = [PY, str(SCRIPTS / "gradient_batch.py"), "run", str(src), "--concurrency", "10", "--output", str(out)]
        floor = [PY, "-c", FLOOR, str(src), str(out)]
        xargs = ["xargs", "-d", "\n", "-P", "10", "-I", "{}", PY, str(SCRIPTS / "gradient_chat.py"), "--prompt", "{}"]

        throttle.reset(latency=LATENCY)
        print(f"\n[B1/B2] {PROMPTS} prompts at {LATENCY * 1000:.0f} ms latency, concurrency 10")
        t_ours, t_floor, t_xargs = interleave(
            [
                lambda: _timed(ours, env, before=fresh),
                lambda: _timed(floor, env, before=fresh),
                lambda: _timed(xargs, env, stdin_path=str(tmp / "prompts.txt"), before=fresh),
            ],
            rounds,
        )
        record("B1 batch run 200 @100ms vs requests+pool floor", med(t_ours), med(t_floor), 1.15)
        record("B2 batch run 200 @100ms vs xargs -P 10 gradient_chat", med(t_ours), med(t_xargs), 0.8)

        print(f"\n[B3] peak memory of a {BIG:,}-line run (no latency, concurrency 16)")
        throttle.reset(latency=0.0)
        big = tmp / "big.jsonl"
        _write_input(big, BIG)
        peaks = {}
        for name, path in (("200", src), (f"{BIG}", big)):
            fresh()
            argv = [PY, "-c", PEAK, PY, str(SCRIPTS / "gradient_batch.py"), "run", str(path)]
            proc = subprocess.run(
                [*argv, "--concurrency", "16", "--output", str(out)], env=env, capture_output=True, timeout=900
            )
            if proc.returncode:
                raise RuntimeError(proc.stderr.decode(errors="replace")[-400:])
            peaks[name] = int(proc.stdout.decode().split()[-1]) / 1024
        lines = sum(1 for _ in open(out, encoding="utf-8"))
        print(f"  peak MB: 200 lines {peaks['200']:.1f}, {BIG:,} lines {peaks[str(BIG)]:.1f}; {lines} result lines")
        record(
            "B3 batch run 20k lines peak memory (MB)",
            peaks[str(BIG)],
            None,
            100.0,
            unit="MB",
            note=f"200-line run peaks at {peaks['200']:.1f} MB",
        )
