"""Citation checking: does each sentence of an answer say what the entries it cites say?

An answer is split into sentences (Markdown-aware), each sentence is classed as a claim or as
connective text, and every claim is checked against the catalog entries it cites: the ids must
exist, its numbers must be the entry's numbers in the same role, and its distinctive content
must come from the cited entry rather than from another one. Recall and precision follow ALCE
(Gao et al. 2023) with a lexical judge instead of an NLI model, so the checker runs offline in
milliseconds and never needs a model.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from paperbot.catalog import Entry
from paperbot.text import acronyms, analyze, root, split_sentences

KINDS = ("unknown_id", "uncited_claim", "no_citation", "wrong_number", "wrong_entry")
SUPPORTED, UNSUPPORTED, NO_CLAIM = "supported", "unsupported", "no-claim"

# Words that talk about the answer or the catalog rather than about a paper.
META = frozenset(
    """answer answers question questions here following below above summary summaries overall
    note relevant say says said describe describes described mention mentions mentioned report
    reports reported discuss discusses discussed cover covers covered include includes according
    address addresses addressed see detail details source sources reference references listed
    several various topic topics area areas related look looks example examples""".split()
)
# Stems a paraphrase uses for the entry's own verbs; folding them keeps paraphrases supported.
# Everyday verbs folded into the catalog's own, so a paraphrase still meets its entry.
SYNONYMS = {
    root(word): root(canonical)
    for canonical, words in {
        "reduce": ("cut", "cutting", "lower", "decrease", "shrink", "fewer", "drop", "slash"),
        "accelerate": ("speed", "speedup", "fast", "faster"),
        "maintain": ("keep", "retain", "preserve"),
        "select": ("choose", "pick", "selection"),
    }.items()
    for word in words
}

# A term no entry contains weighs this much: it counts against "nothing backs it", mildly,
# because paraphrases bring their own words.
UNSEEN_WEIGHT = 1.0
# wrong_entry: another entry covers this much more of the sentence than the cited ones do...
FAR_RATIO = 2.0
FAR_MARGIN = 4.0
# ...or the cited entries cover under this share of a sentence that carries at least this weight.
MIN_COVERAGE = 0.3
MIN_WEIGHT = 5.0
# wrong_number by role: the words around the number must point to another of the entry's figures.
ROLE_MIN = 2.0
ROLE_RATIO = 0.5
# An uncited sentence with this many catalog words (question words count half) states something.
CLAIM_TERMS = 2.0

CITE_GROUP = re.compile(
    r"(?P<open>[\[(])(?P<body>[^\[\]()]*(?<![\w.])-?@[^\[\]()]*)(?P<close>[\])])"
)
CITE_KEY = re.compile(r"(?<![\w.])-?@(?P<key>[A-Za-z0-9][\w.:+/-]*)")
BARE_BRACKET = re.compile(r"\[(?P<body>[^\[\]@^]{1,80})\](?:\((?P<url>[^()\s]*)\))?")
LEADING_CITATIONS = re.compile(r"^(?:\s*(?:\[[^\[\]]*@[^\[\]]*\]|\([^()]*@[^()]*\)))+[.,;]?")

BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
QUOTE = re.compile(r"^\s*>\s?")
HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
BOLD_LINE = re.compile(r"^\s*(\*\*|__)[^*_]+\1\s*:?\s*$")
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
FENCE = re.compile(r"^\s*(?:```|~~~)")
RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")

URL = re.compile(r"https?://\S+|\barxiv:\s*\d{4}\.\d{4,5}(?:v\d+)?", re.IGNORECASE)
MARKUP = re.compile(r"[*_`#>|]")
# "(1)" and "(ii)" enumerate; "[1]" and "[^1]" are footnote marks: neither is a figure.
ENUMERATION = re.compile(r"\(\d{1,2}\)|\(\s*[ivx]{1,4}\s*\)|\[\^?\d{1,3}\]")
# A number glued to a letter, '/', or a letter-hyphen is part of a model name (Qwen2.5, DiT-XL/2).
NUMBER = re.compile(
    r"(?<![\w./])(?<![a-z]-)(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
    r"(?:\s*(?P<unit>%|percent\b|per\s+cent\b|x(?![a-z0-9])|-?fold\b|times\b|k\b))?"
    r"(?![a-z0-9]|\.\d)"
)
DIMENSION = re.compile(r"(?<![\w.])(\d{2,5})\s*x\s*(\d{2,5})(?![\w.])")
RANGE = re.compile(r"\s*(?:-|to|and)\s*")
NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "two three four five six seven eight nine ten eleven twelve".split(), start=2
    )
}
NUMBER_WORD = re.compile(
    r"\b(?P<word>" + "|".join(NUMBER_WORDS) + r")\b"
    r"(?!\s+(?:of|papers?|entries|works|methods|approaches|ways?|models|systems)\b)"
)
CONFERENCE_YEAR = re.compile(r"\b(?:neurips|iclr|icml|cvpr|iccv|eccv|acl|aaai)\s*'?\d{2,4}\b")
CLAUSE_BREAK = re.compile(
    r"[,;:()\[\]]|\s[-–—]\s|—|\s(?:and|while|but|whereas|versus|vs\.?)\s", re.IGNORECASE
)
UNITS = {
    "%": "percent",
    "percent": "percent",
    "x": "times",
    "fold": "times",
    "times": "times",
}
UNIT_SIGN = {"percent": "%", "times": "×", "plain": "", "dim": ""}

ABSTENTION = re.compile(
    r"\b(?:no\s+(?:entry|entries|paper|papers|information|mention|details?|data)"
    r"|(?:does|do|did)\s*(?:not|n't)\s+(?:say|mention|report|cover|include|contain|discuss|"
    r"describe|give|state|specify|provide)"
    r"|not\s+(?:mentioned|covered|reported|stated|specified|described|discussed|included|given)"
    r"|(?:could|can)(?:not|n't)\s+find|unable\s+to\s+find|nothing\s+(?:about|on|in)"
    r"|none\s+of\s+the)\b",
    re.IGNORECASE,
)
CONNECTIVE = re.compile(
    r"^\W*(?:here(?:'s|’s|\s+is|\s+are)|below\s+(?:is|are)|the\s+following|let\s+me\s+know|"
    r"i\s+hope|hope\s+this|feel\s+free|"
    # "Two papers revisit attention.": a count of the catalog's papers introduces what follows.
    r"(?:two|three|four|five|several|some|many|multiple|a\s+few)\s+(?:\w+\s+)?"
    r"(?:papers|entries|works|methods|approaches)\b)",
    re.IGNORECASE,
)
# "ElasticMM is the relevant entry": pointing the reader to a paper claims nothing about it.
POINTER = re.compile(
    r"\b(?:is|are)\s+(?:the|a|an)\s+(?:most\s+|only\s+)?(?:relevant|closest|best|matching)\s+"
    r"(?:entry|entries|paper|papers|match|matches|source|sources)\b",
    re.IGNORECASE,
)
# A bare figure is checked as a number, not matched as a word; a resolution (256x256) is a word.
BARE_NUMBER = re.compile(r"(?!\d+x\d+$)[0-9.,x%-]+k?")
# "Unlike HoliTom, it…": a paper named as a point of comparison is not the sentence's subject.
COMPARISON = re.compile(
    r"\b(?:unlike|like|than|versus|vs\.?|compared\s+(?:to|with)|similar\s+to|as\s+in|"
    r"whereas|outperforms?|beats?|over)\s+(?:\S+\s+){0,2}$",
    re.IGNORECASE,
)
FOLD = str.maketrans({"×": "x", "’": "'", "‘": "'", "–": "-", "μ": "mu"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an answer; ``sentence`` is 0 for the answer as a whole."""

    kind: str
    sentence: int
    detail: str
    ids: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.kind.replace("_", " ")

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "sentence": self.sentence,
            "detail": self.detail,
            "ids": list(self.ids),
        }


@dataclass(frozen=True)
class SentenceCheck:
    """A sentence (or list item, or table row) and what the check found in it.

    ``support`` (0..1) is how much of the sentence its cited entries back: the IDF-weighted
    share of its terms, figures and named papers that check out. ``span`` locates the sentence
    in the checked text, for annotating or stripping it.
    """

    index: int
    text: str
    citations: tuple[str, ...]
    verdict: str
    problems: tuple[Problem, ...]
    support: float
    span: tuple[int, int] = (0, 0)

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "text": self.text,
            "citations": list(self.citations),
            "verdict": self.verdict,
            "problems": [problem.to_json() for problem in self.problems],
            "support": round(self.support, 3),
        }


@dataclass(frozen=True)
class CitationReport:
    sentences: tuple[SentenceCheck, ...]
    problems: tuple[Problem, ...]
    normalised_slips: tuple[str, ...]
    ok: bool
    recall: float
    precision: float
    claims: int
    supported: int

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "verdict": self.verdict_line(),
            "claims": self.claims,
            "supported": self.supported,
            "recall": round(self.recall, 3),
            "precision": round(self.precision, 3),
            "normalised_slips": list(self.normalised_slips),
            "problems": [problem.to_json() for problem in self.problems],
            "sentences": [sentence.to_json() for sentence in self.sentences],
        }

    def verdict_line(self) -> str:
        if not self.problems:
            if not self.claims:
                return "No claims to check."
            return f"All {self.claims} claim{_s(self.claims)} supported."
        where = [
            f"{p.label} in sentence {p.sentence}" if p.sentence else f"{p.label} in the answer"
            for p in self.problems
        ]
        count = len(self.problems)
        return (
            f"{self.supported}/{self.claims} claims supported; "
            f"{count} problem{_s(count)}: {', '.join(where)}"
        )


@dataclass(frozen=True)
class Citation:
    """A citation as written (``raw`` at ``start:end``) and the ids it resolves to."""

    start: int
    end: int
    raw: str
    ids: tuple[str, ...]
    slip: bool

    @property
    def normalised(self) -> str:
        return "[" + "; ".join(f"@{key}" for key in self.ids) + "]"


@dataclass(frozen=True)
class Quantity:
    """A number as a claim uses it: value, kind (percent, times, plain, dim) and its clause."""

    value: float | str
    kind: str
    raw: str
    decimals: int
    context: frozenset[str]
    spelled: bool = False


@dataclass(frozen=True)
class _Paper:
    entry: Entry
    terms: frozenset[str]
    names: tuple[re.Pattern[str], ...]
    quantities: tuple[Quantity, ...]


@dataclass(frozen=True)
class _Acronyms:
    """Acronyms the catalog defines, so that "TTFT" and "time to first token" meet."""

    expansions: Mapping[str, frozenset[str]]

    def expand(self, terms: Iterable[str]) -> frozenset[str]:
        found = set(terms)
        for acronym, words in self.expansions.items():
            if acronym in found:
                found |= words
            elif words <= found:
                found.add(acronym)
        return frozenset(found)

    def quantities(self, quantities: Iterable[Quantity]) -> tuple[Quantity, ...]:
        return tuple(replace(q, context=self.expand(q.context)) for q in quantities)


@dataclass(frozen=True)
class _Index:
    papers: Mapping[str, _Paper]
    idf: Mapping[str, float]
    keys: Mapping[str, str]
    acronyms: _Acronyms
    owners: Mapping[str, str]  # terms only one entry uses, and that entry

    def weight(self, term: str) -> float:
        return self.idf.get(term, UNSEEN_WEIGHT)

    def mass(self, terms: Iterable[str]) -> float:
        return sum(self.weight(term) for term in terms)


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    kind: str  # "prose", "heading" or "row"


# ---------------------------------------------------------------------------------------------
# Parsing citations


def parse_citations(text: str, entries: Sequence[Entry] = ()) -> tuple[Citation, ...]:
    """Pandoc citations and the slips models make, resolved against ``entries`` when given.

    ``[@a]``, ``[@a; @b]``, ``[@a][@b]`` are citations; ``(@a)``, ``[@a, @b]``, ``[@A]`` and
    a bracketed id without ``@`` (``[a]``) are slips, normalised and marked ``slip``. A bracket
    without ``@`` counts only when it names a catalog entry, so footnotes (``[1]``) and ordinary
    Markdown links are left alone.
    """
    keys = _keys(tuple(entries))
    found: list[Citation] = []
    taken: list[tuple[int, int]] = []
    for match in CITE_GROUP.finditer(text):
        body = match.group("body")
        raw_keys = [m.group("key").rstrip(".:,;") for m in CITE_KEY.finditer(body)]
        ids = tuple(dict.fromkeys(_resolve(key, keys) or key.lower() for key in raw_keys))
        slip = (
            match.group("open") == "("
            or bool(re.search(r"@[^;]*,\s*-?@", body))
            or any(_resolve(key, keys) not in (None, key) for key in raw_keys)
        )
        found.append(Citation(match.start(), match.end(), match.group(0), ids, slip))
        taken.append(match.span())
    if keys:
        for match in BARE_BRACKET.finditer(text):
            if any(start <= match.start() < end for start, end in taken):
                continue
            parts = [p.strip() for p in re.split(r"[;,]", match.group("body"))]
            resolved = [_resolve(part, keys) for part in parts]
            if parts and all(resolved):
                ids = tuple(dict.fromkeys(key for key in resolved if key))
                found.append(Citation(match.start(), match.end(), match.group(0), ids, True))
    return tuple(sorted(found, key=lambda c: c.start))


def cited_ids(text: str, entries: Sequence[Entry]) -> tuple[str, ...]:
    """The ids of ``entries`` that ``text`` cites, slips included, in order of first citation;
    citations of anything else are left out."""
    known = {entry.id for entry in entries}
    found = (key for citation in parse_citations(text, entries) for key in citation.ids)
    return tuple(dict.fromkeys(key for key in found if key in known))


def _resolve(key: str, keys: Mapping[str, str]) -> str | None:
    key = key.strip()
    return keys.get(key) or keys.get(key.lower()) or keys.get(_slug(key))


@lru_cache(maxsize=8)
def _keys(entries: tuple[Entry, ...]) -> Mapping[str, str]:
    """Every spelling that resolves to an id: the id, and the slugs of names and aliases."""
    keys: dict[str, str] = {}
    for entry in entries:
        for name in (entry.name, *entry.aliases):
            keys.setdefault(_slug(name), entry.id)
    for entry in entries:
        keys[entry.id] = entry.id
    return keys


def _slug(text: str) -> str:
    ascii_text = re.sub(r"['’]", "", text.translate(FOLD).lower())
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


# ---------------------------------------------------------------------------------------------
# Splitting answers


def split_answer(text: str) -> list[tuple[int, int, str]]:
    """The checkable units of a Markdown answer as (start, end, kind).

    Prose and list items are split into sentences by ``text.split_sentences``; headings and
    table rows are single units. A citation left at the start of a sentence (``… tokens. [@a]``)
    belongs to the sentence before it.
    """
    units: list[_Unit] = []
    block: list[int] = []
    in_fence = False

    def flush() -> None:
        if block:
            units.extend(_sentences(text, block[0], block[1]))
            block.clear()

    offset = 0
    for line in text.splitlines(keepends=True):
        start, body = offset, line.rstrip("\r\n")
        offset += len(line)
        if FENCE.match(body):
            flush()
            in_fence = not in_fence
            continue
        if in_fence or not body.strip() or RULE.match(body):
            flush()
            continue
        lead = len(body) - len(body.lstrip())
        end = start + len(body.rstrip())
        if TABLE_RULE.match(body) and "|" in body:
            flush()
            if units and units[-1].kind == "row":
                units[-1] = _Unit(units[-1].start, units[-1].end, "heading")
            continue
        if TABLE_ROW.match(body):
            flush()
            units.append(_Unit(start + lead, end, "row"))
            continue
        if HEADING.match(body) or BOLD_LINE.match(body):
            flush()
            units.append(_Unit(start + lead, end, "heading"))
            continue
        marker = BULLET.match(body) or QUOTE.match(body)
        if marker:
            flush()
            block.extend([start + marker.end(), end])
        elif block:
            block[1] = end
        else:
            block.extend([start + lead, end])
    flush()
    return [(unit.start, unit.end, unit.kind) for unit in units]


def _sentences(text: str, start: int, end: int) -> list[_Unit]:
    chunk = text[start:end]
    units: list[_Unit] = []
    cursor = 0
    for piece in split_sentences(chunk):
        at = chunk.find(piece, cursor)
        if at < 0:  # split_sentences only splits and strips, so this does not happen
            continue
        cursor = at + len(piece)
        leading = LEADING_CITATIONS.match(piece)
        if leading and units:
            previous = units[-1]
            units[-1] = _Unit(previous.start, start + at + leading.end(), previous.kind)
            rest = piece[leading.end() :]
            at += leading.end() + len(rest) - len(rest.lstrip())
            piece = rest.strip()
            if not piece:
                continue
        units.append(_Unit(start + at, start + at + len(piece), "prose"))
    return units


# ---------------------------------------------------------------------------------------------
# Numbers


def numbers_in(text: str) -> list[Quantity]:
    """The quantities a text states, each with the content words of the clause it sits in.

    ``4.2×``, ``4.2x`` and ``4.2-fold`` are the same quantity, as are ``95%`` and ``95 percent``
    and ``1,000`` and ``1000``; ``8K`` is 8000; ``3.2-4.5×`` is two quantities in ×. Numbers
    inside model names (Qwen2.5, DiT-XL/2, LLaVA-7B), enumerations ``(1)`` and years are not
    claims and are skipped.
    """
    folded = URL.sub(" ", text.translate(FOLD))
    folded = ENUMERATION.sub(" ", folded)
    folded = CONFERENCE_YEAR.sub(" ", folded.lower())
    clauses = _clauses(folded)
    found: list[tuple[int, Quantity]] = []
    for match in DIMENSION.finditer(folded):
        value = f"{match.group(1)}x{match.group(2)}"
        found.append(
            (match.start(), _quantity(value, "dim", match.group(0), 0, clauses, folded, match))
        )
    # Blanking keeps offsets, so the clauses found above still line up.
    folded_numbers = DIMENSION.sub(lambda m: " " * len(m.group(0)), folded)
    plain: list[tuple[re.Match[str], str]] = []
    for match in NUMBER.finditer(folded_numbers):
        unit = (match.group("unit") or "").replace(" ", "").lstrip("-")
        kind = UNITS.get(unit, "plain")
        if kind == "plain" and unit != "k" and _is_year(match.group("num")):
            continue
        plain.append((match, kind))
    for position, (match, kind) in enumerate(plain):
        following = plain[position + 1] if position + 1 < len(plain) else None
        between = folded_numbers[match.end() : following[0].start()] if following else ""
        if kind == "plain" and following and RANGE.fullmatch(between):
            kind = following[1]  # the first figure of a range takes the unit of the second
        digits = match.group("num").replace(",", "")
        value = float(digits) * (1000 if match.group("unit") == "k" else 1)
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        quantity = _quantity(value, kind, match.group(0), decimals, clauses, folded, match)
        found.append((match.start(), quantity))
    for match in NUMBER_WORD.finditer(folded_numbers):
        value = float(NUMBER_WORDS[match.group("word")])
        quantity = _quantity(
            value, "plain", match.group(0), 0, clauses, folded, match, spelled=True
        )
        found.append((match.start(), quantity))
    return [quantity for _, quantity in sorted(found, key=lambda item: item[0])]


def _is_year(digits: str) -> bool:
    return "." not in digits and "," not in digits and 1990 <= int(digits) <= 2039


def _clauses(text: str) -> list[tuple[int, int, frozenset[str]]]:
    breaks = [(0, 0), *(m.span() for m in CLAUSE_BREAK.finditer(text)), (len(text), len(text))]
    return [
        (start, end, frozenset(_terms(text[start:end])))
        for (_, start), (end, _) in itertools.pairwise(breaks)
        if text[start:end].strip()
    ]


def _quantity(
    value: float | str,
    kind: str,
    raw: str,
    decimals: int,
    clauses: list[tuple[int, int, frozenset[str]]],
    text: str,
    match: re.Match[str],
    spelled: bool = False,
) -> Quantity:
    where = next(
        (i for i, (start, end, _) in enumerate(clauses) if start <= match.start() < end), 0
    )
    context = set(clauses[where][2]) if clauses else set()
    # "512×512 (FID 1.48)": a figure in parentheses is about the phrase just before them.
    opened = clauses[where][0] if clauses else 0
    if where > 0 and opened > 0 and text[opened - 1] == "(":
        context |= clauses[where - 1][2]
    return Quantity(value, kind, raw.strip(), decimals, frozenset(context), spelled)


def _same_value(claimed: Quantity, stated: Quantity) -> bool:
    if claimed.kind == "dim" or stated.kind == "dim":
        return claimed.value == stated.value
    if not _compatible(claimed, stated):
        return False
    assert isinstance(claimed.value, float) and isinstance(stated.value, float)
    if claimed.decimals < stated.decimals:
        # A rounded figure is the same figure: 96.8% stated, 97% claimed.
        return math.isclose(round(stated.value, claimed.decimals), claimed.value)
    return math.isclose(stated.value, claimed.value)


def _compatible(claimed: Quantity, stated: Quantity) -> bool:
    if "dim" in (claimed.kind, stated.kind):
        return claimed.kind == stated.kind
    return claimed.kind == stated.kind or "plain" in (claimed.kind, stated.kind)


# ---------------------------------------------------------------------------------------------
# The catalog index


def _terms(text: str) -> list[str]:
    """Content stems of ``text``: no stopwords, no meta words, no bare numbers; synonyms folded."""
    terms = []
    for term in analyze(text):
        if len(term) < 2 or term in META or BARE_NUMBER.fullmatch(term):
            continue
        terms.append(SYNONYMS.get(term, term))
    return terms


@lru_cache(maxsize=8)
def _index(entries: tuple[Entry, ...]) -> _Index:
    papers: dict[str, _Paper] = {}
    all_names = [pattern for entry in entries for pattern in _name_patterns(entry)]
    defined: dict[str, frozenset[str]] = {}
    for entry in entries:
        for acronym, expansion in acronyms(entry.summary).items():
            defined.setdefault(acronym, frozenset(_terms(expansion)))
    expander = _Acronyms(defined)
    for entry in entries:
        terms = expander.expand(_terms(entry.search_text()) + _terms(entry.id.replace("-", " ")))
        summary = _without(entry.summary, all_names)
        stated = [q for sentence in split_sentences(summary) for q in numbers_in(sentence)]
        quantities = expander.quantities(stated)
        papers[entry.id] = _Paper(entry, terms, tuple(_name_patterns(entry)), quantities)
    df: dict[str, int] = {}
    for paper in papers.values():
        for term in paper.terms:
            df[term] = df.get(term, 0) + 1
    total = len(papers)
    idf = {term: math.log(1 + total / count) for term, count in df.items()}
    owners = {term: key for key, paper in papers.items() for term in paper.terms if df[term] == 1}
    return _Index(papers, idf, _keys(entries), expander, owners)


def _name_patterns(entry: Entry) -> list[re.Pattern[str]]:
    """How a sentence names this paper: its distinctive names, its title, and its id."""
    names = [entry.name, *entry.aliases]
    if entry.title:
        names += [entry.title, re.split(r":\s", entry.title, maxsplit=1)[0]]
    patterns = []
    for name in dict.fromkeys(n.translate(FOLD) for n in names):
        words = name.split()
        if not words or not _distinctive(words):
            continue
        body = r"[\s-]+".join(re.escape(word) for word in words)
        # Short coined names (NiT, DiCo) and capitalised words (Grafting) only count as written.
        exact = len(name) <= 4 or (len(words) == 1 and not re.search(r"[a-z][A-Z]|\d", name))
        flags = 0 if exact else re.IGNORECASE
        patterns.append(re.compile(rf"(?<![\w@-]){body}(?![\w])", flags))
    # The bare id (cdpruner, vla-cache) names the paper too, unless it is an English word.
    if patterns and len(entry.id) >= 5 and not re.fullmatch(r"[A-Z][a-z]+", entry.name):
        patterns.append(re.compile(rf"(?<![\w@-]){re.escape(entry.id)}(?![\w])"))
    return patterns


def _distinctive(words: list[str]) -> bool:
    """A coined name (CDPruner, VITA-1.5, BTP), a Title Case name or title, or one proper noun;
    not a descriptive label such as "Visual token compression" that prose uses freely."""
    if any(re.search(r"[a-z][A-Z]|[A-Z]{2}|\d", word) for word in words):
        return True
    if len(words) == 1:
        return words[0][:1].isupper()
    return all(word[:1].isupper() for word in words if len(word) > 3)


def _without(text: str, patterns: Iterable[re.Pattern[str]]) -> str:
    text = text.translate(FOLD)
    for pattern in patterns:
        text = pattern.sub(" ", text)
    return text


# ---------------------------------------------------------------------------------------------
# Checking


@dataclass(frozen=True)
class _Reading:
    """What one unit of the answer says, with citations and names taken out."""

    terms: frozenset[str]
    words: Mapping[str, str]
    quantities: tuple[Quantity, ...]
    named: tuple[str, ...]
    compared: tuple[str, ...]
    domain: float


def check_answer(
    text: str, entries: Sequence[Entry], question: str | None = None
) -> CitationReport:
    """Check every sentence of ``text`` against the catalog entries it cites.

    ``question`` lets a sentence echo the question's words ("Here is what the catalog says
    about token pruning") without that making it a claim.
    """
    index = _index(tuple(entries))
    citations = parse_citations(text, entries)
    question_terms = frozenset(_terms(question or ""))
    units = split_answer(text)
    checks: list[SentenceCheck] = []
    relevant = total = claims = 0
    for number, (start, end, kind) in enumerate(units, start=1):
        inside = [c for c in citations if start <= c.start and c.end <= end]
        cited = tuple(dict.fromkeys(key for c in inside for key in c.ids))
        reading = _read(text[start:end], inside, start, kind, index, question_terms)
        is_claim = _is_claim(text[start:end], kind, reading, bool(cited))
        problems: list[Problem] = [
            Problem("unknown_id", number, _unknown_detail(key, index), (key,))
            for key in cited
            if key not in index.papers
        ]
        known = tuple(key for key in cited if key in index.papers)
        support = 0.0
        if is_claim:
            claims += 1
            total += len(cited)  # an unknown id is a citation that supports nothing
            if not cited:
                problems.append(_uncited(number, reading, index))
                # An uncited sentence that names a paper is still held to that paper's figures,
                # so an invented number is reported as such, not only as a missing citation.
                if reading.named:
                    problems += _number_problems(number, reading, reading.named, index)
            elif known:
                figures = _number_problems(number, reading, known, index)
                problems += _named_uncited(number, reading, known, index) + figures
                content = _content_problem(number, reading, known, index)
                if content:
                    problems.append(content)
                support = _support(reading, known, index, len(figures))
                relevant += sum(1 for key in known if _relevant(key, reading, known, index))
        verdict = UNSUPPORTED if problems else (SUPPORTED if is_claim else NO_CLAIM)
        checks.append(
            SentenceCheck(
                number,
                " ".join(text[start:end].split()),
                cited,
                verdict,
                tuple(problems),
                round(support, 3),
                (start, end),
            )
        )
    supported = sum(1 for c in checks if c.verdict == SUPPORTED)
    problems = [p for c in checks for p in c.problems]
    if claims and not any(c.citations for c in checks):
        problems.insert(
            0,
            Problem(
                "no_citation",
                0,
                f"the answer makes {claims} claim{_s(claims)} and cites no catalog entry",
            ),
        )
    slips = tuple(dict.fromkeys(f"{c.raw} → {c.normalised}" for c in citations if c.slip))
    return CitationReport(
        sentences=tuple(checks),
        problems=tuple(problems),
        normalised_slips=slips,
        ok=not problems,
        recall=supported / claims if claims else 1.0,
        precision=relevant / total if total else (0.0 if claims else 1.0),
        claims=claims,
        supported=supported,
    )


def _read(
    raw: str,
    citations: Sequence[Citation],
    offset: int,
    kind: str,
    index: _Index,
    question_terms: frozenset[str],
) -> _Reading:
    text = raw
    for citation in sorted(citations, key=lambda c: c.start, reverse=True):
        start, end = citation.start - offset, citation.end - offset
        text = text[:start] + " " * (end - start) + text[end:]
    text = URL.sub(" ", text)
    if kind == "row":
        text = text.strip().strip("|").replace("|", ";")
    text = MARKUP.sub(" ", text).translate(FOLD)
    mentions = {
        paper_id: [m for pattern in paper.names for m in pattern.finditer(text)]
        for paper_id, paper in index.papers.items()
    }
    named = tuple(paper_id for paper_id, found in mentions.items() if found)
    compared = tuple(
        paper_id
        for paper_id in named
        if all(COMPARISON.search(text[: m.start()]) for m in mentions[paper_id])
    )
    for paper_id in named:
        text = _without(text, index.papers[paper_id].names)
    words: dict[str, str] = {}
    for word in re.findall(r"[\w.\-]+", text):
        for term in _terms(word):
            words.setdefault(term, word.strip(".-"))
    terms = index.acronyms.expand(words)
    domain = sum(0.5 if term in question_terms else 1.0 for term in words if term in index.idf)
    quantities = index.acronyms.quantities(numbers_in(text))
    return _Reading(terms, words, quantities, named, compared, domain)


def _is_claim(raw: str, kind: str, reading: _Reading, cited: bool) -> bool:
    """Whether a unit states something about a paper, and so needs a citation that backs it."""
    if kind == "heading":
        return False
    has_number = any(not q.spelled for q in reading.quantities)
    if cited:
        return bool(reading.domain or has_number)
    if ABSTENTION.search(raw):
        return False
    if CONNECTIVE.search(raw) and not has_number and not reading.named:
        return False
    if POINTER.search(raw) and not has_number:
        return False
    if has_number or (reading.named and reading.domain):
        return True
    if raw.rstrip(" *_").endswith(":"):
        return False
    return reading.domain >= CLAIM_TERMS


def _uncited(number: int, reading: _Reading, index: _Index) -> Problem:
    if reading.named:
        names = ", ".join(f"{index.papers[key].entry.name} [@{key}]" for key in reading.named)
        return Problem("uncited_claim", number, f"names {names} without citing it", reading.named)
    best = _best_others(reading, (), index)
    hint = f"; [@{best[0][0]}] may say it" if best and best[0][1] >= MIN_WEIGHT / 2 else ""
    return Problem("uncited_claim", number, f"makes a claim but cites nothing{hint}")


def _named_uncited(
    number: int, reading: _Reading, cited: tuple[str, ...], index: _Index
) -> list[Problem]:
    missing = tuple(key for key in reading.named if key not in cited)
    if not missing:
        return []
    names = ", ".join(index.papers[key].entry.name for key in missing)
    cites = _ids(cited)
    if any(key in cited for key in reading.named) or set(missing) <= set(reading.compared):
        return [
            Problem(
                "uncited_claim",
                number,
                f"names {names} without citing it ({_ids(missing)})",
                missing,
            )
        ]
    # The sentence is about one paper and cites another: a claim attributed to the wrong entry.
    return [
        Problem(
            "wrong_entry",
            number,
            f"is about {names} ({_ids(missing)}) but cites {cites}",
            cited + missing,
        )
    ]


def _number_problems(
    number: int, reading: _Reading, cited: tuple[str, ...], index: _Index
) -> list[Problem]:
    problems = []
    stated = [q for key in cited for q in index.papers[key].quantities]
    for claimed in reading.quantities:
        same = [q for q in stated if _same_value(claimed, q)]
        # A rival is another figure of the same kind: a percentage competes with percentages.
        others = [
            q
            for q in stated
            if q.kind == claimed.kind
            and q.kind != "dim"
            and (claimed.spelled or not q.spelled)  # a count ("eight benchmarks") is no measure
            and not _same_value(claimed, q)
        ]
        rival, rival_fit, fit = _best_role(claimed, same, others, index)
        shown = _show(claimed)
        if not same:
            if claimed.spelled and rival_fit < ROLE_MIN:
                continue  # "two strategies": a spelled-out count is only wrong against a figure
            says = f"; it says {_show(rival)}" if rival and rival_fit > 0 else ""
            detail = f"{shown} is not in {_ids(cited)}{says}"
        elif rival and rival_fit >= ROLE_MIN and fit < ROLE_RATIO * rival_fit:
            role = _role(claimed, rival, index)
            detail = (
                f"{shown} is in {_ids(cited)} but not for {role}; for that it says {_show(rival)}"
            )
        else:
            continue
        problems.append(Problem("wrong_number", number, detail, cited))
    return problems


def _best_role(
    claimed: Quantity, same: list[Quantity], others: list[Quantity], index: _Index
) -> tuple[Quantity | None, float, float]:
    """The other figure whose role the claim's words describe best, how well, and how well
    the claimed figure's own role fits, counting only the words that tell the roles apart."""
    best: tuple[Quantity | None, float, float] = (None, 0.0, 0.0)
    for rival in others:
        own = frozenset().union(*(q.context for q in same)) if same else frozenset()
        rival_fit = index.mass(claimed.context & (rival.context - own))
        fit = max(
            (index.mass(claimed.context & (q.context - rival.context)) for q in same), default=0.0
        )
        if rival_fit > best[1]:
            best = (rival, rival_fit, fit)
    return best


def _role(claimed: Quantity, rival: Quantity, index: _Index) -> str:
    shared = sorted(claimed.context & rival.context, key=index.weight, reverse=True)
    return " ".join(shared[:3]) or "that"


def _show(quantity: Quantity) -> str:
    if quantity.spelled or quantity.kind == "dim" or isinstance(quantity.value, str):
        return quantity.raw
    figure = f"{quantity.value:.{quantity.decimals}f}"
    return figure + UNIT_SIGN[quantity.kind]


def _content_problem(
    number: int, reading: _Reading, cited: tuple[str, ...], index: _Index
) -> Problem | None:
    weight = index.mass(reading.terms)
    backed = _backed(reading, cited, index)
    best = _best_others(reading, cited, index)
    if best:
        other, other_mass = best[0]
        if other_mass >= FAR_RATIO * backed and other_mass - backed >= FAR_MARGIN:
            shared = _shown_terms(reading, index.papers[other].terms - _union(cited, index), index)
            return Problem(
                "wrong_entry",
                number,
                f"matches [@{other}] far better than {_ids(cited)} ({shared})",
                (*cited, other),
            )
    borrowed = _borrowed(reading, cited, index)
    if borrowed:
        other, words = borrowed
        return Problem(
            "wrong_entry",
            number,
            f"{', '.join(words)} {'is' if len(words) == 1 else 'are'} [@{other}]'s, "
            f"not in {_ids(cited)}",
            (*cited, other),
        )
    if weight >= MIN_WEIGHT and backed < MIN_COVERAGE * weight:
        missing = _shown_terms(reading, reading.terms - _union(cited, index), index)
        return Problem(
            "wrong_entry", number, f"little of it is in {_ids(cited)} (not there: {missing})", cited
        )
    return None


def _borrowed(
    reading: _Reading, cited: tuple[str, ...], index: _Index
) -> tuple[str, list[str]] | None:
    """Content that only one other entry has: a true detail of another paper mixed into this
    sentence ("BTP … with DPP-based selection"). One such word may be chance; two are not."""
    cited_terms = _union(cited, index)
    by_owner: dict[str, set[str]] = {}
    for term in reading.terms - cited_terms:
        owner = index.owners.get(term)
        if owner and owner not in cited:
            by_owner.setdefault(owner, set()).add(reading.words.get(term, term))
    found = [(owner, sorted(words)) for owner, words in by_owner.items() if len(words) >= 2]
    return max(found, key=lambda item: len(item[1])) if found else None


def _union(cited: Iterable[str], index: _Index) -> frozenset[str]:
    return frozenset().union(*(index.papers[key].terms for key in cited))


def _backed(reading: _Reading, cited: Iterable[str], index: _Index) -> float:
    return index.mass(reading.terms & _union(cited, index))


def _support(reading: _Reading, cited: tuple[str, ...], index: _Index, wrong_figures: int) -> float:
    """The IDF-weighted share of the sentence's terms, figures and named papers that its cited
    entries back; a figure or a name weighs as much as a term only one entry uses."""
    unit = math.log(1 + len(index.papers))
    items = len(reading.quantities) + len(reading.named)
    right = items - wrong_figures - sum(1 for key in reading.named if key not in cited)
    total = index.mass(reading.terms) + unit * items
    return (_backed(reading, cited, index) + unit * right) / total if total else 1.0


def _best_others(reading: _Reading, cited: Iterable[str], index: _Index) -> list[tuple[str, float]]:
    excluded = set(cited)
    scores = [
        (key, index.mass(reading.terms & paper.terms))
        for key, paper in index.papers.items()
        if key not in excluded
    ]
    return sorted(scores, key=lambda item: item[1], reverse=True)


def _supports(reading: _Reading, cited: tuple[str, ...], index: _Index) -> bool:
    return bool(cited) and not (
        _named_uncited(0, reading, cited, index)
        or _number_problems(0, reading, cited, index)
        or _content_problem(0, reading, cited, index)
    )


def _relevant(key: str, reading: _Reading, cited: tuple[str, ...], index: _Index) -> bool:
    """ALCE precision: no citation of an unsupported sentence is relevant; of a supported one,
    a citation is irrelevant when it does not support the sentence alone and the others
    support it without it."""
    if not _supports(reading, cited, index):
        return False
    rest = tuple(other for other in cited if other != key)
    return _supports(reading, (key,), index) or not _supports(reading, rest, index)


def _shown_terms(reading: _Reading, terms: frozenset[str], index: _Index) -> str:
    chosen = sorted(reading.terms & terms, key=index.weight, reverse=True)
    words = dict.fromkeys(reading.words.get(term, term) for term in chosen)
    return ", ".join(list(words)[:4]) or "its content"


def _unknown_detail(key: str, index: _Index) -> str:
    close = difflib.get_close_matches(key, list(index.papers), n=1, cutoff=0.6)
    hint = f"; did you mean [@{close[0]}]?" if close else ""
    return f"[@{key}] is not in the catalog{hint}"


def _ids(keys: Iterable[str]) -> str:
    return "[" + "; ".join(f"@{key}" for key in keys) + "]"


def _s(count: int) -> str:
    return "" if count == 1 else "s"


# ---------------------------------------------------------------------------------------------
# Policies and output


def annotate(text: str, report: CitationReport) -> str:
    """The answer with each unsupported sentence marked inline and the problems listed below."""
    if report.ok:
        return text
    return mark_unsupported(text, report).rstrip() + "\n\n---\n" + "\n".join(summary_lines(report))


def mark_unsupported(text: str, report: CitationReport) -> str:
    """The answer with ``⚠[unsupported: …]`` after each sentence that failed the check."""
    marked = text
    for check in sorted(report.sentences, key=lambda c: c.span[0], reverse=True):
        if check.verdict != UNSUPPORTED:
            continue
        labels = ", ".join(dict.fromkeys(p.label for p in check.problems))
        end = check.span[1]
        marked = f"{marked[:end]} ⚠[unsupported: {labels}]{marked[end:]}"
    return marked


def summary_lines(report: CitationReport) -> list[str]:
    """The verdict, then one line per problem: what goes under an answer."""
    return [f"Citation check: {report.verdict_line()}"] + [
        _problem_line(problem) for problem in report.problems
    ]


def strip_unsupported(text: str, report: CitationReport) -> tuple[str, int]:
    """The answer without its unsupported sentences, and how many were dropped.

    A list item or table row left with nothing but its bullet or label goes too.
    """
    dropped = [c for c in report.sentences if c.verdict == UNSUPPORTED]
    kept = text
    touched: set[int] = set()
    for check in sorted(dropped, key=lambda c: c.span[0], reverse=True):
        start, end = check.span
        while end < len(kept) and kept[end] in " \t":
            end += 1
        touched.add(kept.count("\n", 0, start))
        kept = kept[:start] + kept[end:]
    lines = kept.split("\n")
    empty = re.compile(r"^\s*(?:(?:[-*+]|\d{1,3}[.)])\s*)?(?:(\*\*|__)[^*_]*\1\s*:?)?\s*$")
    lines = [line for n, line in enumerate(lines) if n not in touched or not empty.match(line)]
    result = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines))
    return result.strip(), len(dropped)


def retry_instructions(report: CitationReport) -> str:
    """One line per failure, saying which sentence, what is wrong and how to fix it: what a
    model is told (through the ``retry`` prompt template) so that one more try can fix them."""
    if report.ok:
        return ""
    by_sentence = {c.index: c for c in report.sentences}
    lines = []
    for problem in report.problems:
        if problem.sentence:
            quoted = by_sentence[problem.sentence].text
            lines.append(
                f'- Sentence {problem.sentence} ("{quoted}"): {problem.label}: '
                f"{problem.detail}. {_remedy(problem.kind)}"
            )
        else:
            lines.append(f"- The whole answer: {problem.detail}. {_remedy(problem.kind)}")
    return "\n".join(lines)


def _remedy(kind: str) -> str:
    return {
        "unknown_id": "Cite only ids from the catalog context.",
        "uncited_claim": "Cite the entry that says it, or drop the sentence.",
        "no_citation": "Cite an entry after each claim, as [@id].",
        "wrong_number": "Use the entry's own figure, or drop the number.",
        "wrong_entry": "Cite the entry that actually says this, or drop the sentence.",
    }[kind]


def format_report(report: CitationReport) -> str:
    """The report for a terminal: the verdict, then each sentence with its problems."""
    lines = [report.verdict_line()]
    if report.claims:
        lines.append(f"Citation recall {report.recall:.2f}, precision {report.precision:.2f}")
    lines += [f"Normalised citation: {slip}" for slip in report.normalised_slips]
    lines += [_problem_line(p) for p in report.problems if not p.sentence]
    lines.append("")
    marks = {SUPPORTED: "✓", UNSUPPORTED: "✗", NO_CLAIM: "·"}
    for check in report.sentences:
        cites = " ".join(f"[@{key}]" for key in check.citations)
        text = check.text if len(check.text) <= 100 else check.text[:99] + "…"
        score = f" support {check.support:.2f}" if check.verdict != NO_CLAIM else ""
        lines.append(f"{check.index:>3} {marks[check.verdict]} {check.verdict}{score} {cites}")
        lines.append(f"      {text}")
        lines += [f"      → {p.label}: {p.detail}" for p in check.problems]
    return "\n".join(lines)


def _problem_line(problem: Problem) -> str:
    where = f"Sentence {problem.sentence}" if problem.sentence else "Answer"
    return f"- {where} ({problem.label}): {problem.detail}"


def best_support(sentence: str, entry: Entry) -> str | None:
    """The sentence of ``entry``'s summary that best backs ``sentence``: the one sharing the most
    of its content terms and figures, or None when they share nothing."""
    claim_terms = set(_terms(CITE_GROUP.sub(" ", sentence)))
    claim_figures = {(q.value, q.kind) for q in numbers_in(sentence)}
    best, best_score = None, 0.0
    for candidate in split_sentences(entry.summary):
        figures = {(q.value, q.kind) for q in numbers_in(candidate)}
        score = len(claim_terms & set(_terms(candidate))) + 2 * len(claim_figures & figures)
        if score > best_score:
            best, best_score = candidate, score
    return best
