"""Conversation history in SQLite: every answer, with what produced it.

A record has the same shape as ``paperbot ask --json`` (the simonw/llm convention), plus its
id, conversation and time. API keys are never stored: settings are kept without secrets.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
create table if not exists conversations (
    id text primary key,
    title text not null,
    created text not null,
    updated text not null
);
create table if not exists responses (
    id integer primary key autoincrement,
    conversation_id text not null references conversations(id) on delete cascade,
    created text not null,
    question text not null,
    answer text not null,
    record text not null
);
create index if not exists responses_by_conversation on responses(conversation_id, id);
"""


class HistoryError(RuntimeError):
    """The history database cannot be used; answering goes on without it."""


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created: str
    updated: str
    turns: int


class History:
    """The SQLite log at ``path``; opened per operation so a damaged file never blocks asking."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=5)
        except (OSError, sqlite3.Error) as error:
            raise HistoryError(f"cannot open the history at {self.path}: {error}") from None
        try:
            connection.execute("pragma foreign_keys = on")
            connection.executescript(SCHEMA)
            with connection:
                yield connection
        except sqlite3.DatabaseError as error:
            raise HistoryError(
                f"the history at {self.path} is unusable ({error}); "
                "move it aside to start a new one"
            ) from None
        finally:
            connection.close()

    def record(self, record: dict[str, Any], conversation_id: str | None = None) -> dict[str, Any]:
        """Store one answer; a new conversation is started unless one is named."""
        now = _now()
        with self._connect() as db:
            if conversation_id is None:
                conversation_id = uuid.uuid4().hex[:12]
                db.execute(
                    "insert into conversations (id, title, created, updated) values (?, ?, ?, ?)",
                    (conversation_id, _title(record["question"]), now, now),
                )
            else:
                db.execute(
                    "update conversations set updated = ? where id = ?", (now, conversation_id)
                )
            stored = {**record, "conversation_id": conversation_id, "created": now}
            cursor = db.execute(
                "insert into responses (conversation_id, created, question, answer, record) "
                "values (?, ?, ?, ?, ?)",
                (conversation_id, now, record["question"], record["answer"], json.dumps(stored)),
            )
            stored["id"] = cursor.lastrowid
        return stored

    def last_conversation_id(self) -> str | None:
        with self._connect() as db:
            row = db.execute(
                "select id from conversations order by updated desc, rowid desc limit 1"
            ).fetchone()
        return row[0] if row else None

    def turns(self, conversation_id: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "select id, record from responses where conversation_id = ? order by id",
                (conversation_id,),
            ).fetchall()
        return [{**json.loads(record), "id": row_id} for row_id, record in rows]

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest answers, newest first."""
        with self._connect() as db:
            rows = db.execute(
                "select id, record from responses order by id desc limit ?", (limit,)
            ).fetchall()
        return [{**json.loads(record), "id": row_id} for row_id, record in rows]

    def count(self) -> int:
        with self._connect() as db:
            return db.execute("select count(*) from responses").fetchone()[0]

    def conversations(self, limit: int = 50) -> list[Conversation]:
        with self._connect() as db:
            rows = db.execute(
                "select c.id, c.title, c.created, c.updated, count(r.id) from conversations c "
                "left join responses r on r.conversation_id = c.id "
                "group by c.id order by c.updated desc, c.rowid desc limit ?",
                (limit,),
            ).fetchall()
        return [Conversation(*row) for row in rows]

    def rename(self, conversation_id: str, title: str) -> None:
        with self._connect() as db:
            db.execute("update conversations set title = ? where id = ?", (title, conversation_id))

    def delete(self, conversation_id: str) -> None:
        with self._connect() as db:
            db.execute("delete from responses where conversation_id = ?", (conversation_id,))
            db.execute("delete from conversations where id = ?", (conversation_id,))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _title(question: str) -> str:
    words = " ".join(question.split())
    return words if len(words) <= 60 else words[:59] + "…"
