"""Rendering a comparison: the table (tabulate), bars for cost and latency, the answers side by side, and a
markdown table to paste into an issue or a pull request."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HEADERS = ["model", "calls", "errors", "latency p50/p95 ms", "ttft p50/p95 ms", "out tok/s", "tokens in/out",
           "cost USD", "pass rate", "score"]  # fmt: skip
BAR_WIDTH = 30
ANSWER_CHARS = 300  # of each answer, side by side


def _ms(pair: dict[str, float | None]) -> str:
    return "-" if pair["p50"] is None else f"{pair['p50']:.0f} / {pair['p95']:.0f}"


def _usd(usd: float | None) -> str:
    return "-" if usd is None else f"{usd:.6f}"


def rows(report: dict[str, Any]) -> list[list[str]]:
    out = []
    for model, f in report["models"].items():
        rate = f.get("output_tokens_per_s")
        out.append([
            model, str(f["calls"]), str(f["errors"]), _ms(f["latency_ms"]), _ms(f["ttft_ms"]),
            "-" if rate is None else f"{rate:.1f}", f"{f['tokens']['input']} / {f['tokens']['output']}",
            _usd(f["cost"]["usd"]), f"{f['pass_rate']:.0%}" if "pass_rate" in f else "-",
            f"{f['score']:.2f}" if "score" in f else "-",
        ])  # fmt: skip
    return out


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The judge's line and the recommendation, as sentences."""
    lines = []
    judge = report["judge"]
    if judge:
        lines.append(f"judge {judge['model']}: {judge['calls']} calls, {judge['errors']} errors, "
                     f"cost ${_usd(judge['cost']['usd'])}")  # fmt: skip
    rec = report["recommendation"]
    lines.append(f"recommendation: {rec['model'] or 'none'} ({rec['reason']})")
    return lines


def bars(report: dict[str, Any]) -> list[str]:
    """One bar per model for cost and for p50 latency, scaled to the largest."""
    lines: list[str] = []
    width = max(len(m) for m in report["models"])
    for title, value, shown in (
        ("cost (USD)", lambda f: f["cost"]["usd"], lambda v: f"${v:.6f}"),
        ("latency p50 (ms)", lambda f: f["latency_ms"]["p50"], lambda v: f"{v:.0f} ms"),
        ("time to first token p50 (ms)", lambda f: f["ttft_ms"]["p50"], lambda v: f"{v:.0f} ms"),
    ):
        values = {m: value(f) for m, f in report["models"].items()}
        top = max((v for v in values.values() if v is not None), default=None)
        if not top:
            continue
        lines.append(title)
        for model, v in values.items():
            bar = "-" if v is None else _bar(v / top)
            lines.append(f"  {model.ljust(width)}  {bar.ljust(BAR_WIDTH)}  {'n/a' if v is None else shown(v)}")
    return lines


def _bar(share: float) -> str:
    eighths = round(share * BAR_WIDTH * 8)
    full, rest = divmod(eighths, 8)
    return "\u2588" * full + ("" if not rest else " \u258f\u258e\u258d\u258c\u258b\u258a\u2589"[rest])


def answer_table(report: dict[str, Any]) -> tuple[list[list[str]], list[str]]:
    """(rows, headers): one row per prompt and run, one column per model."""
    import textwrap

    models = list(report["models"])
    width = max(20, min(60, 110 // max(1, len(models))))
    table = []
    for row in report["answers"]:
        cells = [row["id"] if report["runs"] == 1 else f"{row['id']} #{row['run']}"]
        for model in models:
            got = row["answers"].get(model)
            if got is None:
                cells.append("")
                continue
            text = got.get("content") if "content" in got else f"[error] {got['error']}"
            text = " ".join(str(text or "").split())
            text = text if len(text) <= ANSWER_CHARS else text[: ANSWER_CHARS - 3] + "..."
            marks = [("pass" if got["passed"] else "FAIL")] if "passed" in got else []
            marks += [f"score {got['score']:g}"] if "score" in got else []
            cells.append(textwrap.fill(text, width) + (f"\n[{', '.join(marks)}]" if marks else ""))
        table.append(cells)
    return table, ["prompt", *models]


def markdown(report: dict[str, Any], show_answers: bool = False) -> str:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", "<br>")

    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join(["---"] + ["--:"] * (len(HEADERS) - 1)) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows(report)]
    runs = f", {report['runs']} runs each" if report["runs"] > 1 else ""
    lines += ["", f"{report['prompts']} prompts{runs}. " + " ".join(f"{s[0].upper()}{s[1:]}." for s in
                                                                   summary_lines(report))]  # fmt: skip
    if show_answers:
        table, headers = answer_table(report)
        lines += ["", "| " + " | ".join(headers) + " |", "|" + "|".join(["---"] * len(headers)) + "|"]
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in table]
    return "\n".join(lines)
