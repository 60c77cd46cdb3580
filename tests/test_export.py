"""BibTeX and Markdown exports, and `paperbot export`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from paperbot.catalog import Entry
from paperbot.export import bibtex_escape, conversation_markdown, pandoc_citations, to_bibtex

ODD = Entry(
    id="odd_one",
    name="Odd & Co",
    title="50% of {Braces}: #1 with $cost_x ~ a^b \\ done",
    summary="…",
    authors=("Ana Müller", "Bo Smith and Sons"),
    links=("https://arxiv.org/abs/2501.01234v2",),
    tags=("best-paper",),
    link_labels=("OpenReview",),
)


def test_bibtex_escapes_latex_specials():
    assert bibtex_escape("a & b % c $ d # e _ f { g } h ~ i ^ j \\ k") == (
        r"a \& b \% c \$ d \# e \_ f \{ g \} h \textasciitilde{} i "
        r"\textasciicircum{} j \textbackslash{} k"
    )


def test_bibtex_record_for_an_entry():
    record = to_bibtex([ODD])
    assert record.startswith("@misc{odd_one,\n")
    assert (
        r"title = {{50\% of \{Braces\}: \#1 with \$cost\_x \textasciitilde{} a"
        r"\textasciicircum{}b \textbackslash{} done}}" in record
    )
    # A name holding " and " is braced so that it stays one person.
    assert "author = {Ana Müller and {Bo Smith and Sons}}" in record
    assert "year = {2025}" in record
    assert "url = {https://arxiv.org/abs/2501.01234v2}" in record
    assert "eprint = {2501.01234}" in record
    assert r"note = {Odd \& Co; Best paper; OpenReview}" in record


@pytest.mark.skipif(shutil.which("pandoc") is None, reason="pandoc is not installed")
def test_pandoc_reads_the_escaped_record_back_exactly(tmp_path):
    bib, doc = tmp_path / "odd.bib", tmp_path / "odd.md"
    bib.write_text(to_bibtex([ODD]))
    doc.write_text("See [@odd_one].\n")
    rendered = pandoc(bib, doc)
    assert "(Müller and Bo Smith and Sons 2025)" in rendered
    assert "“50% of {Braces}: #1 with\n$cost_x ~ a^b \\ done.”" in rendered


def pandoc(bib: Path, document: Path) -> str:
    """The document rendered as plain text; pandoc warns on stderr about unresolved keys."""
    done = subprocess.run(
        ["pandoc", "--citeproc", "--bibliography", str(bib), str(document), "-t", "plain"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr == ""
    return done.stdout


def test_every_catalog_entry_is_a_record_keyed_by_its_id(entries):
    bib = to_bibtex(entries)
    assert [line.split("{")[1].rstrip(",") for line in bib.splitlines() if line[:1] == "@"] == [
        entry.id for entry in entries
    ]


def test_citations_are_normalised_and_unknown_keys_escaped(entries):
    text = "A [@CDPruner]. B (@holitom). C [@nosuchpaper]. D @llada says. E @unknown says."
    written, cited = pandoc_citations(text, entries)
    assert written == (
        "A [@cdpruner]. B [@holitom]. C [\\@nosuchpaper (not in the catalog)]. "
        "D @llada says. E \\@unknown says."
    )
    assert cited == ["cdpruner", "holitom", "llada"]


def test_conversation_markdown_has_questions_answers_and_references(entries):
    records = [
        {"question": "How much\ndoes CDPruner cut?", "answer": "By 95% [@cdpruner].",
         "check": {"verdict": "All 1 claim supported."}},
        {"question": "And HoliTom?", "answer": "It merges [@holitom][@cdpruner].",
         "incomplete": True, "error": "cancelled by the user"},
    ]  # fmt: skip
    text = conversation_markdown(records, entries, title="Token pruning")
    assert text.startswith('---\ntitle: "Token pruning"\nsuppress-bibliography: true\n---\n')
    assert "## 1. How much does CDPruner cut?\n\nBy 95% [@cdpruner].\n" in text
    assert "*citation check: All 1 claim supported.*" in text
    assert "*answer incomplete: cancelled by the user*" in text
    references = text.split("## References\n\n")[1].splitlines()
    assert [line.split("]")[0] for line in references] == ["- [@cdpruner", "- [@holitom"]
    assert "Qizhe Zhang" in references[0] and "<https://arxiv.org/abs/2506.10967>" in references[0]


def test_export_command_writes_bib_and_markdown(run, tmp_path):
    store = str(tmp_path / "store")
    assert run("ask", "--store", store, "How much does CDPruner reduce FLOPs?").code == 0
    bib, markdown = tmp_path / "catalog.bib", tmp_path / "chat.md"
    result = run("export", "--store", store, "--bib", str(bib), "--markdown", str(markdown))
    assert result.code == 0, result.err
    assert bib.read_text().count("@misc{") == 23
    assert "[@cdpruner]" in markdown.read_text()
    if shutil.which("pandoc"):
        assert "(Zhang et al. 2025)" in pandoc(bib, markdown)


def test_export_bib_to_stdout(run):
    result = run("export", "--bib", "-")
    assert result.code == 0 and result.out.startswith("@misc{")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give --bib FILE, --markdown FILE or both"),
        (("--markdown", "x.md"), "there is no conversation yet"),
        (("--markdown", "x.md", "--cid", "nope"), "no conversation with id 'nope'"),
    ],
)
def test_export_usage_errors(run, args, message):
    result = run("export", *args)
    assert result.code == 2 and message in result.err


def test_export_to_an_unwritable_path_is_one_line(run, tmp_path: Path):
    result = run("export", "--bib", str(tmp_path / "missing" / "x.bib"))
    assert result.code == 1
    assert result.err.startswith("paperbot: error: cannot write") and result.err[-1] == "\n"
