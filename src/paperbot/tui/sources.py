"""The sources panel: the entries the selected answer cites, each with the check's verdict."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from paperbot.catalog import Entry
from paperbot.tui.evidence import SourceVerdict, source_verdicts
from paperbot.tui.transcript import Exchange


class SourcesPanel(Vertical):
    class Open(Message):
        """The reader chose a cited entry."""

        def __init__(self, key: str, exchange: Exchange) -> None:
            super().__init__()
            self.key = key
            self.exchange = exchange

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.exchange: Exchange | None = None
        self.border_title = "Sources"

    def compose(self) -> ComposeResult:
        yield Static("Sources of the selected answer appear here.", id="sources-verdict")
        yield OptionList(id="sources-list")

    @property
    def options(self) -> OptionList:
        return self.query_one("#sources-list", OptionList)

    def show(self, exchange: Exchange | None, by_id: Mapping[str, Entry]) -> None:
        self.exchange = exchange
        options = self.options
        options.clear_options()
        verdict = self.query_one("#sources-verdict", Static)
        if exchange is None or exchange.record is None:
            verdict.update("Sources of the selected answer appear here.")
            return
        verdicts = source_verdicts(exchange.record, exchange.report, by_id)
        report = exchange.report
        if not verdicts:
            verdict.update(Content.styled("This answer cites no entry.", "$text-muted"))
        elif report is not None:
            style = "$text-success" if report.ok else "$text-warning"
            verdict.update(Content.styled(report.verdict_line(), style))
        options.add_options(Option(_prompt(item), id=item.key) for item in verdicts)
        if verdicts:
            options.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.exchange is not None and event.option.id:
            self.post_message(self.Open(event.option.id, self.exchange))


def _prompt(item: SourceVerdict) -> Content:
    mark, style = ("✓", "$text-success") if item.ok else ("✗", "$text-warning")
    name = item.entry.name if item.entry else item.key
    return Content.assemble(
        (f"{mark} ", style),
        (name, "bold"),
        (f" [@{item.key}]\n", "$text-muted"),
        (f"  {item.summary}", style if not item.ok else "$text-muted"),
    )
