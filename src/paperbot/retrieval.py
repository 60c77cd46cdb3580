"""Hybrid retrieval: Chroma's dense ranking fused with BM25, with named papers ranked first."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from paperbot.catalog import Entry
from paperbot.store import Store
from paperbot.text import WORD, acronyms, normalise, tokenize

RRF_K = 60
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
# How many dense neighbours to fuse: enough that the lexical list has partners to meet.
DENSE_POOL = 100
# Relevance floors: below both, the catalog has nothing on the question (see tests/benchmarks).
MIN_LEXICAL = 1.5
MIN_DENSE = 0.25


# One idea in a query, as the alternative sets of terms that express it.
Concept = frozenset[frozenset[str]]


@dataclass(frozen=True)
class Hit:
    """One retrieved entry with the evidence behind its rank."""

    entry: Entry
    score: float
    rank: int
    dense: float = 0.0
    lexical: float = 0.0
    named: bool = False

    @property
    def relevant(self) -> bool:
        return self.named or self.lexical >= MIN_LEXICAL or self.dense >= MIN_DENSE

    def to_json(self) -> dict:
        return {
            "id": self.entry.id,
            "name": self.entry.name,
            "score": round(self.score, 4),
            "rank": self.rank,
        }


class Retriever:
    """Ranks catalog entries for a query; build once per catalog, query many times."""

    def __init__(self, entries: Sequence[Entry], store: Store) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)

        self.entries = list(entries)
        self.store = store
        self._by_id = {entry.id: entry for entry in self.entries}
        self._bm25 = bm25s.BM25()
        self._bm25.index([tokenize(e.search_text()) for e in self.entries], show_progress=False)
        self._name_patterns = [(entry, _name_pattern(entry)) for entry in self.entries]
        self._document_frequency = Counter(
            term for entry in self.entries for term in set(tokenize(entry.search_text()))
        )
        self._acronyms: dict[str, str] = {}
        for entry in self.entries:
            self._acronyms.update(acronyms(entry.summary))

    def query_terms(self, query: str) -> list[str]:
        """The query's terms for BM25, with acronyms the catalog defines added both ways."""
        terms = {term for concept in self.query_concepts(query) for way in concept for term in way}
        return sorted(terms)

    def query_concepts(self, query: str) -> list[Concept]:
        """What the query asks about, one concept per idea, each as the ways to say it.

        "time-to-first-token" is satisfied by that word, by all of time, first and token, or by
        the acronym TTFT that the catalog defines for it; a lone "token" does not satisfy it.
        """
        concepts: list[set[frozenset[str]]] = []
        for word in WORD.findall(normalise(query)):
            terms = tokenize(word)
            if not terms:
                continue
            ways = {frozenset(terms[:1])}
            if len(terms) > 1:
                ways.add(frozenset(terms[1:]))
            concepts.append(ways)
        spaced = " " + re.sub(r"[^a-z0-9]+", " ", normalise(query)) + " "
        for acronym, expansion in self._acronyms.items():
            spelled = frozenset(tokenize(expansion))
            linked = {frozenset([acronym]), spelled}
            if not any(linked & ways for ways in concepts) and f" {expansion} " not in spaced:
                continue
            inside = [
                ways
                for ways in concepts
                if ways & linked or all(way <= spelled | {acronym} for way in ways)
            ]
            concepts = [ways for ways in concepts if ways not in inside]
            # A lone word of the expansion ("point") does not say "determinantal point process".
            kept = {way for ways in inside for way in ways if not way < spelled}
            concepts.append(linked | kept)
        return [frozenset(ways) for ways in concepts]

    def search(self, query: str, k: int = 5) -> list[Hit]:
        if not query.strip() or not self.entries:
            return []
        lexical = self._lexical_scores(query)
        dense = dict(self.store.nearest(self.store.embedder.embed([query])[0], DENSE_POOL))
        named = self.named_in(query)
        lexical_order = sorted(
            (i for i, score in enumerate(lexical) if score > 0), key=lambda i: -lexical[i]
        )
        lexical_rank = {self.entries[i].id: rank for rank, i in enumerate(lexical_order, 1)}
        dense_rank = {
            entry_id: rank
            for rank, (entry_id, _) in enumerate(sorted(dense.items(), key=lambda x: -x[1]), 1)
        }
        fused: dict[str, float] = {}
        for entry_id in set(lexical_rank) | set(dense_rank) | named:
            score = 0.0
            if entry_id in dense_rank:
                score += DENSE_WEIGHT / (RRF_K + dense_rank[entry_id])
            if entry_id in lexical_rank:
                score += LEXICAL_WEIGHT / (RRF_K + lexical_rank[entry_id])
            if entry_id in named:
                score += 1.0
            fused[entry_id] = score
        ordered = sorted(fused, key=lambda entry_id: (-fused[entry_id], entry_id))[:k]
        lexical_by_id = {e.id: float(lexical[i]) for i, e in enumerate(self.entries)}
        return [
            Hit(
                entry=self._by_id[entry_id],
                score=fused[entry_id],
                rank=rank,
                dense=dense.get(entry_id, 0.0),
                lexical=lexical_by_id.get(entry_id, 0.0),
                named=entry_id in named,
            )
            for rank, entry_id in enumerate(ordered, 1)
            if entry_id in self._by_id
        ]

    def named_in(self, query: str) -> set[str]:
        """Ids of entries that the query names by id, name, title or alias."""
        text = normalise(query)
        return {entry.id for entry, pattern in self._name_patterns if pattern.search(text)}

    def term_weights(self, terms: set[str]) -> dict[str, float]:
        """Inverse document frequency of each term over the catalog (rare terms weigh more)."""
        total = len(self.entries)
        weights = {}
        for term in terms:
            frequency = self._document_frequency.get(term, 0)
            if frequency:
                weights[term] = math.log(1 + total / frequency)
        return weights

    def _lexical_scores(self, query: str):
        terms = [term for term in self.query_terms(query) if term in self._bm25.vocab_dict]
        if not terms:
            return [0.0] * len(self.entries)
        return self._bm25.get_scores(terms)


def _name_pattern(entry: Entry) -> re.Pattern[str]:
    alternatives = sorted((re.escape(normalise(name)) for name in entry.own_names), key=len)
    return re.compile(rf"(?<![\w-])(?:{'|'.join(alternatives)})(?![\w-])")
