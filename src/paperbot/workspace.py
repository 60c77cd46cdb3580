"""The loaded pieces one paperbot run works with: settings, catalog, store and retriever.

Each piece loads on first use, because importing chromadb and loading embeddings costs about a
second and commands such as ``catalog`` need neither.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from paperbot import catalog
from paperbot.answer import Answer, cited_ids, condensed_question, model_answer
from paperbot.catalog import Entry
from paperbot.config import Settings
from paperbot.embedding import make_embedder
from paperbot.extractive import extractive_answer
from paperbot.prompting import Turn
from paperbot.retrieval import Hit, Retriever
from paperbot.store import Progress, Store, SyncReport


@dataclass
class Workspace:
    settings: Settings
    progress: Progress | None = None

    @property
    def imports_dir(self) -> Path:
        return self.settings.data_dir / "catalogs"

    @cached_property
    def entries(self) -> list[Entry]:
        return catalog.load_library(self.imports_dir, self.settings.catalog)

    @cached_property
    def store(self) -> Store:
        return Store(self.settings.store, make_embedder())

    @cached_property
    def retriever(self) -> Retriever:
        self.sync()
        return Retriever(self.entries, self.store)

    def sync(self, rebuild: bool = False) -> SyncReport:
        if rebuild:
            return self.store.rebuild(self.entries, self.progress)
        return self.store.sync(self.entries, self.progress)

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        return self.retriever.search(query, k or self.settings.k)

    def ask(
        self,
        question: str,
        turns: Sequence[Turn] = (),
        on_text: Callable[[str], None] | None = None,
        stream: bool = True,
    ) -> Answer:
        """Retrieve, answer with the configured backend; follow-ups are made to stand alone."""
        query = self.standalone(question, turns) if turns else question
        hits = self.search(query)
        if self.settings.uses_model:
            answer = model_answer(question, hits, self.settings, turns, on_text, stream)
        else:
            answer = replace(extractive_answer(query, hits, self.retriever), question=question)
            if on_text:
                on_text(answer.text)
        if query != question:
            answer = replace(answer, standalone_question=query)
        return answer

    def standalone(self, question: str, turns: Sequence[Turn]) -> str:
        """A follow-up as a question retrieval can use on its own."""
        if self.settings.uses_model:
            return condensed_question(question, turns, self.settings)
        if self.retriever.named_in(question):
            return question
        # Without a model: the papers the last answer cited are what "it" and "they" mean.
        by_id = {entry.id: entry for entry in self.entries}
        cited = cited_ids(turns[-1].answer, set(by_id))
        if not cited:
            return f"{turns[-1].question} {question}"
        return f"{question} ({', '.join(by_id[entry_id].name for entry_id in cited)})"
