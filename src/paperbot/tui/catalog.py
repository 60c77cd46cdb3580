"""The catalog browser: every entry, filtered by text and tag; a selection scopes a question."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from paperbot.catalog import Entry
from paperbot.tui.entry import EntryScreen


def matches(entry: Entry, text: str, tag: str | None) -> bool:
    """Every word of ``text`` appears somewhere in the entry, and it has ``tag``."""
    if tag is not None and tag not in entry.tags:
        return False
    haystack = " ".join(
        [
            entry.id,
            entry.name,
            entry.title or "",
            *entry.authors,
            *entry.affiliations,
            *entry.tags,
            entry.summary,
        ]
    ).casefold()
    return all(word in haystack for word in text.casefold().split())


class EntryList(SelectionList[str]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "screen.ask", "Ask about selected"),
        Binding("v", "screen.view", "View entry"),
        Binding("slash", "screen.focus_filter", "Filter"),
    ]


class CatalogScreen(Screen[tuple[str, ...] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("ctrl+s", "ask", "Ask about selected"),
    ]

    def __init__(self, entries: Sequence[Entry], selected: Collection[str] = ()) -> None:
        super().__init__()
        self.entries = list(entries)
        self.by_id = {entry.id: entry for entry in self.entries}
        self.selected: dict[str, None] = dict.fromkeys(key for key in selected if key in self.by_id)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="catalog-filters"):
            yield Input(placeholder="Filter: words of the name, authors or summary", id="filter")
            tags = sorted({tag for entry in self.entries for tag in entry.tags})
            yield Select([(tag, tag) for tag in tags], prompt="Any tag", id="tag")
        yield Static(id="catalog-count")
        yield EntryList(id="catalog-list")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Catalog"
        self._refill()
        self.query_one("#filter", Input).focus()

    @property
    def entry_list(self) -> EntryList:
        return self.query_one(EntryList)

    @on(Input.Changed, "#filter")
    @on(Select.Changed, "#tag")
    def _refill(self) -> None:
        text = self.query_one("#filter", Input).value
        tag = self.query_one("#tag", Select).value
        chosen = tag if isinstance(tag, str) else None
        entry_list = self.entry_list
        entry_list.clear_options()
        entry_list.add_options(
            Selection(_prompt(entry), entry.id, entry.id in self.selected)
            for entry in self.entries
            if matches(entry, text, chosen)
        )
        if entry_list.option_count:
            entry_list.highlighted = 0
        self._update_count()

    @on(Input.Submitted, "#filter")
    def _to_list(self) -> None:
        self.entry_list.focus()

    @on(SelectionList.SelectionToggled)
    def _toggled(self, event: SelectionList.SelectionToggled) -> None:
        key = event.selection.value
        if key in event.selection_list.selected:
            self.selected[key] = None
        else:
            self.selected.pop(key, None)
        self._update_count()

    def _update_count(self) -> None:
        shown = self.entry_list.option_count
        count = Content(f"{shown} of {len(self.entries)} entries · {len(self.selected)} selected")
        if self.selected:
            names = ", ".join(self.by_id[key].name for key in self.selected)
            count += Content.styled(f": {names}", "$text-muted")
        self.query_one("#catalog-count", Static).update(count)

    def action_ask(self) -> None:
        if not self.selected:
            self.notify("Select papers with space first, then ask about them.", markup=False)
            return
        self.dismiss(tuple(self.selected))

    def action_view(self) -> None:
        highlighted = self.entry_list.highlighted
        if highlighted is not None:
            key = self.entry_list.get_option_at_index(highlighted).value
            self.app.push_screen(EntryScreen(self.by_id[key]))

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_close(self) -> None:
        self.dismiss(None)


def _prompt(entry: Entry) -> Content:
    prompt = Content.assemble((entry.name, "bold"), (f"  [@{entry.id}]", "$text-muted"))
    if entry.tags:
        prompt += Content.styled(f"  {' · '.join(entry.tags)}", "italic $text-accent")
    return prompt
