"""The Textual chat (``paperbot`` or ``paperbot chat``)."""

from __future__ import annotations

from paperbot.config import Settings


def run(settings: Settings) -> int:
    """Run the chat until the user quits; the exit code (70 after an internal error)."""
    from paperbot.tui.app import PaperbotApp

    app = PaperbotApp(settings)
    app.run()
    return app.return_code or 0
