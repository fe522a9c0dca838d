"""gradient_image.py with fal-ai/ models: an async-invoke job, polled, its files downloaded without the key.

The shapes are tests/fake_media.py's (see its docstring for where each comes from).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import fake_media
import pytest
from conftest import SCRIPTS
from fake_gradient import API_KEY, PNG_1PX

FAL = "fal-ai/flux/schnell"
SUBMIT = "/v1/async-invoke"


def api_calls(server, prefix: str = SUBMIT) -> list[dict]:
    return [r for r in server.requests if r["path"].startswith(prefix)]


def assert_keyless(files_host) -> None:
    """The file host saw no Authorization header and no trace of the key anywhere in its requests."""
    for request in files_host.requests:
        assert not any(name.lower() == "authorization" for name in request["headers"]), request
        assert API_KEY not in json.dumps({k: v for k, v in request.items() if k != "raw"})
        assert API_KEY.encode() not in request["raw"]


def test_n2_job_polled_through_each_status_then_both_files_saved(run, server, files_host, tmp_path):
    fake_media.plan(server, statuses=("QUEUED", "IN_PROGRESS", "COMPLETED"))
    started = time.monotonic()
    r = run("image", "--model", FAL, "--prompt", "a red fox", "--n", "2", "-o", "fox.png")
    took = time.monotonic() - started
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["fox-1.png", "fox-2.png"]
    assert r.err == "gradient-image: cost unknown: no price listed for fal-ai/flux/schnell\n"  # no progress
    assert (tmp_path / "fox-1.png").read_bytes() == PNG_1PX and (tmp_path / "fox-2.png").read_bytes() == PNG_1PX
    submit, *rest = api_calls(server)
    assert submit["method"] == "POST" and submit["path"] == SUBMIT
    assert submit["body"] == {"model_id": FAL, "input": {"prompt": "a red fox", "num_images": 2}}
    assert submit["headers"]["Authorization"] == f"Bearer {API_KEY}"
    [job] = fake_media.jobs(server)
    rid = job["request_id"]
    assert [(r["method"], r["path"]) for r in rest] == [("GET", f"{SUBMIT}/{rid}/status")] * 3 + [
        ("GET", f"{SUBMIT}/{rid}")
    ]
    assert job["polls"] == 3 and job["status"] == "COMPLETED"
    # backoff: waits of 0.5 s, 1 s, 2 s before the three polls (3.5 s), not a busy loop
    assert 3.4 < took < 8, took
    assert sorted(r["path"] for r in files_host.requests) == [f"/media/{rid}/0.png", f"/media/{rid}/1.png"]
    assert_keyless(files_host)


def test_json_adds_request_id_and_input_json_merges_model_fields(run, server, files_host):
    extra = '{"image_size": "square_hd", "num_inference_steps": 4, "seed": 7}'
    r = run("image", "--model", FAL, "--prompt", "owl", "-o", "owl.png", "--input-json", extra, "--json")
    assert r.code == 0, r.err
    [job] = fake_media.jobs(server)
    assert r.json() == {
        "model": FAL,
        "images": [{"path": "owl.png", "bytes": len(PNG_1PX), "format": "png", "revised_prompt": None}],
        "usage": None,
        "cost": None,
        "request_id": job["request_id"],
    }
    assert api_calls(server)[0]["body"]["input"] == {
        "prompt": "owl",
        "num_images": 1,
        "image_size": "square_hd",
        "num_inference_steps": 4,
        "seed": 7,
    }
    assert_keyless(files_host)


def test_default_name_from_prompt(run, server, files_host, tmp_path):
    r = run("image", "--model", "fal-ai/fast-sdxl", "--prompt", "Blue Whale")
    assert r.code == 0, r.err
    [name] = r.out.split()
    assert name.startswith("blue-whale-") and name.endswith(".png")
    assert (tmp_path / name).read_bytes() == PNG_1PX


def test_failed_job_exits_1_with_its_error_and_writes_nothing(run, server, files_host, tmp_path):
    fake_media.plan(server, statuses=("IN_PROGRESS", "FAILED"), error="NSFW content detected")
    r = run("image", "--model", FAL, "--prompt", "x", "-o", "x.png", "--json")
    assert r.code == 1
    [job] = fake_media.jobs(server)
    err = r.err_json()["error"]
    assert err["type"] == "job_failed" and "NSFW content detected" in err["message"]
    assert err["request_id"] == job["request_id"]
    assert list(tmp_path.iterdir()) == [] and files_host.requests == []


def test_job_outlasting_max_wait_exits_1_naming_the_request_id(run, server, files_host, tmp_path):
    fake_media.plan(server, statuses=("QUEUED", "IN_PROGRESS"))  # never finishes
    started = time.monotonic()
    r = run("image", "--model", FAL, "--prompt", "slow", "-o", "slow.png", "--max-wait", "1.2", "--json")
    took = time.monotonic() - started
    assert r.code == 1
    [job] = fake_media.jobs(server)
    err = r.err_json()["error"]
    assert err["type"] == "max_wait_exceeded" and err["request_id"] == job["request_id"]
    assert "--max-wait" in err["message"] and "IN_PROGRESS" in err["message"]
    assert f"/async-invoke/{job['request_id']}" in err["message"]  # where to fetch it later
    assert 1.2 < took < 4, took
    assert job["polls"] == 2  # at 0.5 s and at the 1.2 s deadline
    assert list(tmp_path.iterdir()) == [] and files_host.requests == []


def test_no_clobber_checked_before_the_job_is_submitted(run, server, files_host, tmp_path):
    (tmp_path / "cat-2.png").write_bytes(b"mine")
    r = run("image", "--model", FAL, "--prompt", "cat", "--n", "2", "-o", "cat.png")
    assert r.code == 2 and "cat-2.png already exists" in r.err and "--force" in r.err
    assert api_calls(server) == [] and (tmp_path / "cat-2.png").read_bytes() == b"mine"
    r = run("image", "--model", FAL, "--prompt", "cat", "--n", "2", "-o", "cat.png", "--force")
    assert r.code == 0, r.err
    assert (tmp_path / "cat-2.png").read_bytes() == PNG_1PX


def test_a_file_that_is_not_an_image_writes_nothing(run, server, files_host, tmp_path):
    fake_media.plan(server, file=(b"<html>login</html>", "image/png"))
    r = run("image", "--model", FAL, "--prompt", "x", "-o", "x.png")
    assert r.code == 1 and "not an image" in r.err
    assert list(tmp_path.iterdir()) == []
    assert_keyless(files_host)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--input-json", '{"num_images": 3}'], "--n"),
        (["--input-json", '{"prompt": "other"}'], "--prompt"),
        (["--input-json", "[1, 2]"], "JSON object"),
        (["--input-json", "{oops"], "not valid JSON"),
        (["--input-json", '{"num_inference_steps": 0}'], "num_inference_steps must be 1 or more"),
        (["--input-json", '{"guidance_scale": "high"}'], "guidance_scale must be a number"),
        (["--quality", "high"], "--quality does not apply"),
        (["--size", "512x512"], "--size does not apply"),
        (["--max-wait", "0"], "--max-wait"),
    ],
)
def test_usage_errors_exit_2_and_send_nothing(run, server, files_host, args, message):
    r = run("image", "--model", FAL, "--prompt", "x", "-o", "x.png", *args)
    assert r.code == 2 and message in r.err, r.err
    assert api_calls(server) == []


def test_input_json_refused_for_non_fal_models(run, server, files_host):
    r = run("image", "--prompt", "x", "--input-json", '{"seed": 1}')
    assert r.code == 2 and "fal-ai/" in r.err
    assert server.requests == []


def test_dry_run_prints_the_submit_and_sends_nothing(run, server, files_host, tmp_path):
    r = run("image", "--model", FAL, "--prompt", "x", "--dry-run")
    assert r.code == 0, r.err
    assert "/v1/async-invoke" in r.out and '"model_id": "fal-ai/flux/schnell"' in r.out and "$GRADIENT_API_KEY" in r.out
    assert server.requests == [] and list(tmp_path.iterdir()) == []


def test_a_job_completed_at_submit_is_not_polled(run, server, files_host, tmp_path):
    fake_media.plan(server, synchronous=True)
    r = run("image", "--model", FAL, "--prompt", "quick", "-o", "quick.png")
    assert r.code == 0, r.err
    assert [r["path"] for r in api_calls(server)] == [SUBMIT]
    assert (tmp_path / "quick.png").read_bytes() == PNG_1PX


def test_an_output_url_that_is_not_https_is_refused(run, server, files_host, tmp_path):
    fake_media.plan(server, output={"images": [{"url": "http://files.example.com/a.png", "content_type": "image/png"}]})
    r = run("image", "--model", FAL, "--prompt", "x", "-o", "x.png")
    assert r.code == 1 and "refusing to download" in r.err
    assert list(tmp_path.iterdir()) == []


def script_env(server) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIENT_", "MODEL_ACCESS"))}
    return {**env, "GRADIENT_API_KEY": API_KEY, "GRADIENT_BASE_URL": server.url, "NO_PROXY": "*"}


def test_progress_shows_on_a_terminal(server, files_host, tmp_path):
    import pty

    fake_media.plan(server, statuses=("IN_PROGRESS", "COMPLETED"))
    leader, follower = pty.openpty()
    command = [sys.executable, str(SCRIPTS / "gradient_image.py"), "--model", FAL, "--prompt", "x", "-o", "x.png"]
    proc = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=script_env(server),
        cwd=tmp_path,
        timeout=30,
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.returncode == 0
    [job] = fake_media.jobs(server)
    assert f"job {job['request_id']} IN_PROGRESS".encode() in seen
    assert API_KEY.encode() not in seen


def test_ctrl_c_while_waiting_exits_130_and_names_the_job(server, files_host, tmp_path):
    fake_media.plan(server, statuses=("IN_PROGRESS",))
    command = [sys.executable, str(SCRIPTS / "gradient_image.py"), "--model", FAL, "--prompt", "x", "-o", "x.png"]
    proc = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=script_env(server),
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 20
    while not any(r["path"].endswith("/status") for r in server.requests) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    [job] = fake_media.jobs(server)
    assert proc.returncode == 130
    assert job["request_id"] in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
