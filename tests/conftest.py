"""Fixtures: the loopback fake Gradient API and a runner that calls the scripts as an agent would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_gradient import API_KEY, FakeGradient
from spec_checks import check_request

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
sys.path.insert(0, str(ROOT))  # the package, as the scripts find it from a checkout
# What --help may load beyond argparse's own imports, besides the command's own module: the package, its boot
# module with its cache loader (importlib.machinery, only where Python writes no bytecode beside the package), and
# the CLI module.
HELP_MODULES = {
    "__future__",
    "gradient_inference",
    "gradient_inference.boot",
    "gradient_inference.cli",
    "gradient_inference.cli.base",
    "gradient_inference.commands",
    "importlib",
    "importlib.machinery",
}


def command_module(name: str) -> str:
    """The package module that holds the command gradient-NAME."""
    return f"gradient_inference.commands.{name}"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def err_json(self) -> Any:
        lines = [line for line in self.err.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one JSON line on stderr, got: {self.err!r}"
        return json.loads(lines[0])


@pytest.fixture
def imported_modules():
    """imported_modules(*python_args, env=None) -> (names of every module imported, stdout); the run must succeed."""

    def _imported(*args: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
        proc = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        return {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}, proc.stdout

    return _imported


def pytest_configure(config) -> None:
    import tempfile

    # Subprocesses started without the run fixture keep their history here too, never in ~/.local/share.
    os.environ["GRADIENT_DATA_DIR"] = tempfile.mkdtemp(prefix="gradient-test-data-")
    config.addinivalue_line("markers", "off_spec(*fields): the test sends these fields off the spec on purpose")


@pytest.fixture
def spec_check(request, server: FakeGradient):
    """After the test, every request body the server received on a checked API path must meet DigitalOcean's
    spec (tests/spec_checks.py), except problems in fields named by an `off_spec` marker."""
    yield
    marker = request.node.get_closest_marker("off_spec")
    allowed = tuple(marker.args) if marker else ()
    for seen in server.requests:
        problems = check_request(seen["path"], seen["body"]) if seen["method"] == "POST" else None
        problems = [p for p in problems or [] if not p.startswith(allowed)]
        assert problems == [], f"{seen['path']} body {seen['body']!r} breaks the spec: {problems}"


@pytest.fixture(scope="session")
def server_instance():
    fake = FakeGradient().start()
    yield fake
    fake.stop()


@pytest.fixture
def server(server_instance: FakeGradient) -> FakeGradient:
    server_instance.reset()
    return server_instance


@pytest.fixture
def files_host(server: FakeGradient):
    """The fal async-invoke and embeddings routes, and the file host on 127.0.0.2 they hand URLs from."""
    import fake_media

    return fake_media.install(server)


@pytest.fixture(scope="module")
def catalog_instance():
    """The fake Model Catalog (tests/fake_catalog.py) on 127.0.0.2."""
    import fake_catalog

    host = fake_catalog.start()
    yield host
    host.stop()


@pytest.fixture
def catalog(catalog_instance):
    from fake_gradient import API_KEY

    catalog_instance.reset()
    catalog_instance.page_size = 2
    yield catalog_instance
    for seen in catalog_instance.requests:  # the model key never reaches the catalog host
        assert API_KEY not in json.dumps(seen["headers"])


@pytest.fixture
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Outside tmp_path (the scripts' working folder), so listings of written files never see it."""
    return tmp_path_factory.mktemp("c") / "cache"


@pytest.fixture
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The history's folder for this test (GRADIENT_DATA_DIR): never the user's ~/.local/share."""
    return tmp_path_factory.mktemp("d") / "data"


@pytest.fixture
def run(server: FakeGradient, cache_dir: Path, tmp_path: Path, data_dir: Path):
    """run('chat', '--prompt', 'hi') -> Result. Checks the output contract on every call."""

    def _run(
        script: str,
        *args: str,
        stdin: str | None = None,
        env: dict[str, str | None] | None = None,
        timeout: float = 60,
        cwd: Path | None = None,
    ) -> Result:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADIENT_", "MODEL_ACCESS"))}
        full_env.update(
            {
                "GRADIENT_API_KEY": API_KEY,
                "GRADIENT_BASE_URL": server.url,
                "GRADIENT_CACHE_DIR": str(cache_dir),
                "GRADIENT_DATA_DIR": str(data_dir),
                "NO_PROXY": "*",
                "PYTHONIOENCODING": "utf-8",
            }
        )
        for name, value in (env or {}).items():
            if value is None:
                full_env.pop(name, None)
            else:
                full_env[name] = value
        proc = subprocess.run(
            [sys.executable, str(SCRIPTS / f"gradient_{script}.py"), *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            cwd=cwd or tmp_path,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        assert_contract(result, verbose="--verbose" in args or bool((env or {}).get("GRADIENT_LOG")))
        return result

    return _run


def assert_contract(result: Result, verbose: bool = False) -> None:
    """What holds for every run: no traceback, no key, one-line errors, documented exit codes."""
    assert "Traceback" not in result.err, result.err
    for secret in (API_KEY, API_KEY[:12], API_KEY[-12:]):
        assert secret not in result.out and secret not in result.err
    assert result.code in (0, 1, 2, 130), result
    if result.code == 1 and not verbose:
        assert result.err.strip(), "a failure must say why on stderr"
        assert len(result.err.strip().splitlines()) == 1, f"error must be one line: {result.err!r}"
