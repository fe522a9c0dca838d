"""Layout, packaging, docs and start-up cost: what a new user and an agent rely on."""

from __future__ import annotations

import ast
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HELP_MODULES, ROOT
from fake_gradient import API_KEY

SCRIPTS = ROOT / "scripts"
# Commands are the scripts with a parser; the other gradient_*.py files are helper modules.
SCRIPT_NAMES = sorted(
    p.stem.removeprefix("gradient_") for p in SCRIPTS.glob("gradient_*.py") if "def build_parser" in p.read_text()
)
HELPERS = sorted(p.stem for p in SCRIPTS.glob("gradient_*.py") if p.stem.removeprefix("gradient_") not in SCRIPT_NAMES)
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


def help_text(name: str, *subcommand: str) -> str:
    """The command's --help, followed by each of its subcommands' (e.g. gradient-batch run --help)."""
    script = str(ROOT / "scripts" / f"gradient_{name}.py")
    proc = subprocess.run([sys.executable, script, *subcommand, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    subcommands = [] if subcommand else re.findall(r"^    ([a-z]+)  ", proc.stdout, re.M)  # listed, indented
    return proc.stdout + "".join(help_text(name, sub) for sub in subcommands)


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
    assert sorted(imported - floor - HELP_MODULES) == []


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_without_bytecode_beside_the_scripts_it_is_kept_in_the_cache_folder(name, tmp_path):
    """PYTHONDONTWRITEBYTECODE=1 (or a read-only folder) must not mean recompiling our modules on every call."""
    copy = tmp_path / "skill"
    shutil.copytree(SCRIPTS, copy / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "GRADIENT_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(2):
        proc = subprocess.run([sys.executable, str(copy / "scripts" / f"gradient_{name}.py"), "--help"], env=env)
        assert proc.returncode == 0
    cached = {p.name.split(".")[0] for p in (tmp_path / "cache" / "pycache").rglob("*.pyc")}
    assert "gradient_cli" in cached and {p.split(".")[0] for p in cached} <= set(HELPERS)  # ours only
    assert not list(copy.rglob("__pycache__"))  # nothing written beside the scripts
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700  # the price cache's folder stays private


def test_no_file_in_scripts_is_over_450_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in SCRIPTS.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 450} == {}


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_help_loads_at_most_300_lines_of_helper_modules(name, imported_modules):
    imported, _ = imported_modules(str(SCRIPTS / f"gradient_{name}.py"), "--help")
    helpers = imported & set(HELPERS)
    assert helpers == {"gradient_boot", "gradient_cli"}
    assert sum(len((SCRIPTS / f"{h}.py").read_text().splitlines()) for h in helpers) <= 300


def test_helper_modules_import_each_other_without_cycles():
    """Every import between our modules, at the top or inside functions, forms no cycle."""
    edges: dict[str, set[str]] = {}
    for path in SCRIPTS.glob("gradient_*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        edges[path.stem] = {n for n in names if n.startswith("gradient_") and n != path.stem}

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, f"import cycle: {' -> '.join((*trail, module))}"
        for nxt in edges.get(module, ()):
            visit(nxt, (*trail, module))

    for module in edges:
        visit(module, ())


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
