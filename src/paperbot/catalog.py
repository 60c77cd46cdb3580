"""The catalog: parsing paper lists into entries with stable citation keys.

The list format (see ``store/neurips2025-efficient-multimodal.txt``) is a header line, then entries.
An entry starts at ``- Link:``; an optional title line may precede it (ending in a marker such as
``🎤 ORAL`` that becomes a tag); ``- Authors:`` is optional; ``- Summary:`` is required.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

FIELDS = ("link", "authors", "summary")
FIELD_LINE = re.compile(r"^-\s*([A-Za-z]+)\s*:\s*(.*)$")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
ARXIV_REF = re.compile(r"^arxiv:\s*(\d{4}\.\d{4,5}(?:v\d+)?)$", re.IGNORECASE)
# A title line may end with a marker: a symbol (usually an emoji) and upper-case words.
TITLE_MARKER = re.compile(r"\s*[^\w\s()\[\]:,.'\"-]+\s*([A-Z][A-Z ]*[A-Z])\s*$")

# The first sentence of a summary usually opens with the method's own name as its subject:
# "CDPruner addresses…", "Balanced Token Pruning (BTP) addresses…", "Eagle 2.5 advances…".
NAME_TOKEN = r"[A-Z0-9][\w.\-+]*"
ADVERB = r"(?:(?:[a-z]+ly|also|further|then)\s+)?"
SUBJECT = re.compile(
    rf"^(?P<name>{NAME_TOKEN}(?:\s+{NAME_TOKEN}){{0,4}}?)"
    rf"(?:\s*\((?P<paren>[^)]{{1,80}})\))?\s+{ADVERB}(?P<verb>[a-z]+s)\b"
)
# Elsewhere in the text, a coined name is a mixed-case token (NiT, HoliTom) used as a subject.
CLAUSE_SUBJECT = re.compile(rf"(?:^|[.;,]\s+)(?P<name>[A-Z][a-z]*[A-Z][\w\-]*)\s+{ADVERB}[a-z]+s\b")
# Words that open a first sentence without naming the method.
NOT_A_NAME = {
    "a",
    "an",
    "the",
    "this",
    "these",
    "that",
    "our",
    "we",
    "rather",
    "introduces",
    "presents",
    "proposes",
    "using",
    "by",
    "in",
    "for",
    "to",
    "with",
    "while",
    "when",
    "instead",
}
# Common field acronyms that are never a paper's own name.
GENERIC_ACRONYMS = {
    "dit",
    "dits",
    "llm",
    "llms",
    "mllm",
    "mllms",
    "lvlm",
    "lvlms",
    "vlm",
    "vlms",
    "vit",
    "ttft",
    "flops",
    "gflops",
    "fid",
    "sota",
    "cuda",
    "gpu",
    "gpus",
    "llava",
    "mmdit",
    "gpt-4o",
}
DESCRIPTIVE_VERBS = re.compile(
    r"\b(?:introduces|presents|proposes|pushes|applies|develops|studies|explores|builds)\s+"
    r"(?:an?\s+|the\s+)?(?P<phrase>[^,.;()]+)",
    re.IGNORECASE,
)
PHRASE_STOP = re.compile(
    r"\s+(?:for|to|that|which|by|via|through|in|on|with|from|where|while|using|reducing|"
    r"providing|enabling|across|of\s+diffusion)\b.*$",
    re.IGNORECASE,
)
VAGUE_HEADS = {"approach", "method", "framework", "strategy", "technique", "model", "models"}
LABEL_WORDS = 5


class CatalogError(ValueError):
    """A catalog file that cannot be used; the message reads ``FILE:LINE: what is wrong``."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line


@dataclass(frozen=True)
class Entry:
    """One paper: its citation key, display name and summary, and what the list says of it."""

    id: str
    name: str
    summary: str
    title: str | None = None
    short_name: str | None = None
    authors: tuple[str, ...] = ()
    affiliations: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    link_labels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    source: str = ""
    line: int = 0

    @property
    def first_link(self) -> str | None:
        return self.links[0] if self.links else None

    def content_hash(self) -> str:
        """A digest of everything the index derives from this entry."""
        payload = json.dumps(
            [
                self.id,
                self.name,
                self.title,
                self.short_name,
                self.summary,
                list(self.aliases),
                list(self.tags),
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    @property
    def own_names(self) -> tuple[str, ...]:
        """Names that identify this paper (unlike a descriptive label made up for it)."""
        names = [self.id, self.short_name, *self.aliases]
        if self.title:
            names += [self.title, re.split(r":\s", self.title, maxsplit=1)[0]]
        return tuple(dict.fromkeys(name for name in names if name))

    def search_text(self) -> str:
        """The text that retrieval sees: names first, then the summary."""
        head = " ".join(dict.fromkeys([self.name, *(self.title or "",), *self.aliases]))
        return f"{head.strip()}. {self.summary}"

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("source", "line"):
            data.pop(key)
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in data.items()
        }


@dataclass
class _RawEntry:
    line: int
    title: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


def parse(text: str, source: str = "<catalog>") -> list[Entry]:
    """Parse a catalog list; raise CatalogError naming the line of the first problem."""
    raw_entries = _split_entries(text, source)
    if not raw_entries:
        raise CatalogError(source, None, "no entries found (an entry starts with '- Link:')")
    entries: list[Entry] = []
    taken: set[str] = set()
    for raw in raw_entries:
        entry = _build_entry(raw, source)
        unique_id = _unique_id(entry, taken)
        taken.add(unique_id)
        if unique_id != entry.id:
            entry = replace(entry, id=unique_id)
        entries.append(entry)
    return entries


def load(path: Path) -> list[Entry]:
    """Read and parse a catalog file; unreadable files become a CatalogError too."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(str(path), None, "no such file") from None
    except UnicodeDecodeError as error:
        raise CatalogError(str(path), None, f"not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise CatalogError(str(path), None, error.strerror or str(error)) from None
    return parse(text, str(path))


def merge(base: Sequence[Entry], added: Sequence[Entry], source: str) -> list[Entry]:
    """Entries of ``base`` plus those of ``added``; an id that names another paper is refused."""
    known = {entry.id: entry for entry in base}
    merged = list(base)
    for entry in added:
        existing = known.get(entry.id)
        if existing is None:
            merged.append(entry)
            known[entry.id] = entry
        elif existing.content_hash() != entry.content_hash():
            raise CatalogError(
                source,
                entry.line,
                f"id '{entry.id}' is already used by another entry"
                f" ({existing.source}:{existing.line}, '{existing.name}')",
            )
    return merged


def find(entries: Iterable[Entry], entry_id: str) -> Entry | None:
    wanted = entry_id.strip().lower().lstrip("@")
    return next((entry for entry in entries if entry.id == wanted), None)


def _split_entries(text: str, source: str) -> list[_RawEntry]:
    entries: list[_RawEntry] = []
    current: _RawEntry | None = None
    pending_title: tuple[int, str] | None = None
    last_field: str | None = None
    seen_content = False
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.replace("\ufeff", "").rstrip()
        if not line.strip():
            continue
        if "\x00" in line:
            raise CatalogError(source, number, "contains a NUL byte")
        if raw_line[:1] in (" ", "\t") and current is not None and last_field:
            current.fields[last_field] += " " + line.strip()
            continue
        match = FIELD_LINE.match(line.strip())
        if match is None:
            if line.lstrip().startswith("-"):
                raise CatalogError(
                    source, number, "expected '- Link:', '- Authors:' or '- Summary:'"
                )
            if not seen_content:
                seen_content = True  # the header line
                continue
            if pending_title is not None:
                raise CatalogError(
                    source, pending_title[0], "title line is not followed by '- Link:'"
                )
            pending_title = (number, line.strip())
            last_field = None
            continue
        seen_content = True
        name, value = match.group(1).lower(), match.group(2).strip()
        if name not in FIELDS:
            raise CatalogError(
                source,
                number,
                f"unknown field '{match.group(1)}' (expected Link, Authors, Summary)",
            )
        if name == "link":
            if current is not None:
                _check_complete(current, source)
            title_line, title = pending_title if pending_title else (number, None)
            current = _RawEntry(line=title_line, title=title)
            entries.append(current)
            pending_title = None
        elif pending_title is not None:
            raise CatalogError(source, pending_title[0], "title line is not followed by '- Link:'")
        elif current is None:
            raise CatalogError(source, number, f"'- {match.group(1)}:' before any '- Link:'")
        if name in current.fields:
            raise CatalogError(source, number, f"second '- {match.group(1)}:' in one entry")
        current.fields[name] = value
        last_field = name
    if pending_title is not None:
        raise CatalogError(source, pending_title[0], "title line is not followed by '- Link:'")
    if current is not None:
        _check_complete(current, source)
    return entries


def _check_complete(raw: _RawEntry, source: str) -> None:
    if not raw.fields.get("summary"):
        raise CatalogError(source, raw.line, "entry has no '- Summary:' (or it is empty)")


def _build_entry(raw: _RawEntry, source: str) -> Entry:
    summary = " ".join(raw.fields["summary"].split())
    title, tags = _split_title(raw.title)
    authors, affiliations = _parse_authors(raw.fields.get("authors", ""))
    links, labels = _parse_links(raw.fields.get("link", ""))
    short_name, alias = _short_name(summary)
    label = title or short_name or _descriptive_label(summary)
    if short_name is None and _is_proper_name(label, summary):
        # "Introduces a Visual Context Compressor": capitalised in the text, so it is the
        # method's own name even though no sentence opens with it.
        short_name = label
    key_source = _acronym_key(short_name, alias) or _title_key_source(title) or label
    # Found after the key is chosen, so that an entry's id never changes because of it.
    alias = alias or _acronym_beside(short_name, summary)
    aliases = tuple(
        dict.fromkeys(a for a in (short_name, alias) if a and a.lower() != label.lower())
    )
    return Entry(
        id=_slug(key_source) or "entry",
        name=label,
        summary=summary,
        title=title,
        short_name=short_name,
        authors=authors,
        affiliations=affiliations,
        links=links,
        link_labels=labels,
        tags=tags,
        aliases=aliases,
        source=source,
        line=raw.line,
    )


def _split_title(line: str | None) -> tuple[str | None, tuple[str, ...]]:
    if not line:
        return None, ()
    tags: list[str] = []
    while match := TITLE_MARKER.search(line):
        tags.insert(0, "-".join(match.group(1).lower().split()))
        line = line[: match.start()]
    return line.strip() or None, tuple(tags)


def _parse_authors(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    text = text.strip()
    affiliations: tuple[str, ...] = ()
    paren = re.search(r"\(([^()]*)\)\s*$", text)
    if paren:
        affiliations = tuple(a.strip() for a in paren.group(1).split(",") if a.strip())
        text = text[: paren.start()]
    text = re.sub(r"\bet al\.?\s*$", "", text.strip()).strip().rstrip(",")
    names = re.split(r",|;|\band\b", text)
    return tuple(n.strip() for n in names if n.strip()), affiliations


def _parse_links(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    links: list[str] = []
    labels: list[str] = []
    for part in (p.strip() for p in text.split("|")):
        if not part:
            continue
        arxiv = ARXIV_REF.match(part)
        if arxiv:
            links.append(f"https://arxiv.org/abs/{arxiv.group(1)}")
        elif re.match(r"^https?://\S+$", part):
            links.append(part)
        else:
            labels.append(part)
    return tuple(links), tuple(labels)


def _short_name(summary: str) -> tuple[str | None, str | None]:
    """The paper's own name for its method, and the expansion or acronym beside it."""
    match = SUBJECT.match(summary)
    if match and match.group("name").split()[0].lower() not in NOT_A_NAME:
        name = match.group("name")
        paren = match.group("paren")
        if paren and " " not in paren and len(paren) <= 12:
            # "Balanced Token Pruning (BTP)": the acronym is the key, the words the name.
            return name, paren
        return name, paren
    for clause in CLAUSE_SUBJECT.finditer(summary):
        if clause.group("name").lower() not in GENERIC_ACRONYMS:
            return clause.group("name"), None
    return None, None


def _acronym_beside(name: str | None, summary: str) -> str | None:
    """The acronym the summary gives the name: "applies Maximal Update Parametrization (μP)"."""
    if not name:
        return None
    beside = re.search(re.escape(name) + r"\s*\(([^()\s]{1,12})\)", summary)
    return beside.group(1) if beside else None


def _descriptive_label(summary: str) -> str:
    """A short label for a paper that names no method: what it introduces, in a few words."""
    for match in DESCRIPTIVE_VERBS.finditer(summary):
        phrase = match.group("phrase")
        head = PHRASE_STOP.sub("", phrase)
        words = head.split()
        if words and words[-1].lower() in VAGUE_HEADS:
            words = words[:-1]
        if len(words) < 2:
            # "a principled approach to building consistency models": the object says more.
            rest = phrase[len(head) :]
            target = re.match(r"\s*(?:to|for)\s+(?:\w+ing\s+)?([^,.;()]+)", rest)
            words = PHRASE_STOP.sub("", target.group(1)).split() if target else []
        if len(words) >= 2:
            return _capitalise(" ".join(words[:LABEL_WORDS]))
    first_sentence = re.split(r"(?<=[.!?])\s", summary, maxsplit=1)[0]
    return _capitalise(" ".join(first_sentence.split()[:LABEL_WORDS]).rstrip(".,;:"))


def _is_proper_name(label: str, summary: str) -> bool:
    words = label.split()
    return len(words) > 1 and all(w[:1].isupper() for w in words) and label in summary


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _acronym_key(short_name: str | None, alias: str | None) -> str | None:
    """An expanded name with its acronym beside it is keyed by the acronym (btp, not balanced-…)."""
    if short_name and alias and " " in short_name and " " not in alias:
        return alias
    return short_name


def _title_key_source(title: str | None) -> str | None:
    if not title:
        return None
    head = re.split(r":\s", title, maxsplit=1)[0]
    return " ".join(head.split()[:LABEL_WORDS])


def _slug(text: str) -> str:
    ascii_text = text.replace("μ", "mu").replace("×", "x").lower()
    ascii_text = re.sub(r"['’]", "", ascii_text)
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug


def _unique_id(entry: Entry, taken: set[str]) -> str:
    if entry.id not in taken:
        return entry.id
    suffix = 2
    while f"{entry.id}-{suffix}" in taken:
        suffix += 1
    return f"{entry.id}-{suffix}"


def builtin_path() -> Path:
    """The catalog that ships with paperbot (installed from the repository's ``store/``)."""
    from importlib.resources import files

    return Path(str(files("paperbot") / "data" / "store" / "neurips2025-efficient-multimodal.txt"))


def load_library(imports_dir: Path, catalog_path: Path | None = None) -> list[Entry]:
    """The catalog paperbot answers from: a chosen file, or the built-in one plus imports."""
    if catalog_path is not None:
        return load(catalog_path)
    return _with_imports(load(builtin_path()), imports_dir)


def _with_imports(entries: list[Entry], imports_dir: Path, skip: Path | None = None) -> list[Entry]:
    imported = sorted(imports_dir.glob("*.txt")) if imports_dir.is_dir() else []
    for path in imported:
        if path != skip:
            entries = merge(entries, load(path), str(path))
    return entries


@dataclass(frozen=True)
class ImportReport:
    path: Path
    entries: int
    new: int
    changed: bool


def import_file(source: Path, imports_dir: Path) -> ImportReport:
    """Add a list to the library; all of it or, on any problem, none of it."""
    added = load(source)
    target = imports_dir / f"{_slug(source.stem) or 'catalog'}.txt"
    text = source.read_text(encoding="utf-8")
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return ImportReport(target, len(added), 0, changed=False)
    base = _with_imports(load(builtin_path()), imports_dir, skip=target)
    known = {entry.id for entry in base}
    merge(base, added, str(source))
    imports_dir.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".txt.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)
    new = sum(1 for entry in added if entry.id not in known)
    return ImportReport(target, len(added), new, changed=True)
