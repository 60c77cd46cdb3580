"""Snapshots of the main screens (pytest-textual-snapshot; update with --snapshot-update).

Everything that varies is held still: a frozen clock for the status bar's timings, the
extractive backend (no latency figures) or a scripted answer, and a cursor that does not blink.
"""

from __future__ import annotations

from tui_helpers import ask, ready, wait_until

from paperbot.answer import Answer
from paperbot.tui.catalog import CatalogScreen, EntryList
from paperbot.tui.dialogs import HelpScreen
from paperbot.tui.entry import EntryScreen

SIZE = (110, 40)
# A model's slip: the catalog says CDPruner cuts FLOPs by 95%.
SLIP = "CDPruner reduces FLOPs by 50% [@cdpruner]. HoliTom merges tokens [@holitom]."


async def settle(pilot) -> None:
    pilot.app.query_one("#prompt").cursor_blink = False
    await pilot.pause()


def test_chat_with_a_checked_answer_and_a_marked_slip(snap_compare, make_app):
    async def run_before(pilot) -> None:
        app = await ready(pilot)
        await ask(pilot, "How much does CDPruner reduce FLOPs?")
        workspace = app.workspace

        def scripted(question, turns=(), on_text=None, stream=True, only=None):
            on_text(SLIP)
            answer = Answer(question, SLIP, ("cdpruner", "holitom"), (), "openai/stub", False)
            return workspace.check(answer)

        workspace.ask = scripted
        await ask(pilot, "And HoliTom?")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_catalog_filtered_with_a_selection(snap_compare, make_app):
    async def run_before(pilot) -> None:
        app = await ready(pilot)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogScreen), "the catalog")
        await wait_until(pilot, lambda: app.screen.query(EntryList), "the list")
        await pilot.press(*"diffusion", "enter", "space")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_entry_view_from_a_citation(snap_compare, make_app):
    async def run_before(pilot) -> None:
        app = await ready(pilot)
        await ask(pilot, "How much does CDPruner reduce FLOPs?")
        await settle(pilot)
        await pilot.press("ctrl+o", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, EntryScreen), "the entry")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare, make_app):
    async def run_before(pilot) -> None:
        app = await ready(pilot)
        await settle(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
