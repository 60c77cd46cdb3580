"""The built-in extractive answerer: catalog sentences that answer the question, each cited.

It needs no model, no key and no network, and it only ever quotes the entries it cites."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from paperbot.answer import EXTRACTIVE, Answer, abstention, asks_for_list, missing_note
from paperbot.retrieval import Hit, Retriever, compares
from paperbot.text import analyze, split_sentences

# A further paper joins a direct answer only when its best sentence is nearly as good as the
# best one's: most questions are about one paper (0.6 let a second, off-topic paper into a
# third of paraphrase answers on the training split). A list ("which papers…") keeps every
# relevant paper that scores at least LIST_SCORE_RATIO of the best, each with its evidence:
# leaving one out is the worse mistake there, and the retrieval depth of a list (LIST_DEPTH)
# reaches past the papers retrieval is least sure of (0.5 kept the list's precision at what
# five papers gave, on the training split).
COMPANION_RATIO = 0.9
LIST_SCORE_RATIO = 0.5
# Of one paper, the answer quotes the sentences that bear on the question: up to three (a
# summary has 3.3 on average), each scoring at least this share of the best one's.
SENTENCE_RATIO = 0.3
MAX_SENTENCES = 3


@dataclass(frozen=True)
class _Pick:
    """The sentences of one entry that best answer the question, best first."""

    hit: Hit
    sentences: tuple[str, ...]
    positions: tuple[int, ...]
    score: float
    overlap: float

    @property
    def in_reading_order(self) -> list[str]:
        by_position = sorted(zip(self.positions, self.sentences, strict=True))
        return [sentence for _, sentence in by_position]


def extractive_answer(question: str, hits: Sequence[Hit], retriever: Retriever) -> Answer:
    """A query-focused answer made only of catalog sentences, each with its citation."""
    relevant = [hit for hit in hits if hit.relevant]
    if not relevant:
        return abstention(question, EXTRACTIVE, hits)
    picks = [_best_sentences(question, hit, retriever) for hit in relevant]
    picks = [pick for pick in picks if pick.sentences]
    if not picks:
        return abstention(question, EXTRACTIVE, hits)
    if asks_for_list(question) and not any(pick.hit.named for pick in picks):
        best = picks[0].hit.score
        chosen = [pick for pick in picks if pick.hit.score >= LIST_SCORE_RATIO * best]
        lines = [
            f"- **{p.hit.entry.name}**: {_cite(p.sentences[0], p.hit.entry.id)}" for p in chosen
        ]
        text = "\n".join(lines)
    else:
        chosen = _direct_picks(question, picks)
        paragraphs = []
        for pick in chosen:
            sentences = pick.in_reading_order
            body = " ".join(_cite(sentence, pick.hit.entry.id) for sentence in sentences)
            if len(chosen) > 1 and not _mentions(" ".join(sentences), pick.hit):
                body = f"**{pick.hit.entry.name}**: {body}"
            paragraphs.append(body)
        text = "\n\n".join(paragraphs)
    sources = tuple(pick.hit for pick in chosen)
    return Answer(
        question=question,
        text=missing_note(hits) + text,
        citations=tuple(hit.entry.id for hit in sources),
        sources=sources,
        backend=EXTRACTIVE,
        abstained=False,
    )


def _direct_picks(question: str, picks: list[_Pick]) -> list[_Pick]:
    # "Compare the memorization paper with …": a comparison is about two papers at least,
    # however many of them it names.
    wanted = 2 if compares(question) else 1
    named = [pick for pick in picks if pick.hit.named]
    if named:
        unnamed = [pick for pick in picks if not pick.hit.named]
        return named[:3] + unnamed[: max(0, wanted - len(named))]
    # The best-ranked paper leads: retrieval weighed all its evidence, not one sentence.
    # Another joins it only when its best sentence is nearly as good as any.
    best = max(pick.score for pick in picks)
    # When the question's words are found, a companion must share them, not just its topic.
    needs_overlap = picks[0].overlap > 0
    companions = [
        p
        for rank, p in enumerate(picks[1:3], 2)
        if rank <= wanted
        or (p.score >= COMPANION_RATIO * best and (p.overlap > 0 or not needs_overlap))
    ]
    return [picks[0], *companions]


def _best_sentences(question: str, hit: Hit, retriever: Retriever) -> _Pick:
    sentences = split_sentences(hit.entry.summary)
    if not sentences:
        return _Pick(hit, (), (), 0.0, 0.0)
    # The paper's own name says nothing about which of its sentences answers the question.
    own_names = set(analyze(" ".join([hit.entry.name, *hit.entry.own_names])))
    concepts = [
        concept
        for concept in retriever.query_concepts(question)
        if not any(way <= own_names for way in concept)
    ]
    weights = retriever.term_weights(
        {term for concept in concepts for way in concept for term in way}
    )
    vectors = retriever.store.embedder.embed([question, *sentences])
    similarity = vectors[1:] @ vectors[0]
    scored = []
    for index, sentence in enumerate(sentences):
        words = set(analyze(sentence))
        overlap = sum(
            max(
                (max(weights.get(t, 0.0) for t in way) for way in concept if way <= words),
                default=0.0,
            )
            for concept in concepts
        )
        scored.append((overlap + 2.0 * max(float(similarity[index]), 0.0), overlap, index))
    scored.sort(reverse=True)
    best_score, best_overlap, best_index = scored[0]
    chosen = [best_index] + [
        index for score, _, index in scored[1:MAX_SENTENCES] if score >= SENTENCE_RATIO * best_score
    ]
    sentences_chosen = tuple(sentences[i] for i in chosen)
    return _Pick(hit, sentences_chosen, tuple(chosen), best_score, best_overlap)


def _cite(sentence: str, entry_id: str) -> str:
    """Put ``[@id]`` before the sentence's closing punctuation, as pandoc expects."""
    stripped = sentence.rstrip()
    match = re.search(r"[.!?]+$", stripped)
    end = match.group(0) if match else "."
    body = stripped[: match.start()] if match else stripped
    return f"{body} [@{entry_id}]{end}"


def _mentions(text: str, hit: Hit) -> bool:
    lowered = text.lower()
    return any(name.lower() in lowered for name in (hit.entry.name, *hit.entry.aliases))
