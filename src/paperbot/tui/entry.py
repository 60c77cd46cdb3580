"""The entry view: one paper in full, with the summary sentences that back a claim highlighted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.style import Style
from textual.widgets import Static

from paperbot.catalog import Entry
from paperbot.citations import SUPPORTED, SentenceCheck

HIGHLIGHT = "bold $text on $success-muted"


class EntryScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss", "Close")]

    def __init__(
        self,
        entry: Entry,
        claims: Sequence[SentenceCheck] = (),
        support: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.entry = entry
        self.claims = claims
        self.support = support

    def compose(self) -> ComposeResult:
        entry = self.entry
        with VerticalScroll(classes="dialog entry"):
            yield Static(
                Content.assemble((entry.name, "bold"), (f"  [@{entry.id}]", "$text-muted")),
                classes="dialog-title",
            )
            if entry.title and entry.title != entry.name:
                yield Static(Content.styled(entry.title, "italic"))
            yield Static(_details(entry), classes="details")
            if self.claims:
                yield Static(_claims(self.claims), classes="claims")
            yield Static(highlighted(entry.summary, self.support), classes="summary")
            yield Static("Esc closes · click a link to open it", classes="note")


def _details(entry: Entry) -> Content:
    lines: list[Content] = []
    if entry.authors:
        lines.append(Content.assemble(("Authors  ", "$text-muted"), ", ".join(entry.authors)))
    if entry.affiliations:
        lines.append(Content.assemble(("Affil.   ", "$text-muted"), ", ".join(entry.affiliations)))
    for link in entry.links:
        linked = Content.styled(link, Style(link=link))
        lines.append(Content.assemble(("Link     ", "$text-muted"), linked))
    if entry.link_labels:
        lines.append(Content.assemble(("Also     ", "$text-muted"), ", ".join(entry.link_labels)))
    if entry.tags:
        lines.append(Content.assemble(("Tags     ", "$text-muted"), ", ".join(entry.tags)))
    return Content("\n").join(lines)


def _claims(claims: Sequence[SentenceCheck]) -> Content:
    lines = [Content.styled("Cited for", "bold")]
    for check in claims:
        supported = check.verdict == SUPPORTED
        mark, style = ("✓", "$text-success") if supported else ("·", "$text-muted")
        if check.problems:
            mark, style = "✗", "$text-warning"
        lines.append(Content.assemble((f"{mark} ", style), check.text))
        lines += [
            Content.styled(f"    {problem.label}: {problem.detail}", style)
            for problem in check.problems
        ]
    return Content("\n").join(lines)


def highlighted(summary: str, sentences: Sequence[str]) -> Content:
    """The summary with each of ``sentences`` (as found in it) highlighted."""
    content = Content(summary)
    for sentence in sentences:
        start = summary.find(sentence)
        if start >= 0:
            content = content.stylize(HIGHLIGHT, start, start + len(sentence))
    return content
