"""The report: per model its calls, errors, latency and time to first token (p50, p95), output tokens per second,
tokens, cost and quality (pass rate of the expect checks, mean judge score); the judge's own calls and cost; and
the recommendation: the cheapest model whose quality is within reach of the best.

Quality: `pass_rate` is the share of (prompt, run) answers with `expect` checks that pass them, a failed call
counting as not passing; `score` is the mean of the judge's 0-10 scores of the answers it graded. The
recommendation uses the score when there is one, else the pass rate; `within` defaults to 0.5 points of score or
0.05 of pass rate. With no quality signal it ranks by cost per call, then p50 latency."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

WITHIN = {"score": 0.5, "pass_rate": 0.05}


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    at = (len(ordered) - 1) * q / 100
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (at - low), 3)


def report(models, prompts, runs: int, done: dict, judge: str | None, within: float | None, estimate: dict) -> dict:
    from gradient_inference.compare import quality

    def current(key: tuple, prompt: dict) -> dict | None:
        line = done.get(key)
        return line if line and line.get("digest") == prompt["digest"] else None

    per_model: dict[str, dict[str, Any]] = {}
    answers: list[dict[str, Any]] = []
    judged: list[dict] = []
    for run in range(1, runs + 1):
        for prompt in prompts:
            row = {"id": prompt["id"], "run": run, "answers": {}}
            for model in models:
                line = current(answer_key(model, prompt["id"], run), prompt)
                grade = current(judge_key(judge, model, prompt["id"], run), prompt) if judge else None
                if grade is not None:
                    judged.append(grade)
                if line is None:
                    continue
                entry = per_model.setdefault(model, {"lines": [], "checked": 0, "passed": 0, "scores": []})
                entry["lines"].append(line)
                passed = None
                if prompt["expect"]:
                    passed = bool(line["ok"]) and quality.passes(prompt["expect"], line.get("content") or "")
                    entry["checked"] += 1
                    entry["passed"] += passed
                if grade is not None and grade.get("ok"):
                    entry["scores"].append(grade["score"])
                shown = {"content": line["content"]} if line["ok"] else {"error": line["error"]["message"]}
                if passed is not None:
                    shown["passed"] = passed
                if grade is not None and grade.get("ok"):
                    shown["score"] = grade["score"]
                row["answers"][model] = shown
            answers.append(row)
    figures = {model: model_figures(per_model.get(model)) for model in models}
    out: dict[str, Any] = {
        "models": figures,
        "judge": judge_figures(judge, judged),
        "recommendation": recommend(figures, within),
        "prompts": len(prompts),
        "runs": runs,
        "estimate": estimate,
        "answers": answers,
    }
    failures = [(m, f["first_error"]) for m, f in figures.items() if f["errors"]]
    failed = sum(f["errors"] for f in figures.values()) + (out["judge"]["errors"] if judge else 0)
    first = f"{failures[0][0]}: {failures[0][1]}" if failures else (out["judge"] or {}).get("first_error")
    out["failed"] = {"calls": failed, "first": first}
    return out


def model_figures(entry: dict | None) -> dict[str, Any]:
    lines = entry["lines"] if entry else []
    ok = [line for line in lines if line["ok"]]
    bad = [line for line in lines if not line["ok"]]
    latency = [line["latency_ms"] for line in ok]
    out_tokens = sum((line["usage"] or {}).get("output_tokens") or 0 for line in ok)
    in_tokens = sum((line["usage"] or {}).get("input_tokens") or 0 for line in ok)
    priced = [line["cost"]["usd"] for line in ok if line.get("cost")]
    usd = round(sum(priced), 8) if priced else None
    figures: dict[str, Any] = {
        "calls": len(lines),
        "ok": len(ok),
        "errors": len(bad),
        "first_error": bad[0]["error"]["message"] if bad else None,
        "latency_ms": {"p50": percentile(latency, 50), "p95": percentile(latency, 95)},
        "ttft_ms": {
            "p50": percentile([x["ttft_ms"] for x in ok], 50),
            "p95": percentile([x["ttft_ms"] for x in ok], 95),
        },
        "output_tokens_per_s": round(out_tokens / (sum(latency) / 1000), 1) if latency and sum(latency) else None,
        "tokens": {"input": in_tokens, "output": out_tokens},
        "cost": {
            "usd": usd,
            "per_call_usd": round(usd / len(priced), 8) if priced else None,
            "unpriced_calls": len(ok) - len(priced),
        },
    }
    if entry and entry["checked"]:
        figures["pass_rate"] = round(entry["passed"] / entry["checked"], 4)
        figures["checked"] = entry["checked"]
    if entry and entry["scores"]:
        figures["score"] = round(sum(entry["scores"]) / len(entry["scores"]), 3)
        figures["scored"] = len(entry["scores"])
    return figures


def judge_figures(judge: str | None, lines: list[dict]) -> dict[str, Any] | None:
    if not judge:
        return None
    ok = [line for line in lines if line["ok"]]
    bad = [line for line in lines if not line["ok"]]
    priced = [line["cost"]["usd"] for line in ok if line.get("cost")]
    return {
        "model": judge,
        "calls": len(lines),
        "errors": len(bad),
        "first_error": f"judge {judge}: {bad[0]['error']['message']}" if bad else None,
        "cost": {"usd": round(sum(priced), 8) if priced else None},
    }


def recommend(figures: dict[str, dict[str, Any]], within: float | None) -> dict[str, Any]:
    """{model, basis, within, reason, ranking}: see the module's docstring."""
    answered = {m: f for m, f in figures.items() if f["ok"]}
    if not answered:
        return {"model": None, "basis": None, "within": None, "reason": "no model answered", "ranking": []}

    def thrift(model: str) -> tuple:
        f = answered[model]
        per_call = f["cost"]["per_call_usd"]
        return (per_call is None, per_call or 0.0, f["latency_ms"]["p50"] or 0.0)

    basis = next((b for b in ("score", "pass_rate") if any(b in f for f in answered.values())), None)
    if basis is None:
        ranking = sorted(answered, key=thrift)
        reason = (f"no quality signal (no expect checks, no --judge): ranked by cost per call, then p50 latency; "
                  f"{ranking[0]} is {_cost_words(answered[ranking[0]])}")  # fmt: skip
        return {"model": ranking[0], "basis": "cost", "within": None, "reason": reason, "ranking": ranking}
    margin = WITHIN[basis] if within is None else within
    rated = {m: f[basis] for m, f in answered.items() if basis in f}
    best_model = max(rated, key=lambda m: (rated[m], [-x for x in thrift(m)[1:]]))
    best = rated[best_model]
    good = sorted((m for m in rated if rated[m] >= best - margin - 1e-9), key=thrift)
    pick = good[0]
    word = "score" if basis == "score" else "pass rate"
    if pick == best_model:
        reason = f"{pick} has the best {word} ({_q(best, basis)}) and is the cheapest within {margin:g} of it"
    else:
        reason = (f"{pick}: {word} {_q(rated[pick], basis)}, within {margin:g} of the best ({best_model}, "
                  f"{_q(best, basis)}), and the cheapest of those ({_cost_words(answered[pick])})")  # fmt: skip
    ranking = good + sorted((m for m in answered if m not in good), key=lambda m: (-rated.get(m, -1), thrift(m)))
    return {"model": pick, "basis": basis, "within": margin, "reason": reason, "ranking": ranking}


def _q(value: float, basis: str) -> str:
    return f"{value:.2f}" if basis == "score" else f"{value:.0%}"


def _cost_words(figures: dict[str, Any]) -> str:
    per_call = figures["cost"]["per_call_usd"]
    return "unpriced" if per_call is None else f"${per_call:.6f} per call"


def answer_key(model: str, pid: str, run: int) -> tuple:
    return ("answer", model, pid, run)


def judge_key(judge: str, model: str, pid: str, run: int) -> tuple:
    return ("judge", judge, model, pid, run)
