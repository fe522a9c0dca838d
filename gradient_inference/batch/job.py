"""A batch job: one input split into DigitalOcean batches (shards), recorded in a manifest, resumable.

DigitalOcean takes at most 50,000 requests and 200 MB per batch file (remote.MAX_LINES, MAX_BYTES),
so an input over either limit is cut, in input order, into shards of the provider file actually
uploaded. Each shard becomes one batch. The manifest (INPUT.batch.json, or --manifest) holds what
identifies the job's requests (input digest, model, flags, provider, limits) and, per shard, its line
range, a digest of its ids, file id, the create's request_id (chosen before the upload, so a create
re-sent after a crash is the same create: the spec's request_id is an idempotency key), batch id and
last known status. It is rewritten atomically after every step, before the next one starts.
"""

from __future__ import annotations

import os

from gradient_inference.batch import lines as jl
from gradient_inference.batch import remote as api
from gradient_inference.cli import base as cli
from gradient_inference.cli.base import EXIT_USAGE, CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

VERSION = 1
# Test-only: lower (never raise) the per-batch limits so tests can shard small inputs.
TEST_MAX_LINES_ENV = "GRADIENT_TEST_BATCH_MAX_LINES"
TEST_MAX_BYTES_ENV = "GRADIENT_TEST_BATCH_MAX_BYTES"
KEY_FLAGS = ("model", "system", "max_tokens", "temperature", "api")


def limits() -> tuple[int, int]:
    """(lines, bytes) per batch: DigitalOcean's limits, or lower ones from the test-only settings."""
    found = []
    for name, real in ((TEST_MAX_LINES_ENV, api.MAX_LINES), (TEST_MAX_BYTES_ENV, api.MAX_BYTES)):
        try:
            found.append(max(1, min(real, int(os.environ.get(name) or real))))
        except ValueError:
            found.append(real)
    return found[0], found[1]


def default_manifest(input_path: str) -> str:
    if input_path == "-":
        return "stdin.batch.json"
    root = input_path[: -len(".jsonl")] if input_path.lower().endswith(".jsonl") else input_path
    return root + ".batch.json"


def manifest_error(path: str, why: str) -> CliError:
    return CliError(f"{path}: {why}", kind="bad_manifest", exit_code=EXIT_USAGE)


def load(path: str, required: bool = False) -> dict[str, Any] | None:
    """The manifest at path, None when there is none (unless required); a broken one exits 2."""
    import json

    try:
        with open(path, "rb") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        if required:
            raise manifest_error(path, "no such manifest") from None
        return None
    except (OSError, ValueError) as exc:
        raise manifest_error(path, f"not a batch manifest ({getattr(exc, 'strerror', None) or exc})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("shards"), list):
        raise manifest_error(path, "not a batch manifest of this version")
    return data


def save(path: str, manifest: dict[str, Any]) -> None:
    """Atomically: the whole new manifest or the previous one, never half of one."""
    import json

    from gradient_inference.files import output as files

    files.write_all([path], [(json.dumps(manifest, indent=1) + "\n").encode("utf-8")], force=True)


def input_digest(fh: IO[bytes]) -> str:
    import hashlib

    digest = hashlib.sha256()
    fh.seek(0)
    while chunk := fh.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def ids_digest(ids) -> str:
    """Order-free digest of a set of ids (sum of their SHA-256 values), so result files in any order match."""
    import hashlib

    total = 0
    for job_id in ids:
        total += int.from_bytes(hashlib.sha256(job_id.encode("utf-8")).digest(), "big")
    return f"{total % (1 << 256):064x}"


def job_key(digest: str, count: int, defaults: dict[str, Any], provider: str, endpoint: str | None) -> dict:
    """What identifies the job's requests; a manifest with another key belongs to another job."""
    max_lines, max_bytes = limits()
    key = {"input_sha256": digest, "lines": count, **{k: defaults.get(k) for k in KEY_FLAGS}}
    return {**key, "provider": provider, "endpoint": endpoint, "max_lines": max_lines, "max_bytes": max_bytes}


def plan(source: IO[bytes], defaults: dict[str, Any], provider: str, stage_dir: str, skip: set[int]) -> list[dict]:
    """Cut the provider file into shards (at most max_lines lines and max_bytes bytes each), in input order;
    shards whose index is not in `skip` are written to stage_dir/shard-N.jsonl for upload."""
    import json

    max_lines, max_bytes = limits()
    shards: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    out = None
    ids: list[str] = []

    def close() -> None:
        nonlocal out
        if out is not None:
            out.close()
            out = None
        current["ids_digest"] = ids_digest(ids)
        ids.clear()

    for number, job in jl.numbered_jobs(source, defaults):
        data = (json.dumps(api.provider_line(job, provider), ensure_ascii=False) + "\n").encode("utf-8")
        if len(data) > max_bytes:
            raise jl.bad_input(f"line {number} alone is over the batch file limit of {max_bytes:,} bytes")
        if not current or current["lines"] >= max_lines or current["bytes"] + len(data) > max_bytes:
            if current:
                close()
            current = {"index": len(shards) + 1, "first_line": number, "last_line": number, "lines": 0, "bytes": 0}
            shards.append(current)
            if current["index"] not in skip:
                out = open(os.path.join(stage_dir, f"shard-{current['index']}.jsonl"), "wb")
        current["last_line"] = number
        current["lines"] += 1
        current["bytes"] += len(data)
        ids.append(job["id"])
        if out is not None:
            out.write(data)
    close()
    return shards


SHARD_STATE = ("file_id", "request_id", "batch_id", "status", "request_counts", "downloaded")
SHARD_PLAN = ("index", "first_line", "last_line", "lines", "bytes", "ids_digest")


def merge(path: str, existing: dict[str, Any] | None, key: dict, shards: list[dict], input_path: str) -> dict:
    """The manifest for this plan: the existing one's state kept when it is the same job, else a new one."""
    import uuid

    if existing is None:
        for shard in shards:
            shard.update(file_id=None, request_id=str(uuid.uuid4()), batch_id=None, status=None)
            shard.update(request_counts=None, downloaded=[])
        return {"version": VERSION, "input": input_path, "key": key, "shards": shards}
    old = existing["shards"]
    if [[s.get(k) for k in SHARD_PLAN] for s in old] != [[s[k] for k in SHARD_PLAN] for s in shards]:
        raise mismatch(path, "its shards differ from this input's")
    for shard, before in zip(shards, old):
        shard.update({k: before.get(k) for k in SHARD_STATE})
        shard["downloaded"] = shard["downloaded"] or []
    return {**existing, "shards": shards}


def mismatch(path: str, why: str) -> CliError:
    return manifest_error(
        path,
        f"this manifest belongs to another job ({why}); nothing was sent. Pass --manifest NEW.batch.json "
        "for a new job, or rerun with the input and flags it was made with",
    )


def check_key(path: str, existing: dict[str, Any] | None, key: dict) -> None:
    if existing is None:
        return
    before = existing.get("key") or {}
    changed = [k for k in key if before.get(k) != key[k]]
    if changed:
        what = "the input changed" if "input_sha256" in changed or "lines" in changed else ""
        flags = [k for k in changed if k not in ("input_sha256", "lines")]
        why = "; ".join(x for x in (what, f"different {', '.join(flags)}" if flags else "") if x)
        raise mismatch(path, why)


def upload_name(path: str, index: int, count: int) -> str:
    """A file name the spec accepts: at least 7 characters, ending in .jsonl; shards are numbered."""
    import re

    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", os.path.basename(path) if path != "-" else "stdin")
    stem = re.sub(r"(?i)\.jsonl$", "", stem).strip(".")
    name = (f"{stem}-{index}-of-{count}" if count > 1 else stem) + ".jsonl"
    return name if len(name) >= 7 else "batch-" + name


def submit(args, call, source: IO[bytes], defaults: dict, info: dict, manifest_path: str) -> dict | None:
    """Upload and create every shard without a batch, saving the manifest after each step; returns it
    (None with --dry-run). A shard that fails stops here: exit 1, what succeeded is kept."""
    import tempfile

    from gradient_inference.network import api as net

    provider, endpoint = api.choose(info["models"], info["apis"])
    existing = load(manifest_path)
    key = job_key(input_digest(source), info["count"], defaults, provider, endpoint)
    check_key(manifest_path, existing, key)
    done = {s.get("index") for s in (existing or {}).get("shards", []) if s.get("batch_id")}
    with tempfile.TemporaryDirectory(prefix="gradient-batch-") as stage:
        shards = plan(source, defaults, provider, stage, done)
        manifest = merge(manifest_path, existing, key, shards, args.input)
        todo = [s for s in shards if not s["batch_id"]]
        if args.dry_run:
            name = upload_name(args.input, todo[0]["index"] if todo else 1, len(shards))
            print(net.curl_command("POST", call.settings.base_url + "/batches/files", {"file_name": name}))
            return None
        save(manifest_path, manifest)
        session = net.open_session(args.max_retries)
        for shard in todo:
            staged = os.path.join(stage, f"shard-{shard['index']}.jsonl")
            try:
                submit_shard(args, call, session, manifest, manifest_path, shard, staged, provider, endpoint)
            except CliError as err:
                made = sum(1 for s in shards if s["batch_id"])
                err.message = (
                    f"shard {shard['index']} of {len(shards)} (lines {shard['first_line']}-{shard['last_line']}): "
                    f"{err.message}; {made} of {len(shards)} batches are created and recorded in "
                    f"{manifest_path}; rerun the same submit to resume"
                )
                raise
            except KeyboardInterrupt:
                made = sum(1 for s in shards if s["batch_id"])
                cli.note(f"interrupted; {made} of {len(shards)} batches recorded in {manifest_path}; rerun to resume")
                raise
    return manifest


def submit_shard(args, call, session, manifest, path, shard, staged, provider, endpoint) -> None:
    """Upload (unless a file id is recorded), then create with the shard's own request_id."""
    if not shard["file_id"]:
        shard["file_id"] = api.upload(
            args, call, session, staged, upload_name(args.input, shard["index"], len(manifest["shards"]))
        )
        save(path, manifest)
    try:
        batch = api.create(args, call, session, shard["file_id"], provider, endpoint, shard["request_id"])
    except CliError as err:
        if err.status not in (400, 404):  # a recorded upload that is gone: upload again, same request_id
            raise
        cli.note(f"shard {shard['index']}: the recorded upload was refused ({err.message}); uploading it again")
        shard["file_id"] = api.upload(
            args, call, session, staged, upload_name(args.input, shard["index"], len(manifest["shards"]))
        )
        save(path, manifest)
        batch = api.create(args, call, session, shard["file_id"], provider, endpoint, shard["request_id"])
    from gradient_inference.network import api as net

    shard["batch_id"] = net.require(batch, "batch_id")
    shard.update(status=batch.get("status"), request_counts=batch.get("request_counts"))
    save(path, manifest)
