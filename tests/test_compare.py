"""gradient-compare against loopback models that answer at different delays and quality (tests/fake_compare.py)."""

from __future__ import annotations

import json

import fake_compare
import pytest
from history_db import rows

BIG, SMALL, LLAMA, JUDGE = (
    "openai-gpt-oss-120b",
    "openai-gpt-oss-20b",
    "llama3.3-70b-instruct",
    "deepseek-r1-distill-llama-70b",
)
UNPRICED = "anthropic-claude-sonnet-4"  # served by the fake, absent from snapshots/pricing.json
PRICES = {BIG: (0.1, 0.7), SMALL: (0.05, 0.45), LLAMA: (0.65, 0.65), JUDGE: (0.99, 0.99)}  # snapshots/pricing.json
ANSWERS = {  # per model, per kind of prompt
    BIG: {"capital": "The capital of France is Paris.", "year": "It opened in 1889.", "json": '{"city": "Paris"}'},
    SMALL: {"capital": "Paris.", "year": "A long time ago.", "json": '```json\n{"city": "Paris"}\n```'},
    LLAMA: {"capital": "I believe it is Lyon.", "year": "Around then.", "json": '{"city": 3}'},
}
SCORES = {"The capital of France is Paris.": 9, "Paris.": 8.75, "I believe it is Lyon.": 2}
DELAYS = {BIG: 0.12, SMALL: 0.02, LLAMA: 0.25}
INPUT_TOKENS = 40


def kind_of(prompt: str) -> str:
    return next((k for k in ("year", "json") if k in prompt), "capital")


def behaviour(model: str) -> dict:
    return {"ttft": DELAYS[model], "answer": lambda p, m=model: ANSWERS[m][kind_of(p)], "input_tokens": INPUT_TOKENS}


@pytest.fixture
def models(server):
    behaviours = {m: behaviour(m) for m in ANSWERS}
    behaviours[JUDGE] = {"grade": lambda answer: SCORES.get(answer, 0), "input_tokens": 200}
    behaviours["anthropic-claude-haiku-4.5"] = {"status": 500}
    remove = fake_compare.install(server, behaviours)
    yield server
    remove()


def chat_calls(server) -> list[dict]:
    return [r for r in server.requests if r["path"] == "/v1/chat/completions"]


def usd(model: str, calls: int, out_tokens: int, in_tokens: int = INPUT_TOKENS) -> float:
    price_in, price_out = PRICES[model]
    return calls * (in_tokens * price_in + out_tokens * price_out) / 1_000_000


def three(*extra: str) -> list[str]:
    return ["--model", BIG, "--model", SMALL, "--model", LLAMA, *extra]


def test_ttft_and_latency_follow_the_delays_and_costs_match_the_price_table(run, models, data_dir):
    result = run("compare", *three("--prompt", "capital of France?", "--prompt", "capital again?", "--runs", "2"),
                 "--json")  # fmt: skip
    assert result.code == 0, result.err
    data = result.json()
    assert (data["prompts"], data["runs"], data["judge"]) == (2, 2, None)
    figures = data["models"]
    assert list(figures) == [BIG, SMALL, LLAMA]
    by_ttft = sorted(figures, key=lambda m: figures[m]["ttft_ms"]["p50"])
    by_latency = sorted(figures, key=lambda m: figures[m]["latency_ms"]["p50"])
    assert by_ttft == by_latency == [SMALL, BIG, LLAMA]  # the order of the delays
    for model, f in figures.items():
        assert f["calls"] == 4 and f["errors"] == 0 and f["first_error"] is None
        assert f["ttft_ms"]["p50"] >= DELAYS[model] * 1000 and f["latency_ms"]["p95"] >= f["ttft_ms"]["p50"]
        words = len(ANSWERS[model]["capital"].split(" "))
        assert f["tokens"] == {"input": 4 * INPUT_TOKENS, "output": 4 * words}
        assert f["cost"]["usd"] == round(usd(model, 4, words), 8)
        assert f["output_tokens_per_s"] > 0
    assert figures[BIG]["cost"]["usd"] == 0.0000328  # 4 x (40 x $0.10 + 6 x $0.70) / 1M
    sent = chat_calls(models)
    assert len(sent) == 12 and all(r["body"]["stream"] and r["body"]["stream_options"]["include_usage"] for r in sent)
    history = rows(data_dir)
    assert len(history) == 12 and {r["command"] for r in history} == {"compare"}


def test_expect_checks_give_a_pass_rate_and_the_recommendation_keeps_the_quality(run, models, tmp_path):
    schema = {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}
    lines = [
        {"id": "capital", "prompt": "capital of France?", "expect": {"contains": "Paris"}},
        {"id": "year", "prompt": "which year did the tower open?", "expect": {"regex": r"\b1[89]\d\d\b"}},
        {"id": "json", "prompt": "the city as json", "system": "JSON only", "expect": {"json_schema": schema}},
    ]
    (tmp_path / "prompts.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = run("compare", *three("--input", "prompts.jsonl", "--json"))
    assert result.code == 0, result.err
    data = result.json()
    rates = {m: f["pass_rate"] for m, f in data["models"].items()}
    assert rates == {BIG: 1.0, SMALL: 0.6667, LLAMA: 0.0}  # SMALL's fenced JSON passes; its year does not
    rec = data["recommendation"]
    assert (rec["model"], rec["basis"], rec["within"]) == (BIG, "pass_rate", 0.05)  # SMALL is cheaper, not as good
    loose = run("compare", *three("prompts.jsonl", "--within", "0.5", "--json")).json()["recommendation"]
    assert (loose["model"], loose["within"]) == (SMALL, 0.5)  # within reach now, and the cheapest
    assert "within 0.5 of the best" in loose["reason"]
    json_calls = [r for r in chat_calls(models) if "json" in r["body"]["messages"][-1]["content"]]
    assert all(r["body"]["messages"][0] == {"role": "system", "content": "JSON only"} for r in json_calls)


def test_the_judge_scores_each_answer_and_is_reported_apart(run, models):
    result = run("compare", *three("--prompt", "capital of France?", "--prompt", "capital, once more?"),
                 "--judge", JUDGE, "--rubric", "Is it Paris?", "--json", "--show-answers")  # fmt: skip
    assert result.code == 0, result.err
    data = result.json()
    assert {m: f["score"] for m, f in data["models"].items()} == {BIG: 9.0, SMALL: 8.75, LLAMA: 2.0}
    judge = data["judge"]
    assert (judge["model"], judge["calls"], judge["errors"]) == (JUDGE, 6, 0)
    assert judge["cost"]["usd"] == round(usd(JUDGE, 6, 12, 200), 8)  # apart from the models' own cost
    assert data["models"][BIG]["cost"]["usd"] == round(usd(BIG, 2, 6), 8)
    rec = data["recommendation"]
    assert (rec["model"], rec["basis"], rec["within"]) == (SMALL, "score", 0.5)  # 8.75 is within 0.5 of 9
    assert data["answers"][0]["answers"][LLAMA] == {"content": "I believe it is Lyon.", "score": 2.0}
    graded = [r["body"] for r in chat_calls(models) if r["body"]["model"] == JUDGE]
    assert len(graded) == 6 and all(b["response_format"]["json_schema"]["name"] == "score" for b in graded)
    assert all("Rubric: Is it Paris?" in b["messages"][-1]["content"] for b in graded)
    strict = run("compare", *three("--prompt", "capital?", "--judge", JUDGE, "--within", "0.1", "--json"))
    assert strict.json()["recommendation"]["model"] == BIG


def test_with_no_quality_signal_it_says_so_and_ranks_by_cost(run, models):
    result = run("compare", "--model", LLAMA, "--model", SMALL, "--model", BIG, "--prompt", "capital?", "--json")
    rec = result.json()["recommendation"]
    assert (rec["model"], rec["basis"], rec["ranking"]) == (SMALL, "cost", [SMALL, BIG, LLAMA])
    assert "no quality signal" in rec["reason"]


def test_the_table_markdown_and_answers_side_by_side(run, models):
    table = run("compare", *three("--prompt", "capital of France?", "--show-answers"))
    assert table.code == 0 and table.err == ""
    assert "latency p50/p95 ms" in table.out and "recommendation: openai-gpt-oss-20b" in table.out
    assert "cost (USD)" in table.out and "\u2588" in table.out  # the bars
    assert "I believe it is Lyon." in table.out
    md = run("compare", *three("--prompt", "capital of France?", "--markdown")).out
    assert md.startswith("| model | calls |") and f"| {SMALL} | 1 | 0 |" in md and "Recommendation:" in md


def test_a_rerun_on_output_sends_nothing_and_an_interrupted_run_resumes(run, models, tmp_path):
    args = three("--prompt", "capital?", "--prompt", "year?", "--judge", JUDGE, "--output", "answers.jsonl", "--json")
    first = run("compare", *args)
    assert first.code == 0, first.err
    assert len(chat_calls(models)) == 12  # 6 answers, 6 grades
    kept = (tmp_path / "answers.jsonl").read_text().splitlines()
    assert len(kept) == 12 and {json.loads(line)["kind"] for line in kept} == {"answer", "judge"}
    models.requests.clear()
    again = run("compare", *args)
    assert again.code == 0 and chat_calls(models) == []
    same = ("models", "judge", "recommendation")
    assert {k: again.json()[k] for k in same} == {k: first.json()[k] for k in same}
    answers = [line for line in kept if json.loads(line)["kind"] == "answer"]
    lost = json.loads(answers[-1])  # as if killed before the last answer and its grade were written
    rest = [line for line in kept if line != answers[-1] and not (
        json.loads(line)["kind"] == "judge" and json.loads(line)["model"] == lost["model"]
        and json.loads(line)["id"] == lost["id"])]  # fmt: skip
    (tmp_path / "answers.jsonl").write_text("\n".join(rest) + '\n{"kind": "answ')  # and half a line
    resumed = run("compare", *args)
    assert resumed.code == 0, resumed.err
    assert [(r["body"]["model"]) for r in chat_calls(models)] == [lost["model"], JUDGE]
    steady = ("calls", "errors", "tokens", "cost", "score")  # the timings are the new call's own
    for model, figures in resumed.json()["models"].items():
        assert {k: figures[k] for k in steady} == {k: first.json()["models"][model][k] for k in steady}
    assert resumed.json()["recommendation"] == first.json()["recommendation"]


def test_max_cost_refuses_before_sending(run, models):
    over = run("compare", *three("--prompt", "capital?", "--max-tokens", "1000", "--max-cost", "0.0001", "--json"))
    assert over.code == 2 and over.err_json()["error"]["type"] == "over_max_cost"
    assert "$0.00" in over.err_json()["error"]["message"]
    unknown = run("compare", "--model", BIG, "--model", UNPRICED, "--prompt", "hi", "--max-cost", "5", "--json")
    assert unknown.code == 2 and unknown.err_json()["error"]["type"] == "unknown_price"
    assert UNPRICED in unknown.err_json()["error"]["message"]
    assert models.requests == []
    under = run("compare", *three("--prompt", "capital?", "--max-tokens", "100", "--max-cost", "0.01", "--json"))
    assert under.code == 0 and under.json()["estimate"]["calls"] == 3


def test_a_failing_model_is_counted_and_the_report_still_printed(run, models):
    args = ["--model", BIG, "--model", "anthropic-claude-haiku-4.5", "--prompt", "capital?", "--prompt", "again?"]
    result = run("compare", *args, "--max-retries", "0", "--json")
    assert result.code == 1
    data = result.json()
    failing = data["models"]["anthropic-claude-haiku-4.5"]
    assert (failing["calls"], failing["errors"], failing["latency_ms"]["p50"]) == (2, 2, None)
    assert "overloaded" in failing["first_error"]
    assert data["models"][BIG]["errors"] == 0 and data["recommendation"]["model"] == BIG
    error = result.err_json()["error"]
    assert error["type"] == "calls_failed" and error["message"].startswith("2 of 4 calls failed")
    table = run("compare", *args, "--max-retries", "0")
    assert table.code == 1 and "anthropic-claude-haiku-4.5" in table.out and "calls failed" in table.err


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--model", BIG, "--prompt", "hi"], None, "give 2 to 16 models"),
        (["--model", BIG, "--model", BIG, "--prompt", "hi"], None, "each model may be given once"),
        (["--model", BIG, "--model", SMALL, "--prompt", "hi", "--rubric", "x"], None, "--rubric needs --judge"),
        (["--model", BIG, "--model", SMALL], '{"id": "a", "prompt": "x", "expect": {"startswith": "y"}}\n', "expect"),
        (["--model", BIG, "--model", SMALL], '{"id": "a", "prompt": "x", "expect": {"regex": "("}}\n', "regex"),
        (["--model", BIG, "--model", SMALL], '{"id": "a", "prompt": "x"}\n{"id": "a", "prompt": "y"}\n', "duplicate"),
        (["--model", BIG, "--model", SMALL], "", "empty"),
    ],
)
def test_bad_usage_exits_2_before_anything_is_sent(run, models, args, stdin, message):
    result = run("compare", *args, stdin=stdin)
    assert result.code == 2 and message in result.err
    assert models.requests == []


def test_the_built_in_json_schema_check_covers_type_required_properties_enum_and_items():
    from gradient_inference.compare import quality

    schema = {
        "type": "object",
        "required": ["name", "tags"],
        "properties": {"name": {"type": "string"}, "kind": {"enum": ["a", "b"]},
                       "tags": {"type": "array", "items": {"type": "integer"}}},
    }  # fmt: skip
    assert quality.problems({"name": "x", "kind": "a", "tags": [1, 2]}, schema) == []
    assert quality.problems({"name": "x", "tags": [1, "2"]}, schema) == ["$.tags[1]: not of type integer"]
    assert quality.problems({"name": 1, "kind": "c"}, schema) == [
        "$: tags is required", "$.name: not of type string", "$.kind: not one of ['a', 'b']"]  # fmt: skip
    assert quality.problems([], schema) == ["$: not of type object"]


def test_client_compare_and_the_mcp_tool_make_the_same_calls(models, data_dir, cache_dir):
    from types import SimpleNamespace

    from fake_gradient import API_KEY

    from gradient_inference import Client
    from gradient_inference.mcpserver import tools
    from gradient_inference.pipeline import settings

    lines = [{"id": "capital", "prompt": "capital of France?", "expect": {"contains": "Paris"}}]
    with Client(API_KEY, base_url=models.url, data_dir=data_dir, cache_dir=cache_dir) as client:
        report = client.compare([BIG, SMALL, LLAMA], lines, judge=JUDGE, concurrency=3)
    assert report["models"][SMALL]["pass_rate"] == 1.0 and report["models"][LLAMA]["score"] == 2.0
    assert report["recommendation"]["model"] == SMALL and report["judge"]["calls"] == 3
    with pytest.raises(ValueError, match="unknown compare option"):
        Client(API_KEY, base_url=models.url, data_dir=data_dir).compare([BIG, SMALL], ["hi"], colour=True)
    built = settings.build(api_key=API_KEY, base_url=models.url, data_dir=str(data_dir), cache_dir=str(cache_dir))
    arguments = {"models": [BIG, SMALL], "prompts": ["capital of France?"], "max_tokens": 50}
    schema = tools.schemas()["compare"]["schema"]
    text, out, _ = tools.call("compare", arguments, schema, SimpleNamespace(settings=built, output_dir=""))
    assert text.startswith("| model |") and out["recommendation"]["model"] == SMALL
    assert [r["command"] for r in rows(data_dir)].count("python") == 6
    assert [r["command"] for r in rows(data_dir)].count("compare") == 2
    with pytest.raises(tools.ToolError, match="models"):
        tools.call("compare", {"models": [BIG], "prompts": ["hi"]}, schema, SimpleNamespace(settings=built))
