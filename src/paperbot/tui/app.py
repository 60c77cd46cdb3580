"""The chat app: transcript, sources panel, input and status bar, over one Workspace.

Everything slow (importing chromadb and loading the index, importing litellm, answering) runs
in daemon threads that report back with messages. Daemon threads, not Textual's thread
workers: those run in asyncio's default executor, which the interpreter joins on exit, so a
model call that hangs would keep ctrl+q from quitting until its timeout.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown, Static

from paperbot.answer import Answer
from paperbot.catalog import CatalogError, Entry
from paperbot.citations import check_answer, cited_ids
from paperbot.cli import MAX_QUESTION_CHARS, USER_ERRORS
from paperbot.config import EXTRACTIVE_MODEL, Settings
from paperbot.history import History, HistoryError
from paperbot.prompting import Turn
from paperbot.tui.catalog import CatalogScreen
from paperbot.tui.conversations import Choice, ConversationsScreen
from paperbot.tui.dialogs import Field, FormScreen, HelpScreen
from paperbot.tui.entry import EntryScreen
from paperbot.tui.evidence import CITE_SCHEME, claims_citing, supporting_sentences
from paperbot.tui.prompt import PromptInput
from paperbot.tui.session import Session
from paperbot.tui.sources import SourcesPanel
from paperbot.tui.status import StatusBar, last_answer
from paperbot.tui.transcript import CANCELLED, Exchange, Transcript
from paperbot.workspace import Workspace

FAILURE_SECONDS = 15


class Cancelled(Exception):
    """Raised inside the answer's text callback to stop reading a cancelled stream."""


@dataclass(eq=False)
class Job:
    """One question being answered."""

    question: str
    exchange: Exchange
    turns: list[Turn]
    scope: tuple[str, ...]
    started: float
    cancel: threading.Event = field(default_factory=threading.Event)


class Loaded(Message):
    """A background load moved on: ``part`` is "index" or "litellm"."""

    def __init__(self, part: str, state: str, detail: str = "") -> None:
        super().__init__()
        self.part, self.state, self.detail = part, state, detail


class Notice(Message):
    """A warning from the pipeline (a lock to wait for, a reranking that was skipped)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class EarlierQuestions(Message):
    """Earlier questions from the history, for the input's up arrow."""

    def __init__(self, questions: list[str]) -> None:
        super().__init__()
        self.questions = questions


class Chunk(Message):
    def __init__(self, job: Job, text: str) -> None:
        super().__init__()
        self.job, self.text = job, text


class Finished(Message):
    def __init__(self, job: Job, answer: Answer) -> None:
        super().__init__()
        self.job, self.answer = job, answer


class Failed(Message):
    def __init__(self, job: Job, error: str) -> None:
        super().__init__()
        self.job, self.error = job, error


class PaperbotApp(App[None]):
    CSS_PATH = Path(__file__).with_name("paperbot.tcss")
    TITLE = "paperbot"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help"),
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+o", "sources", "Sources"),
        Binding("ctrl+l", "catalog", "Catalog"),
        Binding("ctrl+r", "conversations", "Chats"),
        Binding("ctrl+t", "new_chat", "New chat"),
    ]

    transcript: Transcript
    sources: SourcesPanel
    scope_bar: Static
    prompt: PromptInput
    status: StatusBar

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.workspace = Workspace(
            settings, progress=self._index_progress, notify=lambda text: self._post(Notice(text))
        )
        self.session = Session(History(settings.data_dir / "history.db"), log=settings.log)
        self.clock = clock
        self.job: Job | None = None
        self.scope: tuple[str, ...] = ()
        self.index_state = "loading"
        self.litellm_state: str | None = None
        # Workspace.retriever is a cached_property: two threads must not build it at once.
        self._index_lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return self.workspace.settings

    def _handle_exception(self, error: Exception) -> None:
        # Textual's handler prints a traceback with locals over the terminal. Users get the
        # CLI's one line instead; tests (headless) and PAPERBOT_DEBUG=1 keep the traceback.
        if self.is_headless or os.environ.get("PAPERBOT_DEBUG"):
            super()._handle_exception(error)
            return
        line = (
            f"paperbot: internal error: {type(error).__name__}: {error} "
            "(set PAPERBOT_DEBUG=1 to see the traceback)"
        )
        self.exit(return_code=70, message=Text(line))

    def compose(self) -> ComposeResult:
        # Kept, not queried: threads report back until the very end, when the DOM is gone.
        self.transcript = Transcript(id="transcript")
        self.sources = SourcesPanel(id="sources")
        self.scope_bar = Static(id="scope", markup=False)
        self.prompt = PromptInput(id="prompt")
        self.status = StatusBar(id="status")
        yield Header()
        with Horizontal(id="main"):
            yield self.transcript
            yield self.sources
        yield self.scope_bar
        yield self.prompt
        yield self.status
        yield Footer()

    def on_mount(self) -> None:
        self.status.model = self.settings.model
        self.prompt.focus()
        # Start loading after the first frame is on screen: the imports compete for the GIL.
        self.call_after_refresh(self._start_loading)

    @property
    def entries(self) -> list[Entry]:
        """The catalog; empty when it cannot be read (loading the index reports why)."""
        try:
            return self.workspace.entries
        except CatalogError:
            return []

    @property
    def by_id(self) -> dict[str, Entry]:
        return {entry.id: entry for entry in self.entries}

    # Background work ---------------------------------------------------------------------

    def _in_thread(self, name: str, target: Callable[..., None], *args: Any) -> None:
        threading.Thread(target=target, args=args, name=f"paperbot-{name}", daemon=True).start()

    def _post(self, message: Message) -> None:
        # Once the event loop has closed the app is gone, and nobody is left to tell.
        with contextlib.suppress(RuntimeError):
            self.post_message(message)

    def _start_loading(self) -> None:
        self._in_thread("index", self._load_index)
        if self.settings.uses_model:
            self._warm_litellm()

    def _warm_litellm(self) -> None:
        if self.litellm_state in ("loading", "ready"):
            return
        self._set_state("litellm", "loading")
        self._in_thread("litellm", self._import_litellm)

    def _load_index(self, rebuild: bool = False) -> None:
        try:
            entries = self.workspace.entries
            if not rebuild:
                self._post(EarlierQuestions(self._earlier_questions()))
            with self._index_lock:
                if rebuild:
                    self.workspace.sync(rebuild=True)
                self.workspace.retriever  # noqa: B018 (loading it is the point)
        except USER_ERRORS as error:
            self._post(Loaded("index", "failed", str(error)))
        except Exception as error:
            self._post(Loaded("index", "failed", _internal(error)))
        else:
            self._post(Loaded("index", "ready", f"{len(entries)} entries"))

    def _earlier_questions(self) -> list[str]:
        try:
            records = self.session.history.recent(200)
        except HistoryError:
            return []  # asking reports a broken history; the up arrow need not
        return [record["question"] for record in reversed(records)]

    def _index_progress(self, done: int, total: int) -> None:
        self._post(Loaded("index", "indexing", f"{done}/{total}"))

    def _import_litellm(self) -> None:
        from paperbot.llm import import_litellm

        try:
            import_litellm()
        except Exception as error:
            self._post(Loaded("litellm", "failed", _internal(error)))
        else:
            self._post(Loaded("litellm", "ready", "ready"))

    @on(Notice)
    def _notice(self, message: Notice) -> None:
        if self.is_running:
            self.notify(message.text, severity="warning", markup=False)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if not self.is_running:
            return  # a thread reported while the app shut down: its widgets are gone
        self._set_state(message.part, message.state, message.detail)
        if self.job is not None and message.part == "index" and message.state == "ready":
            self.status.activity = "answering…"
        if message.state == "failed":
            self.notify(
                message.detail,
                title=f"Loading the {message.part} failed",
                severity="error",
                timeout=FAILURE_SECONDS,
                markup=False,
            )

    def _set_state(self, part: str, state: str, detail: str = "") -> None:
        if part == "index":
            self.index_state = state
            self.status.index = (state, detail)
        else:
            self.litellm_state = state
            self.status.litellm = (state, detail)

    @on(EarlierQuestions)
    def _earlier(self, message: EarlierQuestions) -> None:
        if not self.is_running:
            return
        asked = self.prompt.asked
        for question in [*message.questions, *asked.questions]:
            asked.add(question)

    # Asking ------------------------------------------------------------------------------

    @on(PromptInput.Submitted)
    async def _submitted(self, message: PromptInput.Submitted) -> None:
        question = message.text
        if self.job is not None:
            self.notify("An answer is still coming; Esc cancels it.", severity="warning")
            return
        if len(question) > MAX_QUESTION_CHARS:
            self.notify(
                f"The question is {len(question):,} characters long; "
                f"keep it under {MAX_QUESTION_CHARS:,}.",
                severity="error",
                markup=False,
            )
            return
        self.prompt.clear()
        self.prompt.asked.add(question)
        scope = self.scope
        self._set_scope(())
        by_id = self.by_id
        exchange = Exchange(question, [by_id[key].name for key in scope if key in by_id])
        await self.transcript.add(exchange)
        exchange.start_stream()
        self.job = Job(question, exchange, self.session.turns(), scope, self.clock())
        ready = self.index_state == "ready"
        self.status.activity = "answering…" if ready else "waiting for the index…"
        self.refresh_bindings()
        self._in_thread("answer", self._answer, self.job)

    def _answer(self, job: Job) -> None:
        def on_text(text: str) -> None:
            if job.cancel.is_set():
                raise Cancelled
            self._post(Chunk(job, text))

        try:
            with self._index_lock:
                self.workspace.retriever  # noqa: B018 (waits for a load in progress)
            answer = self.workspace.ask(
                job.question, job.turns, on_text=on_text, only=job.scope or None
            )
        except Cancelled:
            return
        except USER_ERRORS as error:
            self._post(Failed(job, str(error)))
        except Exception as error:
            self._post(Failed(job, _internal(error)))
        else:
            self._post(Finished(job, answer))

    @on(Chunk)
    async def _chunk(self, message: Chunk) -> None:
        if self.is_running and message.job is self.job:
            if self.status.activity:
                self.status.activity = "answering…"
            await message.job.exchange.write(message.text)

    @on(Finished)
    async def _finished(self, message: Finished) -> None:
        job, answer = message.job, message.answer
        if not self.is_running or job is not self.job:
            return  # cancelled: what had come is already shown and kept
        self.job = None
        self.status.last = last_answer(answer.to_json(), self.clock() - job.started)
        await self._keep(job, answer)
        if answer.error:
            self.notify(
                f"The answer broke off: {answer.error}. What had come is kept.",
                severity="warning",
                timeout=FAILURE_SECONDS,
                markup=False,
            )

    @on(Failed)
    async def _failed(self, message: Failed) -> None:
        job = message.job
        if not self.is_running or job is not self.job:
            return
        self.job = None
        self._idle()
        await job.exchange.remove()
        self._restore(job.question, job.scope)
        self.notify(
            message.error,
            title="No answer",
            severity="error",
            timeout=FAILURE_SECONDS,
            markup=False,
        )

    async def _keep(self, job: Job, answer: Answer) -> None:
        """Log the answer in the conversation and show it whole with its evidence."""
        warning = self.session.add({**answer.to_json(), "settings": self.settings.public()})
        if warning:
            self.notify(warning, severity="warning", markup=False)
        self.sub_title = self.session.title or ""
        self._idle()
        await job.exchange.finish(self.session.records[-1], answer.check, self.by_id)
        self.sources.show(job.exchange, self.by_id)

    def _idle(self) -> None:
        self.status.activity = ""
        self.refresh_bindings()

    def _restore(self, question: str, scope: tuple[str, ...]) -> None:
        """Put an unanswered question back, unless the reader has started another."""
        if not self.prompt.text.strip():
            self.prompt.replace_text(question)
        if scope and not self.scope:
            self._set_scope(scope)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.job is not None or bool(self.scope)
        return True

    async def action_cancel(self) -> None:
        job = self.job
        if job is None:
            self._set_scope(())
            return
        job.cancel.set()
        self.job = None
        text = job.exchange.streamed_text.strip()
        if not text:
            self._idle()
            await job.exchange.remove()
            self._restore(job.question, job.scope)
            self.notify("Cancelled before any text came; the question is back in the input.")
            return
        answer = Answer(
            question=job.question,
            text=text,
            citations=cited_ids(text, list(self.by_id.values())),
            sources=(),
            backend=self.settings.model,
            abstained=False,
            model=self.settings.model if self.settings.uses_model else None,
            error=CANCELLED,
        )
        self.status.last = f"cancelled after {self.clock() - job.started:.2f} s"
        await self._keep(job, self.workspace.check(answer))

    # Scope, evidence and the catalog ----------------------------------------------------

    def _set_scope(self, scope: Iterable[str]) -> None:
        self.scope = tuple(scope)
        bar = self.scope_bar
        names = ", ".join(self.by_id[key].name for key in self.scope if key in self.by_id)
        bar.update(f"Next question is about: {names}  (Esc clears)" if self.scope else "")
        bar.set_class(bool(self.scope), "-shown")
        self.refresh_bindings()

    @on(Exchange.Selected)
    def _selected(self, message: Exchange.Selected) -> None:
        self.sources.show(message.exchange, self.by_id)

    @on(SourcesPanel.Open)
    def _open_source(self, message: SourcesPanel.Open) -> None:
        self._open_entry(message.key, message.exchange)

    @on(Markdown.LinkClicked)
    def _link_clicked(self, message: Markdown.LinkClicked) -> None:
        exchange = next(
            (node for node in message.markdown.ancestors if isinstance(node, Exchange)), None
        )
        if message.href.startswith(CITE_SCHEME) and exchange is not None:
            self._open_entry(message.href.removeprefix(CITE_SCHEME), exchange)
        else:
            self.open_url(message.href)

    def _open_entry(self, key: str, exchange: Exchange) -> None:
        entry = self.by_id.get(key)
        if entry is None:
            self.notify(f"[@{key}] is not in the catalog.", severity="warning", markup=False)
            return
        claims = claims_citing(exchange.report, key)
        self.push_screen(EntryScreen(entry, claims, supporting_sentences(entry, claims)))

    def action_sources(self) -> None:
        exchanges = self.transcript.exchanges
        if self.sources.exchange is None and exchanges:
            exchanges[-1].focus()
        self.sources.options.focus()

    def action_catalog(self) -> None:
        def chosen(scope: tuple[str, ...] | None) -> None:
            if scope:
                self._set_scope(scope)
            self.prompt.focus()

        self.push_screen(CatalogScreen(self.entries, self.scope), chosen)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # Conversations ------------------------------------------------------------------------

    def _busy(self) -> bool:
        if self.job is not None:
            self.notify("An answer is still coming; Esc cancels it first.", severity="warning")
        return self.job is not None

    async def action_new_chat(self) -> None:
        if self._busy():
            return
        self.session.new()
        await self.transcript.clear()
        self.sources.show(None, {})
        self.sub_title = ""
        self.status.last = ""
        self.prompt.focus()

    def action_conversations(self) -> None:
        if self._busy():
            return
        screen = ConversationsScreen(self.session.history)

        async def chosen(choice: Choice | None) -> None:
            if self.session.id in screen.deleted:
                await self.action_new_chat()
            elif self.session.id in screen.renamed:
                self.session.title = self.sub_title = screen.renamed[self.session.id]
            if choice is None:
                return
            if choice.action == "export":
                self._ask_export_path(choice.conversation.id, choice.conversation.title)
            else:
                await self.resume(choice.conversation.id, choice.conversation.title)

        self.push_screen(screen, chosen)

    async def resume(self, conversation_id: str, title: str) -> None:
        try:
            self.session.resume(conversation_id, title)
        except HistoryError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        entries = self.entries
        by_id = {entry.id: entry for entry in entries}
        await self.transcript.remove_children()
        for record in self.session.records:
            report = check_answer(record["answer"], entries, record["question"])
            await self.transcript.mount(Exchange.finished(record, report, by_id))
            self.prompt.asked.add(record["question"])
        self.transcript.scroll_end(animate=False)
        self.transcript.anchor()
        exchanges = self.transcript.exchanges
        self.sources.show(exchanges[-1] if exchanges else None, by_id)
        self.sub_title = title
        self.prompt.focus()

    def action_export(self) -> None:
        if not self.session.records:
            self.notify("Nothing to export yet: ask something first.")
            return
        self._ask_export_path(self.session.id, self.session.title or "")

    def _ask_export_path(self, conversation_id: str | None, title: str) -> None:
        name = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "conversation"
        default = Path.cwd() / f"paperbot-{name}.md"

        def chosen(values: list[str] | None) -> None:
            if values and values[0]:
                self._export(conversation_id, title, Path(values[0]).expanduser())

        self.push_screen(
            FormScreen(
                "Export the conversation as Markdown",
                [Field("File", str(default))],
                note="Citations are pandoc's [@id]; `paperbot export --bib FILE` writes the "
                "bibliography they refer to.",
            ),
            chosen,
        )

    def _export(self, conversation_id: str | None, title: str, path: Path) -> None:
        from paperbot.export import conversation_markdown

        try:
            if conversation_id is None or conversation_id == self.session.id:
                records = self.session.records
            else:
                records = self.session.history.turns(conversation_id)
            path.write_text(
                conversation_markdown(records, self.entries, title or None),
                encoding="utf-8",
            )
        except (OSError, HistoryError) as error:
            reason = getattr(error, "strerror", None) or error
            self.notify(f"Cannot write {path}: {reason}", severity="error", markup=False)
            return
        bib = path.with_suffix(".bib")
        self.notify(
            f"Wrote {path} ({len(records)} answers). To render it: paperbot export --bib {bib} "
            f"&& pandoc --citeproc --bibliography {bib} {path} -o {path.with_suffix('.html')}",
            title="Exported",
            timeout=FAILURE_SECONDS,
            markup=False,
        )

    # Settings and the index ---------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("New chat", "Start a new conversation", self.action_new_chat)
        yield SystemCommand(
            "Resume a conversation",
            "List saved conversations: resume, rename, delete, export",
            self.action_conversations,
        )
        yield SystemCommand(
            "Export conversation",
            "Write this conversation as Markdown with pandoc citations",
            self.action_export,
        )
        yield SystemCommand(
            "Browse the catalog",
            "Filter papers by text or tag; ask about the ones you select",
            self.action_catalog,
        )
        yield SystemCommand(
            "Switch model", "Answer with another litellm model, or extractive", self.switch_model
        )
        yield SystemCommand(
            "Rebuild the index", "Embed every entry again (fixes a damaged store)", self.rebuild
        )
        yield from super().get_system_commands(screen)

    def switch_model(self) -> None:
        if self._busy():
            return

        def chosen(values: list[str] | None) -> None:
            if values is None:
                return
            model, api_base = values
            self.workspace.settings = replace(
                self.settings, model=model or EXTRACTIVE_MODEL, api_base=api_base or None
            )
            self.status.model = self.settings.model
            if self.settings.uses_model:
                self._warm_litellm()
            self.notify(f"Answers now come from {self.settings.model}.", markup=False)

        self.push_screen(
            FormScreen(
                "Switch model",
                [
                    Field("Model", self.settings.model, "extractive, gpt-4o-mini, openai/NAME…"),
                    Field("API base", self.settings.api_base or "", "for self-hosted servers"),
                ],
                note="For this session only; set model in the config file to keep it.",
            ),
            chosen,
        )

    def rebuild(self) -> None:
        if self._busy():
            return
        self._set_state("index", "rebuilding")
        self._in_thread("rebuild", self._load_index, True)


def _internal(error: Exception) -> str:
    return f"internal error: {type(error).__name__}: {error}"
