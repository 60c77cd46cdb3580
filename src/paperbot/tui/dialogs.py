"""Small modal screens: a form of text fields, a yes/no question, and the help."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Markdown, Static

HELP = """\
# paperbot keys

| key | what it does |
|---|---|
| Enter | send the question (single-line mode) |
| ctrl+n | switch between single-line and multi-line input |
| ctrl+s | send, in either mode (alt+enter too, where the terminal reports it) |
| up / down | earlier questions (on the first / last line of the input) |
| Esc | cancel the answer that is coming (what came is kept); else clear the paper scope |
| ctrl+o | the sources of the selected answer; Enter opens an entry |
| tab / shift+tab | move between the input, the answers and the sources |
| ctrl+l | browse the catalog; space selects papers, `a` asks about them |
| ctrl+r | conversations: Enter resumes, `r` renames, `d` deletes, `e` exports |
| ctrl+t | a new conversation |
| ctrl+p | command palette: new chat, resume, export, catalog, switch model, rebuild index |
| F1 | this help |
| ctrl+q | quit |

**Multi-line input.** Terminals, tmux above all, pass neither shift+enter nor alt+enter
reliably, so press ctrl+n: Enter then adds a line and ctrl+s sends. ctrl+n again returns to
single-line. tmux also holds Esc back for half a second (`set -sg escape-time 10` fixes that).

**Evidence.** Each answer ends with the citation check's verdict. A sentence the cited entry
does not back is marked `⚠ unsupported` where it stands. Click a citation, or pick it in the
sources panel, to read the entry with the sentence that supports the claim highlighted.

**Conversations** live in the same history as `paperbot ask -c`; a follow-up question is
answered with the conversation as context. Export writes Markdown with pandoc citations;
`paperbot export --bib catalog.bib` writes the matching bibliography.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Markdown(HELP)


@dataclass(frozen=True)
class Field:
    label: str
    value: str = ""
    placeholder: str = ""


class FormScreen(ModalScreen[list[str] | None]):
    """Text fields; Enter in the last one submits, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, fields: Sequence[Field], note: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            for field in self.fields:
                yield Label(field.label)
                yield Input(field.value, placeholder=field.placeholder)
            if self.note:
                yield Static(self.note, classes="note", markup=False)
            yield Static("Enter saves · Esc cancels", classes="note")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.dismiss([field.value.strip() for field in inputs])
        else:
            inputs[inputs.index(event.input) + 1].focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm"):
            yield Static(self.question, classes="dialog-title", markup=False)
            yield Static("y yes · n no", classes="note")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
