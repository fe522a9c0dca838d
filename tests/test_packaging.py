"""Layout, packaging, docs and start-up cost: what a new user and an agent rely on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from fake_gradient import API_KEY

SCRIPT_NAMES = ["models", "chat", "image", "pricing"]
BIN = Path(sys.executable).parent


def test_top_level_layout():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    top = {p.split("/")[0] for p in tracked}
    assert top <= {
        "SKILL.md",
        "references",
        "scripts",
        "tests",
        "snapshots",
        "pyproject.toml",
        "README.md",
        "LICENSE",
        ".ci",
        ".gitignore",
    }
    assert {"SKILL.md", "scripts", "tests", "snapshots", "pyproject.toml", "README.md", "LICENSE", ".ci"} <= top


def help_text(name: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / f"gradient_{name}.py"), "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_every_flag_is_documented_in_skill_and_readme(name):
    skill = (ROOT / "SKILL.md").read_text()
    readme = (ROOT / "README.md").read_text()
    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", help_text(name))) - {"--help"}
    assert flags
    assert sorted(f for f in flags if f not in skill) == []
    assert sorted(f for f in flags if f not in readme) == []


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_help_imports_only_what_argparse_itself_needs(name, imported_modules):
    """--help is start-up bound: beyond a bare argparse parser's help, only our helper may load."""
    floor, _ = imported_modules("-c", "import argparse; argparse.ArgumentParser().print_help()")
    imported, _ = imported_modules(str(ROOT / "scripts" / f"gradient_{name}.py"), "--help")
    assert not imported & {"requests", "bs4", "tabulate", "urllib3"}
    assert sorted(imported - floor - {"__future__", "gradient_cli"}) == []


def test_skill_frontmatter_passes_the_reference_validator(tmp_path):
    validator = shutil.which("agentskills", path=str(BIN)) or shutil.which("agentskills")
    if validator is None:
        pytest.skip("skills-ref not installed (needs Python 3.11+)")
    skill_dir = tmp_path / "gradient-inference"  # the validator wants the folder named like the skill
    skill_dir.mkdir()
    shutil.copy(ROOT / "SKILL.md", skill_dir / "SKILL.md")
    proc = subprocess.run([validator, "validate", str(skill_dir)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_skill_metadata_has_the_openclaw_block():
    head = (ROOT / "SKILL.md").read_text().split("---")[1]
    for needle in ("clawdbot:", "emoji:", "primaryEnv: GRADIENT_API_KEY", "requires:", "env:", "bins:", "- python3"):
        assert needle in head
    keys = {line.split(":")[0] for line in head.splitlines() if line and not line.startswith(" ")}
    assert keys <= {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}


def test_installed_console_commands_work_from_any_folder(tmp_path, server):
    commands = {name: shutil.which(f"gradient-{name}", path=str(BIN)) for name in SCRIPT_NAMES}
    if not all(commands.values()):
        pytest.skip("package not installed in this environment (CI installs it with pip install '.[test]')")
    env = {
        **os.environ,
        "GRADIENT_API_KEY": API_KEY,
        "GRADIENT_BASE_URL": server.url,
        "GRADIENT_CACHE_DIR": str(tmp_path / "cache"),
    }
    for name in SCRIPT_NAMES:
        proc = subprocess.run([commands[name], "--help"], capture_output=True, text=True, cwd=tmp_path, env=env)
        assert proc.returncode == 0 and f"gradient-{name}" in proc.stdout
    models = subprocess.run([commands["models"], "--json"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert models.returncode == 0 and "openai-gpt-oss-120b" in models.stdout
    # the bundled snapshot travels with the install
    pricing = subprocess.run(
        [commands["pricing"], "--offline", "--json"], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert pricing.returncode == 0 and '"source": "snapshot"' in pricing.stdout, pricing.stderr
