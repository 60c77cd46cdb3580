"""An answer's evidence as the chat shows it: unsupported sentences marked where they stand,
citations as links, a verdict for each cited entry, and the summary sentences behind a claim."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from paperbot.catalog import Entry
from paperbot.citations import (
    NO_CLAIM,
    UNSUPPORTED,
    CitationReport,
    SentenceCheck,
    best_support,
)

CITATION_GROUP = re.compile(r"\[(?P<body>[^\[\]]*@[^\[\]]*)\](?!\()")
CITATION_KEY = re.compile(r"(?<![\w.])@(?P<key>[A-Za-z0-9][\w:.+/-]*?)(?=[\s;,\]]|$)")
CITE_SCHEME = "cite:"


def display_markdown(text: str, report: CitationReport | None, known: Collection[str]) -> str:
    """The answer as the transcript shows it.

    Each unsupported sentence gets an inline-code mark after it (Textual's Markdown styles
    inline code in the warning colour, so the mark stands out without breaking the text), and
    each citation of a catalog entry becomes a ``cite:`` link that opens the entry.
    """
    marked = text
    if report is not None:
        for check in sorted(report.sentences, key=lambda c: c.span[0], reverse=True):
            if check.verdict != UNSUPPORTED:
                continue
            labels = ", ".join(dict.fromkeys(problem.label for problem in check.problems))
            start, end = check.span
            # A table row's span ends at its closing pipe; the mark belongs in the last cell.
            if marked[start:end].rstrip().endswith("|"):
                end = marked.rindex("|", start, end)
            marked = f"{marked[:end]} `⚠ unsupported: {labels}`{marked[end:]}"
    return CITATION_GROUP.sub(lambda group: _link_keys(group, known), marked)


def _link_keys(group: re.Match[str], known: Collection[str]) -> str:
    def link(match: re.Match[str]) -> str:
        key = match.group("key").lower()
        return f"[@{key}]({CITE_SCHEME}{key})" if key in known else match.group()

    return "[" + CITATION_KEY.sub(link, group.group("body")) + "]"


def cited_keys(record: Mapping, report: CitationReport | None) -> list[str]:
    """Every key the answer cites, in order, including keys the catalog does not have."""
    keys = [key for check in report.sentences for key in check.citations] if report else []
    return list(dict.fromkeys([*keys, *record.get("citations", ())]))


@dataclass(frozen=True)
class SourceVerdict:
    """What the check says about one cited entry across the answer."""

    key: str
    entry: Entry | None
    claims: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.entry is not None and not self.problems

    @property
    def summary(self) -> str:
        if self.entry is None:
            return "not in the catalog"
        if self.problems:
            return self.problems[0] if len(self.problems) == 1 else f"{len(self.problems)} problems"
        if not self.claims:
            return "cited, no claim to check"
        return f"supports {self.claims} claim{'s' if self.claims != 1 else ''}"


def source_verdicts(
    record: Mapping, report: CitationReport | None, by_id: Mapping[str, Entry]
) -> list[SourceVerdict]:
    verdicts = []
    for key in cited_keys(record, report):
        claims = claims_citing(report, key)
        problems = [
            f"{problem.label}: {problem.detail}"
            for check in claims
            for problem in check.problems
            if not problem.ids or key in problem.ids
        ]
        verdicts.append(
            SourceVerdict(
                key,
                by_id.get(key),
                sum(1 for check in claims if check.verdict != NO_CLAIM),
                tuple(dict.fromkeys(problems)),
            )
        )
    return verdicts


def claims_citing(report: CitationReport | None, key: str) -> list[SentenceCheck]:
    if report is None:
        return []
    return [check for check in report.sentences if key in check.citations]


def supporting_sentences(entry: Entry, claims: Sequence[SentenceCheck]) -> list[str]:
    """The sentences of the entry's summary that best back each claim citing it."""
    found = (best_support(check.text, entry) for check in claims if check.verdict != NO_CLAIM)
    return list(dict.fromkeys(sentence for sentence in found if sentence))
