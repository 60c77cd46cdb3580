"""Hybrid retrieval: BM25, concept coverage, entry and sentence embeddings, named papers first.

Lexical evidence is BM25 (bm25s) and the idf-weighted share of the query's concepts an entry
contains, where a concept may be said several ways (an acronym or its expansion, a hyphenated
word or its parts). Dense evidence is the query's cosine to the whole entry (Chroma) and to its
best sentence. They are fused linearly rather than by rank: with a few dozen entries, how far
apart two entries score says more than their order. BM25 counts only as far as the catalog
knows the query's words: a question in the catalog's own words is judged by them, a paraphrase
in other words by meaning. Weights and the relevance floor were tuned on the training split of
``benchmarks/eval/questions.jsonl`` (``paperbot eval --split train``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paperbot.catalog import Entry
from paperbot.embedding import Embedder
from paperbot.store import Store, catalog_fingerprint
from paperbot.text import (
    ABBREVIATIONS,
    SYNONYMS,
    WORD,
    acronyms,
    analyze,
    normalise,
    root,
    split_words,
)
from paperbot.text import split_sentences as _sentences

# Fusion weights, tuned on the training split. BM25 is scaled to the query's best entry and
# gated by how much of the query the catalog knows, raised to KNOWN_POWER; coverage is a share,
# similarities are cosines; a named paper outranks any other evidence.
BM25_WEIGHT = 2.0
KNOWN_POWER = 4
COVERAGE_WEIGHT = 1.5
DENSE_WEIGHT = 2.0
SENTENCE_WEIGHT = 1.0
NAMED_BOOST = 10.0
# Bumped whenever _Index changes shape or how it is built, so that older caches are rebuilt.
INDEX_VERSION = 13
# How many dense neighbours to ask the store for: all of a catalog of this size.
DENSE_POOL = 200
# An entry lacking what the question asks for ranks below those that have it, from this many
# times k of the best by evidence (on the training split: topic R@k 0.96 -> 0.97; a larger
# pool changed nothing).
POOL_FACTOR = 3
# A hit is relevant (worth answering from) when this mix of its evidence reaches the floor:
# its coverage and similarities, plus how much of the question the catalog knows at all (a
# question about something the catalog never mentions is refused even when its generic words
# match). An in-domain question about a subject no entry mentions is caught by name instead
# (SUBJECTS_FILE): similarity alone cannot tell a paraphrase in plain words from it. The
# floor was calibrated on the training split, as the highest that still answers 95% of the
# answerable questions.
CONFIDENCE_COVERAGE = 1.0
CONFIDENCE_SENTENCE = 0.5
CONFIDENCE_DENSE = 1.5
CONFIDENCE_KNOWN = 0.5
MIN_CONFIDENCE = 1.0
# Research subjects (techniques, tasks, topics) that retrieval recognises in a question; one
# the catalog never mentions makes every unnamed hit irrelevant.
SUBJECTS_FILE = "field_terms.txt"
# What a paper works on (a modality such as video or audio, a technique such as caching or
# pruning): an unnamed hit is relevant only if it mentions every one the question names, so
# that "pruning audio tokens" is not answered from a paper that prunes image tokens.
ASPECTS_FILE = "aspects.txt"
# When the entry that matches a question best lacks an aspect it asks for ("a video
# generator at any resolution": NiT, images only) and the entries that have the aspect match
# worse by more than this much confidence, the question asks for that entry's idea in a
# setting no entry covers, and is refused. Set on the training split (340 questions), midway
# between the widest gap of an answerable question (0.03) and the narrowest it closes (0.10).
DOMINANCE_MARGIN = 0.06
# The catalog's field is multimodal: a question about language models that names no modality
# (no images, video, audio…), nor a paper that does, asks about text, and only an entry
# about language models that names none either answers it ("early exit for text generation
# in LLMs" is not answered from a paper whose visual tokens exit early).
TEXT_ONLY = "text-only language models"
LANGUAGE_MODEL_WORDS = (
    "language model", "language models", "llm", "llms", "chatbot", "chatbots",
    "text generation", "dllm", "dllms",
)  # fmt: skip
MODALITY_WORDS = (
    "image", "images", "visual", "vision", "video", "videos", "audio", "speech", "sound",
    "multimodal", "multi-modal", "modality", "modalities", "picture", "pictures", "photo",
    "photos", "camera", "robot", "robotic", "robotics", "pixel", "pixels", "frame", "frames",
    "vlm", "vlms", "mllm", "mllms", "lvlm", "lvlms", "llava", "vision-language",
    "text-to-image", "text-to-video", "visual-text", "input type", "input types",
)  # fmt: skip
# Says that a question is about two papers, named or described ("compare the memorization
# paper with…", "X vs Y", "a paper that…, and another that…"): each may bring its own aspects.
TWO_PAPERS = re.compile(
    r"\b(?:compare|comparison|compared\s+(?:to|with)\s+(?:the|\w+'s)|how\s+do\s+their|"
    r"contrast|differ(?:s|ent)?\s+from|differences?\s+between|in\s+common|relates?\s+to|"
    r"their\s+approaches|what\s+(?:did|does)\s+each|each\s+(?:one|paper|method)|"
    r"(?:paper|model|method)\s+and\s+the|and\s+the\s+(?:[\w\s-]{3,60}?\b)?paper|vs|versus|"
    r"and\s+another|the\s+other\s+one)\b",
    re.IGNORECASE,
)
# Words that join aspects into a list of alternatives rather than a combination.
LIST_WORDS = frozenset({",", "and", "or", "nor", "vs", "versus"})
# Words that introduce an example rather than a requirement.
EXAMPLE_MARKERS = tuple(
    tuple(map(root, marker.split()))
    for marker in ("such as", "e.g", "like", "including", "for example", "for instance")
)
# Words just before an aspect that rule it out ("not video-specific", "rather than video").
NEGATION_MARKERS = (
    "not", "non", "without", "rather than", "instead of", "other than", "except", "excluding",
    "exclude", "leave out", "leaving out",
)  # fmt: skip
NEGATIONS = tuple(tuple(map(root, marker.split())) for marker in NEGATION_MARKERS)
# A word just after a negation, to drop from the query's evidence when it says an aspect.
RULED_OUT = re.compile(
    r"\b(?:" + "|".join(marker.replace(" ", r"\s+") for marker in NEGATION_MARKERS) + ")"
    r"(?:\s+(?:for|on|in|about|just|only|the|a|an))?[\s-]+(?P<word>[\w-]+)",
    re.IGNORECASE,
)
# Words that close a list of alternatives ("caching, pruning, anything like that").
LIST_ENDS = tuple(
    tuple(map(root, marker.split()))
    for marker in (
        "or",
        "etc",
        "and so on",
        "and the like",
        "or the like",
        "or similar",
        "and similar",
        "anything like that",
        "or anything",
    )
)


# One idea in a query, as the alternative sets of terms that express it.
Concept = frozenset[frozenset[str]]
# What a question asks an entry to be about: alternatives, each a set of aspects (by number).
Requirement = tuple[frozenset[int], ...]


@dataclass(frozen=True)
class Hit:
    """One retrieved entry with the evidence behind its rank."""

    entry: Entry
    score: float
    rank: int
    dense: float = 0.0
    lexical: float = 0.0
    named: bool = False
    confidence: float = 0.0
    # Subjects of the query that no catalog entry mentions ("speculative decoding").
    missing: tuple[str, ...] = ()
    # Aspects the query asks for together (pruning, audio) that no one entry mentions all of;
    # and those this entry never mentions.
    uncombined: tuple[str, ...] = ()
    lacking: tuple[str, ...] = ()
    # The entry that matches the question clearly best but lacks an aspect it asks for; the
    # entries that have the aspects are then no answer either (see DOMINANCE_MARGIN).
    closest: str = ""
    # The configured model's verdict when it reranked the hits (None: it did not).
    judged: bool | None = None

    @property
    def relevant(self) -> bool:
        if self.named:
            # Named, it answers, unless the question asks it for what it never mentions.
            return not (self.lacking and self.closest)
        if self.judged is not None:
            return self.judged
        if self.missing or self.lacking or self.closest:
            return False
        return self.confidence >= MIN_CONFIDENCE

    def to_json(self) -> dict:
        return {
            "id": self.entry.id,
            "name": self.entry.name,
            "score": round(self.score, 4),
            "rank": self.rank,
            "relevant": self.relevant,
        }


class Retriever:
    """Ranks catalog entries for a query; build once per catalog, query many times."""

    def __init__(
        self, entries: Sequence[Entry], store: Store, cache_dir: Path | None = None
    ) -> None:
        self.entries = list(entries)
        self.store = store
        self._position = {entry.id: i for i, entry in enumerate(self.entries)}
        self._index = _load_or_build(self.entries, store.embedder, cache_dir)

    def query_terms(self, query: str) -> list[str]:
        """The query's terms, with abbreviations added both ways."""
        terms = {term for concept in self.query_concepts(query) for way in concept for term in way}
        return sorted(terms)

    def query_concepts(self, query: str) -> list[Concept]:
        """What the query asks about, one concept per idea, each as the ways to say it.

        "time-to-first-token" is satisfied by that word, by all of time, first and token, or by
        the acronym TTFT; a lone "token" does not satisfy it.
        """
        concepts: list[set[frozenset[str]]] = []
        sequence: list[str] = []
        for word in split_words(query):
            terms = analyze(word)
            if not terms:
                continue
            sequence.append(terms[0])
            ways = {frozenset(terms[:1])}
            if len(terms) > 1:
                ways.add(frozenset(terms[1:]))
            ways |= _PLAIN.get(terms[0], set()) | _ASPECT_WAYS.get(terms[0], set())
            concepts.append(ways)
        for acronym, (words, spelled) in self._index.abbreviations.items():
            linked = {frozenset([acronym]), spelled}
            said = any(linked & ways for ways in concepts) or _contains(sequence, words)
            if not said:
                continue
            inside = [
                ways
                for ways in concepts
                if ways & linked or all(way <= spelled | {acronym} for way in ways)
            ]
            if not inside:
                continue
            concepts = [ways for ways in concepts if ways not in inside]
            # A lone word of the expansion ("point") does not say "determinantal point process".
            kept = {way for ways in inside for way in ways if not way < spelled}
            concepts.append(linked | kept)
        return [frozenset(ways) for ways in concepts]

    def search(self, query: str, k: int = 5) -> list[Hit]:
        if not query.strip() or not self.entries:
            return []
        evidence = self._evidence(self._index.aspects.ruled_out_removed(query))
        fused = evidence.fused()
        confidence = evidence.confidence()
        unnamed = self._index.names.blanked(query)
        missing = self.missing_subjects(unnamed)
        aspects = self._index.aspects
        required = aspects.requirements(unnamed)
        text_only = self._index.text_only
        if text_only.said_by(unnamed) and not text_only.modal(np.flatnonzero(evidence.named)):
            required.append((frozenset({aspects.labels.index(TEXT_ONLY)}),))
        compared = compares(query)
        if compared and len(required) > 1:
            # Which paper of a comparison brings which aspect is not known: any one will do.
            required = [tuple(dict.fromkeys(way for need in required for way in need))]
        uncombined = () if aspects.met_together(required) else tuple(map(aspects.name, required))
        count = min(k, len(self.entries))
        order = _best(fused, count, self.entries)
        lacking = {i: aspects.lacked(required, i) for i in order}
        # Judged on the k best by evidence alone: whether the best match lacks the setting.
        closest = _closest_lacking(order, lacking, confidence, evidence.named, compared)
        ruled_out = aspects.ruled_out(unnamed)
        if (required or ruled_out) and not uncombined and closest is None:
            # An entry that has what the question asks for outranks one that lacks it, and
            # one without what it rules out one with it: from the best few by evidence, those
            # come first. (A refusal that names the closest entry keeps the order by evidence:
            # it is about that entry.)
            pool = _best(fused, min(len(self.entries), count * POOL_FACTOR), self.entries)
            lacking |= {i: aspects.lacked(required, i) for i in pool if i not in lacking}
            lacks = {i for i in pool if lacking[i] and not evidence.named[i]}
            unwanted = {i for i in pool if aspects.has_any(ruled_out, i) and not evidence.named[i]}
            order = sorted(pool, key=lambda i: (i in lacks, i in unwanted))[:count]
        return [
            Hit(
                entry=self.entries[i],
                score=float(fused[i]),
                rank=rank,
                dense=float(evidence.dense[i]),
                lexical=float(evidence.coverage[i]),
                named=bool(evidence.named[i]),
                confidence=float(confidence[i]),
                missing=missing,
                uncombined=uncombined,
                # Which paper of a comparison should have which aspect is not known.
                lacking=() if compared and evidence.named[i] else lacking[i],
                closest="" if closest is None else self.entries[closest].id,
            )
            for rank, i in enumerate(order, 1)
        ]

    def _evidence(self, query: str) -> _Evidence:
        vector = self.store.embedder.embed([_with_field_words(query)])[0]
        dense = np.zeros(len(self.entries))
        for entry_id, similarity in self.store.nearest(vector, DENSE_POOL):
            if entry_id in self._position:
                dense[self._position[entry_id]] = similarity
        named = np.zeros(len(self.entries), dtype=bool)
        named[[self._position[entry_id] for entry_id in self.named_in(query)]] = True
        concepts = self.query_concepts(query)
        coverage, known = self._index.lexicon.coverage(concepts)
        return _Evidence(
            bm25=self._bm25_scores(query),
            coverage=coverage,
            known=known,
            dense=dense,
            sentence=self._index.sentence_similarity(vector),
            named=named,
        )

    def missing_subjects(self, query: str) -> tuple[str, ...]:
        """Research subjects the query asks about that no catalog entry mentions.

        A paraphrase in everyday words names no subject, so it is never refused this way; a
        question about "KV cache quantization" is, when no entry says "quantization".
        """
        subjects = self._index.subjects
        return subjects.labels_of(subjects.said(query) - subjects.mentioned)

    def named_in(self, query: str) -> set[str]:
        """Ids of entries that the query names by id, name, title or alias."""
        return self._index.names.find(query)

    def term_weights(self, terms: set[str]) -> dict[str, float]:
        """Inverse document frequency of each term over the catalog (rare terms weigh more)."""
        return self._index.lexicon.idf_of(terms)

    def _bm25_scores(self, query: str) -> np.ndarray:
        bm25 = self._index.bm25
        said = analyze(query)
        plain = [term for word in said for way in _PLAIN.get(word, ()) for term in way]
        terms = [term for term in said + plain if term in bm25.vocab_dict]
        if not terms:
            return np.zeros(len(self.entries))
        scores = np.asarray(bm25.get_scores(terms), dtype=float)
        top = scores.max()
        return scores / top if top > 0 else scores


@dataclass(frozen=True)
class _Evidence:
    """What supports each entry for one query, one array slot per entry."""

    bm25: np.ndarray  # BM25, as a share of the best entry's
    coverage: np.ndarray  # idf-weighted share of the query's concepts the entry contains
    known: float  # idf-weighted share of the query's concepts found anywhere in the catalog
    dense: np.ndarray  # cosine of the query to the whole entry
    sentence: np.ndarray  # cosine of the query to the entry's best sentence
    named: np.ndarray  # whether the query names the entry

    def fused(self) -> np.ndarray:
        return (
            BM25_WEIGHT * self.known**KNOWN_POWER * self.bm25
            + COVERAGE_WEIGHT * self.coverage
            + DENSE_WEIGHT * self.dense
            + SENTENCE_WEIGHT * self.sentence
            + NAMED_BOOST * self.named
        )

    def confidence(self) -> np.ndarray:
        return (
            CONFIDENCE_COVERAGE * self.coverage
            + CONFIDENCE_SENTENCE * self.sentence
            + CONFIDENCE_DENSE * self.dense
            + CONFIDENCE_KNOWN * self.known
        )


class _Lexicon:
    """Which entry contains which analyzed term, and how rare each term is in the catalog.

    Kept as a sparse column index (term -> sorted entry positions): a dense entries x terms
    matrix would take a gigabyte at 100k entries.
    """

    def __init__(self, documents: Sequence[set[str]]) -> None:
        postings: dict[str, list[int]] = {}
        for i, document in enumerate(documents):
            for term in document:
                postings.setdefault(term, []).append(i)
        self.size = len(documents)
        self.postings = {term: np.array(rows, dtype=np.int32) for term, rows in postings.items()}
        self.idf = {
            term: float(np.log(1 + self.size / len(rows))) for term, rows in postings.items()
        }
        # A concept no entry has weighs more than the rarest term: it is the part of the
        # question the catalog cannot answer, so it lowers every entry's coverage.
        self.unseen = float(np.log(1 + self.size / 0.5))

    def coverage(self, concepts: Sequence[Concept]) -> tuple[np.ndarray, float]:
        """Per entry, the idf-weighted share of the concepts it contains (all of one way); and
        the share of them the catalog has anywhere."""
        found = np.zeros(self.size)
        total = known = 0.0
        for concept in concepts:
            weight, matched = self.unseen, np.zeros(self.size, dtype=bool)
            for way in concept:
                if all(term in self.postings for term in way):
                    weight = min(weight, float(np.mean([self.idf[term] for term in way])))
                    rows = _intersection([self.postings[term] for term in way])
                    matched[rows] = True
            total += weight
            known += weight if weight < self.unseen else 0.0
            found += weight * matched
        if not total:
            return found, 0.0
        return found / total, known / total

    def idf_of(self, terms: set[str]) -> dict[str, float]:
        return {term: self.idf[term] for term in terms if term in self.idf}


class _Phrasebook:
    """Research subjects or aspects, each as the phrases that say it, and the entries that
    mention each. A question says one word by word (stemmed, within one clause), so
    "mixture-of-experts" says "mixture of experts" and "quantized" says "quantize"; an entry
    mentions it when one of its sentences has all of a phrase's words. With ``first_only``,
    only the first such entry is kept: enough to know whether the catalog mentions it at
    all."""

    def __init__(
        self,
        table: Sequence[tuple[str, ...]],
        texts: Sequence[str],
        lexicon: _Lexicon,
        first_only: bool = False,
    ) -> None:
        self.labels = [phrases[0] for phrases in table]
        self.by_first: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self.rows: list[np.ndarray] = []
        sentences = _SentenceTerms(
            texts, {term for row in table for p in row for term in _terms(p)}
        )
        for label, phrases in enumerate(table):
            for phrase in phrases:
                clauses = _clause_words(phrase)
                if clauses:
                    words = tuple(clauses[0])
                    self.by_first.setdefault(words[0], []).append((label, words))
            rows = np.zeros(0, dtype=np.int32)
            # One-word phrases first: an entry one of them finds need not be read again.
            for terms in sorted(map(_terms, phrases), key=len):
                if first_only and len(rows):
                    break
                found = _rows_saying(terms, lexicon, sentences, rows, first_only)
                rows = np.union1d(rows, found).astype(np.int32)
            self.rows.append(rows[:1] if first_only else rows)
        self.mentioned = {label for label, rows in enumerate(self.rows) if len(rows)}

    def derive(self, label: str, rows: np.ndarray) -> None:
        """Adds an aspect that no phrase says, mentioned by the entries at ``rows``."""
        self.labels.append(label)
        self.rows.append(rows.astype(np.int32))
        if len(rows):
            self.mentioned.add(len(self.labels) - 1)

    def ruled_out_removed(self, text: str) -> str:
        """``text`` without the aspects it rules out, so that "photos, not video" finds no
        video paper by its words."""

        def removed(match: re.Match[str]) -> str:
            word = match.group("word")
            parts = [root(part) for part in word.lower().split("-") if part]
            said = any(
                len(words) == 1 for part in parts for _, words in self.by_first.get(part, ())
            )
            return match.group(0)[: -len(word)] if said else match.group(0)

        return RULED_OUT.sub(removed, text)

    def ruled_out(self, text: str) -> frozenset[int]:
        """The aspects ``text`` rules out ("photos, not video"): an entry that has one is a
        worse answer than one that does not."""
        words = _list_words(text)
        return frozenset(
            label
            for clause, start, _, label in self._mentions(words)
            if _negated(words[clause], start)
        )

    def said(self, text: str) -> frozenset[int]:
        return frozenset(label for _, _, _, label in self._mentions(_clause_words(text)))

    def requirements(self, text: str) -> list[Requirement]:
        """What an entry must mention to answer ``text``: every requirement, each met by any
        one of its alternatives, each alternative a set of aspects said in the same words
        ("video LLMs" is video and a vision-language model). Aspects said one after another
        with only "and", "or" or commas between them are alternatives ("caching or pruning",
        "video and audio papers", "long-context VLMs and long-horizon video"); otherwise each
        must be met ("pruning audio tokens"). An aspect offered as an example or beside an
        alternative in other words ("such as long videos", "long videos or long contexts"),
        ruled out ("not video") or listed after a colon or a dash ("the visual token budget:
        pruning, merging, early exit") is no requirement."""
        pieces = _list_pieces(text)
        words = [piece for _, piece in pieces]
        slots: list[tuple[int, int, int, set[int]]] = []
        for clause, start, end, label in self._mentions(words):
            if slots and slots[-1][0] == clause and start < slots[-1][2]:
                last = slots[-1]
                slots[-1] = (clause, last[1], max(end, last[2]), last[3] | {label})
            else:
                slots.append((clause, start, end, {label}))
        groups: list[tuple[int, int, int, list[frozenset[int]]]] = []
        for clause, start, end, labels in slots:
            last = groups[-1] if groups else None
            between = words[clause][last[2] : start] if last and last[0] == clause else []
            # "long-context VLMs and long-horizon video": the second may bring a word or two.
            listed = bool(between) and (
                set(between) <= LIST_WORDS or (between[0] in LIST_WORDS and len(between) <= 3)
            )
            if listed:
                groups[-1] = (clause, last[1], end, [*last[3], frozenset(labels)])
            else:
                groups.append((clause, start, end, [frozenset(labels)]))
        requirements = [
            # An alternative that asks for more than another in its group adds nothing to it.
            tuple(dict.fromkeys(a for a in ways if not any(b < a for b in ways)))
            for clause, start, end, ways in groups
            if not pieces[clause][0] and not _offered(words[clause], start, end)
        ]
        return list(dict.fromkeys(requirements))

    def lacked(self, requirements: Sequence[Requirement], row: int) -> tuple[str, ...]:
        """What the entry at ``row`` lacks of the requirements: the aspects it never mentions
        of a requirement without alternatives, else the requirement it meets no way of."""
        lacked = []
        for requirement in requirements:
            if any(all(_has(self.rows[i], row) for i in way) for way in requirement):
                continue
            if len(requirement) == 1:
                absent = [i for i in sorted(requirement[0]) if not _has(self.rows[i], row)]
                lacked.append(" and ".join(self.labels[i] for i in absent))
            else:
                lacked.append(self.name(requirement))
        # "robot vision-language-action policies" asks for robotics twice; say it once.
        return tuple(dict.fromkeys(lacked))

    def has_any(self, labels: frozenset[int], row: int) -> bool:
        return any(_has(self.rows[label], row) for label in labels)

    def met_together(self, requirements: Sequence[Requirement]) -> bool:
        """Whether some entry meets all the requirements at once."""
        if not requirements:
            return True
        rows = [
            np.unique(np.concatenate([_intersection([self.rows[i] for i in way]) for way in r]))
            for r in requirements
        ]
        return len(_intersection(rows)) > 0

    def name(self, requirement: Requirement) -> str:
        return " or ".join(" and ".join(self.labels[i] for i in sorted(way)) for way in requirement)

    def labels_of(self, labels: frozenset[int]) -> tuple[str, ...]:
        return tuple(self.labels[label] for label in sorted(labels))

    def _mentions(self, clauses: list[list[str]]) -> list[tuple[int, int, int, int]]:
        """(clause, first word, past the last word, label) of each phrase said, in order."""
        found = []
        for number, clause in enumerate(clauses):
            for start, word in enumerate(clause):
                for label, words in self.by_first.get(word, ()):
                    if tuple(clause[start : start + len(words)]) == words:
                        found.append((number, start, start + len(words), label))
        return sorted(set(found))


class _TextOnly:
    """Which texts are about language models alone: they say a language model and no
    modality (see TEXT_ONLY)."""

    def __init__(self, texts: Sequence[str], lexicon: _Lexicon) -> None:
        # Everyday words say a modality too: "see and hear", "footage", "a voice" (but a
        # chatbot, which may stand for a multimodal LLM, stays a language model).
        everyday = tuple(
            plain
            for plain, field in SYNONYMS.items()
            if set(field) & set(MODALITY_WORDS) and not set(field) & set(LANGUAGE_MODEL_WORDS)
        )
        modality = MODALITY_WORDS + everyday
        self._words = _Phrasebook([LANGUAGE_MODEL_WORDS, modality], texts, lexicon)

    def said_by(self, text: str) -> bool:
        return self._words.said(text) == {0}

    def modal(self, rows: np.ndarray) -> bool:
        """Whether any of the entries at ``rows`` says a modality: a paper the question names
        brings its own setting ("Does CDPruner speed up LLMs?" asks about its MLLMs)."""
        return bool(np.isin(rows, self._words.rows[1]).any())

    def entries(self) -> np.ndarray:
        """Positions of the catalog entries about language models alone."""
        language, modality = self._words.rows
        return np.setdiff1d(language, modality)


def compares(question: str) -> bool:
    """Whether the question is about two papers at once."""
    return bool(TWO_PAPERS.search(question))


def _best(scores: np.ndarray, count: int, entries: Sequence[Entry]) -> list[int]:
    """Positions of the ``count`` best scores, best first, ties by id. Only these are sorted:
    at 100k entries a full sort would dominate a query."""
    best = np.argpartition(-scores, count - 1)[:count]
    return sorted(best, key=lambda i: (-scores[i], entries[i].id))


def _closest_lacking(
    order: Sequence[int],
    lacking: dict[int, tuple[str, ...]],
    confidence: np.ndarray,
    named: np.ndarray,
    compared: bool,
) -> int | None:
    """The hit the question is about that lacks aspects it asks for, if there is one.

    That is the paper it names when every paper it names lacks them and outmatches every
    unnamed hit that has them by more than DOMINANCE_MARGIN ("Has μP been used for
    LLaVA-style models?"; but "How does DiCo relate to the memorization analysis?" is about
    two papers). Without a paper named, it is the unnamed hit lacking them that outmatches
    every hit that has them so. In a comparison the aspects may all be the other paper's
    ("CDPruner vs the streaming video paper"): a paper it names lacks nothing."""
    unnamed = [i for i in order if not named[i]]
    meets = [confidence[i] for i in unnamed if not lacking[i]]
    mentioned = [i for i in order if named[i]]
    if mentioned and not compared:
        if any(not lacking[i] for i in mentioned):
            return None
        lacks = mentioned
    else:
        lacks = [i for i in unnamed if lacking[i]]
        if not meets:
            return None
    if not lacks:
        return None
    best = max(lacks, key=lambda i: confidence[i])
    return best if confidence[best] - max(meets, default=0.0) > DOMINANCE_MARGIN else None


def _offered(words: Sequence[str], start: int, end: int) -> bool:
    """Whether the words from ``start`` to ``end`` are an example ("such as long videos"), one
    of alternatives ("long videos or long contexts", "pruning, compression, early exit, anything
    like that"), ruled out ("not video-specific") or part of a reference to a paper ("the
    convolutional diffusion paper")."""
    before = words[max(0, start - 3) : start]
    if before[-1:] == ["or"] or _continues_alternatives(words, end):
        return True
    # "the memorization paper" refers to a paper, as its name would; it asks for nothing.
    if "the" in words[max(0, start - 4) : start] and "paper" in words[end : end + 2]:
        return True
    # An example marker may stand a few words back ("such as long videos").
    return any(_contains(before, marker) for marker in EXAMPLE_MARKERS) or _negated(words, start)


def _negated(words: Sequence[str], start: int) -> bool:
    """Whether a negation rules out the words from ``start``: one just before them or one
    word on ("not video", "not for video")."""
    before = words[max(0, start - 3) : start]
    return any(_contains(before[-len(marker) - 1 :], marker) for marker in NEGATIONS)


def _continues_alternatives(words: Sequence[str], at: int) -> bool:
    """Whether the words from ``at`` carry a list of alternatives on to its end: ", merges or
    compresses", ", compression, early exit, anything like that". Members are at most three
    words long, so that a clause after a comma ("…, for speech models") is no member."""
    while at < len(words):
        if _list_end_at(words, at) or (words[at] == "," and _list_end_at(words, at + 1)):
            return True
        if words[at] != ",":
            return False
        member = at = at + 1
        while (
            at < len(words) and words[at] != "," and not _list_end_at(words, at) and at - member < 3
        ):
            at += 1
        if at == member:
            return False
    return False


def _list_end_at(words: Sequence[str], at: int) -> bool:
    return any(tuple(words[at : at + len(end)]) == end for end in LIST_ENDS)


def _has(rows: np.ndarray, row: int) -> bool:
    at = int(np.searchsorted(rows, row))
    return at < len(rows) and rows[at] == row


class _SentenceTerms:
    """The terms of each entry's sentences, kept only for the terms some phrase uses and read
    at most once per entry, so that checking a few hundred phrases against 100k entries
    reads each entry once rather than once per phrase."""

    def __init__(self, texts: Sequence[str], vocabulary: set[str]) -> None:
        self.texts = texts
        self.vocabulary = frozenset(vocabulary)
        self.read: dict[int, list[frozenset[str]]] = {}

    def of(self, row: int) -> list[frozenset[str]]:
        if row not in self.read:
            sentences = _sentences(self.texts[row])
            self.read[row] = [self.vocabulary & set(analyze(s)) for s in sentences]
        return self.read[row]


def _terms(phrase: str) -> frozenset[str]:
    """A phrase's terms; a hyphenated word counts by its parts, so that an entry that says
    "vision-language-action" mentions vision-language."""
    return frozenset(analyze(phrase.replace("-", " ")))


def _rows_saying(
    terms: frozenset[str],
    lexicon: _Lexicon,
    sentences: _SentenceTerms,
    known: np.ndarray,
    first_only: bool = False,
) -> np.ndarray:
    """The entries, besides those ``known`` already, with one sentence that has all the
    terms in any order (only the first such with ``first_only``): an entry that says "exit
    early" mentions early exit, one that says "early" and, later, "exit" does not."""
    if not terms or any(term not in lexicon.postings for term in terms):
        return np.zeros(0, dtype=np.int32)
    rows = _intersection([lexicon.postings[term] for term in terms])
    rows = np.setdiff1d(rows, known, assume_unique=True)
    if len(terms) == 1:
        return rows
    said = []
    for row in rows:
        if any(terms <= sentence for sentence in sentences.of(row)):
            said.append(row)
            if first_only:
                break
    return np.array(said, dtype=np.int32)


def _clause_words(text: str) -> list[list[str]]:
    """Stemmed words of each clause, stopwords kept and hyphenated words split, so that phrases
    match across spelling variants but not across punctuation ("text, music")."""
    clauses = []
    for words in _list_words(text):
        clause: list[str] = []
        for word in [*words, ","]:
            if word != ",":
                clause.append(word)
            elif clause:
                clauses.append(clause)
                clause = []
    return clauses


def _list_words(text: str) -> list[list[str]]:
    """Like ``_clause_words``, but a comma stays a word of its own instead of ending the
    clause, so that a list ("caching, pruning or merging") reads as one."""
    return [words for _, words in _list_pieces(text)]


def _list_pieces(text: str) -> list[tuple[bool, list[str]]]:
    """``_list_words``, each piece with whether it enumerates examples: a list after a colon
    or a dash ("cutting visual tokens: pruning, merging, early exit")."""
    parts = re.split(r"([;:.!?()\[\]\"]+(?:\s|$)|\s-\s)", normalise(text))
    found = []
    for at in range(0, len(parts), 2):
        piece = parts[at]
        introduced = at > 0 and parts[at - 1].strip() in (":", "-")
        words: list[str] = []
        for token in re.findall(rf"{WORD.pattern}|,(?=\s|$)", piece):
            if token != ",":
                words += [root(part) for part in token.split("-") if part]
            elif words and words[-1] != ",":
                words.append(",")
        while words and words[-1] == ",":
            words.pop()
        if words:
            found.append((introduced and "," in words, words))
    return found


def _phrase_table(name: str) -> list[tuple[str, ...]]:
    from importlib.resources import files

    text = (files("paperbot") / name).read_text(encoding="utf-8")
    return [
        tuple(phrase.strip() for phrase in line.split("|") if phrase.strip())
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _intersection(postings: list[np.ndarray]) -> np.ndarray:
    rows = postings[0]
    for other in postings[1:]:
        rows = np.intersect1d(rows, other, assume_unique=True)
    return rows


class _Names:
    """Finds the papers a query names, by looking up its word n-grams in a table of names.

    One dictionary lookup per n-gram instead of one regular expression per entry keeps this
    fast at 100k entries.
    """

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.table: dict[tuple[str, ...], set[str]] = {}
        for entry in entries:
            for name in entry.own_names:
                words = _name_words(name)
                if words:
                    self.table.setdefault(words, set()).add(entry.id)
        self.longest = max((len(words) for words in self.table), default=0)

    def find(self, query: str) -> set[str]:
        return {entry_id for _, _, ids in self._mentions(normalise(query)) for entry_id in ids}

    def blanked(self, query: str) -> str:
        """The query with the names in it blanked out: "VLA-Cache" names a paper, it does not
        ask for caching."""
        text = normalise(query)
        for start, end, _ in self._mentions(text):
            text = text[:start] + " " * (end - start) + text[end:]
        return text

    def _mentions(self, text: str) -> list[tuple[int, int, set[str]]]:
        """Where the text names papers: character spans and the ids each names."""
        matches = list(NAME_WORD.finditer(text))
        words = tuple(_name_word(match) for match in matches)
        found = []
        for start in range(len(words)):
            for end in range(start + 1, min(len(words), start + self.longest) + 1):
                ids = self.table.get(words[start:end])
                if ids:
                    found.append((matches[start].start(), matches[end - 1].end(), ids))
        return found


# Words as names use them: "VITA-1.5" and "Don't" stay whole, punctuation around goes.
NAME_WORD = re.compile(r"\w(?:[\w.+'-]*\w)?")


def _name_word(match: re.Match[str]) -> str:
    # A possessive is the name ("HoliTom's stages" names HoliTom).
    return match.group(0).removesuffix("'s")


def _name_words(text: str) -> tuple[str, ...]:
    return tuple(map(_name_word, NAME_WORD.finditer(normalise(text))))


@dataclass
class _Index:
    """Everything retrieval derives from the catalog, built once and cached on disk."""

    bm25: Any
    lexicon: _Lexicon
    names: _Names
    abbreviations: dict[str, tuple[list[str], frozenset[str]]]
    subjects: _Phrasebook
    aspects: _Phrasebook
    text_only: _TextOnly
    sentence_starts: np.ndarray  # where each entry's sentences begin in sentence_vectors
    sentence_vectors: np.ndarray

    def sentence_similarity(self, vector: np.ndarray) -> np.ndarray:
        """Each entry's best sentence similarity to the query (0 for an entry without any)."""
        if not len(self.sentence_vectors):
            return np.zeros(len(self.sentence_starts))
        similarity = self.sentence_vectors @ vector
        # Every entry has at least one sentence (a summary is required), so starts increase.
        best = np.maximum.reduceat(similarity, self.sentence_starts)
        return np.maximum(best, 0.0)


def _build(entries: Sequence[Entry], embedder: Embedder) -> _Index:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    texts = [entry.search_text() for entry in entries]
    documents = [analyze(text) for text in texts]
    bm25 = bm25s.BM25()
    bm25.index(documents, show_progress=False)
    lexicon = _Lexicon([set(terms) for terms in documents])
    sentences = [_sentences(entry.summary) or [entry.summary] for entry in entries]
    starts = np.cumsum([0] + [len(group) for group in sentences[:-1]]).astype(np.int64)
    flat = [sentence for group in sentences for sentence in group]
    vectors = embedder.embed(flat) if flat else np.zeros((0, embedder.dimension))
    aspects = _Phrasebook(_phrase_table(ASPECTS_FILE), texts, lexicon)
    text_only = _TextOnly(texts, lexicon)
    aspects.derive(TEXT_ONLY, text_only.entries())
    return _Index(
        bm25=bm25,
        lexicon=lexicon,
        names=_Names(entries),
        abbreviations=_abbreviations(entries),
        subjects=_Phrasebook(_phrase_table(SUBJECTS_FILE), texts, lexicon, first_only=True),
        aspects=aspects,
        text_only=text_only,
        sentence_starts=starts,
        sentence_vectors=np.asarray(vectors, dtype=np.float32),
    )


def _load_or_build(entries: Sequence[Entry], embedder: Embedder, cache_dir: Path | None) -> _Index:
    """The index from the cache when the catalog and embedder are unchanged, else built (and
    cached: at 100k entries building takes most of a minute, loading under a second)."""
    if cache_dir is None:
        return _build(entries, embedder)
    # The phrase tables ship with paperbot: an upgrade that changes them must rebuild the index.
    tables = [
        _phrase_table(SUBJECTS_FILE),
        _phrase_table(ASPECTS_FILE),
        LANGUAGE_MODEL_WORDS,
        MODALITY_WORDS,
        sorted(SYNONYMS.items()),
    ]
    phrases = hashlib.sha256(repr(tables).encode()).hexdigest()
    key = hashlib.sha256(
        f"{INDEX_VERSION}:{embedder.name}:{catalog_fingerprint(entries)}:{phrases}".encode()
    ).hexdigest()[:16]
    path = cache_dir / f"retrieval-{key}.pickle"
    try:
        with open(path, "rb") as cached:
            return pickle.load(cached)
    except FileNotFoundError:
        pass
    except Exception:  # a damaged or outdated cache is rebuilt, never trusted
        path.unlink(missing_ok=True)
    index = _build(entries, embedder)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for stale in cache_dir.glob("retrieval-*.pickle"):
            stale.unlink(missing_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with open(temporary, "wb") as out:
            pickle.dump(index, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except OSError:
        pass  # the cache only saves time; answering goes on without it
    return index


def _abbreviations(entries: Sequence[Entry]) -> dict[str, tuple[list[str], frozenset[str]]]:
    """Acronym -> its expansion's words in order and all their terms.

    The field's table, overridden by the definitions the catalog itself makes.
    """
    table = dict(ABBREVIATIONS)
    for entry in entries:
        table.update(acronyms(entry.summary))
    expanded = {}
    for acronym, expansion in table.items():
        words = [terms[0] for terms in map(analyze, WORD.findall(expansion)) if terms]
        key = analyze(acronym)
        if words and key:
            expanded[key[0]] = (words, frozenset(analyze(expansion)))
    return expanded


def _plain_words() -> dict[str, set[frozenset[str]]]:
    """Each everyday word's root -> the ways of saying what it stands for in the field's words."""
    table: dict[str, set[frozenset[str]]] = {}
    for plain, expressions in SYNONYMS.items():
        key = analyze(plain)
        for expression in expressions:
            terms = analyze(expression)
            if key and terms:
                way = terms[:1] if len(WORD.findall(expression)) == 1 else terms
                table.setdefault(key[0], set()).add(frozenset(way))
    return table


_PLAIN = _plain_words()


def _aspect_ways() -> dict[str, set[frozenset[str]]]:
    """An aspect's one-word name, with its other one-word ways: a question about audio is
    covered by an entry that says speech. Not the other way round: a question about speech or
    LLaVA asks for that, not for any audio or vision-language model."""
    table: dict[str, set[frozenset[str]]] = {}
    for label, *phrases in _phrase_table(ASPECTS_FILE):
        name = analyze(label)
        if len(name) == 1:
            words = [terms[0] for terms in map(analyze, phrases) if len(terms) == 1]
            table[name[0]] = {frozenset([word]) for word in words}
    return table


_ASPECT_WAYS = _aspect_ways()


def _with_field_words(query: str) -> str:
    """The query with the field's words for its everyday ones appended, for the embedder."""
    added = [expression for word in split_words(query) for expression in SYNONYMS.get(word, ())]
    return " ".join([query, *dict.fromkeys(added)])


def _contains(sequence: Sequence[str], words: Sequence[str]) -> bool:
    """Whether ``words`` appear in ``sequence`` one after another (an acronym's expansion in a
    query's terms, a marker before an aspect)."""
    width = len(words)
    return any(
        list(sequence[i : i + width]) == list(words) for i in range(len(sequence) - width + 1)
    )
