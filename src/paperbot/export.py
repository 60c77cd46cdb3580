"""Exports: the catalog as BibTeX, and a conversation as Markdown with pandoc citations.

The two fit together: citation keys are entry ids, so an exported conversation renders with
``pandoc --citeproc --bibliography catalog.bib``. The Markdown also carries its own References
section built from the catalog, so it reads well without pandoc; its metadata tells citeproc
not to add a second list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from paperbot.catalog import Entry
from paperbot.citations import parse_citations

# Every catalog is a list of NeurIPS 2025 papers; the entries themselves carry no date.
YEAR = 2025
ARXIV_ABS = re.compile(r"^https?://arxiv\.org/abs/(?P<id>[\w.\-/]+?)(?:v\d+)?/?$")
LATEX_SPECIAL = re.compile(r"[\\{}&%$#_~^]")
LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# A bare in-text citation (@key) as pandoc reads it: not inside a word, not escaped.
BARE_CITATION = re.compile(r"(?<![\w\\@])@(?P<key>[A-Za-z0-9_][\w:.#$%&\-+?<>~/]*)")
AUTHORS_SHOWN = 6


def bibtex_escape(text: str) -> str:
    """``text`` as the value of a BibTeX field: LaTeX's special characters made literal."""
    return LATEX_SPECIAL.sub(lambda m: LATEX_ESCAPES.get(m.group(), "\\" + m.group()), text)


def to_bibtex(entries: Iterable[Entry]) -> str:
    """One ``@misc`` record per entry, keyed by its id."""
    return "\n".join(_bibtex_record(entry) for entry in entries)


def _bibtex_record(entry: Entry) -> str:
    # Double braces keep the title's capitals ("CDPruner", "LLaVA") in every style.
    fields: list[tuple[str, str]] = [
        ("title", "{" + bibtex_escape(entry.title or entry.name) + "}")
    ]
    if entry.authors:
        fields.append(("author", " and ".join(_bibtex_name(name) for name in entry.authors)))
    fields.append(("year", str(YEAR)))
    if entry.first_link:
        # BibTeX and pandoc read url verbatim; only braces would break the record.
        fields.append(("url", entry.first_link.replace("{", "%7B").replace("}", "%7D")))
        arxiv = ARXIV_ABS.match(entry.first_link)
        if arxiv:
            fields += [("eprint", arxiv.group("id")), ("archiveprefix", "arXiv")]
    note = _note(entry)
    if note:
        fields.append(("note", bibtex_escape(note)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{entry.id},\n{body}\n}}\n"


def _bibtex_name(name: str) -> str:
    # A name that contains " and " would be read as two people.
    escaped = bibtex_escape(name)
    return "{" + escaped + "}" if re.search(r"\sand\s", name) else escaped


def _note(entry: Entry) -> str:
    labels = [tag.replace("-", " ").capitalize() for tag in entry.tags]
    labels += list(entry.link_labels)
    if entry.title and entry.name not in entry.title:
        labels.insert(0, entry.name)
    return "; ".join(labels)


def conversation_markdown(
    records: Sequence[Mapping[str, Any]], entries: Sequence[Entry], title: str | None = None
) -> str:
    """A conversation (history records, oldest first) as Markdown for pandoc.

    Citations are normalised to the catalog's keys; a key the catalog lacks is written so that
    pandoc does not take it for a citation, and marked. The References section lists the cited
    entries in order of first citation.
    """
    by_id = {entry.id: entry for entry in entries}
    title = title or (records[0]["question"] if records else "paperbot conversation")
    lines = [
        "---",
        f"title: {json.dumps(' '.join(title.split()), ensure_ascii=False)}",
        "suppress-bibliography: true",
        "---",
        "",
    ]
    cited: dict[str, None] = {}
    for number, record in enumerate(records, start=1):
        text, keys = pandoc_citations(record.get("answer", ""), entries)
        cited.update(dict.fromkeys(keys))
        lines += [f"## {number}. {' '.join(record['question'].split())}", "", text.strip(), ""]
        notes = _answer_notes(record)
        if notes:
            lines += [notes, ""]
    if cited:
        lines += ["## References", ""]
        lines += [_reference(by_id[key]) for key in cited]
        lines.append("")
    return "\n".join(lines)


def pandoc_citations(text: str, entries: Sequence[Entry]) -> tuple[str, list[str]]:
    """``text`` with every citation in pandoc's form for catalog keys, and the keys cited.

    Slips a model makes (``[@CDPruner]``, ``(@a)``, ``[@a, @b]``) become ``[@cdpruner]`` etc.;
    keys the catalog lacks are escaped (``[\\@foo (not in the catalog)]``) so that every
    citation pandoc sees resolves.
    """
    known = {entry.id for entry in entries}
    pieces: list[str] = []
    cited: list[str] = []
    last = 0
    for citation in parse_citations(text, entries):
        pieces.append(_escape_bare(text[last : citation.start], known, cited))
        good = [key for key in citation.ids if key in known]
        missing = [key for key in citation.ids if key not in known]
        cited += good
        written = "[" + "; ".join(f"@{key}" for key in good) + "]" if good else ""
        if missing:
            unknown = ", ".join(f"\\@{key}" for key in missing)
            written += f"{' ' if written else ''}[{unknown} (not in the catalog)]"
        pieces.append(written)
        last = citation.end
    pieces.append(_escape_bare(text[last:], known, cited))
    return "".join(pieces), list(dict.fromkeys(cited))


def _escape_bare(text: str, known: set[str], cited: list[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group("key").rstrip(":.#$%&-+?<>~/")
        if key in known:
            cited.append(key)
            return match.group()
        return "\\" + match.group()

    return BARE_CITATION.sub(replace, text)


def _answer_notes(record: Mapping[str, Any]) -> str:
    notes = []
    if record.get("incomplete"):
        notes.append(f"answer incomplete: {record.get('error') or 'it broke off'}")
    check = record.get("check")
    if isinstance(check, Mapping) and check.get("verdict"):
        notes.append(f"citation check: {check['verdict']}")
    if record.get("policy"):
        notes.append(f"citation policy: {record['policy']}")
    return "*" + "; ".join(_markdown_text(note) for note in notes) + "*" if notes else ""


def _reference(entry: Entry) -> str:
    """One line of References: the citation itself (so it renders as the in-text label does),
    then who, when, what and where."""
    authors = list(entry.authors[:AUTHORS_SHOWN])
    if len(entry.authors) > AUTHORS_SHOWN:
        authors.append("et al.")
    who = f"{', '.join(authors)} ({YEAR}). " if authors else f"({YEAR}). "
    what = entry.title or entry.name
    if entry.title and entry.name not in entry.title:
        what = f"{entry.name}: {entry.title}"
    where = f" <{entry.first_link}>" if entry.first_link else ""
    return f"- [@{entry.id}] {_markdown_text(who)}*{_markdown_text(what)}*.{where}"


def _markdown_text(text: str) -> str:
    """Plain text that Markdown must not read as emphasis, links or citations."""
    return re.sub(r"([\\`*_\[\]<>@#])", r"\\\1", text)
