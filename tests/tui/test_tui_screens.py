"""The catalog browser, conversations, export, help and the command palette."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Input, Select
from tui_helpers import ask, ready, wait_until

from paperbot.tui.catalog import CatalogScreen, EntryList, matches
from paperbot.tui.conversations import ConversationsScreen
from paperbot.tui.dialogs import ConfirmScreen, FormScreen, HelpScreen
from paperbot.tui.entry import EntryScreen

pytestmark = pytest.mark.anyio


async def open_catalog(pilot) -> CatalogScreen:
    app = await ready(pilot)
    await pilot.press("ctrl+l")
    await wait_until(
        pilot, lambda: isinstance(app.screen, CatalogScreen) and app.screen.query(EntryList), "it"
    )
    return app.screen


async def test_catalog_filters_by_text_and_tag(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        screen = await open_catalog(pilot)
        entries = screen.entry_list
        assert entries.option_count == 23
        await pilot.press(*"pruning")
        expected = [e.id for e in app.entries if matches(e, "pruning", None)]
        await wait_until(pilot, lambda: entries.option_count == len(expected), "the filter")
        assert "cdpruner" in expected and len(expected) < 23
        screen.query_one(Input).value = ""
        screen.query_one(Select).value = "oral"
        oral = [e.id for e in app.entries if "oral" in e.tags]
        await wait_until(pilot, lambda: entries.option_count == len(oral), "the tag")
        assert oral and len(oral) < 23


async def test_asking_about_selected_papers_scopes_the_next_question(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        screen = await open_catalog(pilot)
        await pilot.press(*"holitom", "enter")  # Enter in the filter moves to the list
        await wait_until(pilot, lambda: screen.entry_list.option_count == 1, "the filter")
        await pilot.press("space", "v")
        await wait_until(pilot, lambda: isinstance(app.screen, EntryScreen), "the entry")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "back in the catalog")
        screen.query_one(Input).value = "cdpruner"
        await wait_until(pilot, lambda: screen.entry_list.option_count == 1, "the filter")
        screen.entry_list.focus()
        await pilot.press("space", "a")
        await wait_until(pilot, lambda: app.scope == ("holitom", "cdpruner"), "the scope")
        assert "HoliTom, CDPruner" in str(app.query_one("#scope").render())
        await ask(pilot, "How do they reduce tokens?")
        exchange = app.transcript.exchanges[-1]
        assert set(exchange.record["citations"]) == {"holitom", "cdpruner"}
        assert exchange.scope == ("HoliTom", "CDPruner")
        assert app.scope == ()  # the next question only


async def test_esc_clears_a_scope(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        await ready(pilot)
        app._set_scope(["llada"])
        await pilot.press("escape")
        assert app.scope == ()


async def test_resume_a_conversation_from_ask_c_and_follow_up(make_app, run, store_dir):
    assert run("ask", "--store", str(store_dir), "What is HoliTom?").code == 0
    assert run("ask", "-c", "--store", str(store_dir), "How much does it cut FLOPs?").code == 0
    app = make_app()
    async with app.run_test() as pilot:
        await ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen), "the list")
        await wait_until(pilot, lambda: app.screen.conversations, "the conversations")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(app.transcript.exchanges) == 2, "the transcript")
        first, second = app.transcript.exchanges
        assert first.question == "What is HoliTom?"
        assert "[@holitom]" in second.record["answer"] and second.report is not None
        assert app.sub_title == "What is HoliTom?"
        await ask(pilot, "What does it merge?")
        records = app.session.history.turns(app.session.id)
        assert [r["question"] for r in records][-1] == "What does it merge?"
        assert len(records) == 3
        assert "holitom" in records[-1]["citations"]  # the follow-up knew what "it" was


async def test_rename_and_delete_a_conversation(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        await ask(pilot, "What is HoliTom?")
        conversation = app.session.id
        await pilot.press("ctrl+r")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, ConversationsScreen) and app.screen.conversations,
            "the list",
        )
        listing = app.screen
        await pilot.press("r")
        await wait_until(
            pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.query(Input), "form"
        )
        app.screen.query_one(Input).value = "Token merging"
        await pilot.press("enter")
        await wait_until(pilot, lambda: listing.conversations[0].title == "Token merging", "it")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: not listing.conversations, "the deletion")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.session.id is None, "a new chat")
        assert app.transcript.exchanges == []
        assert app.session.history.turns(conversation) == []


async def test_export_writes_markdown_that_pandoc_renders(make_app, tmp_path, run):
    target = tmp_path / "chat.md"
    app = make_app()
    async with app.run_test() as pilot:
        await ask(pilot, "How much does CDPruner reduce FLOPs?")
        await ask(pilot, "Which papers reduce time-to-first-token?")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"Export conversation")
        commands = app.screen.query_one(CommandList)
        await wait_until(
            pilot,
            lambda: (
                commands.option_count
                and "Export conversation" in str(commands.get_option_at_index(0).prompt)
            ),
            "the command",
        )
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.query(Input), "form"
        )
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, target.exists, "the file")
    text = target.read_text()
    assert text.startswith('---\ntitle: "How much does CDPruner reduce FLOPs?"')
    assert "## 2. Which papers reduce time-to-first-token?" in text
    assert "[@cdpruner]" in text and "\n## References\n" in text
    bib = tmp_path / "catalog.bib"
    assert run("export", "--bib", str(bib)).code == 0
    if shutil.which("pandoc") is None:
        pytest.skip("pandoc is not installed")
    rendered = subprocess.run(
        ["pandoc", "--citeproc", "--bibliography", str(bib), str(target), "-t", "plain"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert rendered.stderr == ""  # pandoc warns about every citation it cannot resolve
    assert "[@" not in rendered.stdout and "Zhang et al. 2025" in rendered.stdout


async def test_f1_opens_the_help(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), "closing")


async def test_palette_offers_the_chat_commands(make_app, tmp_path):
    app = make_app(store=str(tmp_path / "store"))
    async with app.run_test() as pilot:
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {
            "New chat",
            "Resume a conversation",
            "Export conversation",
            "Browse the catalog",
            "Switch model",
            "Rebuild the index",
        } <= titles
        await ready(pilot)
        app.rebuild()
        assert app.index_state == "rebuilding"
        await wait_until(pilot, lambda: app.index_state == "ready", "the rebuilt index")
        await ask(pilot, "What is HoliTom?")


def test_chat_needs_a_terminal(run):
    for args in (["chat"], []):
        result = run(*args)
        assert result.code == 2
        assert "the chat needs a terminal" in result.err


def test_chat_is_listed_in_help(run):
    assert "chat" in run("--help").out
