"""gradient_image.py: request shape, b64 and URL images, file safety, validation, output.

Where the response shapes come from:
- OpenAI API reference, "Create image" (POST /v1/images/generations): the body takes model, prompt,
  n, size, quality; the answer is `{"created", "data": [{"b64_json" | "url", "revised_prompt"}],
  "usage"}`; URLs are short-lived links to the image file, fetched without the API key.
- DigitalOcean docs, "Use Serverless Inference" (docs.digitalocean.com/products/gradient-ai-platform/
  how-to/use-serverless-inference/): model `openai-gpt-image-1`, `n` and `size` always sent, sizes
  256x256, 512x512 and 1024x1024; the example response carries `data[].b64_json` beside
  `output_format`, `size`, `quality` and `usage`.
- DigitalOcean's published spec (create_image_request.yml) is the contract for the request: `n`
  required (1..10), `size` one of auto, 1536x1024, 1024x1536. Hence the default `auto`; any other WxH
  within 64..4096 is still sent, with a warning. tests/spec_checks.py checks every body sent here.
- Image magic numbers: PNG signature (PNG spec section 5.2), JPEG SOI marker FF D8 FF, WebP
  "RIFF....WEBP" (RFC 9649 section 2).
"""

from __future__ import annotations

import base64
import re
import sys
import time
from pathlib import Path

import pytest
from fake_gradient import PNG_1PX

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gradient_inference.files import output as gradient_files  # noqa: E402
from gradient_inference.pipeline import image as gradient_image  # noqa: E402

pytestmark = pytest.mark.usefixtures("spec_check")  # every request body sent here must meet the spec

IMAGES = "/v1/images/generations"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32 + b"\xff\xd9"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 28


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def image_requests(server) -> list[dict]:
    return [r for r in server.requests if r["path"] == IMAGES]


def file_requests(server) -> list[dict]:
    return [r for r in server.requests if r["path"].startswith("/files/")]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------- happy paths


def test_b64_image_saved_and_request_body(run, server, tmp_path):
    r = run("image", "--prompt", "a cat in a hat", "--output", "cat.png")
    assert r.code == 0, r.err
    assert r.out == "cat.png\n"
    assert (tmp_path / "cat.png").read_bytes() == PNG_1PX
    [req] = image_requests(server)
    assert req["method"] == "POST"
    assert req["body"] == {"model": "openai-gpt-image-1", "prompt": "a cat in a hat", "n": 1, "size": "auto"}
    assert req["headers"]["Authorization"].startswith("Bearer ")


@pytest.mark.off_spec("size")  # 512x512 is outside the spec's size enum: sent, with a warning
def test_request_body_with_every_option(run, server, tmp_path):
    r = run(
        "image",
        "--prompt",
        "x",
        "--model",
        "openai-gpt-image-1",
        "--size",
        "512X512",
        "--n",
        "2",
        "--quality",
        "high",
        "-o",
        "out/x.png",
    )
    assert r.code == 0, r.err
    assert image_requests(server)[-1]["body"] == {
        "model": "openai-gpt-image-1",
        "prompt": "x",
        "n": 2,
        "size": "512x512",
        "quality": "high",
    }
    assert "warning: size 512x512 is not one the API documents" in r.err


def test_n3_writes_numbered_siblings(run, tmp_path):
    r = run("image", "--prompt", "three cats", "--n", "3", "--output", "cat.png")
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["cat-1.png", "cat-2.png", "cat-3.png"]
    assert listing(tmp_path) == ["cat-1.png", "cat-2.png", "cat-3.png"]
    assert all((tmp_path / name).read_bytes() == PNG_1PX for name in listing(tmp_path))


def test_url_image_downloaded_without_the_api_key(run, server, tmp_path):
    server.queue(IMAGES, {"json": {"data": [{"url": server.root + "/files/a.png"}]}})
    server.queue("/files/a.png", {"body": PNG_1PX, "content_type": "image/png"})
    r = run("image", "--prompt", "fox", "-o", "fox.png")
    assert r.code == 0, r.err
    assert (tmp_path / "fox.png").read_bytes() == PNG_1PX
    [download] = file_requests(server)
    assert download["method"] == "GET"
    assert not any(name.lower() == "authorization" for name in download["headers"])


def test_json_output_shape_without_base64(run, server, tmp_path):
    r = run("image", "--prompt", "owl", "--n", "2", "-o", "owl.png", "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert set(data) == {"model", "images", "usage", "cost"}
    assert data["model"] == "openai-gpt-image-1"
    assert data["usage"] == {"input_tokens": 10, "output_tokens": 544, "total_tokens": 554}
    assert data["images"] == [
        {"path": "owl-1.png", "bytes": len(PNG_1PX), "format": "png", "revised_prompt": "owl #0"},
        {"path": "owl-2.png", "bytes": len(PNG_1PX), "format": "png", "revised_prompt": "owl #1"},
    ]
    assert b64(PNG_1PX) not in r.out and b64(PNG_1PX)[:16] not in r.out + r.err


def test_json_usage_is_null_when_absent(run, server):
    server.queue(IMAGES, {"json": {"data": [{"b64_json": b64(WEBP)}]}})
    data = run("image", "--prompt", "x", "-o", "x.webp", "--json").json()
    assert data["usage"] is None and data["images"][0]["format"] == "webp"
    assert data["images"][0]["revised_prompt"] is None


def test_prompt_from_stdin(run, server, tmp_path):
    r = run("image", "--prompt", "-", "-o", "a.png", stdin="a red fox\n")
    assert r.code == 0, r.err
    assert image_requests(server)[-1]["body"]["prompt"] == "a red fox"
    r = run("image", "-o", "b.png", stdin="piped fox")
    assert r.code == 0, r.err
    assert image_requests(server)[-1]["body"]["prompt"] == "piped fox"


def test_default_name_from_prompt_and_utc_time(run, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    r = run("image", "--prompt", "A Cat, in a HAT! on the moon at night", cwd=work)
    assert r.code == 0, r.err
    [name] = listing(work)
    assert re.fullmatch(r"a-cat-in-a-hat-on-\d{8}-\d{6}\.png", name), name
    assert r.out == name + "\n"


def test_default_names_use_detected_format_and_never_collide(run, server, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    server.queue(IMAGES, {"json": {"data": [{"b64_json": b64(JPEG)}, {"b64_json": b64(WEBP)}]}})
    r = run("image", "--prompt", "two", "--n", "2", cwd=work)
    assert r.code == 0, r.err
    first, second = r.out.splitlines()
    assert re.fullmatch(r"two-\d{8}-\d{6}-1\.jpg", first) and re.fullmatch(r"two-\d{8}-\d{6}-2\.webp", second)
    # the same prompt again within the same second must not overwrite: the default name moves aside
    r1 = run("image", "--prompt", "same", cwd=work)
    r2 = run("image", "--prompt", "same", cwd=work)
    assert r1.code == r2.code == 0
    assert r1.out != r2.out
    assert len([n for n in listing(work) if n.startswith("same-")]) == 2


def test_explicit_name_kept_even_if_extension_differs(run, server, tmp_path):
    server.queue(IMAGES, {"json": {"data": [{"b64_json": b64(JPEG)}]}})
    r = run("image", "--prompt", "x", "-o", "photo.png")
    assert r.code == 0, r.err
    assert (tmp_path / "photo.png").read_bytes() == JPEG
    assert "JPEG" in r.err


def test_missing_parent_folder_is_created_and_noted(run, tmp_path):
    r = run("image", "--prompt", "x", "-o", "new/deeper/x.png")
    assert r.code == 0, r.err
    assert (tmp_path / "new" / "deeper" / "x.png").read_bytes() == PNG_1PX
    assert "created folder new/deeper" in r.err


def test_dry_run_prints_curl_and_sends_nothing(run, server, tmp_path):
    r = run("image", "--prompt", "x", "--size", "256x256", "--dry-run", "-o", "x.png")
    assert r.code == 0, r.err
    assert r.out.startswith("curl ") and "/v1/images/generations" in r.out
    assert '"size": "256x256"' in r.out and '"n": 1' in r.out
    assert "$GRADIENT_API_KEY" in r.out
    assert server.requests == []
    assert listing(tmp_path) == []


# ---------------------------------------------------------------- bad images and URLs


@pytest.mark.parametrize(
    "script",
    [
        {"body": b"<html>expired</html>", "content_type": "text/html"},
        {"body": b"definitely not a picture", "content_type": "image/png"},
        {"status": 403, "body": b"AccessDenied", "content_type": "application/xml"},
    ],
)
def test_bad_download_fails_and_writes_nothing(run, server, tmp_path, script):
    server.queue(IMAGES, {"json": {"data": [{"url": server.root + "/files/a.png"}]}})
    server.queue("/files/a.png", script)
    r = run("image", "--prompt", "x", "-o", "a.png")
    assert r.code == 1
    assert "image" in r.err
    assert listing(tmp_path) == []


@pytest.mark.parametrize("url", ["http://example.com/x.png", "file:///etc/passwd", "ftp://example.com/x.png"])
def test_only_https_urls_are_fetched(run, server, tmp_path, url):
    server.queue(IMAGES, {"json": {"data": [{"url": url}]}})
    r = run("image", "--prompt", "x", "-o", "a.png", "--json")
    assert r.code == 1
    err = r.err_json()["error"]
    assert err["type"] == "insecure_url" and "https" in err["message"]
    assert [r["path"] for r in server.requests] == [IMAGES]
    assert listing(tmp_path) == []


def test_redirect_to_plain_http_host_is_refused(run, server, tmp_path):
    server.queue(IMAGES, {"json": {"data": [{"url": server.root + "/files/a.png"}]}})
    server.queue("/files/a.png", {"redirect": "http://example.com/a.png"})
    r = run("image", "--prompt", "x", "-o", "a.png")
    assert r.code == 1 and "only https" in r.err
    assert len(file_requests(server)) == 1
    assert listing(tmp_path) == []


def test_redirect_on_loopback_is_followed(run, server, tmp_path):
    server.queue(IMAGES, {"json": {"data": [{"url": server.root + "/files/a.png"}]}})
    server.queue("/files/a.png", {"redirect": "/files/b.png"})
    server.queue("/files/b.png", {"body": JPEG, "content_type": "image/jpeg"})
    r = run("image", "--prompt", "x", "-o", "a.jpg")
    assert r.code == 0, r.err
    assert (tmp_path / "a.jpg").read_bytes() == JPEG


@pytest.mark.parametrize(
    "item, words",
    [
        ({"b64_json": b64(b"GIF89a not supported here")}, "not an image"),
        ({"b64_json": "%%% not base64 %%%"}, "not valid base64"),
        ({"revised_prompt": "nothing else"}, "neither b64_json nor url"),
    ],
)
def test_bad_b64_items_fail_and_write_nothing(run, server, tmp_path, item, words):
    server.queue(IMAGES, {"json": {"data": [{"b64_json": b64(PNG_1PX)}, item]}})
    r = run("image", "--prompt", "x", "--n", "2", "-o", "a.png")
    assert r.code == 1
    assert words in r.err and "image 2" in r.err
    assert listing(tmp_path) == []


def test_empty_data_is_an_error(run, server, tmp_path):
    server.queue(IMAGES, {"json": {"created": 1, "data": []}})
    r = run("image", "--prompt", "x", "-o", "a.png")
    assert r.code == 1 and "no images" in r.err
    assert listing(tmp_path) == []


def test_api_error_writes_nothing(run, server, tmp_path):
    server.queue(
        IMAGES,
        {
            "status": 400,
            "json": {
                "error": {
                    "message": "Your request was rejected by the safety system.",
                    "type": "invalid_request_error",
                    "code": "moderation_blocked",
                }
            },
        },
    )
    r = run("image", "--prompt", "x", "-o", "a.png")
    assert r.code == 1 and "safety system" in r.err
    assert listing(tmp_path) == []


# ---------------------------------------------------------------- file safety


def test_existing_file_is_not_overwritten_without_force(run, server, tmp_path):
    (tmp_path / "cat.png").write_bytes(b"precious")
    r = run("image", "--prompt", "x", "-o", "cat.png")
    assert r.code == 2  # a taken --output is bad input, checked before sending
    assert "cat.png" in r.err and "--force" in r.err
    assert (tmp_path / "cat.png").read_bytes() == b"precious"
    assert server.requests == []  # checked before paying for an image


def test_any_taken_sibling_blocks_all_writes(run, server, tmp_path):
    (tmp_path / "cat-2.png").write_bytes(b"precious")
    r = run("image", "--prompt", "x", "--n", "3", "-o", "cat.png")
    assert r.code == 2 and "cat-2.png" in r.err
    assert listing(tmp_path) == ["cat-2.png"]


def test_force_overwrites(run, tmp_path):
    (tmp_path / "cat.png").write_bytes(b"old")
    r = run("image", "--prompt", "x", "-o", "cat.png", "--force")
    assert r.code == 0, r.err
    assert (tmp_path / "cat.png").read_bytes() == PNG_1PX


def test_cut_download_leaves_no_file_and_no_temp(run, server, tmp_path):
    (tmp_path / "cat.png").write_bytes(b"old")
    server.queue(IMAGES, {"json": {"data": [{"url": server.root + "/files/a.png"}]}})
    server.queue("/files/a.png", {"body": PNG_1PX[:20], "declared_length": 5000, "content_type": "image/png"})
    r = run("image", "--prompt", "x", "-o", "cat.png", "--force")
    assert r.code == 1 and "broke off" in r.err
    assert listing(tmp_path) == ["cat.png"]
    assert (tmp_path / "cat.png").read_bytes() == b"old"


def test_download_over_the_size_cap_is_refused(run, server, tmp_path):
    server.queue(IMAGES, {"json": {"data": [{"url": server.root + "/files/a.png"}]}})
    server.queue("/files/a.png", {"body": PNG_1PX, "declared_length": 60 * 1024 * 1024, "content_type": "image/png"})
    r = run("image", "--prompt", "x", "-o", "a.png")
    assert r.code == 1 and "MiB cap" in r.err
    assert listing(tmp_path) == []


@pytest.mark.parametrize("output", ["folder", "folder/", "missing/"])
def test_output_that_is_a_folder_is_a_usage_error(run, server, tmp_path, output):
    (tmp_path / "folder").mkdir()
    r = run("image", "--prompt", "x", "-o", output)
    assert r.code == 2 and ("is a folder" in r.err or "ends with a path separator" in r.err)
    assert server.requests == []
    assert listing(tmp_path) == ["folder"]


def test_unwritable_path_fails_cleanly_before_the_request(run, server, tmp_path):
    (tmp_path / "file.txt").write_text("i am a file")
    r = run("image", "--prompt", "x", "-o", "file.txt/out.png")
    assert r.code == 1 and "file.txt" in r.err and "not a folder" in r.err
    assert server.requests == []
    r = run("image", "--prompt", "x", "-o", "/proc/gradient-test.png", "--json")
    assert r.code == 1 and r.err_json()["error"]["type"] == "write_error"
    assert (tmp_path / "file.txt").read_text() == "i am a file"


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "args, words",
    [
        (["--size", "big"], "WIDTHxHEIGHT"),
        (["--size", "0x10"], "64 to 4096"),
        (["--size", "10x"], "WIDTHxHEIGHT"),
        (["--size", "5000x5000"], "64 to 4096"),
        (["--size=-1x-1"], "WIDTHxHEIGHT"),
        (["--n", "0"], "1 to 10"),
        (["--n", "11"], "1 to 10"),
        (["--n", "two"], "whole number"),
        (["--quality", "ultra"], "invalid choice"),
        (["--output", ""], "must not be empty"),
    ],
)
def test_bad_values_are_usage_errors_before_any_request(run, server, tmp_path, args, words):
    r = run("image", "--prompt", "x", *args)
    assert r.code == 2
    assert words in r.err
    assert server.requests == []
    assert listing(tmp_path) == []


def test_usage_error_as_json(run, server):
    r = run("image", "--prompt", "x", "--n", "11", "--json")
    assert r.code == 2
    assert r.err_json()["error"]["type"] == "usage_error"


@pytest.mark.parametrize("size", ["auto", "1536x1024", "1024x1536"])
def test_documented_sizes_pass_without_warning(run, server, size):
    r = run("image", "--prompt", "x", "--size", size, "-o", f"{size}.png")
    assert r.code == 0, r.err
    assert image_requests(server)[-1]["body"]["size"] == size
    assert "warning" not in r.err


@pytest.mark.off_spec("size")
@pytest.mark.parametrize("size", ["1024x1024", "256x256"])
def test_undocumented_size_is_sent_with_one_warning_line(run, server, size):
    r = run("image", "--prompt", "x", "--size", size, "-o", f"{size}.png", "--json")
    assert r.code == 0, r.err
    assert image_requests(server)[-1]["body"]["size"] == size
    [line] = r.err.splitlines()
    assert f"warning: size {size} is not one the API documents (auto, 1536x1024, 1024x1536)" in line


def test_help_is_fast_and_lists_flags(run):
    r = run("image", "--help")
    assert r.code == 0
    for flag in ("--prompt", "--model", "--output", "--size", "--n", "--quality", "--force", "--dry-run", "--json"):
        assert flag in r.out


def test_script_does_not_import_requests_at_start():
    source = (Path(__file__).resolve().parent.parent / "scripts" / "gradient_image.py").read_text()
    top = source.split("\ndef ", 1)[0]
    assert "import requests" not in top


# ---------------------------------------------------------------- helpers, in-process


def test_slug():
    assert gradient_files.slug("A Cat, in a HAT! on the moon at night") == "a-cat-in-a-hat-on"
    assert gradient_files.slug("日本の猫") == "image"
    assert gradient_files.slug("x" * 200) == "x" * 60


def test_default_name_moves_aside_from_existing_files(tmp_path, monkeypatch):
    real_gmtime = time.gmtime
    monkeypatch.setattr(time, "gmtime", lambda secs=None: real_gmtime(1746515289))  # 2025-05-06 07:08:09 UTC
    monkeypatch.chdir(tmp_path)
    (tmp_path / "same-20250506-070809.png").write_bytes(b"")
    (tmp_path / "pair-20250506-070809-2.jpg").write_bytes(b"")
    assert gradient_files.default_paths("same", [".png"], False, False) == ["same-20250506-070809-2.png"]
    assert gradient_files.default_paths("same", [".png"], False, True) == ["same-20250506-070809.png"]
    assert gradient_files.default_paths("pair", [".png", ".jpg"], True, False) == [
        "pair-20250506-070809-2-1.png",
        "pair-20250506-070809-2-2.jpg",
    ]


@pytest.mark.parametrize(
    "data, fmt",
    [(PNG_1PX, "png"), (JPEG, "jpeg"), (WEBP, "webp"), (b"GIF89a", None), (b"RIFF\0\0\0\0WAVE", None), (b"", None)],
)
def test_image_format_by_magic(data, fmt):
    assert gradient_image.image_format(data) == fmt
