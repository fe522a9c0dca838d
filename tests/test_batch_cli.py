"""gradient-batch's command line: subcommand help is cheap, and every flag is documented."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import HELP_MODULES, ROOT, SCRIPTS, command_module

BATCH = str(SCRIPTS / "gradient_batch.py")


def subcommands() -> list[str]:
    out = subprocess.run([sys.executable, BATCH, "--help"], capture_output=True, text=True).stdout
    return re.findall(r"^    (\w+)\s", out, re.M)


def test_subcommands_are_listed():
    assert subcommands() == ["run", "submit", "status", "cancel", "results", "list"]


@pytest.mark.parametrize(
    "args",
    [["--help"], ["run", "--help"], ["run"], ["run", "x", "--concurrency", "0"], ["submit", "--help"], ["status", "x"]],
)
def test_help_and_usage_errors_load_only_the_cli_helper(args, imported_modules):
    floor, _ = imported_modules("-c", "import argparse; argparse.ArgumentParser().print_help()")
    proc = subprocess.run([sys.executable, "-X", "importtime", BATCH, *args], capture_output=True, text=True)
    assert proc.returncode == (0 if "--help" in args else 2)
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert sorted(imported - floor - HELP_MODULES - {command_module("batch")}) == []


def test_every_flag_of_every_subcommand_is_documented():
    skill = (ROOT / "SKILL.md").read_text() + (ROOT / "references" / "batch.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for name in subcommands():
        text = subprocess.run([sys.executable, BATCH, name, "--help"], capture_output=True, text=True).stdout
        flags = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", text)) - {"--help"}
        assert sorted(f for f in flags if f not in skill) == [], name
        assert sorted(f for f in flags if f not in readme) == [], name
        assert f"gradient-batch {name}" in skill and f"gradient-batch {name}" in readme
