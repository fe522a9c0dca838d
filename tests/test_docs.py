"""The docs an agent loads: SKILL.md short enough to read in one go, every reference linked from it, and every
flag of every command's --help (subcommands too) documented in SKILL.md or a reference."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import ROOT, SCRIPTS

SKILL = ROOT / "SKILL.md"
REFERENCES = ROOT / "references"
SKILL_LIMIT = 12_000  # characters
LAUNCHERS = sorted(SCRIPTS.glob("gradient_*.py"))


def help_of(script, *argv: str) -> str:
    proc = subprocess.run([sys.executable, str(script), *argv, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def subcommands(text: str) -> list[str]:
    """The subcommands a --help lists, indented under its COMMAND positional (gradient-batch's run, submit, ...)."""
    if not re.search(r"^usage: .* COMMAND \.\.\.", text, re.M):
        return []
    return re.findall(r"^    ([a-z]+)  ", text, re.M)


def flags(text: str) -> set[str]:
    """Every option a --help shows: what its option lines start with, e.g. `-o, --output PATH`."""
    found = set()
    for line in text.splitlines():
        if re.match(r"^  -", line):
            head = re.split(r"\s{2,}", line.strip())[0]
            found |= set(re.findall(r"(?<![\w-])--?[a-zA-Z][a-zA-Z0-9-]*", head))
    return found - {"-h", "--help"}


def all_help() -> dict[str, str]:
    """'gradient-NAME [SUB]' -> its --help, for every launcher and every subcommand it lists."""
    out = {}
    for script in LAUNCHERS:
        name = "gradient-" + script.stem.removeprefix("gradient_")
        text = out[name] = help_of(script)
        for sub in subcommands(text):
            out[f"{name} {sub}"] = help_of(script, sub)
    return out


def documented(flag: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text) is not None


def test_skill_md_is_under_the_limit():
    size = len(SKILL.read_text(encoding="utf-8"))
    assert size < SKILL_LIMIT, f"SKILL.md is {size} characters; move detail to references/ (limit {SKILL_LIMIT})"


def test_every_reference_is_linked_from_skill_md():
    skill = SKILL.read_text(encoding="utf-8")
    unlinked = [p.name for p in sorted(REFERENCES.glob("*.md")) if f"](references/{p.name}" not in skill]
    assert unlinked == []


def test_every_link_in_skill_md_to_a_reference_exists():
    skill = SKILL.read_text(encoding="utf-8")
    targets = set(re.findall(r"\]\((references/[^)#]+)", skill))
    assert targets and sorted(t for t in targets if not (ROOT / t).is_file()) == []


def test_the_help_parser_sees_every_command_and_subcommand():
    shown = all_help()
    assert {"gradient-batch run", "gradient-batch submit", "gradient-batch list"} <= set(shown)
    assert {"-n", "-q", "--jsonl"} <= flags(shown["gradient-logs"])
    assert {"-o", "--output"} <= flags(shown["gradient-audio"]) and "-c" in flags(shown["gradient-chat"])


@pytest.mark.parametrize("command, text", [pytest.param(c, t, id=c) for c, t in sorted(all_help().items())])
def test_every_flag_of_every_help_is_documented_in_skill_md_or_a_reference(command, text):
    docs = SKILL.read_text(encoding="utf-8") + "".join(p.read_text(encoding="utf-8") for p in REFERENCES.glob("*.md"))
    shown = flags(text)
    assert shown or subcommands(text), command  # gradient-batch itself only lists its subcommands
    assert sorted(f for f in shown if not documented(f, docs)) == [], command


@pytest.mark.parametrize("command, text", [pytest.param(c, t, id=c) for c, t in sorted(all_help().items())])
def test_every_flag_of_every_help_is_named_in_the_readme(command, text):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sorted(f for f in flags(text) if not documented(f, readme)) == [], command
