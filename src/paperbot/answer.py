"""Answers: the Answer every backend produces, and the pipeline from question to answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from paperbot.citations import CitationReport, cited_ids
from paperbot.config import Settings
from paperbot.prompting import Turn
from paperbot.retrieval import Hit

EXTRACTIVE = "extractive"
ABSTENTION_OPENING = "The catalog has no entry about"
QUESTION_OPENER = re.compile(
    r"^\s*(?:(?:what|who|which|how|why|when|where)\s+(?:is|are|was|were|does|do|did)?\s*|"
    r"tell me about\s+|(?:has|have)\s+(?:anyone|anybody|someone|people|researchers)\s+|"
    r"(?:(?:is|are|does|do|can)\s+(?:there\s+)?)?(?:a\s+|any\s+)?"
    r"(?:(?:work|research|papers?|entries|studies)\s+(?:on|about|that)\s+)?)",
    re.IGNORECASE,
)

# A question that asks for papers in the plural ("which papers…", "any work on…", "I'm looking
# for every paper that…") wants every relevant entry, not the best one. A singular head noun
# before the plural ("which paper squeezes video chat models") keeps it a direct question.
_SINGULAR = r"(?!(?:paper|method|entry|study|approach|model|one|work)\b)"
LIST_QUESTION = re.compile(
    r"^\s*(?:"
    rf"(?:which|what)\s+(?:{_SINGULAR}[\w-]+\s+){{0,4}}?"
    r"(?:papers|works|methods|approaches|models|entries|studies|systems|techniques)\b"
    r"|(?:list|name|show|find)\b"
    r"|(?:papers|entries)\s+(?:about|on|that)\b"
    r"|any\s+(?:work|papers|entries|research)\b"
    r"|are\s+there\s+(?:any\s+)?(?:papers|works|entries|methods|studies|approaches)\b"
    r"|is\s+there\s+anything\b"
    r"|what\s+(?:work|research|has\s+been\s+done)\b"
    r"|i'?m\s+looking\s+for\s+(?:(?:every|all|any)\s+)?(?:papers|work|entries|every\s+paper)\b"
    r")",
    re.IGNORECASE,
)
# A list draws on this many entries even when fewer are retrieved per question (k).
LIST_DEPTH = 10


def asks_for_list(question: str) -> bool:
    return bool(LIST_QUESTION.match(question))


@dataclass(frozen=True)
class Answer:
    """An answer with the entries it cites; ``sources`` are the cited hits, best first."""

    question: str
    text: str
    citations: tuple[str, ...]
    sources: tuple[Hit, ...]
    backend: str
    abstained: bool
    model: str | None = None
    usage: dict[str, int | None] = field(default_factory=dict)
    latency: dict[str, float | None] = field(default_factory=dict)
    error: str | None = None
    standalone_question: str | None = None
    # What the model was shown, cited or not (the extractive answerer shows nothing).
    retrieved: tuple[Hit, ...] = ()
    check: CitationReport | None = None
    # How the citation policy changed the text: sentences stripped, or "retried".
    policy_note: str | None = None
    messages: tuple[dict[str, str], ...] = field(default=(), repr=False, compare=False)

    @property
    def incomplete(self) -> bool:
        return self.error is not None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
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
        if self.model:
            data.update(model=self.model, usage=self.usage, latency=self.latency)
        if self.standalone_question:
            data["standalone_question"] = self.standalone_question
        if self.error:
            data.update(incomplete=True, error=self.error)
        if self.check is not None:
            data["check"] = self.check.to_json()
        if self.policy_note:
            data["policy"] = self.policy_note
        return data


def abstention(question: str, backend: str, hits: Sequence[Hit] = ()) -> Answer:
    """The refusal to answer from unrelated papers, naming what the catalog lacks when the
    question asks about a subject no entry mentions or a combination no entry covers, and the
    entry that came closest when one did."""
    closest = closest_note(hits)
    topic = unmentioned(hits) or ("that" if closest else _topic(question))
    text = " ".join(filter(None, [f"{ABSTENTION_OPENING} {topic}.", closest]))
    return Answer(
        question=question,
        text=text,
        citations=(),
        sources=(),
        backend=backend,
        abstained=True,
    )


def missing_note(hits: Sequence[Hit]) -> str:
    """The paragraph an answer opens with when the question names papers to answer from but
    also a subject no entry mentions ("Does CDPruner work with quantized models?"), or
    something one of the named papers never mentions though another does ("Do HoliTom and
    VLA-Cache both work on video?"). When every paper it names lacks what it asks for ("Has
    μP been used for LLaVA-style models?"), the question is refused instead."""
    topic = unmentioned(hits)
    if topic:
        return f"No entry in the catalog mentions {topic}.\n\n"
    lacks = [
        f"{hit.entry.name} does not mention {_join(hit.lacking, 'or')}."
        for hit in hits
        if hit.named and hit.lacking
    ]
    return " ".join(lacks) + "\n\n" if lacks else ""


def unmentioned(hits: Sequence[Hit]) -> str:
    """What the question asks about that no catalog entry mentions: "speculative decoding",
    "pruning together with audio"; empty when the catalog has it all."""
    if not hits:
        return ""
    if hits[0].missing:
        return _join(hits[0].missing, "or")
    if hits[0].uncombined:
        # "video and vision-language models" (video LLMs) is two aspects to list, not one.
        aspects = [
            part
            for name in hits[0].uncombined
            for part in (name.split(" and ") if " or " not in name else [name])
        ]
        *rest, last = aspects
        if len(rest) == 1:
            return f"{rest[0]} together with {last}"
        return f"{_join(aspects, 'and')} together"
    return ""


def closest_note(hits: Sequence[Hit]) -> str:
    """Which entry came closest to the question but lacks what it asks for, if one did: the
    one retrieval named, or the best match when no entry has all that was asked for. A
    subject no entry mentions says it all: then there is no note."""
    if not hits or hits[0].missing:
        return ""
    closest = next((hit for hit in hits if hits[0].closest == hit.entry.id), None)
    if closest is None and hits[0].uncombined and hits[0].lacking:
        closest = hits[0]
    if closest is None:
        return ""
    return f"The closest, {closest.entry.name}, does not mention {_join(closest.lacking, 'or')}."


def _join(subjects: Sequence[str], conjunction: str) -> str:
    if len(subjects) == 1:
        return subjects[0]
    return f"{', '.join(subjects[:-1])} {conjunction} {subjects[-1]}"


def _topic(question: str) -> str:
    topic = QUESTION_OPENER.sub("", question.strip(), count=1).strip().rstrip("?!. ")
    topic = " ".join(topic.split())
    if not topic:
        return "that question"
    if len(topic) > 120:
        topic = topic[:117].rstrip() + "…"
    return topic


def model_answer(
    question: str,
    hits: Sequence[Hit],
    settings: Settings,
    turns: Sequence[Turn] = (),
    on_text: Callable[[str], None] | None = None,
    stream: bool = True,
) -> Answer:
    """A grounded answer from the configured model; no call is made when nothing is relevant."""
    from paperbot import llm, prompting

    relevant = [hit for hit in hits if hit.relevant]
    if not relevant:
        return abstention(question, settings.model, hits)
    prompt = prompting.build(
        question,
        relevant,
        model=settings.model,
        context_window=llm.context_window(settings),
        max_tokens=settings.max_tokens,
        history=turns,
        templates=prompting.load_templates(settings.prompts_dir),
    )
    note = missing_note(hits)
    if note and on_text:
        on_text(note)
    completion = llm.complete(settings, prompt.messages, on_text=on_text, stream=stream)
    by_id = {hit.entry.id: hit for hit in hits}
    citations = cited_ids(completion.text, [hit.entry for hit in by_id.values()])
    return Answer(
        question=question,
        text=note + completion.text.strip(),
        citations=citations,
        sources=tuple(by_id[entry_id] for entry_id in citations),
        backend=settings.model,
        abstained=not citations and completion.text.lstrip().startswith(ABSTENTION_OPENING),
        model=settings.model,
        usage=completion.usage(),
        latency=completion.latency(),
        error=str(completion.error) if completion.error else None,
        retrieved=prompt.sources,
        messages=tuple(prompt.messages),
    )


def condensed_question(question: str, turns: Sequence[Turn], settings: Settings) -> str:
    """The follow-up rewritten by the model into a question that stands alone."""
    from paperbot import llm, prompting

    messages = prompting.condense_messages(
        question, turns, prompting.load_templates(settings.prompts_dir)
    )
    completion = llm.complete(settings, messages, stream=False)
    rewritten = " ".join(completion.text.split()).strip('"')
    return rewritten or question


def retried_answer(answer: Answer, problems: str, settings: Settings) -> Answer:
    """One more model call, told exactly which sentences failed the check and why."""
    from paperbot import llm, prompting

    instructions = prompting.load_templates(settings.prompts_dir)["retry"]
    messages = [
        *answer.messages,
        {"role": "assistant", "content": answer.text},
        {"role": "user", "content": instructions.safe_substitute(problems=problems)},
    ]
    completion = llm.complete(settings, messages, stream=False)
    by_id = {hit.entry.id: hit for hit in (*answer.retrieved, *answer.sources)}
    citations = cited_ids(completion.text, [hit.entry for hit in by_id.values()])
    return replace(
        answer,
        text=completion.text.strip(),
        citations=citations,
        sources=tuple(by_id[entry_id] for entry_id in citations),
        usage={
            key: (answer.usage.get(key) or 0) + (value or 0)
            for key, value in completion.usage().items()
        },
        error=str(completion.error) if completion.error else None,
        messages=tuple(messages),
    )
