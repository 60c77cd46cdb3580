"""Answers: the Answer every backend produces, and the pipeline from question to answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from paperbot.retrieval import Hit

EXTRACTIVE = "extractive"
QUESTION_OPENER = re.compile(
    r"^\s*(?:(?:what|who|which|how|why|when|where)\s+(?:is|are|was|were|does|do|did)?\s*|"
    r"tell me about\s+|(?:is|are|does|do|can)\s+(?:there\s+)?(?:a\s+|any\s+)?)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Answer:
    """An answer with the entries it cites; ``sources`` are the cited hits, best first."""

    question: str
    text: str
    citations: tuple[str, ...]
    sources: tuple[Hit, ...]
    backend: str
    abstained: bool

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "citations": list(self.citations),
            "sources": [
                {"id": h.entry.id, "name": h.entry.name, "score": round(h.score, 4)}
                for h in self.sources
            ],
            "backend": self.backend,
            "abstained": self.abstained,
        }


def abstention(question: str, backend: str) -> Answer:
    return Answer(
        question=question,
        text=f"The catalog has no entry about {_topic(question)}.",
        citations=(),
        sources=(),
        backend=backend,
        abstained=True,
    )


def _topic(question: str) -> str:
    topic = QUESTION_OPENER.sub("", question.strip(), count=1).strip().rstrip("?!. ")
    topic = " ".join(topic.split())
    if not topic:
        return "that question"
    if len(topic) > 120:
        topic = topic[:117].rstrip() + "…"
    return topic
