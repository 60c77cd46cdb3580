"""Fixtures for the chat's tests: one index built per session, apps, a loopback model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from paperbot import llm
from paperbot.config import Settings, resolve
from paperbot.tui.app import PaperbotApp
from paperbot.workspace import Workspace

from openai_server import OpenAIServer


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Textual runs on asyncio


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory, catalog_file: Path) -> Path:
    """The index, built once: embedding the catalog for every test would dominate the run."""
    path = tmp_path_factory.mktemp("store")
    # Settings built directly: a session fixture runs outside the per-test isolated config.
    Workspace(Settings(store=path, catalog=catalog_file)).retriever  # noqa: B018
    return path


@pytest.fixture
def make_app(store_dir: Path) -> Callable[..., PaperbotApp]:
    """An app over the shared index; a frozen clock keeps timings out of snapshots."""

    def make(**flags: Any) -> PaperbotApp:
        return PaperbotApp(resolve({"store": str(store_dir), **flags}), clock=lambda: 0.0)

    return make


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    running = OpenAIServer().start()
    yield running
    running.stop()


@pytest.fixture
def model_flags(server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(llm, "BACKOFF_SECONDS", 0.0)
    return {"model": "openai/stub", "api_base": server.api_base, "retries": 0, "timeout": 10}


@pytest.fixture
def notices(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(severity, message) of every notification any app shows."""
    shown: list[tuple[str, str]] = []
    original = PaperbotApp.notify

    def notify(self: PaperbotApp, message: str, **options: Any) -> None:
        shown.append((options.get("severity", "information"), message))
        original(self, message, **options)

    monkeypatch.setattr(PaperbotApp, "notify", notify)
    return shown
