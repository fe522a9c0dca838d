"""gradient_models.py against the fake API."""

from __future__ import annotations


def test_table_lists_every_model_with_owner_and_date(run, server):
    r = run("models")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0].split() == ["id", "owner", "created"]
    assert any(line.split()[:3] == ["openai-gpt-oss-120b", "openai", "2025-08-06"] for line in lines)
    assert sum(1 for line in lines if "-" in line and not set(line) <= {"-", " "}) >= 6
    assert server.requests[0]["method"] == "GET" and server.requests[0]["path"] == "/v1/models"


def test_key_goes_in_the_bearer_header(run, server):
    run("models")
    assert server.requests[0]["headers"]["Authorization"].startswith("Bearer test-key-")


def test_json_shape(run):
    data = run("models", "--json").json()
    assert set(data) == {"models"}
    first = data["models"][0]
    assert {"id", "owned_by", "created", "object"} <= set(first)
    assert [m["id"] for m in data["models"]] == sorted(m["id"] for m in data["models"])


def test_filter_matches_id_and_owner_case_insensitively(run):
    ids = [m["id"] for m in run("models", "--json", "--filter", "GPT-OSS").json()["models"]]
    assert ids == ["openai-gpt-oss-120b", "openai-gpt-oss-20b"]
    owned = [m["id"] for m in run("models", "--json", "--filter", "META").json()["models"]]
    assert owned == ["llama3.3-70b-instruct"]


def test_filter_with_no_match_is_success_with_a_note(run):
    r = run("models", "--filter", "no-such-thing")
    assert r.code == 0 and r.out == "" and "no models match" in r.err


def test_prices_join_from_the_snapshot(run):
    data = run("models", "--json", "--prices").json()
    by_id = {m["id"]: m for m in data["models"]}
    assert by_id["openai-gpt-oss-120b"]["input_price"] == 0.10
    assert by_id["openai-gpt-oss-120b"]["output_price"] == 0.70
    assert by_id["llama3.3-70b-instruct"]["input_price"] == 0.65
    assert data["prices_source"] == "snapshot"
    table = run("models", "--prices")
    assert "input $/1M" in table.out and "0.45" in table.out and "snapshot" in table.err


def test_missing_data_list_is_a_clean_error(run, server):
    server.queue("/v1/models", {"json": {"object": "list"}})
    r = run("models")
    assert r.code == 1 and "no 'data' list" in r.err


def test_prices_per_image_and_per_audio_are_shown(run, server, catalog):
    from fake_gradient import MODELS
    from test_catalog import catalog_env

    env = catalog_env(server, catalog)
    assert run("pricing", "--json", env=env).json()["source"] == "catalog"  # the catalog's rows, cached
    fal = [{"id": name, "object": "model", "created": 1754438400, "owned_by": "fal"} for name in FAL]
    for _ in range(2):
        server.queue("/v1/models", {"json": {"object": "list", "data": MODELS + fal}})
    table = run("models", "--prices", env=env)
    assert table.code == 0, table.err
    lines = {line.split()[0]: line for line in table.out.splitlines()}
    assert lines["fal-ai/flux/schnell"].split()[-2:] == ["-", "$0.003/image"]
    assert lines["fal-ai/stable-audio-25/text-to-audio"].split()[-2:] == ["-", "$0.2/audio"]
    assert lines["openai-gpt-oss-120b"].split()[-2:] == ["0.2", "0.8"]  # token prices as before
    by_id = {m["id"]: m for m in run("models", "--prices", "--json", env=env).json()["models"]}
    assert by_id["fal-ai/flux/schnell"]["unit_price"] == 0.003
    assert by_id["fal-ai/flux/schnell"]["unit_price_per"] == "image"
    assert by_id["openai-gpt-oss-120b"]["unit_price"] is None


FAL = ("fal-ai/flux/schnell", "fal-ai/stable-audio-25/text-to-audio")
