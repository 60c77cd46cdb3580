"""The loaded pieces one paperbot run works with: settings, catalog, store and retriever.

Each piece loads on first use, because importing chromadb and loading embeddings costs about a
second and commands such as ``catalog`` need neither.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from paperbot import catalog
from paperbot.answer import (
    LIST_DEPTH,
    Answer,
    asks_for_list,
    condensed_question,
    model_answer,
    retried_answer,
)
from paperbot.catalog import Entry
from paperbot.citations import check_answer, cited_ids, retry_instructions, strip_unsupported
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
    notify: Callable[[str], None] | None = None

    @property
    def imports_dir(self) -> Path:
        return self.settings.data_dir / "catalogs"

    @cached_property
    def entries(self) -> list[Entry]:
        return catalog.load_library(self.imports_dir, self.settings.catalog)

    @cached_property
    def store(self) -> Store:
        url = self.settings.chroma_url
        # A server has no local directory to lock beside; lock in the data dir instead.
        lock = self.settings.data_dir / "chroma-server.lock" if url else None
        return Store(self.settings.store, make_embedder(), url, lock, self.notify)

    @cached_property
    def retriever(self) -> Retriever:
        self.sync()
        return Retriever(self.entries, self.store, self.settings.data_dir / "cache")

    def sync(self, rebuild: bool = False) -> SyncReport:
        if rebuild:
            return self.store.rebuild(self.entries, self.progress)
        return self.store.sync(self.entries, self.progress)

    def search(
        self, query: str, k: int | None = None, only: Collection[str] | None = None
    ) -> list[Hit]:
        """The best ``k`` hits; with ``only``, every one of those entries and nothing else.

        Entries in ``only`` were picked by the user, so like papers named in the question they
        all count as relevant and all reach the answerer, ranked by the query.
        """
        if only is None:
            if self.settings.rerank:
                return self._reranked(query, k or self.settings.k)
            return self.retriever.search(query, k or self.settings.k)
        ranked = [
            hit for hit in self.retriever.search(query, len(self.entries)) if hit.entry.id in only
        ]
        found = {hit.entry.id for hit in ranked}
        ranked += [Hit(e, 0.0, 0) for e in self.entries if e.id in only and e.id not in found]
        return [replace(hit, rank=rank, named=True) for rank, hit in enumerate(ranked, 1)]

    def _reranked(self, query: str, k: int) -> list[Hit]:
        """Retrieval's best, reordered and judged by the model; retrieval's own ranking when
        there is no model to ask or its reply cannot be read."""
        from paperbot.rerank import POOL, RerankReplyError, rerank

        hits = self.retriever.search(query, max(k, POOL))
        if not self.settings.uses_model:
            self._note("rerank is on but no model is configured; using retrieval's ranking")
            return hits[:k]
        try:
            return rerank(query, hits, self.settings)[:k]
        except RerankReplyError as error:
            self._note(f"reranking skipped ({error}); using retrieval's ranking")
            return hits[:k]

    def _note(self, message: str) -> None:
        if self.notify:
            self.notify(message)

    def ask(
        self,
        question: str,
        turns: Sequence[Turn] = (),
        on_text: Callable[[str], None] | None = None,
        stream: bool = True,
        only: Collection[str] | None = None,
    ) -> Answer:
        """Retrieve, answer with the configured backend, then check every citation.

        Follow-ups are first made to stand alone. Text streams to ``on_text`` only under the
        ``annotate`` policy: the others may still change the text after the check.
        """
        policy = self.settings.citations_policy
        live = on_text if policy == "annotate" else None
        query = self.standalone(question, turns) if turns else question
        depth = max(self.settings.k, LIST_DEPTH) if asks_for_list(query) else self.settings.k
        hits = self.search(query, depth, only=only)
        if self.settings.uses_model:
            answer = model_answer(question, hits, self.settings, turns, live, stream and bool(live))
        else:
            answer = replace(extractive_answer(query, hits, self.retriever), question=question)
            if live:
                live(answer.text)
        if query != question:
            answer = replace(answer, standalone_question=query)
        return self._apply_policy(self.check(answer), policy)

    def check(self, answer: Answer) -> Answer:
        return replace(answer, check=check_answer(answer.text, self.entries, answer.question))

    def _apply_policy(self, answer: Answer, policy: str) -> Answer:
        report = answer.check
        if report is None or report.ok or answer.abstained:
            return answer
        if policy == "strip":
            text, removed = strip_unsupported(answer.text, report)
            note = f"removed {removed} unsupported sentence{'s' if removed != 1 else ''}"
            return replace(self.check(replace(answer, text=text)), policy_note=note)
        if policy == "retry" and self.settings.uses_model and not answer.incomplete:
            retried = retried_answer(answer, retry_instructions(report), self.settings)
            return replace(self.check(retried), policy_note="retried once after the check")
        return answer

    def standalone(self, question: str, turns: Sequence[Turn]) -> str:
        """A follow-up as a question retrieval can use on its own."""
        if self.settings.uses_model:
            return condensed_question(question, turns, self.settings)
        if self.retriever.named_in(question):
            return question
        # Without a model: the papers the last answer cited are what "it" and "they" mean.
        by_id = {entry.id: entry for entry in self.entries}
        cited = cited_ids(turns[-1].answer, self.entries)
        if not cited:
            return f"{turns[-1].question} {question}"
        return f"{question} ({', '.join(by_id[entry_id].name for entry_id in cited)})"
