"""Shared fixtures: every test gets its own data, config and store directories."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from paperbot import catalog
from paperbot.catalog import Entry
from paperbot.cli import main

CATALOG_FILE = (
    Path(__file__).resolve().parents[1] / "store" / "neurips2025-efficient-multimodal.txt"
)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for variable in ("PAPERBOT_STORE", "PAPERBOT_CATALOG", "PAPERBOT_K", "PAPERBOT_DEBUG"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def catalog_file() -> Path:
    return CATALOG_FILE


@pytest.fixture(scope="session")
def entries() -> list[Entry]:
    return catalog.load(CATALOG_FILE)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run the paperbot CLI in-process, the way the console script does."""

    def invoke(*args: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def model_args(server, tmp_path) -> list[str]:
    """Flags that point paperbot at the loopback server, with a store of the test's own."""
    return ["--model", "openai/stub", "--api-base", server.api_base, "--store", str(tmp_path / "s")]


@pytest.fixture
def server():
    """An OpenAI-compatible server on loopback whose replies each test scripts."""
    from openai_server import OpenAIServer

    running = OpenAIServer().start()
    yield running
    running.stop()
