"""Saved conversations: resume, rename, delete or export one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from paperbot.history import Conversation, History, HistoryError
from paperbot.tui.dialogs import ConfirmScreen, Field, FormScreen


@dataclass(frozen=True)
class Choice:
    """What the reader chose: ``action`` is "resume" or "export"."""

    action: str
    conversation: Conversation


class ConversationList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Resume"),
        Binding("r", "screen.rename", "Rename"),
        Binding("d", "screen.delete", "Delete"),
        Binding("e", "screen.export", "Export"),
    ]


class ConversationsScreen(ModalScreen[Choice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, history: History) -> None:
        super().__init__()
        self.history = history
        self.conversations: list[Conversation] = []
        # Changes the app must follow when the current conversation is among them.
        self.renamed: dict[str, str] = {}
        self.deleted: set[str] = set()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog conversations"):
            yield Static("Conversations", classes="dialog-title")
            yield ConversationList(id="conversation-list")
            yield Static(
                "Enter resumes · r renames · d deletes · e exports · Esc closes",
                classes="note",
            )

    def on_mount(self) -> None:
        self._reload()
        self.query_one(ConversationList).focus()

    def _reload(self) -> None:
        try:
            self.conversations = self.history.conversations(limit=500)
        except HistoryError as error:
            self.notify(str(error), severity="error", markup=False)
            self.conversations = []
        options = self.query_one(ConversationList)
        highlighted = options.highlighted
        options.clear_options()
        if not self.conversations:
            options.add_option(Option("No conversations yet.", disabled=True))
            return
        options.add_options(Option(_prompt(c), id=c.id) for c in self.conversations)
        options.highlighted = min(highlighted or 0, len(self.conversations) - 1)

    def _current(self) -> Conversation | None:
        index = self.query_one(ConversationList).highlighted
        if index is None or index >= len(self.conversations):
            return None
        return self.conversations[index]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        conversation = self._current()
        if conversation is not None:
            self.dismiss(Choice("resume", conversation))

    def action_export(self) -> None:
        conversation = self._current()
        if conversation is not None:
            self.dismiss(Choice("export", conversation))

    def action_rename(self) -> None:
        conversation = self._current()
        if conversation is None:
            return

        def rename(values: list[str] | None) -> None:
            if not values or not values[0]:
                return
            try:
                self.history.rename(conversation.id, values[0])
            except HistoryError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            self.renamed[conversation.id] = values[0]
            self._reload()

        self.app.push_screen(
            FormScreen("Rename the conversation", [Field("Title", conversation.title)]), rename
        )

    def action_delete(self) -> None:
        conversation = self._current()
        if conversation is None:
            return

        def delete(sure: bool | None) -> None:
            if not sure:
                return
            try:
                self.history.delete(conversation.id)
            except HistoryError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            self.deleted.add(conversation.id)
            self._reload()

        self.app.push_screen(
            ConfirmScreen(f"Delete “{conversation.title}” and its {conversation.turns} answers?"),
            delete,
        )


def _prompt(conversation: Conversation) -> Content:
    when = conversation.updated[:16].replace("T", " ")
    answers = f"{conversation.turns} answer{'s' if conversation.turns != 1 else ''}"
    details = f"\n  {answers} · {when} UTC · {conversation.id}"
    return Content.assemble((conversation.title, "bold"), (details, "$text-muted"))
