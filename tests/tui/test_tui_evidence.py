"""The evidence as the chat shows it: marks, citation links and verdicts per entry."""

from __future__ import annotations

from paperbot.citations import check_answer
from paperbot.tui.evidence import display_markdown, source_verdicts, supporting_sentences


def test_unsupported_sentences_are_marked_and_citations_linked(entries):
    text = "CDPruner reduces FLOPs by 50% [@cdpruner]. HoliTom merges tokens [@holitom; @nope]."
    report = check_answer(text, entries)
    shown = display_markdown(text, report, {entry.id for entry in entries})
    assert shown.startswith(
        "CDPruner reduces FLOPs by 50% [[@cdpruner](cite:cdpruner)]. `⚠ unsupported: wrong number`"
    )
    # An id the catalog lacks stays plain text: there is nothing to open.
    assert "[[@holitom](cite:holitom); @nope]" in shown


def test_a_mark_in_a_table_row_stays_inside_the_row(entries):
    text = "| paper | claim |\n|---|---|\n| CDPruner | cuts FLOPs by 50% [@cdpruner] |\n"
    shown = display_markdown(text, check_answer(text, entries), set())
    assert "| CDPruner | cuts FLOPs by 50% [@cdpruner]  `⚠ unsupported: wrong number`|" in shown


def test_each_cited_entry_gets_a_verdict(entries):
    text = "CDPruner reduces FLOPs by 95% [@cdpruner]. HoliTom cuts FLOPs by 50% [@holitom]."
    report = check_answer(text, entries)
    by_id = {entry.id: entry for entry in entries}
    good, bad = source_verdicts({"citations": ["cdpruner", "holitom"]}, report, by_id)
    assert (good.key, good.ok, good.summary) == ("cdpruner", True, "supports 1 claim")
    assert bad.key == "holitom" and not bad.ok
    assert bad.summary.startswith("wrong number: 50% is not in [@holitom]")
    (claim,) = [check for check in report.sentences if "cdpruner" in check.citations]
    (sentence,) = supporting_sentences(by_id["cdpruner"], [claim])
    assert "95%" in sentence and sentence in by_id["cdpruner"].summary
