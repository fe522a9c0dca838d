"""The Python API (`from gradient_inference import Client`), through real HTTP to the loopback fake API whose shapes
are tests/fake_gradient.py's (DigitalOcean's published spec): from a script run outside the checkout against the
installed package, and in-process for threads, asyncio and typed errors."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT
from fake_gradient import API_KEY, error_body
from history_db import rows

sys.path.insert(0, str(ROOT))
import gradient_inference as gi  # noqa: E402

OUTSIDE = """
import json, sys
import gradient_inference
from gradient_inference import Client, NotFoundError
client = Client(timeout=30)
loaded_early = sorted(m for m in ("bs4", "tabulate", "tqdm", "mcp") if m in sys.modules)
reply = client.chat("hello", max_tokens=300)
pieces = list(stream := client.stream("one two"))
models = client.models()
vectors = client.embed(["a", "b"])
images = client.image("a red square")
saved = images[0].save("square.png")
try:
    images[0].save("square.png")
    clobbered = True
except gradient_inference.GradientError as err:
    clobbered = err.kind
try:
    client.chat("x", model="no-such-model")
except NotFoundError as err:
    missing = [err.status_code, err.request_id is not None, type(err).__mro__[1].__name__]
print(json.dumps({
    "file": gradient_inference.__file__,
    "loaded_early": loaded_early,
    "text": reply.text, "model": reply.model, "id": reply.id, "finish": reply.finish_reason,
    "in": reply.usage.input_tokens, "out": reply.usage.output_tokens, "usd": reply.cost.usd,
    "conversation": reply.conversation_id, "dict": reply.to_dict(),
    "pieces": pieces, "streamed": stream.reply.text,
    "models": [m.id for m in models], "dims": [len(v) for v in vectors.vectors], "embed_usd": vectors.cost.usd,
    "image_bytes": len(images[0].data), "saved": saved, "clobbered": clobbered, "missing": missing,
    "usage": client.usage(by="command"),
}))
"""


def outside_env(server, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIENT_", "MODEL_ACCESS", "PYTHONPATH"))}
    env.update(GRADIENT_API_KEY=API_KEY, GRADIENT_BASE_URL=server.url, NO_PROXY="*")
    env.update(GRADIENT_DATA_DIR=str(tmp_path / "data"), GRADIENT_CACHE_DIR=str(tmp_path / "cache"))
    return env


def test_the_installed_package_from_a_script_outside_the_checkout(server, files_host, tmp_path, run):
    env = outside_env(server, tmp_path)
    found = subprocess.run([sys.executable, "-c", "import gradient_inference"], cwd=tmp_path, env=env)
    if found.returncode != 0:
        pytest.skip("the package is not installed in this environment (CI installs it with pip install '.[test]')")
    proc = subprocess.run([sys.executable, "-c", OUTSIDE], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr  # the library prints nothing
    out = json.loads(proc.stdout)
    assert not Path(out["file"]).is_relative_to(tmp_path)
    assert out["loaded_early"] == []  # import and Client() loaded no bs4, tabulate, tqdm or mcp
    assert out["text"] == "echo: hello" and out["model"] == "openai-gpt-oss-120b" and out["finish"] == "stop"
    assert (out["in"], out["out"]) == (12, 5) and out["usd"] > 0 and out["conversation"].startswith("c_")
    assert out["pieces"] == ["echo:", " one", " two"] and out["streamed"] == "echo: one two"
    assert "openai-gpt-oss-120b" in out["models"] and out["dims"] == [8, 8] and out["embed_usd"] > 0
    assert out["image_bytes"] > 0 and (tmp_path / "square.png").read_bytes()[:4] == b"\x89PNG"
    assert out["clobbered"] == "file_exists"  # save() never replaces a file
    assert out["missing"] == [404, True, "APIStatusError"]
    # to_dict() is exactly what gradient-chat --json prints: the same keys, the same values but the ids
    cli = run("chat", "--prompt", "hello", "--max-tokens", "300", "--json").json()
    assert set(out["dict"]) == set(cli)
    volatile = {"id", "conversation_id"}
    assert {k: v for k, v in out["dict"].items() if k not in volatile} == {
        k: v for k, v in cli.items() if k not in volatile
    }
    by_command = {row["key"]: row["calls"] for row in out["usage"]["rows"]}
    assert by_command["python"] == len(rows(tmp_path / "data", "command = 'python'")) >= 6


@pytest.fixture
def client(server, files_host, data_dir, cache_dir):
    with gi.Client(API_KEY, base_url=server.url, data_dir=data_dir, cache_dir=cache_dir, max_retries=0) as made:
        yield made


@pytest.mark.parametrize(
    "status, kind",
    [
        (401, gi.AuthenticationError),
        (403, gi.PermissionDeniedError),
        (404, gi.NotFoundError),
        (429, gi.RateLimitError),
        (500, gi.InternalServerError),
        (503, gi.InternalServerError),
        (422, gi.APIStatusError),
    ],
)
def test_http_errors_are_typed_with_status_request_id_and_body(client, server, status, kind):
    server.queue("/v1/chat/completions", {"status": status, "json": error_body("nope", "x"), "headers": {}})
    with pytest.raises(kind) as caught:
        client.chat("hi")
    err = caught.value
    assert isinstance(err, gi.APIStatusError) and isinstance(err, gi.GradientError)
    assert err.status_code == status and err.body["error"]["message"] == "nope"
    assert "nope" in str(err) and API_KEY not in str(err)


def test_connection_and_timeout_errors_are_typed(data_dir, server):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = gi.Client(API_KEY, base_url=f"http://127.0.0.1:{port}/v1", data_dir=data_dir, max_retries=0)
    with pytest.raises(gi.APIConnectionError) as caught:
        refused.chat("hi")
    assert not isinstance(caught.value, gi.APITimeoutError)
    server.queue("/v1/chat/completions", {"stall": 1.5, "json": {}})
    slow = gi.Client(API_KEY, base_url=server.url, data_dir=data_dir, max_retries=0, timeout=0.3)
    with pytest.raises(gi.APITimeoutError):
        slow.chat("hi")


def test_bad_arguments_are_value_errors_before_anything_is_sent(client, server):
    for bad in (
        lambda: client.chat("hi", temperature=5),
        lambda: client.chat("hi", max_tokens=0),
        lambda: client.chat("hi", api="nope"),
        lambda: client.chat("hi", top_k=3),  # Messages only
        lambda: client.chat("hi", web_search=True, api="messages"),
        lambda: client.chat("hi", nonsense=1),
        lambda: client.chat(),
        lambda: client.embed([]),
        lambda: client.embed(["ok", " "]),
        lambda: client.image("x", n=11),
        lambda: client.image("x", size="12x12"),
        lambda: client.usage(since="soon"),
    ):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(ValueError):
        gi.Client(API_KEY, budget="junk")
    with pytest.raises(ValueError):
        gi.Client("key\nwith a newline")
    assert server.requests == []


def test_a_spent_budget_raises_and_sends_nothing(server, data_dir, cache_dir):
    client = gi.Client(API_KEY, base_url=server.url, data_dir=data_dir, cache_dir=cache_dir, budget="0.000001/day")
    client.chat("first")  # 12 in, 5 out: past a millionth of a dollar
    sent = len(server.requests)
    with pytest.raises(gi.BudgetExceededError):
        client.chat("second")
    assert len(server.requests) == sent
    with pytest.raises(ValueError) as unknown:  # a budget cannot bound a price it does not know
        client.chat("x", model="llama3.3-70b-no-price")
    assert unknown.value.kind == "unknown_price" and len(server.requests) == sent


def test_sixteen_threads_share_one_client_for_64_calls(client, server, data_dir):
    calls = [("chat", "/chat/completions"), ("models", "/models"), ("embed", "/embeddings")]
    jobs = [calls[i % 3] for i in range(64)]
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        for number in range(worker, 64, 16):
            name = jobs[number][0]
            try:
                if name == "chat":
                    assert client.chat(f"call {number}").text == f"echo: call {number}"
                elif name == "models":
                    assert client.models()
                else:
                    assert len(client.embed([f"text {number}"]).vectors) == 1
            except BaseException as exc:  # noqa: BLE001  (reported below)
                with lock:
                    errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    found = rows(data_dir)
    assert len(found) == 64 and {r["command"] for r in found} == {"python"} and all(r["ok"] == 1 for r in found)
    assert sorted(r["endpoint"] for r in found) == sorted(endpoint for _, endpoint in jobs)
    prompts = {r["prompt"] for r in found if r["endpoint"] == "/chat/completions"}
    assert prompts == {f"call {n}" for n, (name, _) in enumerate(jobs) if name == "chat"}


def test_async_client_gathers_calls_at_once_and_streams(server, data_dir, cache_dir):
    server.latency = 0.2

    async def main() -> tuple[float, float, list[str], str]:
        async with gi.AsyncClient(API_KEY, base_url=server.url, data_dir=data_dir, cache_dir=cache_dir) as client:
            began = time.monotonic()
            await client.chat("warm")
            one = time.monotonic() - began
            began = time.monotonic()
            replies = await asyncio.gather(*(client.chat(f"q{i}") for i in range(64)))
            many = time.monotonic() - began
            assert [r.text for r in replies] == [f"echo: q{i}" for i in range(64)]
            stream = client.stream("a b")
            pieces = [piece async for piece in stream]
            return one, many, pieces, stream.reply.text

    one, many, pieces, whole = asyncio.run(main())
    assert pieces == ["echo:", " a", " b"] and whole == "echo: a b"
    assert many < 8 * one, (one, many)  # 64 at once, not one after another (the bench holds the 2.5x figure)
    assert len(rows(data_dir, "command = 'python'")) == 66
