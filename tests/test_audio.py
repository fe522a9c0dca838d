"""gradient_audio.py: text-to-speech and text-to-audio through async-invoke, files checked by magic bytes.

The shapes are tests/fake_media.py's (see its docstring for where each comes from). Audio magic
numbers are gradient_media's (its docstring names the specs).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import fake_media
import pytest
from fake_gradient import API_KEY, PNG_1PX
from fake_media import MP3, WAV

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gradient_inference.media import formats as gradient_media  # noqa: E402

SUBMIT = "/v1/async-invoke"
SPEECH = "fal-ai/elevenlabs/tts/multilingual-v2"
AUDIO = "fal-ai/stable-audio-25/text-to-audio"


def submits(server) -> list[dict]:
    return [r for r in server.requests if r["path"] == SUBMIT]


def assert_keyless(files_host) -> None:
    assert files_host.requests, "expected a download"
    for request in files_host.requests:
        assert not any(name.lower() == "authorization" for name in request["headers"]), request
        assert API_KEY not in json.dumps({k: v for k, v in request.items() if k != "raw"})
        assert API_KEY.encode() not in request["raw"]


def test_speech_with_the_default_model_and_default_name(run, server, files_host, tmp_path):
    r = run("audio", "--text", "Hello there, friend", "--json")
    assert r.code == 0, r.err
    [submit] = submits(server)
    assert submit["body"] == {"model_id": SPEECH, "input": {"text": "Hello there, friend"}}
    [job] = fake_media.jobs(server)
    data = r.json()
    assert set(data) == {"model", "request_id", "path", "bytes", "content_type", "cost"}
    assert data["model"] == SPEECH and data["request_id"] == job["request_id"]
    assert data["content_type"] == "audio/mpeg" and data["bytes"] == len(MP3)
    assert data["path"].startswith("hello-there-friend-") and data["path"].endswith(".mp3")
    assert (tmp_path / data["path"]).read_bytes() == MP3  # `path` exactly as written
    assert_keyless(files_host)


def test_speech_voice_text_file_and_output(run, server, files_host, tmp_path):
    (tmp_path / "script.txt").write_text("Welcome aboard.\n", encoding="utf-8")
    r = run("audio", "--text-file", "script.txt", "--voice", "Rachel", "-o", "out/welcome.mp3")
    assert r.code == 0, r.err
    assert r.out == "out/welcome.mp3\n"
    assert submits(server)[0]["body"]["input"] == {"text": "Welcome aboard.", "voice": "Rachel"}
    assert (tmp_path / "out" / "welcome.mp3").read_bytes() == MP3


def test_speech_from_piped_stdin(run, server, files_host, tmp_path):
    r = run("audio", "-o", "piped.mp3", stdin="Read me aloud\n")
    assert r.code == 0, r.err
    assert submits(server)[0]["body"]["input"] == {"text": "Read me aloud"}


def test_text_to_audio_prompt_seconds_and_audio_file_output(run, server, files_host, tmp_path):
    fake_media.plan(server, statuses=("QUEUED", "IN_PROGRESS", "COMPLETED"))
    r = run("audio", "--prompt", "Techno loop, 128 BPM", "--seconds", "30", "--json")
    assert r.code == 0, r.err
    [submit] = submits(server)
    assert submit["body"] == {"model_id": AUDIO, "input": {"prompt": "Techno loop, 128 BPM", "seconds_total": 30}}
    data = r.json()
    assert data["model"] == AUDIO and data["content_type"] == "audio/wav"
    assert data["path"].startswith("techno-loop-128-bpm-") and data["path"].endswith(".wav")
    assert (tmp_path / data["path"]).read_bytes() == WAV
    assert fake_media.jobs(server)[0]["polls"] == 3
    assert_keyless(files_host)


def test_extension_follows_the_content_not_the_claimed_type(run, server, files_host, tmp_path):
    fake_media.plan(server, file=(WAV, "application/octet-stream"))
    r = run("audio", "--text", "hi", "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["path"].endswith(".wav") and data["content_type"] == "audio/wav"
    assert (tmp_path / data["path"]).read_bytes() == WAV


def test_no_clobber_checked_before_the_job_is_submitted(run, server, files_host, tmp_path):
    (tmp_path / "hello.mp3").write_bytes(b"mine")
    r = run("audio", "--text", "hi", "-o", "hello.mp3")
    assert r.code == 2 and "hello.mp3 already exists" in r.err and "--force" in r.err
    assert submits(server) == [] and (tmp_path / "hello.mp3").read_bytes() == b"mine"
    r = run("audio", "--text", "hi", "-o", "hello.mp3", "--force")
    assert r.code == 0, r.err
    assert (tmp_path / "hello.mp3").read_bytes() == MP3


def test_failed_job_writes_nothing(run, server, files_host, tmp_path):
    fake_media.plan(server, statuses=("IN_PROGRESS", "FAILED"), error="voice not found")
    r = run("audio", "--text", "hi", "-o", "hi.mp3")
    assert r.code == 1 and "voice not found" in r.err
    [job] = fake_media.jobs(server)
    assert job["request_id"] in r.err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "served, message",
    [((PNG_1PX, "audio/mpeg"), "not audio"), ((MP3, "text/html"), "text/html, not an audio")],
)
def test_a_file_that_is_not_audio_writes_nothing(run, server, files_host, tmp_path, served, message):
    fake_media.plan(server, file=served)
    r = run("audio", "--text", "hi", "-o", "hi.mp3")
    assert r.code == 1 and message in r.err, r.err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--text", "a", "--prompt", "b"], "not both"),
        (["--text", "a", "--seconds", "5"], "--seconds goes with --prompt"),
        (["--prompt", "a", "--voice", "x"], "--voice goes with --text"),
        (["--prompt", "a", "--seconds", "0"], "--seconds"),
        (["--text", "   "], "empty"),
        (["--text-file", "missing.txt"], "cannot read --text-file missing.txt"),
        (["--text", "a", "--input-json", '{"text": "b"}'], "--text"),
        (["--prompt", "a", "--seconds", "5", "--input-json", '{"seconds_total": 9}'], "--seconds"),
        (["--prompt", "a", "--input-json", '{"seconds_total": "long"}'], "seconds_total must be an integer"),
    ],
)
def test_usage_errors_exit_2_and_send_nothing(run, server, files_host, args, message):
    r = run("audio", *args)
    assert r.code == 2 and message in r.err, r.err
    assert server.requests == []


@pytest.mark.parametrize(
    "data, fmt",
    [
        (MP3, "mp3"),
        (b"\xff\xfb\x90\x64" + b"\x00" * 8, "mp3"),  # a bare MPEG-1 Layer III frame, no ID3 tag
        (b"\xff\xf3\x48\xc4" + b"\x00" * 8, "mp3"),  # MPEG-2 Layer III
        (WAV, "wav"),
        (b"OggS\x00\x02" + b"\x00" * 20, "ogg"),
        (b"fLaC\x00\x00\x00\x22" + b"\x00" * 8, "flac"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00", "m4a"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\x00" * 8, "webm"),
        (b"\xff\xf1\x50\x80" + b"\x00" * 8, None),  # AAC ADTS (layer 00) is not MP3
        (b"\xff\xd8\xff\xe0" + b"\x00" * 8, None),  # JPEG
        (PNG_1PX, None),
        (b"\x1a\x45\xdf\xa3" + b"matroska" + b"\x00" * 8, None),  # Matroska video, not WebM
        (b"ID", None),
        (b"", None),
    ],
)
def test_audio_format_from_magic_bytes(data, fmt):
    assert gradient_media.audio_format(data) == fmt


def test_a_file_over_the_size_cap_is_refused(run, server, files_host, tmp_path):
    fake_media.plan(server, output={"audio": {"url": files_host.root + "/media/big.mp3", "content_type": "audio/mpeg"}})
    files_host.queue(
        "/media/big.mp3", {"body": MP3, "declared_length": 101 * 1024 * 1024, "content_type": "audio/mpeg"}
    )
    r = run("audio", "--text", "hi", "-o", "big.mp3")
    assert r.code == 1 and "100 MiB cap" in r.err, r.err
    assert list(tmp_path.iterdir()) == []
    assert_keyless(files_host)
