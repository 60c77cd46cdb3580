"""The transcript: one Exchange per question, its answer streamed, then rendered whole."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from paperbot.citations import CitationReport
from paperbot.tui.evidence import display_markdown

CANCELLED = "cancelled by the user"
WELCOME = (
    "Ask a question about the papers in the catalog. Every sentence of an answer cites the "
    "entry it comes from, and the citation check marks the ones that do not hold.\n\n"
    "ctrl+l browses the catalog · ctrl+r lists conversations · F1 shows every key"
)


class Transcript(VerticalScroll):
    """Scrolls with the answer as it streams, until the reader scrolls away."""

    def on_mount(self) -> None:
        self.mount(Static(WELCOME, classes="welcome"))
        self.anchor()

    @property
    def exchanges(self) -> list[Exchange]:
        return list(self.query_children(Exchange))

    async def add(self, exchange: Exchange) -> None:
        await self.query_children(".welcome").remove()
        await self.mount(exchange)
        self.anchor()

    async def clear(self) -> None:
        await self.remove_children()
        await self.mount(Static(WELCOME, classes="welcome"))


class Exchange(Vertical, can_focus=True):
    """A question and its answer; focusing it shows its sources beside the transcript."""

    class Selected(Message):
        def __init__(self, exchange: Exchange) -> None:
            super().__init__()
            self.exchange = exchange

    def __init__(self, question: str, scope: Sequence[str] = ()) -> None:
        super().__init__()
        self.question = question
        self.scope = tuple(scope)
        self.record: dict[str, Any] | None = None
        self.report: CitationReport | None = None
        self.streamed: list[str] = []
        self._stream: MarkdownStream | None = None
        self._initial = ""

    @classmethod
    def finished(
        cls, record: dict[str, Any], report: CitationReport | None, known: Collection[str]
    ) -> Exchange:
        """An exchange from the history, rendered whole from the start."""
        exchange = cls(record["question"])
        exchange.record, exchange.report = record, report
        exchange._initial = display_markdown(record["answer"], report, known)
        return exchange

    def compose(self) -> ComposeResult:
        text = self.question.replace("\n", "\n  ")
        question = Content.assemble(("› ", "bold $accent"), (text, "bold"))
        if self.scope:
            question += Content.styled(f"\n  about {', '.join(self.scope)}", "italic $text-muted")
        yield Static(question, classes="question")
        yield Markdown(self._initial, classes="answer", open_links=False)
        yield Static(self._meta(), classes="meta")

    @property
    def answer(self) -> Markdown:
        return self.query_one(".answer", Markdown)

    @property
    def streamed_text(self) -> str:
        return "".join(self.streamed)

    def on_focus(self) -> None:
        self.post_message(self.Selected(self))

    def on_click(self) -> None:
        self.focus()

    def start_stream(self) -> None:
        self._stream = Markdown.get_stream(self.answer)
        self.query_one(".meta", Static).update(Content.styled("answering…", "italic"))

    async def write(self, text: str) -> None:
        self.streamed.append(text)
        if self._stream is not None:
            await self._stream.write(text)

    async def finish(
        self, record: dict[str, Any], report: CitationReport | None, known: Collection[str]
    ) -> None:
        """Render the answer whole: appended fragments can leave code fences and tables
        half-parsed (blank fences in oterm #308), and the check's marks need the final text."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        await self.answer.update(display_markdown(record["answer"], report, known))
        # Set last: an exchange with a record is one whose answer is on screen whole.
        self.record, self.report = record, report
        self.query_one(".meta", Static).update(self._meta())

    def _meta(self) -> Content:
        if self.record is None:
            return Content("")
        return meta_line(self.record, self.report)


def meta_line(record: Mapping[str, Any], report: CitationReport | None) -> Content:
    """The line under an answer: how it ended and what the citation check found."""
    parts: list[Content] = []
    if record.get("error") == CANCELLED:
        parts.append(Content.styled("⏹ cancelled: kept what had come", "$text-warning"))
    elif record.get("error"):
        parts.append(Content.styled(f"✗ incomplete: {record['error']}", "$text-error"))
    if record.get("abstained"):
        parts.append(Content.styled("nothing in the catalog answers this", "$text-muted"))
    elif report is not None:
        if report.ok:
            parts.append(Content.styled(f"✓ {report.verdict_line()}", "$text-success"))
        else:
            parts.append(Content.styled(f"⚠ {report.verdict_line()}", "$text-warning"))
    if record.get("policy"):
        parts.append(Content.styled(f"citation policy: {record['policy']}", "$text-muted"))
    return Content(" · ").join(parts)
