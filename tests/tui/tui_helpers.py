"""Helpers for the Pilot tests: poll for a condition instead of pausing a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from paperbot.tui.app import PaperbotApp

TIMEOUT = 20.0


async def wait_until(
    pilot: Pilot, condition: Callable[[], object], what: str = "", timeout: float = TIMEOUT
) -> None:
    """Let the app run until ``condition()`` holds; a single pause is not enough for work
    that happens in threads and arrives as messages."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")
        await pilot.pause(0.02)


async def ready(pilot: Pilot) -> PaperbotApp:
    app = pilot.app
    assert isinstance(app, PaperbotApp)
    await wait_until(pilot, lambda: app.index_state == "ready", "the index")
    return app


async def ask(pilot: Pilot, question: str) -> None:
    """Type a question, send it, and wait for the answer to be rendered whole."""
    app = await ready(pilot)
    before = len(app.transcript.exchanges)
    app.prompt.replace_text(question)
    await pilot.press("enter")
    await wait_until(
        pilot,
        lambda: app.job is None and len(app.transcript.exchanges) > before,
        f"the answer to {question!r}",
    )
    await wait_until(pilot, lambda: app.transcript.exchanges[-1].record is not None, "the record")
