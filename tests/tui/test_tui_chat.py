"""The chat driven through Pilot: asking, streaming, cancelling, errors and the evidence."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import Input, Markdown
from textual.widgets.markdown import MarkdownFence
from tui_helpers import ask, ready, wait_until

from paperbot.answer import Answer
from paperbot.history import History
from paperbot.tui.app import PaperbotApp
from paperbot.tui.dialogs import FormScreen
from paperbot.tui.entry import EntryScreen
from paperbot.tui.prompt import InputHistory
from paperbot.tui.transcript import CANCELLED

from openai_server import Reply

pytestmark = pytest.mark.anyio

GOOD = "CDPruner reduces FLOPs by 95% [@cdpruner]. HoliTom merges video tokens [@holitom]."


def history(app: PaperbotApp) -> History:
    return app.session.history


async def test_first_paint_comes_before_the_index_which_loads_in_the_background(make_app):
    app = make_app()
    release = threading.Event()
    load = app._load_index

    def slow_load(rebuild: bool = False) -> None:
        release.wait(10)
        load(rebuild)

    app._load_index = slow_load
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.status.index[0] == "loading"
        assert app.focused is app.prompt
        await pilot.press(*"typing while it loads")
        assert app.prompt.text == "typing while it loads"
        release.set()
        await wait_until(pilot, lambda: app.status.index == ("ready", "23 entries"), "ready")


async def test_extractive_answer_is_cited_with_sources_and_logged(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        await ask(pilot, "How much does CDPruner reduce FLOPs?")
        (exchange,) = app.transcript.exchanges
        assert "95%" in exchange.record["answer"]
        assert exchange.record["citations"] == ["cdpruner"]
        assert "[[@cdpruner](cite:cdpruner)]" in exchange.answer.source
        assert exchange.report is not None and exchange.report.ok
        assert app.sources.options.option_count == 1
        assert app.sources.options.get_option_at_index(0).id == "cdpruner"
        assert app.prompt.text == ""
        (stored,) = history(app).turns(app.session.id)
        assert stored["question"] == "How much does CDPruner reduce FLOPs?"
        assert app.sub_title == "How much does CDPruner reduce FLOPs?"
        assert app.status.last == "0.00 s"


async def test_model_answer_streams_then_renders_whole(make_app, server, model_flags):
    server.replies.append(Reply(text=GOOD, prompt_tokens=321))
    app = make_app(**model_flags)
    async with app.run_test() as pilot:
        await ask(pilot, "How do CDPruner and HoliTom reduce tokens?")
        exchange = app.transcript.exchanges[-1]
        assert len(exchange.streamed) > 1  # it arrived in pieces, and each was shown
        assert exchange.streamed_text == GOOD
        assert exchange.record["answer"] == GOOD
        assert "[[@holitom](cite:holitom)]" in exchange.answer.source
        assert "321 in" in app.status.last and "first token" in app.status.last
        assert [option.id for option in app.sources.options.options] == ["cdpruner", "holitom"]
        await wait_until(pilot, lambda: app.litellm_state == "ready", "litellm warmed up")


async def test_code_fences_and_tables_survive_the_final_render(make_app, server, model_flags):
    text = (
        "CDPruner reduces FLOPs by 95% [@cdpruner].\n\n"
        "```python\nkeep = select(tokens)\n```\n\n"
        "| paper | FLOPs |\n|---|---|\n| CDPruner | 95% fewer [@cdpruner] |\n"
    )
    server.replies.append(Reply(text=text))
    app = make_app(**model_flags)
    async with app.run_test() as pilot:
        await ask(pilot, "How does CDPruner cut FLOPs?")
        answer = app.transcript.exchanges[-1].answer
        (fence,) = answer.query(MarkdownFence)
        assert fence.code.strip() == "keep = select(tokens)"
        assert len(answer.query("MarkdownTable")) == 1


async def test_unsupported_sentence_is_marked_in_the_transcript(make_app, server, model_flags):
    server.replies.append(Reply(text="CDPruner reduces FLOPs by 50% [@cdpruner]."))
    app = make_app(**model_flags)
    async with app.run_test() as pilot:
        await ask(pilot, "How much does CDPruner reduce FLOPs?")
        exchange = app.transcript.exchanges[-1]
        assert "`⚠ unsupported: wrong number`" in exchange.answer.source
        (option,) = app.sources.options.options
        assert "wrong number" in str(option.prompt)


async def test_model_error_is_a_notification_and_the_question_stays(
    make_app, server, model_flags, notices
):
    server.replies.extend([Reply(text=GOOD), Reply(status=401)])
    app = make_app(**model_flags)
    async with app.run_test() as pilot:
        await ask(pilot, "How do CDPruner and HoliTom reduce tokens?")
        await ready(pilot)
        app.prompt.replace_text("And how much faster is it?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.job is None and notices, "the failure")
        severity, message = notices[-1]
        assert severity == "error"
        assert "rejected the API key (401)" in message and "PAPERBOT_API_KEY" in message
        assert app.prompt.text == "And how much faster is it?"
        (kept,) = app.transcript.exchanges
        assert kept.record["answer"] == GOOD
        assert len(history(app).turns(app.session.id)) == 1


async def test_esc_before_any_text_puts_the_question_back(make_app, server, model_flags):
    server.replies.append(Reply(hang=True))
    app = make_app(**model_flags)
    async with app.run_test() as pilot:
        await ready(pilot)
        app.prompt.replace_text("How does CDPruner pick tokens?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: server.requests, "the request")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.job is None, "the cancel")
        assert app.transcript.exchanges == []
        assert app.prompt.text == "How does CDPruner pick tokens?"


async def test_esc_mid_stream_keeps_what_came(make_app):
    app = make_app()
    more = threading.Event()

    def ask_slowly(question, turns=(), on_text=None, stream=True, only=None):
        on_text("CDPruner reduces FLOPs by 95% [@cdpruner]. ")
        more.wait(10)
        on_text("This never shows.")  # raises: the answer was cancelled
        raise AssertionError("reading went on after the cancel")

    async with app.run_test() as pilot:
        await ready(pilot)
        app.workspace.ask = ask_slowly
        app.prompt.replace_text("How much does CDPruner reduce FLOPs?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.transcript.exchanges[-1].streamed, "the first chunk")
        await pilot.press("escape")
        more.set()
        exchange = app.transcript.exchanges[-1]
        await wait_until(pilot, lambda: exchange.record is not None, "the kept answer")
        assert exchange.record["answer"] == "CDPruner reduces FLOPs by 95% [@cdpruner]."
        assert exchange.record["error"] == CANCELLED
        assert exchange.report is not None and exchange.report.ok
        (stored,) = history(app).turns(app.session.id)
        assert stored["incomplete"] is True
        assert app.job is None


async def test_citation_opens_the_entry_with_its_claims(make_app):
    app = make_app()
    async with app.run_test(size=(110, 36)) as pilot:
        await ask(pilot, "How much does CDPruner reduce FLOPs?")
        await pilot.press("ctrl+o", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, EntryScreen), "the entry view")
        screen = app.screen
        assert screen.entry.id == "cdpruner"
        assert [check.citations for check in screen.claims] == [("cdpruner",)]
        assert screen.support, "the summary sentence behind the claim is highlighted"
        assert all(sentence in screen.entry.summary for sentence in screen.support)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, EntryScreen), "closing")
        # A citation in the text is a link to the same view.
        answer = app.transcript.exchanges[-1].answer
        answer.post_message(Markdown.LinkClicked(answer, "cite:cdpruner"))
        await wait_until(pilot, lambda: isinstance(app.screen, EntryScreen), "the link")


async def test_up_and_down_walk_the_questions_asked(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        await ask(pilot, "How much does CDPruner reduce FLOPs?")
        await ask(pilot, "What is HoliTom?")
        await pilot.press(*"draft")
        await pilot.press("up")
        assert app.prompt.text == "What is HoliTom?"
        await pilot.press("up")
        assert app.prompt.text == "How much does CDPruner reduce FLOPs?"
        await pilot.press("down", "down")
        assert app.prompt.text == "draft"


def test_input_history_keeps_the_draft_and_moves_repeats_to_the_end():
    asked = InputHistory(["a", "b", "a"])
    assert asked.questions == ["b", "a"]
    assert asked.previous("draft") == "a"
    assert asked.previous("a") == "b"
    assert asked.previous("b") is None
    assert asked.next() == "a"
    assert asked.next() == "draft"
    assert asked.next() is None


async def test_multiline_mode_enter_adds_lines_and_ctrl_s_sends(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        await ready(pilot)
        await pilot.press("ctrl+n", *"What is HoliTom?", "enter", *"Answer briefly.")
        assert app.prompt.text == "What is HoliTom?\nAnswer briefly."
        assert app.transcript.exchanges == []
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.transcript.exchanges, "the question")
        assert app.transcript.exchanges[0].question == "What is HoliTom?\nAnswer briefly."
        await pilot.press("ctrl+n")
        assert not app.prompt.multiline


async def test_internal_error_in_the_backend_is_one_line_not_a_crash(make_app, notices):
    app = make_app()

    def broken(*args, **kwargs) -> Answer:
        raise KeyError("boom")

    async with app.run_test() as pilot:
        await ready(pilot)
        app.workspace.ask = broken
        app.prompt.replace_text("What is HoliTom?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: notices, "the notification")
        assert notices[-1] == ("error", "internal error: KeyError: 'boom'")
        assert app.prompt.text == "What is HoliTom?"


async def test_switching_model_takes_effect_for_the_next_question(make_app, server, model_flags):
    server.replies.append(Reply(text=GOOD))
    app = make_app()
    async with app.run_test() as pilot:
        await ready(pilot)
        app.switch_model()
        await wait_until(
            pilot, lambda: isinstance(app.screen, FormScreen) and app.screen.query(Input), "form"
        )
        model, api_base = app.screen.query(Input)
        model.value, api_base.value = model_flags["model"], model_flags["api_base"]
        api_base.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.settings.model == "openai/stub", "the switch")
        assert app.status.model == "openai/stub"
        await ask(pilot, "How do CDPruner and HoliTom reduce tokens?")
        assert app.transcript.exchanges[-1].record["model"] == "openai/stub"
        assert len(server.requests) == 1


async def test_a_skipped_reranking_is_a_warning_and_the_answer_still_comes(
    make_app, server, model_flags, notices
):
    server.replies.extend([Reply(text="All of them."), Reply(text=GOOD)])
    app = make_app(**model_flags, rerank=True)
    async with app.run_test() as pilot:
        await ask(pilot, "How do CDPruner and HoliTom reduce tokens?")
        await wait_until(pilot, lambda: notices, "the warning")
        severity, message = notices[-1]
        assert severity == "warning" and message.startswith("reranking skipped")
        assert app.transcript.exchanges[-1].record["answer"] == GOOD
        assert len(server.requests) == 2
