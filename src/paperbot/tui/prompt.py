"""The question input: Enter sends, up/down walk the history, ctrl+n switches to multi-line.

Multi-line mode exists because terminals (tmux above all) rarely deliver shift+enter or
alt+enter: there, Enter adds a line and ctrl+s (which every terminal sends) sends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import TextArea

SINGLE_LINE_TITLE = "Ask · Enter sends · ctrl+n multi-line"
MULTI_LINE_TITLE = "Multi-line · Enter adds a line · ctrl+s sends · ctrl+n single-line"


class InputHistory:
    """Questions asked before, walked like a shell's history; the unsent draft is kept."""

    def __init__(self, questions: Iterable[str] = ()) -> None:
        self.questions: list[str] = []
        for question in questions:
            self.add(question)
        self.position = len(self.questions)
        self.draft = ""

    def add(self, question: str) -> None:
        if question in self.questions:
            self.questions.remove(question)
        self.questions.append(question)
        self.position = len(self.questions)
        self.draft = ""

    def previous(self, current: str) -> str | None:
        if self.position == 0:
            return None
        if self.position == len(self.questions):
            self.draft = current
        self.position -= 1
        return self.questions[self.position]

    def next(self) -> str | None:
        if self.position >= len(self.questions):
            return None
        self.position += 1
        if self.position == len(self.questions):
            return self.draft
        return self.questions[self.position]


class PromptInput(TextArea):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Send"),
        Binding("ctrl+s,alt+enter", "send", "Send"),
        Binding("ctrl+n", "toggle_multiline", "Multi-line"),
    ]

    multiline: reactive[bool] = reactive(False)

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, id: str | None = None) -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            tab_behavior="focus",
            highlight_cursor_line=False,
            placeholder="Ask about the papers in the catalog…",
        )
        self.asked = InputHistory()
        self.border_title = SINGLE_LINE_TITLE

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The footer shows the key that sends in the current mode.
        if action == "submit":
            return not self.multiline
        if action == "send":
            return self.multiline
        return super().check_action(action, parameters)

    def watch_multiline(self, multiline: bool) -> None:
        self.border_title = MULTI_LINE_TITLE if multiline else SINGLE_LINE_TITLE
        self.set_class(multiline, "-multiline")
        self.refresh_bindings()

    async def _on_key(self, event: events.Key) -> None:
        # TextArea inserts a newline on Enter before any binding is consulted.
        if event.key == "enter" and not self.multiline:
            event.stop()
            event.prevent_default()
            self.action_send()
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        self.action_send()

    def action_send(self) -> None:
        if self.text.strip():
            self.post_message(self.Submitted(self.text.strip()))

    def action_toggle_multiline(self) -> None:
        self.multiline = not self.multiline

    def action_cursor_up(self, select: bool = False) -> None:
        if not select and self.cursor_location[0] == 0:
            earlier = self.asked.previous(self.text)
            if earlier is not None:
                self.replace_text(earlier)
                return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        if not select and self.cursor_location[0] == self.document.line_count - 1:
            later = self.asked.next()
            if later is not None:
                self.replace_text(later)
                return
        super().action_cursor_down(select)

    def replace_text(self, text: str) -> None:
        self.text = text
        self.move_cursor(self.document.end)
