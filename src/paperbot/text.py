"""Plain-text helpers shared by retrieval, answering and citation checking."""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves paper papers
    catalog entry entries work works method methods approach approaches does do tell show list give
    find please much many any use uses using used based""".split()
)

WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")

# "Long Form Words (LFW)": an acronym defined beside its expansion.
ACRONYM_DEFINITION = re.compile(r"((?:[\w-]+\s+){0,6}[\w-]+)\s+\(([A-Za-z][A-Za-z0-9]{1,9})\)")

# Abbreviations whose period does not end a sentence.
ABBREVIATION = re.compile(r"\b(?:et al|e\.g|i\.e|etc|vs|cf|fig|eq|approx|no)\.", re.IGNORECASE)
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9*_@-])")


def normalise(text: str) -> str:
    """Lower-case text with typographic variants folded (× → x, curly quotes, dashes)."""
    table = str.maketrans({"×": "x", "’": "'", "‘": "'", "–": "-", "—": " ", "μ": "mu"})
    return text.translate(table).lower()


# Suffixes folded so that "reduce", "reduces" and "reduction", or "prune" and "pruning", meet.
SUFFIXES = (
    "ations",
    "ation",
    "ates",
    "ated",
    "ate",
    "ssion",
    "tions",
    "tion",
    "ings",
    "ing",
    "ers",
    "ies",
    "ed",
    "es",
    "er",
    "ly",
    "s",
    "e",
)
SUFFIX_REPLACEMENT = {"ssion": "ss", "ies": "y"}


def stem(word: str) -> str:
    if any(ch.isdigit() for ch in word) or len(word) <= 4:
        return word
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: -len(suffix)] + SUFFIX_REPLACEMENT.get(suffix, "")
    return word


def tokenize(text: str, keep_stopwords: bool = False) -> list[str]:
    """Search terms: hyphenated names are kept whole and also split into their parts."""
    terms: list[str] = []
    for word in WORD.findall(normalise(text)):
        parts = word.split("-") if "-" in word else []
        for term in (word, *parts):
            if term and (keep_stopwords or term not in STOPWORDS):
                terms.append(stem(term))
    return terms


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences without breaking at decimals or common abbreviations."""
    protected = ABBREVIATION.sub(lambda m: m.group(0).replace(".", "\x01"), text)
    sentences = (piece.replace("\x01", ".").strip() for piece in SENTENCE_END.split(protected))
    return [sentence for sentence in sentences if sentence]


def acronyms(text: str) -> dict[str, str]:
    """Acronyms defined in ``text`` mapped to their expansions, lower-cased.

    An acronym counts when its capitals are the initials of the words just before it:
    "time-to-first-token (TTFT)", "Determinantal Point Process (DPP)".
    """
    found: dict[str, str] = {}
    for match in ACRONYM_DEFINITION.finditer(text):
        acronym = match.group(2)
        capitals = [c.lower() for c in acronym if c.isupper() or c.isdigit()]
        words = re.split(r"[\s-]+", match.group(1))
        for start in range(len(words)):
            tail = words[start:]
            if len(tail) == len(capitals) and all(
                w[:1].lower() == c for w, c in zip(tail, capitals, strict=True)
            ):
                found[acronym.lower()] = normalise(" ".join(tail))
                break
    return found
