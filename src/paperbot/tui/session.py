"""The conversation on screen, kept in the same SQLite history as ``paperbot ask -c``."""

from __future__ import annotations

from typing import Any

from paperbot.history import History, HistoryError
from paperbot.prompting import Turn


class Session:
    """The current conversation's id and records; a new chat has no id until it is logged."""

    def __init__(self, history: History, log: bool = True) -> None:
        self.history = history
        self.log = log
        self.id: str | None = None
        self.title: str | None = None
        self.records: list[dict[str, Any]] = []

    def turns(self) -> list[Turn]:
        return [Turn(record["question"], record["answer"]) for record in self.records]

    def add(self, record: dict[str, Any]) -> str | None:
        """Keep the answer in the conversation and log it; a warning when it was not logged."""
        self.records.append(record)
        if not self.log:
            return None
        try:
            stored = self.history.record(record, self.id)
        except HistoryError as error:
            return f"{error}; this answer was not logged"
        self.records[-1] = stored
        if self.id is None:
            self.id = stored["conversation_id"]
            self.title = " ".join(record["question"].split())
        return None

    def resume(self, conversation_id: str, title: str) -> None:
        """Raises HistoryError when the history cannot be read."""
        self.records = self.history.turns(conversation_id)
        self.id = conversation_id
        self.title = title

    def new(self) -> None:
        self.id = self.title = None
        self.records = []
