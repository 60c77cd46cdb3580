"""Retrieval evaluation: a question set with gold entries, the systems compared, the metrics.

Each question names the entries a careful reader would use to answer it (none for questions the
catalog cannot answer). A system ranks entries for a question and says whether it would abstain;
we report Recall@k with k = max(5, number of gold entries), MRR, and how often it abstains.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from paperbot.catalog import Entry
from paperbot.citations import CITE_GROUP
from paperbot.text import WORD, analyze, normalise

if TYPE_CHECKING:
    from paperbot.answer import Answer
    from paperbot.retrieval import Hit, Retriever
    from paperbot.store import Store

TYPES = ("named", "paraphrase", "numeric", "multi-paper", "topic", "unanswerable")
SPLITS = ("train", "heldout")
UNANSWERABLE = "unanswerable"
MIN_K = 5
# The floors paperbot used before this evaluation existed; they let the baselines abstain too.
BASELINE_MIN_BM25 = 1.5
BASELINE_MIN_DENSE = 0.25


class EvalSetError(ValueError):
    """A question file that cannot be used; the message reads ``FILE:LINE: what is wrong``."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    gold: tuple[str, ...]
    type: str
    split: str
    facts: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE

    @property
    def k(self) -> int:
        return max(MIN_K, len(self.gold))


@dataclass(frozen=True)
class Ranking:
    """What a system returns for one question: entry ids best first, and whether it abstains."""

    ids: tuple[str, ...]
    abstained: bool


System = Callable[[str, int], Ranking]


@dataclass(frozen=True)
class Outcome:
    """One question scored for one system."""

    question: Question
    ranking: Ranking

    @property
    def recall(self) -> float:
        found = set(self.ranking.ids[: self.question.k]) & set(self.question.gold)
        return len(found) / len(self.question.gold)

    @property
    def reciprocal_rank(self) -> float:
        gold = set(self.question.gold)
        rank = next((i for i, entry_id in enumerate(self.ranking.ids, 1) if entry_id in gold), 0)
        return 1.0 / rank if rank else 0.0

    def to_json(self) -> dict:
        data: dict = {"id": self.question.id, "abstained": self.ranking.abstained}
        if self.question.answerable:
            data |= {
                "recall": round(self.recall, 4),
                "reciprocal_rank": round(self.reciprocal_rank, 4),
                "ranked": list(self.ranking.ids[: self.question.k]),
            }
        return data


@dataclass(frozen=True)
class Scores:
    """Averages over a group of questions; ``None`` where the group has no such question.

    ``abstention`` is the share of the group's questions the system abstained on: wanted on
    unanswerable questions, a miss on the others.
    """

    questions: int
    recall: float | None
    mrr: float | None
    abstention: float | None

    def to_json(self) -> dict:
        return {
            "questions": self.questions,
            "recall": _round(self.recall),
            "mrr": _round(self.mrr),
            "abstention": _round(self.abstention),
        }


@dataclass(frozen=True)
class Report:
    """One system's scores: per type, over answerable questions, and on unanswerable ones."""

    system: str
    by_type: dict[str, Scores]
    overall: Scores
    outcomes: tuple[Outcome, ...] = field(repr=False)

    @property
    def unanswerable_abstention(self) -> float | None:
        scores = self.by_type.get(UNANSWERABLE)
        return scores.abstention if scores else None

    def to_json(self, with_questions: bool = True) -> dict:
        data = {
            "overall": {
                **self.overall.to_json(),
                "abstention_on_unanswerable": _round(self.unanswerable_abstention),
            },
            "by_type": {name: scores.to_json() for name, scores in self.by_type.items()},
        }
        if with_questions:
            data["questions"] = [outcome.to_json() for outcome in self.outcomes]
        return data


def load_questions(path: Path, known_ids: Iterable[str] | None = None) -> list[Question]:
    """Read a JSONL question set; every problem is reported as ``FILE:LINE: …``."""
    known = set(known_ids) if known_ids is not None else None
    questions: list[Question] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise EvalSetError(f"{path}: {error.strerror or error}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise EvalSetError(f"{where}: not JSON ({error.msg})") from None
        question = _question(record, where)
        if question.id in seen:
            raise EvalSetError(f"{where}: duplicate id '{question.id}'")
        seen.add(question.id)
        unknown = [g for g in question.gold if known is not None and g not in known]
        if unknown:
            raise EvalSetError(f"{where}: gold id '{unknown[0]}' is not in the catalog")
        questions.append(question)
    if not questions:
        raise EvalSetError(f"{path}: no questions")
    return questions


def select(questions: Sequence[Question], split: str) -> list[Question]:
    """The questions of one split; ``all`` keeps every one."""
    return [q for q in questions if split == "all" or q.split == split]


def evaluate(name: str, system: System, questions: Sequence[Question]) -> Report:
    outcomes = tuple(Outcome(q, system(q.question, q.k)) for q in questions)
    return summarise(name, outcomes)


def summarise(name: str, outcomes: Sequence[Outcome]) -> Report:
    by_type = {
        kind: _scores([o for o in outcomes if o.question.type == kind])
        for kind in TYPES
        if any(o.question.type == kind for o in outcomes)
    }
    return Report(
        system=name,
        by_type=by_type,
        overall=_scores([o for o in outcomes if o.question.answerable]),
        outcomes=tuple(outcomes),
    )


@dataclass(frozen=True)
class AnswerCheck:
    """Whether one extractive answer says what the question's gold says it should."""

    question: Question
    abstained: bool
    has_facts: bool
    cites_gold: bool
    # Share of the cited entries that are gold: a list padded with off-topic papers scores low.
    precision: float | None
    # Length without the citations: quoting more sentences finds more facts, and costs this.
    words: int = 0

    @property
    def correct(self) -> bool:
        if not self.question.answerable:
            return self.abstained
        return not self.abstained and self.has_facts and self.cites_gold

    def to_json(self) -> dict:
        return {
            "id": self.question.id,
            "correct": self.correct,
            "abstained": self.abstained,
            "has_facts": self.has_facts,
            "cites_gold": self.cites_gold,
            "precision": _round(self.precision),
            "words": self.words,
        }


def check_answer(question: Question, answer: Answer) -> AnswerCheck:
    text = normalise(answer.text)
    cited = set(answer.citations)
    return AnswerCheck(
        question=question,
        abstained=answer.abstained,
        has_facts=all(normalise(fact) in text for fact in question.facts),
        cites_gold=set(question.gold) <= cited,
        precision=len(cited & set(question.gold)) / len(cited) if cited else None,
        words=len(WORD.findall(normalise(CITE_GROUP.sub("", answer.text)))),
    )


def answer_scores(checks: Sequence[AnswerCheck]) -> dict[str, dict]:
    """Share of correct answers per type and overall, with the two halves of correctness."""
    groups = {kind: [c for c in checks if c.question.type == kind] for kind in TYPES}
    groups["overall"] = list(checks)
    result = {}
    for name, group in groups.items():
        if not group:
            continue
        answerable = [c for c in group if c.question.answerable]
        precisions = [c.precision for c in answerable if c.precision is not None]
        lengths = [c.words for c in answerable if not c.abstained]
        result[name] = {
            "questions": len(group),
            "correct": _round(_mean(c.correct for c in group)),
            "has_facts": _round(_mean(c.has_facts for c in answerable)) if answerable else None,
            "cites_gold": _round(_mean(c.cites_gold for c in answerable)) if answerable else None,
            "precision": _round(_mean(precisions)) if precisions else None,
            "words": round(_mean(lengths)) if lengths else None,
        }
    return result


def check_answers(questions: Sequence[Question], ask: Callable[[str], Answer]) -> list[AnswerCheck]:
    return [check_answer(question, ask(question.question)) for question in questions]


def systems(entries: Sequence[Entry], store: Store, retriever: Retriever) -> dict[str, System]:
    """The systems ``paperbot eval`` compares, in the order its table shows them."""
    return {
        "bm25": bm25_baseline(entries),
        "dense": dense_baseline(store),
        "paperbot": paperbot_system(retriever.search),
    }


def default_questions() -> Path:
    """The question set that ships with paperbot (``benchmarks/eval/`` in the repository)."""
    from importlib.resources import files

    return Path(str(files("paperbot") / "data" / "eval" / "questions.jsonl"))


def bm25_baseline(entries: Sequence[Entry]) -> System:
    """Plain BM25 over each entry's text, the query tokenised the same way and nothing more."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    index = bm25s.BM25()
    index.index([analyze(entry.search_text()) for entry in entries], show_progress=False)
    ids = [entry.id for entry in entries]

    def rank(query: str, k: int) -> Ranking:
        terms = [term for term in analyze(query) if term in index.vocab_dict]
        scores = index.get_scores(terms) if terms else [0.0] * len(ids)
        order = sorted((i for i, s in enumerate(scores) if s > 0), key=lambda i: -scores[i])
        top = float(scores[order[0]]) if order else 0.0
        return Ranking(tuple(ids[i] for i in order[:k]), top < BASELINE_MIN_BM25)

    return rank


def dense_baseline(store: Store) -> System:
    """Cosine similarity between the query and each stored entry embedding."""

    def rank(query: str, k: int) -> Ranking:
        nearest = store.nearest(store.embedder.embed([query])[0], k)
        top = nearest[0][1] if nearest else 0.0
        return Ranking(tuple(entry_id for entry_id, _ in nearest), top < BASELINE_MIN_DENSE)

    return rank


def paperbot_system(search: Callable[[str, int], Sequence[Hit]]) -> System:
    """paperbot's own retrieval (or reranking); it abstains when no hit is relevant, as the
    answerers do."""

    def rank(query: str, k: int) -> Ranking:
        hits = search(query, k)
        return Ranking(tuple(hit.entry.id for hit in hits), not any(hit.relevant for hit in hits))

    return rank


def format_table(reports: Sequence[Report]) -> list[str]:
    """Systems side by side: one row per question type, then the overall row."""
    kinds = [kind for kind in TYPES if any(kind in r.by_type for r in reports)]
    cell = 17
    header = f"{'type':<13}{'n':>4}  " + "".join(f"{r.system:<{cell}}" for r in reports)
    columns = f"{'':<19}" + "".join(f"{'R@k':>5}{'MRR':>6}{'abst':>6}" for _ in reports)
    lines = [header.rstrip(), columns.rstrip()]

    def row(label: str, pick: Callable[[Report], Scores]) -> str:
        count = pick(reports[0]).questions
        cells = "".join(
            f"{_cell(pick(r).recall, 5)}{_cell(pick(r).mrr, 6)}{_cell(pick(r).abstention, 6)}"
            for r in reports
        )
        return f"{label:<13}{count:>4}  {cells}"

    for kind in kinds:
        lines.append(row(kind, lambda report, kind=kind: report.by_type[kind]))
    lines.append(row("answerable", lambda report: report.overall))
    return lines


def format_answers(scores: dict[str, dict]) -> list[str]:
    lines = [
        f"{'type':<13}{'n':>4}  {'correct':>7}  {'facts':>5}  {'cited':>5}  {'prec':>5}  words"
    ]
    for name, row in scores.items():
        label = "all" if name == "overall" else name
        words = "-" if row["words"] is None else str(row["words"])
        lines.append(
            f"{label:<13}{row['questions']:>4}  {_cell(row['correct'], 7)}  "
            f"{_cell(row['has_facts'], 5)}  {_cell(row['cites_gold'], 5)}  "
            f"{_cell(row['precision'], 5)}  {words:>5}"
        )
    return lines


def _question(record: object, where: str) -> Question:
    if not isinstance(record, dict):
        raise EvalSetError(f"{where}: expected a JSON object")
    missing = [key for key in ("id", "question", "gold", "type", "split") if key not in record]
    if missing:
        raise EvalSetError(f"{where}: missing '{missing[0]}'")
    if record["type"] not in TYPES:
        raise EvalSetError(f"{where}: type '{record['type']}' is not one of {', '.join(TYPES)}")
    if record["split"] not in SPLITS:
        raise EvalSetError(f"{where}: split '{record['split']}' is not train or heldout")
    gold, facts = record["gold"], record.get("facts", [])
    if not _strings(gold) or not _strings(facts):
        raise EvalSetError(f"{where}: 'gold' and 'facts' must be lists of strings")
    if bool(gold) == (record["type"] == UNANSWERABLE):
        raise EvalSetError(f"{where}: unanswerable questions, and only they, have no gold ids")
    return Question(
        id=str(record["id"]),
        question=str(record["question"]),
        gold=tuple(gold),
        type=record["type"],
        split=record["split"],
        facts=tuple(facts),
    )


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _scores(outcomes: Sequence[Outcome]) -> Scores:
    answerable = [o for o in outcomes if o.question.answerable]
    return Scores(
        questions=len(outcomes),
        recall=_mean(o.recall for o in answerable) if answerable else None,
        mrr=_mean(o.reciprocal_rank for o in answerable) if answerable else None,
        abstention=_mean(o.ranking.abstained for o in outcomes) if outcomes else None,
    )


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _cell(value: float | None, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.2f}"
