#!/usr/bin/env python3
"""Performance benchmark for the gradient_* scripts, each figure as a ratio to a floor measured in the same run.

    python3 tests/bench/bench.py [--rounds N] [--no-llm] [--only 1,3]

Figures (medians of interleaved runs A, B, A, B, ...; start-up figures in two modes: bytecode cached, and
PYTHONDONTWRITEBYTECODE=1 on a copy of scripts/ and the package with no __pycache__):
  1. `--help` of every command vs a bare argparse parser with the same flags and help texts   <= 1.1x
  2. one chat call vs a bare `requests.post` one-liner                                         <= 1.1x
     (and, for scale, vs the `llm` CLI on the same loopback server                             <= 0.25x)
  3. cached `gradient_pricing.py --json` vs argparse + json reading the same cache file        <= 1.15x
  4. live `gradient_pricing.py --no-cache --json` of a 245 KB page vs requests.get + html.parser <= 1.0x
  5. streaming: per-chunk delay from server write to client stdout, 100 ms apart               <= 5 ms
  6. gradient-batch run (figures from tests/bench/batch_figures.py)
  7. gradient-batch at a million lines: resume vs floor, submit memory (the slowest figure)
  8. the local history: chat and batch run with it on vs off, gradient-logs search and listing over 100,000
     calls (figures from tests/bench/history_figures.py)
  9. one chat call with a budget (GRADIENT_BUDGET, spend read from the history) vs the same call without <= 1.03x
  10. a chat tool call to a running gradient-mcp vs a gradient-chat subprocess (tests/bench/mcp_figure.py) <= 0.5x
  11. client.chat (the Python API, history on) vs a bare requests.Session().post at 20 ms latency     <= 1.10x
  12. 64 AsyncClient.chat calls gathered vs one call at 200 ms latency (tests/bench/client_figures.py)  <= 2.5x
  13. gradient-compare -c 16, 3 models x 50 prompts at 100 ms vs a bare thread pool (compare_figure.py)  <= 1.15x

The floors of figures 1 and 3 are generated from each script's own parser, so they follow every flag.
Everything runs against loopback servers started here (tests/fake_gradient.py and a small SSE server).
Results are printed as a table and written to tests/bench/last_results.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCRIPTS = ROOT / "scripts"
RESULTS_FILE = HERE / "last_results.json"
# what a run without --only measures
ALL_FIGURES = tuple(str(n) for n in range(1, 14))
PY = sys.executable
LLM_VENV = Path(os.environ.get("BENCH_LLM_VENV", "/tmp/llm-venv"))
HEAVY = ("requests", "bs4", "tabulate", "urllib3", "lxml")

sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))
from fake_gradient import API_KEY, FakeGradient  # noqa: E402

results: list[dict[str, Any]] = []


# ---------------------------------------------------------------- timing helpers


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIENT_", "MODEL_ACCESS", "LLM_", "OPENAI_"))}
    env.update({"NO_PROXY": "*", "no_proxy": "*", "PYTHONIOENCODING": "utf-8"})
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's scripts get cached bytecode; so do ours here
    env.pop("PYTHONUNBUFFERED", None)
    env.update(extra)
    return env


def timed_run(argv: list[str], env: dict[str, str], check: bool = True) -> float:
    """Wall time in ms of one subprocess run, stdout/stderr discarded (but checked on failure)."""
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    elapsed = (time.perf_counter() - start) * 1000
    if check and proc.returncode != 0:
        raise RuntimeError(f"{argv[1:]} exited {proc.returncode}: {proc.stderr.decode(errors='replace')[-500:]}")
    return elapsed


def interleave(fns: list[Callable[[], float]], rounds: int, warmup: int = 1) -> list[list[float]]:
    """Run fns round-robin (A, B, A, B ...), rotating who goes first; per-fn lists of ms."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for r in range(rounds):
        order = list(range(len(fns)))
        if r % 2:
            order.reverse()
        for i in order:
            times[i].append(fns[i]())
    return times


def med(values: list[float]) -> float:
    return statistics.median(values)


def record(
    figure: str,
    ours: float | None,
    baseline: float | None,
    target: float | None,
    unit: str = "ratio",
    note: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """unit 'ratio': pass when ours/baseline <= target (the baseline is the floor, where one exists);
    any other unit ('ms', 'MB'): pass when ours <= target."""
    ratio = ours / baseline if ours is not None and baseline else None
    if ours is None:
        status = "SKIP"
    elif unit == "ratio":
        status = "PASS" if ratio is not None and ratio <= target else "MISS"
    else:
        status = "PASS" if ours <= target else "MISS"
    row = {
        "figure": figure,
        "ours_ms": ours,
        "baseline_ms": baseline,
        "ratio": ratio,
        "target": target,
        "target_unit": unit,
        "status": status,
        "note": note,
        **extra,
    }
    results.append(row)
    shown = f"{ratio:.2f}x" if ratio is not None else "-"
    unit_s = "ms" if unit == "ratio" else unit
    ours_s = f"{ours:.1f} {unit_s}" if ours is not None else "-"
    base_s = f"{baseline:.1f} {unit_s}" if baseline is not None else "-"
    print(f"  -> {figure}: ours {ours_s}, baseline {base_s}, ratio {shown}, {status}" + (f" ({note})" if note else ""))
    return row


def importtime(argv: list[str], env: dict[str, str]) -> list[tuple[int, int, str]]:
    """(self_us, cumulative_us, name) for every module imported by `python -X importtime argv...`."""
    proc = subprocess.run(
        [PY, "-X", "importtime", *argv], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120
    )
    rows = []
    for line in proc.stderr.decode(errors="replace").splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), m.group(3)[1:] + m.group(4)))
    return rows


def heavy_imports(rows: list[tuple[int, int, str]]) -> list[str]:
    return sorted({name.strip().split(".")[0] for _, _, name in rows if name.strip().split(".")[0] in HEAVY})


def top_imports(rows: list[tuple[int, int, str]], n: int = 12) -> list[str]:
    """The most expensive top-level (and first-level nested) imports, as importtime lines."""
    shallow = [r for r in rows if len(r[2]) - len(r[2].lstrip()) <= 2]
    shallow.sort(key=lambda r: -r[1])
    return [f"import time: {s:>8} | {c:>8} | {name}" for s, c, name in shallow[:n]]


# ---------------------------------------------------------------- start-up floors and modes


def commands() -> list[str]:
    """Every command (scripts/gradient_NAME.py launches gradient_inference/commands/NAME.py), by name."""
    return [path.stem.removeprefix("gradient_") for path in sorted(SCRIPTS.glob("gradient_*.py"))]


def parser_source(name: str) -> str:
    """Python source that builds a bare argparse parser with the same flags and help texts as the script's.

    Generated from the script's own parser, so the floor follows every change of flags."""
    sys.path.insert(0, str(ROOT))
    module = importlib.import_module(f"gradient_inference.commands.{name}")
    lines = ["import argparse"]

    def emit(parser: argparse.ArgumentParser, var: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                sub = f"{var}_sub"
                lines.append(f"{sub} = {var}.add_subparsers(dest={action.dest!r})")
                helps = {a.dest: a.help for a in action._choices_actions}
                for i, (cmd, child) in enumerate(action.choices.items()):
                    child_var = f"{var}_{i}"
                    lines.append(
                        f"{child_var} = {sub}.add_parser({cmd!r}, help={helps.get(cmd)!r}, "
                        f"description={child.description!r})"
                    )
                    emit(child, child_var)
                continue
            kw: dict[str, Any] = {}
            for field in ("help", "metavar", "default", "nargs"):
                value = getattr(action, field)
                if value not in (None, False) and not (field == "nargs" and action.option_strings and value == 0):
                    kw[field] = value
            if action.choices is not None:
                kw["choices"] = list(action.choices)
            if isinstance(action, argparse._StoreTrueAction):
                kw = {"action": "store_true", "help": action.help}
            elif isinstance(action, argparse._AppendAction):
                kw["action"] = "append"
            names = ", ".join(map(repr, action.option_strings)) if action.option_strings else repr(action.dest)
            lines.append(f"{var}.add_argument({names}, " + ", ".join(f"{k}={v!r}" for k, v in kw.items()) + ")")

    parser = module.build_parser()
    lines.append(f"p = argparse.ArgumentParser(prog={parser.prog!r}, description={parser.description!r})")
    emit(parser, "p")
    return "\n".join(lines) + "\n"


def nobc_copy(tmp: Path) -> Path:
    """A copy of scripts/, the package and snapshots/ with no __pycache__, for the no-bytecode mode."""
    root = tmp / "nobc"
    if not root.exists():
        for folder in ("scripts", "gradient_inference", "snapshots"):
            shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root / "scripts"


def modes(tmp: Path, env: dict[str, str]) -> list[tuple[str, Path, dict[str, str]]]:
    """(label, scripts folder, env): bytecode cached as a user's checkout has it, and none at all."""
    return [("cached", SCRIPTS, env), ("no-bytecode", nobc_copy(tmp), {**env, "PYTHONDONTWRITEBYTECODE": "1"})]


def write_floor(tmp: Path, label: str, source: str) -> Path:
    path = tmp / f"floor_{label}.py"
    path.write_text(source, encoding="utf-8")
    return path


def measure_against_floor(
    figure: str, argv: list[str], floor_argv: list[str], env: dict[str, str], rounds: int, target: float, **extra: Any
) -> dict[str, Any]:
    """ours vs the floor, interleaved; `python -c pass` alongside for scale. The ratio judged is ours/floor."""
    ours, floor, bare = interleave(
        [lambda: timed_run(argv, env), lambda: timed_run(floor_argv, env), lambda: timed_run([PY, "-c", "pass"], env)],
        rounds,
    )
    rows = importtime(argv[1:], env)
    heavy = heavy_imports(rows)
    row = record(figure, med(ours), med(floor), target, heavy_imported=heavy, python_c_pass_ms=med(bare), **extra)
    if row["status"] == "MISS":
        row["top_imports"] = top_imports(rows)
        print("  most expensive imports (us):")
        print("\n".join("    " + line for line in row["top_imports"]))
    return row


# ---------------------------------------------------------------- figure 1: --help of every command


def figure_help(rounds: int, env: dict[str, str], tmp: Path) -> None:
    print("\n[1] --help of every command vs a bare argparse parser with the same flags and help texts")
    for name in commands():
        floor = write_floor(tmp, f"help_{name}", parser_source(name) + "p.print_help()\n")
        for label, scripts, menv in modes(tmp, env):
            argv = [PY, str(scripts / f"gradient_{name}.py"), "--help"]
            measure_against_floor(f"1 {name} --help ({label})", argv, [PY, str(floor)], menv, rounds, 1.1)


# ---------------------------------------------------------------- figure 2: one chat call


BARE_CLIENT = """
import json, os, requests
r = requests.post(os.environ["GRADIENT_BASE_URL"] + "/chat/completions",
                  json={"model": "openai-gpt-oss-120b", "messages": [{"role": "user", "content": "hi"}]},
                  headers={"Authorization": "Bearer " + os.environ["GRADIENT_API_KEY"]}, timeout=120)
r.raise_for_status()
print(r.json()["choices"][0]["message"]["content"])
"""


def ensure_llm() -> Path | None:
    exe = LLM_VENV / "bin" / "llm"
    if exe.exists():
        return exe
    print(f"  installing llm into {LLM_VENV} ...", flush=True)
    try:
        subprocess.run([PY, "-m", "venv", str(LLM_VENV)], check=True, capture_output=True, timeout=120)
        subprocess.run(
            [str(LLM_VENV / "bin" / "pip"), "install", "-q", "llm"], check=True, capture_output=True, timeout=600
        )
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"  could not install llm: {exc}")
        return None
    return exe if exe.exists() else None


def figure_chat(rounds: int, server: FakeGradient, env: dict[str, str], use_llm: bool, tmp: Path) -> None:
    print("\n[2] one non-streaming chat call vs bare requests one-liner vs llm CLI")
    ours_argv = [PY, str(SCRIPTS / "gradient_chat.py"), "--prompt", "hi"]
    bare_argv = [PY, "-c", BARE_CLIENT]
    fns = [lambda: timed_run(ours_argv, env), lambda: timed_run(bare_argv, env)]
    llm_exe = ensure_llm() if use_llm else None
    if llm_exe:
        user_path = tmp / "llm-user"
        user_path.mkdir(exist_ok=True)
        (user_path / "extra-openai-models.yaml").write_text(
            "- model_id: gradient-oss\n"
            "  model_name: openai-gpt-oss-120b\n"
            f'  api_base: "{server.url}"\n'
            "  api_key_name: gradient\n",
            encoding="utf-8",
        )
        llm_env = clean_env(LLM_USER_PATH=str(user_path))
        subprocess.run(
            [str(llm_exe), "keys", "set", "gradient", "--value", API_KEY],
            env=llm_env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        llm_argv = [str(llm_exe), "-m", "gradient-oss", "--no-stream", "-n", "hi"]
        probe = subprocess.run(llm_argv, env=llm_env, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        if probe.returncode != 0 or b"echo: hi" not in probe.stdout:
            print(f"  llm probe failed ({probe.returncode}): {probe.stderr.decode(errors='replace')[-300:]}")
            llm_exe = None
        else:
            fns.append(lambda: timed_run(llm_argv, llm_env))
    probe = subprocess.run(ours_argv, env=env, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    if probe.returncode != 0 or b"echo: hi" not in probe.stdout:
        raise RuntimeError(f"gradient_chat.py probe failed: {probe.stderr.decode(errors='replace')}")
    times = interleave(fns, rounds)
    ours, bare = med(times[0]), med(times[1])
    rows = importtime(ours_argv[1:], env)
    bare_rows = importtime(bare_argv[1:], env)
    row = record("2a chat call vs bare requests", ours, bare, 1.1)
    if row["status"] == "MISS":
        row["top_imports"] = top_imports(rows)
        row["bare_top_imports"] = top_imports(bare_rows, 6)
        print("  most expensive imports of gradient_chat.py (us):")
        print("\n".join("    " + line for line in row["top_imports"]))
        print("  ... and of the bare one-liner:")
        print("\n".join("    " + line for line in row["bare_top_imports"]))
    if llm_exe:
        record("2b chat call vs llm CLI", ours, med(times[2]), 0.25)
    else:
        print("  llm CLI not available: figure 2b skipped")
        record("2b chat call vs llm CLI", None, None, 0.25, note="llm not installed/usable")


# ---------------------------------------------------------------- figure 4 page (also served for figure 3)


PROVIDERS: dict[str, list[tuple[str, float, float]]] = {
    "OpenAI": [
        ("gpt-oss-120b", 0.10, 0.70),
        ("gpt-oss-20b", 0.05, 0.45),
        ("GPT-4o", 2.50, 10.00),
        ("GPT-4o mini", 0.15, 0.60),
        ("GPT-4.1", 2.00, 8.00),
        ("GPT-5", 1.25, 10.00),
        ("GPT-5 mini", 0.25, 2.00),
        ("GPT-5 nano", 0.05, 0.40),
        ("o3", 2.00, 8.00),
        ("o3-mini", 1.10, 4.40),
    ],
    "Anthropic": [
        ("Claude Sonnet 4", 3.00, 15.00),
        ("Claude Sonnet 4.5", 3.00, 15.00),
        ("Claude Opus 4", 15.00, 75.00),
        ("Claude Opus 4.1", 15.00, 75.00),
        ("Claude Haiku 4.5", 1.00, 5.00),
        ("Claude 3.7 Sonnet", 3.00, 15.00),
        ("Claude 3.5 Haiku", 0.80, 4.00),
    ],
    "Meta": [
        ("Llama 3.3 Instruct-70B", 0.65, 0.65),
        ("Llama 3.1 Instruct-8B", 0.198, 0.198),
        ("Llama 4 Maverick 17B 128E", 0.27, 0.85),
        ("Llama 4 Scout 17B 16E", 0.18, 0.59),
    ],
    "Mistral": [("Mistral NeMo", 0.30, 0.30), ("Mistral Small 3.1", 0.10, 0.30), ("Mistral Large 2", 2.00, 6.00)],
    "DeepSeek": [
        ("DeepSeek R1 Distill Llama 70B", 0.99, 0.99),
        ("DeepSeek V3.1", 0.27, 1.10),
        ("DeepSeek R1", 0.55, 2.19),
    ],
    "Alibaba": [("Qwen3 32B", 0.25, 0.55), ("Qwen3 Coder 480B", 0.40, 1.60), ("Qwen 2.5 72B Instruct", 0.35, 0.40)],
    "Google": [("Gemma 3 27B", 0.10, 0.20), ("Gemini 2.5 Flash", 0.30, 2.50)],
    "NVIDIA": [("Nemotron Nano 9B v2", 0.04, 0.16)],
}


def docs_page(target_bytes: int = 300_000) -> str:
    """A DigitalOcean-docs-like pricing page: header, a big nav sidebar, scripts, provider tabs, footer."""
    head = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Gradient AI Platform Pricing | DigitalOcean Documentation</title>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        *(f"<link rel='stylesheet' href='/_next/static/css/{i:04x}.css'>" for i in range(12)),
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
        + "gtag('js',new Date());" * 40
        + "</script>",
        "<style>"
        + "".join(f".c{i}{{margin:{i % 9}px;padding:{i % 7}px;color:#{i * 2731 % 0xFFFFFF:06x}}}" for i in range(600))
        + "</style>",
        "</head><body class='docs'>",
        "<header class='site-header'><nav class='top-nav'><a class='logo' href='/'>DigitalOcean</a><ul>",
        *(
            f"<li class='top-item'><a href='/products/{p}/'>{p.title()}</a></li>"
            for p in (
                "droplets",
                "kubernetes",
                "app-platform",
                "functions",
                "databases",
                "spaces",
                "volumes",
                "networking",
                "monitoring",
                "gradient-ai-platform",
                "marketplace",
                "billing",
            )
        ),
        "</ul><form class='search' action='/search'><input type='search' name='q' placeholder='Search docs'>"
        "</form></nav></header>",
    ]
    sidebar = ["<aside class='sidebar'><nav aria-label='Product navigation'><ul class='nav-tree'>"]
    sections = ["getting-started", "how-to", "concepts", "reference", "details", "support", "release-notes"]
    for i in range(900):
        sec = sections[i % len(sections)]
        sidebar.append(
            f"<li class='nav-item level-{i % 3}'><a class='nav-link' href='/products/gradient-ai-platform/{sec}/"
            f"topic-{i}/' data-track='sidebar-{i}'>Topic {i}: {sec.replace('-', ' ').title()} guide</a></li>"
        )
        if i % 40 == 39:
            sidebar.append("</ul><ul class='nav-tree'>")
    sidebar.append("</ul></nav></aside>")
    body = [
        "<main class='content'><article><nav class='breadcrumb'><a href='/'>Docs</a> / "
        "<a href='/products/gradient-ai-platform/'>Gradient AI Platform</a> / Details</nav>",
        "<h1 id='pricing'>Gradient AI Platform Pricing</h1>",
        "<p>Serverless inference is billed per token. Prices are in USD per 1M tokens.</p>",
        "<h2 id='foundation-models'>Foundation Models</h2><div class='tabs'>",
    ]
    for n, (provider, models) in enumerate(PROVIDERS.items()):
        tab_id = f"tab-{provider.lower()}"
        checked = " checked" if n == 0 else ""
        body.append(f"<input type='radio' name='model-tabs' id='{tab_id}' class='tab-input'{checked}>")
        body.append(f"<label for='{tab_id}' class='tab-label'>{provider}</label>")
        body.append(
            "<div class='tab-content'><table><thead><tr><th>Model</th><th>Serverless inference</th>"
            "<th>Agents</th></tr></thead><tbody>"
        )
        for name, inp, out in models:
            body.append(
                f'<tr><td><a href="#">{name}</a></td><td>${inp:.2f} per 1M input tokens<br>'
                f"${out:.2f} per 1M output tokens</td><td>Same</td></tr>"
            )
        body.append("</tbody></table></div>")
    body.append(
        "</div><h2 id='other'>Other charges</h2><p>Knowledge base indexing and storage are billed "
        "separately.</p></article></main>"
    )
    footer = [
        "<footer class='site-footer'><div class='cols'>",
        *(
            f"<div class='col'><h4>Group {g}</h4><ul>"
            + "".join(f"<li><a href='/footer/{g}/{j}'>Footer link {g}.{j}</a></li>" for j in range(15))
            + "</ul></div>"
            for g in range(8)
        ),
        "</div><p>&copy; DigitalOcean, LLC.</p></footer>",
        "<script src='/_next/static/chunks/main.js' defer></script>",
    ]
    page = "\n".join(head + sidebar + body + footer)
    fill: list[str] = []
    size = len(page.encode())
    i = 0
    while size < target_bytes:  # pad with more scripts and hidden prose, like a real build
        chunk = (
            f"<script type='application/json' id='__data{i}'>"
            + json.dumps({"props": {"page": i, "links": [f"/products/x/{i}/{k}" for k in range(40)]}})
            + "</script>\n<div class='hidden-prose' hidden><p>"
            + " ".join(f"Paragraph {i} word {k} about droplets and tokens." for k in range(20))
            + "</p></div>\n"
        )
        fill.append(chunk)
        size += len(chunk.encode())
        i += 1
    return page.replace("<footer", "".join(fill) + "<footer", 1)


# ---------------------------------------------------------------- figure 3 and 4: pricing


def make_cache(server: FakeGradient, page: str, env: dict[str, str], tmp: Path) -> Path:
    """A fresh price cache written by the script itself from the bench page."""
    cache = tmp / "pricing-cache"
    penv = {**env, "GRADIENT_CACHE_DIR": str(cache)}
    serve_pricing(server, page, "/docs/cache-source/", times=4)
    url = server.root + "/docs/cache-source/"
    proc = subprocess.run(
        [PY, str(SCRIPTS / "gradient_pricing.py"), "--json", "--no-cache", "--pricing-url", url],
        env=penv,
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0 or not (cache / "pricing.json").exists():
        raise RuntimeError(f"could not fill the price cache: {proc.stderr.decode(errors='replace')[-300:]}")
    return cache


def serve_pricing(server: FakeGradient, page: str, path: str, times: int, markdown: str | None = None) -> None:
    """The HTML page at path; its markdown rendition (path + index.html.md) only when given, else a 404."""
    for _ in range(times):
        server.queue(path, {"body": page, "content_type": "text/html; charset=utf-8"})
        md = {"body": markdown, "content_type": "text/markdown; charset=utf-8"} if markdown else {"status": 404}
        server.queue(path + "index.html.md", md)


CACHED_FLOOR = """
a = p.parse_args(["--json", "--model", "gpt-oss"])
import json, os
rows = json.load(open(os.path.join(os.environ["GRADIENT_CACHE_DIR"], "pricing.json")))["models"]
hits = [r for r in rows if a.model in r["model"].lower()]
print(json.dumps({"source": "cache", "models": hits}, indent=2))
"""


def figure_cached_pricing(rounds: int, server: FakeGradient, page: str, env: dict[str, str], tmp: Path) -> None:
    print("\n[3] cached gradient_pricing.py --json vs argparse + json reading the same cache file")
    cache = make_cache(server, page, env, tmp)
    floor = write_floor(tmp, "cached_pricing", parser_source("pricing") + CACHED_FLOOR)
    for label, scripts, menv in modes(tmp, env):
        penv = {**menv, "GRADIENT_CACHE_DIR": str(cache)}
        argv = [PY, str(scripts / "gradient_pricing.py"), "--json", "--model", "gpt-oss"]
        probe = subprocess.run(argv, env=penv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        if b'"source": "cache"' not in probe.stdout:
            raise RuntimeError(f"the cached lookup did not read the cache: {probe.stderr.decode(errors='replace')}")
        measure_against_floor(f"3 pricing --json, cached ({label})", argv, [PY, str(floor)], penv, rounds, 1.15)


NAIVE_LIVE = """
import json, sys, requests
from bs4 import BeautifulSoup
html = requests.get(sys.argv[1], timeout=30).text
soup = BeautifulSoup(html, "html.parser")
rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in soup.find_all("tr")]
print(json.dumps([r for r in rows if r], indent=2))
"""


def markdown_rendition() -> str:
    """The tables of docs_page() as the docs' markdown rendition would carry them."""
    parts = ["# Gradient AI Platform Pricing", ""]
    for provider, models in PROVIDERS.items():
        parts += [f"## {provider}", "", "| Model | Input | Output |", "| --- | --- | --- |"]
        parts += [f"| {name} | ${inp:.2f} per 1M tokens | ${out:.2f} per 1M tokens |" for name, inp, out in models]
        parts.append("")
    return "\n".join(parts)


def figure_live_pricing(rounds: int, server: FakeGradient, page: str, env: dict[str, str], tmp: Path) -> None:
    kb = len(page.encode()) / 1000
    print(f"\n[4] live gradient_pricing.py --no-cache --json of a {kb:.0f} KB page vs requests.get + html.parser")
    naive = write_floor(tmp, "naive_live", NAIVE_LIVE)
    variants = [("4a", "markdown rendition served", markdown_rendition()), ("4b", "HTML page only", None)]
    for figure, what, markdown in variants:
        path = f"/docs/live-{figure}/"
        url = server.root + path
        serve_pricing(server, page, path, times=3 * (rounds + 3), markdown=markdown)
        penv = {**env, "GRADIENT_CACHE_DIR": str(tmp / f"live-cache-{figure}")}
        argv = [PY, str(SCRIPTS / "gradient_pricing.py"), "--no-cache", "--json", "--pricing-url", url]
        probe = subprocess.run(argv, env=penv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        found = probe.stdout.count(b'"model":')
        if probe.returncode != 0 or b'"source": "live"' not in probe.stdout:
            raise RuntimeError(f"the live lookup failed: {probe.stderr.decode(errors='replace')[-300:]}")
        print(f"  {what}: our script read {found} models live")
        naive_argv = [PY, str(naive), url]
        ours, base = interleave(
            [lambda a=argv, e=penv: timed_run(a, e), lambda a=naive_argv, e=penv: timed_run(a, e)], rounds
        )
        record(f"{figure} live pricing, {what}", med(ours), med(base), 1.0, models_found=found)


# ---------------------------------------------------------------- figure 5: streaming latency


class SSEServer:
    """A loopback /v1/chat/completions that writes one SSE chunk every `delay` s and records send times."""

    def __init__(self, chunks: int = 20, delay: float = 0.1) -> None:
        self.chunks, self.delay = chunks, delay
        self.sent: list[float] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                base = {
                    "id": "chatcmpl-bench",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": "openai-gpt-oss-120b",
                }
                outer.sent = []
                for i in range(outer.chunks):
                    payload = {
                        **base,
                        "choices": [{"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}],
                    }
                    self._chunk(f"data: {json.dumps(payload)}\n\n".encode(), record=True)
                    time.sleep(outer.delay)
                final = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                usage = {
                    **base,
                    "choices": [],
                    "usage": {"prompt_tokens": 5, "completion_tokens": outer.chunks, "total_tokens": 5 + outer.chunks},
                }
                self._chunk(f"data: {json.dumps(final)}\n\ndata: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
                self._chunk(b"")

            def _chunk(self, data: bytes, record: bool = False) -> None:
                frame = b"%x\r\n%s\r\n" % (len(data), data)
                if record:
                    outer.sent.append(time.monotonic())
                self.wfile.write(frame)  # one write per HTTP chunk (wfile is unbuffered)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


BARE_STREAM = """
import json, os, sys, requests
r = requests.post(os.environ["GRADIENT_BASE_URL"] + "/chat/completions", stream=True, timeout=120,
                  json={"model": "openai-gpt-oss-120b", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
                  headers={"Authorization": "Bearer " + os.environ["GRADIENT_API_KEY"]})
for line in r.iter_lines():
    if line.startswith(b"data: ") and line != b"data: [DONE]":
        for c in json.loads(line[6:])["choices"]:
            sys.stdout.write(c["delta"].get("content") or "")
            sys.stdout.flush()
"""


def stream_delays(argv: list[str], env: dict[str, str], sse: SSEServer) -> list[float]:
    """Per-chunk delay in ms: when tok<i> appeared on the child's stdout minus when the server wrote it."""
    proc = subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
    )
    fd = proc.stdout.fileno()
    buf, arrivals = b"", {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        data = os.read(fd, 65536)
        now = time.monotonic()
        if not data:
            break
        buf += data
        for m in re.finditer(rb"tok(\d+) ", buf):
            arrivals.setdefault(int(m.group(1)), now)
    proc.wait(timeout=30)
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode != 0 or len(arrivals) != sse.chunks:
        raise RuntimeError(f"stream run failed (exit {proc.returncode}, {len(arrivals)}/{sse.chunks} chunks): {err}")
    return [(arrivals[i] - sse.sent[i]) * 1000 for i in range(sse.chunks)]


def figure_stream(runs: int, env: dict[str, str]) -> None:
    print("\n[5] streaming: per-chunk delay, server write -> client stdout (chunks 100 ms apart)")
    sse = SSEServer(chunks=20, delay=0.1)
    try:
        senv = {**env, "GRADIENT_BASE_URL": sse.url}
        ours_argv = [PY, str(SCRIPTS / "gradient_chat.py"), "--stream", "--prompt", "hi"]
        bare_argv = [PY, "-c", BARE_STREAM]
        ours: list[float] = []
        bare: list[float] = []
        per_run: list[dict[str, float]] = []
        for _ in range(runs):  # interleaved: ours, bare, ours, bare ...
            d = stream_delays(ours_argv, senv, sse)
            ours += d
            per_run.append({"first_ms": d[0], "max_ms": max(d), "median_ms": med(d)})
            bare += stream_delays(bare_argv, senv, sse)
    finally:
        sse.stop()
    for r in per_run:
        print(f"  run: first chunk {r['first_ms']:.2f} ms, median {r['median_ms']:.2f} ms, max {r['max_ms']:.2f} ms")
    record(
        "5a stream max chunk delay",
        max(ours),
        max(bare),
        5.0,
        unit="ms",
        note="baseline = bare requests client",
        per_run=per_run,
    )
    record("5b stream median chunk delay", med(ours), med(bare), 5.0, unit="ms", note="baseline = bare requests client")


# ---------------------------------------------------------------- figure 6: gradient-batch run


def figure_batch(rounds: int) -> None:
    print("\n[6] gradient-batch run: 200 prompts at 100 ms latency, and memory on 20,000 lines")
    from batch_figures import run_batch_figures

    servers: list[FakeGradient] = []

    def fresh_server() -> FakeGradient:
        servers.append(FakeGradient().start())
        return servers[-1]

    try:
        run_batch_figures(record, interleave, med, fresh_server, rounds)
    finally:
        for server in servers:
            server.stop()


def figure_jobs(rounds: int) -> None:
    print("\n[7] gradient-batch at scale: a 1,000,000-line resume, and memory of a 120,000-line submit")
    from batch_figures import run_job_figures

    servers: list[FakeGradient] = []

    def fresh_server() -> FakeGradient:
        servers.append(FakeGradient().start())
        return servers[-1]

    try:
        run_job_figures(record, interleave, med, fresh_server, rounds)
    finally:
        for server in servers:
            server.stop()


def figure_history(rounds: int, batch_rounds: int, env: dict[str, str], tmp: Path) -> None:
    print("\n[8] the local history: recording on vs off, gradient-logs over 100,000 calls")
    from history_figures import run_history_figures

    run_history_figures(record, interleave, med, timed_run, modes(tmp, env), tmp, batch_rounds, rounds)


# ---------------------------------------------------------------- main


def figure_budget(rounds: int, env: dict[str, str], tmp: Path) -> None:
    print("\n[9] one chat call with a budget vs the same call without (both recording history)")
    data = tmp / "bench-data"
    plain = {**env, "GRADIENT_DATA_DIR": str(data)}
    budgeted = {**plain, "GRADIENT_BUDGET": "1000/day"}
    argv = [PY, str(SCRIPTS / "gradient_chat.py"), "--prompt", "hi"]
    for probe_env in (plain, budgeted):  # the first call makes the history file, so the budget reads real rows
        probe = subprocess.run(argv, env=probe_env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        if probe.returncode != 0:
            raise RuntimeError(f"chat probe failed: {probe.stderr.decode(errors='replace')}")
    times = interleave([lambda: timed_run(argv, budgeted), lambda: timed_run(argv, plain)], rounds)
    record("9 chat call with a budget vs without", med(times[0]), med(times[1]), 1.03)


def summary() -> None:
    print("\nSummary")
    headers = ["figure", "ours", "floor or baseline", "ratio", "target", "result"]
    rows = []
    for r in results:
        unit = "ms" if r["target_unit"] == "ratio" else r["target_unit"]
        target = f"<= {r['target']:g}x" if r["target_unit"] == "ratio" else f"<= {r['target']:g} {unit}"
        rows.append(
            [
                r["figure"],
                "-" if r["ours_ms"] is None else f"{r['ours_ms']:.1f} {unit}",
                "-" if r["baseline_ms"] is None else f"{r['baseline_ms']:.1f} {unit}",
                "-" if r["ratio"] is None else f"{r['ratio']:.2f}",
                target,
                r["status"],
            ]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20, help="interleaved rounds per subprocess figure (default 20)")
    ap.add_argument("--stream-runs", type=int, default=3, help="streaming runs per client (default 3)")
    ap.add_argument("--no-llm", action="store_true", help="skip the llm CLI comparison")
    ap.add_argument("--batch-rounds", type=int, default=3, help="interleaved rounds of the batch figures (default 3)")
    ap.add_argument("--only", help="comma-separated figure numbers to run, e.g. 1,4")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else set(ALL_FIGURES)
    started = time.monotonic()
    server = FakeGradient().start()
    print(f"bench: python {platform.python_version()} ({PY}), fake server {server.url}")
    page = docs_page(245_000)
    try:
        with tempfile.TemporaryDirectory(prefix="gradient-bench-") as tmpdir:
            tmp = Path(tmpdir)
            env = clean_env(
                GRADIENT_API_KEY=API_KEY,
                GRADIENT_BASE_URL=server.url,
                GRADIENT_CACHE_DIR=str(tmp / "cache"),
                GRADIENT_DATA_DIR=str(tmp / "data"),  # the history of every figure's calls: never the user's
            )
            if "1" in only:
                figure_help(args.rounds, env, tmp)
            if "2" in only:
                figure_chat(args.rounds, server, env, not args.no_llm, tmp)
            if "3" in only:
                figure_cached_pricing(args.rounds, server, page, env, tmp)
            if "4" in only:
                figure_live_pricing(args.rounds, server, page, env, tmp)
            if "5" in only:
                figure_stream(args.stream_runs, env)
            if "6" in only:
                figure_batch(args.batch_rounds)
            if "7" in only:  # the slowest (about 400 MB of files)
                figure_jobs(args.batch_rounds)
            if "8" in only:
                figure_history(args.rounds, args.batch_rounds, env, tmp)
            if "9" in only:
                figure_budget(args.rounds, env, tmp)
            if "10" in only:
                from mcp_figure import run_mcp_figure

                run_mcp_figure(record, interleave, med, env, args.rounds, timed_run)
            if "11" in only or "12" in only:
                from client_figures import run_client_figures

                run_client_figures(record, interleave, med, server, API_KEY, tmp)
            if "13" in only:
                from compare_figure import run_compare_figure

                run_compare_figure(record, interleave, med, server, env, tmp)
    finally:
        server.stop()
    summary()
    elapsed = time.monotonic() - started
    print(f"\nbench took {elapsed:.0f} s")
    if only != set(ALL_FIGURES):
        print(f"partial run (--only): {RESULTS_FILE.relative_to(ROOT)} left as it was")
        return 0 if all(r["status"] != "MISS" for r in results) else 1
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ""
    RESULTS_FILE.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "executable": PY,
                "platform": platform.platform(),
                "git": rev or None,
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "seconds": round(elapsed, 1),
                "rounds": args.rounds,
                "results": results,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"results written to {RESULTS_FILE.relative_to(ROOT)}")
    return 0 if all(r["status"] != "MISS" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
