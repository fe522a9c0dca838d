"""gradient_embed.py: inputs, chunks of at most 128 in parallel, rows in input order, files, errors.

The embeddings shapes are tests/fake_media.py's, from DigitalOcean's OpenAPI (see its docstring).
"""

from __future__ import annotations

import json

import pytest
from fake_media import vector

EMBED = "/v1/embeddings"


def embed_requests(server) -> list[dict]:
    return [r for r in server.requests if r["path"] == EMBED]


def test_1000_lines_go_in_chunks_of_128_in_parallel_and_rows_keep_input_order(run, server, files_host, tmp_path):
    lines = [f"document number {n} about {'cats' if n % 3 else 'dogs'}" for n in range(1, 1001)]
    (tmp_path / "docs.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run("embed", "--input-file", "docs.txt", "--output", "vectors.jsonl")
    assert r.code == 0, r.err
    sent = embed_requests(server)
    assert len(sent) == 8  # ceil(1000 / 128)
    assert all(set(req["body"]) == {"model", "input"} for req in sent)  # the schema rejects other fields
    assert all(req["body"]["model"] == "qwen3-embedding-0.6b" for req in sent)
    assert max(len(req["body"]["input"]) for req in sent) == 128
    chunks = sorted((lines.index(req["body"]["input"][0]), req["body"]["input"]) for req in sent)
    assert [start for start, _ in chunks] == list(range(0, 1000, 128))
    assert [text for _, chunk in chunks for text in chunk] == lines
    assert 1 < server.stored["max_in_flight"] <= 4  # parallel, never past --concurrency's default
    rows = [json.loads(line) for line in (tmp_path / "vectors.jsonl").read_text().splitlines()]
    assert [row["index"] for row in rows] == list(range(1000))
    assert all(row["embedding"] == vector(line) for row, line in zip(rows, lines))
    assert "1000 embeddings of 8 dimensions" in r.out and "vectors.jsonl" in r.out


def test_concurrency_1_sends_one_chunk_at_a_time(run, server, files_host, tmp_path):
    (tmp_path / "in.txt").write_text("".join(f"t{n}\n" for n in range(300)), encoding="utf-8")
    r = run("embed", "--input-file", "in.txt", "--concurrency", "1", "--json", "-o", "out.jsonl")
    assert r.code == 0, r.err
    assert [len(req["body"]["input"]) for req in embed_requests(server)] == [128, 128, 44]
    assert server.stored["max_in_flight"] == 1
    data = r.json()
    assert data["path"] == "out.jsonl" and data["count"] == 300 and data["dimensions"] == 8
    assert "embeddings" not in data


def test_piped_stdin_and_json_shape_with_cost(run, server, files_host):
    r = run("embed", "--json", stdin="first text\r\nsecond one here\n")
    assert r.code == 0, r.err
    [req] = embed_requests(server)
    assert req["body"] == {"model": "qwen3-embedding-0.6b", "input": ["first text", "second one here"]}
    data = r.json()
    assert set(data) == {"model", "embeddings", "usage", "cost"}
    assert data["model"] == "qwen3-embedding-0.6b"
    assert data["embeddings"] == [
        {"index": 0, "embedding": vector("first text")},
        {"index": 1, "embedding": vector("second one here")},
    ]
    assert data["usage"] == {"prompt_tokens": 5, "total_tokens": 5}
    # the bundled snapshot prices qwen3-embedding-0.6b at $0.04 per 1M input tokens
    assert data["cost"]["usd"] == pytest.approx(5 * 0.04 / 1e6) and data["cost"]["source"] == "snapshot"


def test_positional_texts_and_input_file_dash(run, server, files_host):
    r = run("embed", "alpha", "beta", "--model", "gte-large-en-v1.5")
    assert r.code == 0, r.err
    assert embed_requests(server)[0]["body"] == {"model": "gte-large-en-v1.5", "input": ["alpha", "beta"]}
    assert r.out.startswith("2 embeddings of 8 dimensions from gte-large-en-v1.5")
    r = run("embed", "--input-file", "-", "--json", stdin="gamma\n")
    assert r.code == 0, r.err
    assert r.json()["embeddings"] == [{"index": 0, "embedding": vector("gamma")}]


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["--input-file", "missing.txt"], None, "cannot read missing.txt"),
        ([], "one\n\nthree\n", "line 2 of stdin is blank"),
        ([], "one\ntwo\n   \n", "line 3 of stdin is blank"),
        ([], "", "stdin is empty"),
        (["a", " "], None, "text 2 is blank"),
        (["a", "--input-file", "x.txt"], None, "not both"),
        (["a", "--concurrency", "0"], None, "--concurrency"),
        (["a", "--concurrency", "17"], None, "--concurrency"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(run, server, files_host, args, stdin, message):
    r = run("embed", *args, stdin=stdin)
    assert r.code == 2 and message in r.err, r.err
    assert server.requests == []


def test_blank_line_in_a_file_is_named_and_nothing_sent(run, server, files_host, tmp_path):
    (tmp_path / "in.txt").write_text("a\nb\n\nd\n", encoding="utf-8")
    r = run("embed", "--input-file", "in.txt", "--json")
    assert r.code == 2 and "line 3 of in.txt is blank" in r.err_json()["error"]["message"]
    assert server.requests == []


def test_existing_output_is_kept_unless_force(run, server, files_host, tmp_path):
    (tmp_path / "out.jsonl").write_text("mine\n")
    r = run("embed", "a", "-o", "out.jsonl")
    assert r.code == 2 and "already exists" in r.err and "--force" in r.err
    assert server.requests == [] and (tmp_path / "out.jsonl").read_text() == "mine\n"
    r = run("embed", "a", "-o", "out.jsonl", "--force")
    assert r.code == 0, r.err
    assert json.loads((tmp_path / "out.jsonl").read_text()) == {"index": 0, "embedding": vector("a")}


def test_a_failed_chunk_exits_1_naming_it_and_writes_no_file(run, server, files_host, tmp_path):
    (tmp_path / "in.txt").write_text("".join(f"t{n}\n" for n in range(300)), encoding="utf-8")
    server.queue(EMBED, {"status": 400, "json": {"id": "bad_request", "message": "input too long"}})
    r = run("embed", "--input-file", "in.txt", "-o", "out.jsonl", "--concurrency", "1")
    assert r.code == 1
    assert "chunk 1 of 3 (inputs 1-128)" in r.err and "input too long" in r.err and "HTTP 400" in r.err
    assert list(tmp_path.iterdir()) == [tmp_path / "in.txt"]


def test_unknown_model_is_the_servers_404(run, server, files_host):
    r = run("embed", "a", "--model", "no-such-model", "--json")
    assert r.code == 1 and r.err_json()["error"]["status"] == 404


def test_dry_run_prints_each_chunk_and_sends_nothing(run, server, files_host, tmp_path):
    (tmp_path / "in.txt").write_text("".join(f"t{n}\n" for n in range(130)), encoding="utf-8")
    r = run("embed", "--input-file", "in.txt", "--dry-run")
    assert r.code == 0, r.err
    assert r.out.count("curl ") == 2 and "/v1/embeddings" in r.out
    assert server.requests == []
