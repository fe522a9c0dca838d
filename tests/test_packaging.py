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
from conftest import HELP_MODULES, ROOT, command_module
from fake_gradient import API_KEY

SCRIPTS = ROOT / "scripts"
PACKAGE = ROOT / "gradient_inference"
# Every file in scripts/ is a command's launcher; the command itself is gradient_inference/commands/NAME.py.
SCRIPT_NAMES = sorted(p.stem.removeprefix("gradient_") for p in SCRIPTS.glob("gradient_*.py"))
COMMANDS = PACKAGE / "commands"
BIN = Path(sys.executable).parent


def module_name(path: Path) -> str:
    """gradient_inference/llm/tools.py -> gradient_inference.llm.tools (a package's __init__ -> the package)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def test_top_level_layout():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    top = {p.split("/")[0] for p in tracked}
    assert top <= {
        "SKILL.md",
        "references",
        "scripts",
        "gradient_inference",
        "tests",
        "snapshots",
        "pyproject.toml",
        "README.md",
        "LICENSE",
        ".ci",
        ".gitignore",
    }
    assert {"SKILL.md", "scripts", "gradient_inference", "tests", "snapshots", "pyproject.toml", "README.md"} <= top
    assert {"LICENSE", ".ci"} <= top


def test_every_file_directly_in_scripts_is_a_runnable_command():
    """scripts/ holds what a person or an agent runs, nothing else: each file launches one command."""
    entries = sorted(p.name for p in SCRIPTS.iterdir() if p.name != "__pycache__")
    assert entries == [f"gradient_{name}.py" for name in SCRIPT_NAMES]
    assert len(SCRIPT_NAMES) >= 7
    for name in SCRIPT_NAMES:
        script = SCRIPTS / f"gradient_{name}.py"
        assert script.read_text().startswith("#!/usr/bin/env python3\n"), script
        assert (COMMANDS / f"{name}.py").is_file(), f"no gradient_inference/commands/{name}.py for {script.name}"
        proc = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True)
        assert proc.returncode == 0 and f"gradient-{name}" in proc.stdout, proc.stderr
    # and every command module has its launcher and its console script
    assert sorted(p.stem for p in COMMANDS.glob("*.py") if p.stem != "__init__") == SCRIPT_NAMES
    pyproject = (ROOT / "pyproject.toml").read_text()
    for name in SCRIPT_NAMES:
        assert f'gradient-{name} = "gradient_inference.commands.{name}:run"' in pyproject


def test_the_wheel_installs_one_top_level_package(tmp_path):
    """pip install . adds gradient_inference and nothing else at the top of site-packages (plus the snapshot data)."""
    import zipfile

    source = tmp_path / "source"  # a copy, so that a build/ folder left in the checkout cannot leak into it
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("gradient_inference", "snapshots"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("gradient_inference-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"gradient_inference"}
    data = sorted(n.split(".data/", 1)[1] for n in names if ".data/" in n)
    assert data == ["data/share/gradient-inference/snapshots/pricing.json"]
    packaged = {n for n in names if n.startswith("gradient_inference/") and n.endswith(".py")}
    assert packaged == {p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py")}  # every module ships


def help_text(name: str, *subcommand: str) -> str:
    """The command's --help, followed by each of its subcommands' (e.g. gradient-batch run --help)."""
    script = str(ROOT / "scripts" / f"gradient_{name}.py")
    proc = subprocess.run([sys.executable, script, *subcommand, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    subcommands = [] if subcommand else re.findall(r"^    ([a-z]+)  ", proc.stdout, re.M)  # listed, indented
    return proc.stdout + "".join(help_text(name, sub) for sub in subcommands)


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_every_flag_is_documented_for_agents(name):
    """SKILL.md stays short: a flag may live in a reference it links (tests/test_docs.py checks the links)."""
    docs = "".join(p.read_text() for p in [ROOT / "SKILL.md", *(ROOT / "references").glob("*.md")])
    flags = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", help_text(name))) - {"--help"}
    assert flags
    assert sorted(f for f in flags if f not in docs) == []


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_help_imports_only_what_argparse_itself_needs(name, imported_modules):
    """--help is start-up bound: beyond a bare argparse parser's help, only the command and the CLI module load."""
    floor, _ = imported_modules("-c", "import argparse; argparse.ArgumentParser().print_help()")
    imported, _ = imported_modules(str(ROOT / "scripts" / f"gradient_{name}.py"), "--help")
    assert not imported & {"requests", "bs4", "tabulate", "urllib3", "sqlite3"}
    assert sorted(imported - floor - HELP_MODULES - {command_module(name)}) == []


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_without_bytecode_beside_the_package_it_is_kept_in_the_cache_folder(name, tmp_path):
    """PYTHONDONTWRITEBYTECODE=1 (or a read-only folder) must not mean recompiling our modules on every call."""
    copy = tmp_path / "skill"
    for folder in ("scripts", "gradient_inference"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "GRADIENT_CACHE_DIR": str(tmp_path / "cache")}
    for _ in range(2):
        proc = subprocess.run([sys.executable, str(copy / "scripts" / f"gradient_{name}.py"), "--help"], env=env)
        assert proc.returncode == 0
    cached = {p.relative_to(tmp_path / "cache" / "pycache") for p in (tmp_path / "cache" / "pycache").rglob("*.pyc")}
    names = {f"{p.parent.name}.{p.name.split('.')[0]}" for p in cached}
    assert {"cli.base", f"commands.{name}"} <= names
    assert all(str(p).startswith(str(copy / "gradient_inference").lstrip("/")) for p in cached)  # ours only
    assert not list(copy.rglob("__pycache__"))  # nothing written beside the package or the scripts
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700  # the price cache's folder stays private


def test_no_file_in_scripts_or_the_package_is_over_450_lines():
    files = [*SCRIPTS.glob("*.py"), *PACKAGE.rglob("*.py")]
    assert len(files) > 30
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in files}
    assert {name: n for name, n in sizes.items() if n > 450} == {}


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_help_loads_at_most_300_lines_of_the_package_besides_the_command(name, imported_modules):
    imported, _ = imported_modules(str(SCRIPTS / f"gradient_{name}.py"), "--help")
    ours = {m for m in imported if m.startswith("gradient_inference")} - {command_module(name)}
    assert ours == {m for m in HELP_MODULES if m.startswith("gradient_inference")}
    assert sum(len(MODULES[m].read_text().splitlines()) for m in ours) <= 300


def imports_of(path: Path) -> set[str]:
    """The package modules that a module imports, at the top or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from gradient_inference.llm import tools` imports the module gradient_inference.llm.tools
            subs = {f"{node.module}.{alias.name}" for alias in node.names} & MODULES.keys()
            names |= subs or {node.module}
    return {n for n in names if n in MODULES}


def test_modules_import_each_other_without_cycles():
    """Every import between our modules, at the top or inside functions, forms no cycle (a package's __init__
    that imports boot is the one edge every module has, and is left out)."""
    edges = {name: imports_of(path) - {name, "gradient_inference"} for name, path in MODULES.items()}
    assert sum(len(e) for e in edges.values()) > 40  # the walk sees the imports

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
