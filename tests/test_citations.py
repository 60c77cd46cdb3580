"""The citation checker, on the real catalog: parsing, splitting, numbers, checks and policies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paperbot.catalog import Entry, load
from paperbot.citations import (
    CitationReport,
    annotate,
    best_support,
    check_answer,
    format_report,
    numbers_in,
    parse_citations,
    retry_instructions,
    split_answer,
    strip_unsupported,
)

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "store" / "neurips2025-efficient-multimodal.txt"
CASES = json.loads((Path(__file__).parent / "data" / "citation_cases.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    return load(CATALOG)


def check(text: str, entries: list[Entry], question: str | None = None) -> CitationReport:
    return check_answer(text, entries, question)


def kinds(report: CitationReport) -> set[str]:
    return {problem.kind for problem in report.problems}


def units(text: str) -> list[str]:
    return [text[start:end] for start, end, _ in split_answer(text)]


# --- the case set ---------------------------------------------------------------------------


def test_case_set_is_large_and_mixed() -> None:
    assert len(CASES) >= 60
    assert len({case["id"] for case in CASES}) == len(CASES)
    assert sum(case["ok"] for case in CASES) >= 20
    assert sum(not case["ok"] for case in CASES) >= 20
    assert 0.25 <= sum(case["heldout"] for case in CASES) / len(CASES) <= 0.5
    expected = {kind for case in CASES for kind in case["kinds"]}
    assert expected == {"unknown_id", "uncited_claim", "no_citation", "wrong_number", "wrong_entry"}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case["id"],
            marks=[pytest.mark.xfail(strict=True, reason=case["note"])]
            if case.get("known_miss")
            else [],
        )
        for case in CASES
    ],
)
def test_case(case: dict, entries: list[Entry]) -> None:
    report = check(case["text"], entries, case["question"])
    assert report.ok == case["ok"], format_report(report)
    assert set(case["kinds"]) <= kinds(report), format_report(report)


# --- the acceptance examples --------------------------------------------------------


def test_wrong_percentage_is_named(entries: list[Entry]) -> None:
    report = check("CDPruner reduces FLOPs by 96% on LLaVA [@cdpruner].", entries)
    assert not report.ok
    assert [p.kind for p in report.problems] == ["wrong_number"]
    assert "96%" in report.problems[0].detail and "95%" in report.problems[0].detail
    assert report.verdict_line() == "0/1 claims supported; 1 problem: wrong number in sentence 1"


def test_right_percentage_passes(entries: list[Entry]) -> None:
    report = check("CDPruner reduces FLOPs by 95% on LLaVA [@cdpruner].", entries)
    assert report.ok
    assert report.verdict_line() == "All 1 claim supported."
    assert report.recall == report.precision == 1.0


def test_true_claim_cited_to_the_wrong_paper(entries: list[Entry]) -> None:
    text = (
        "The method reformulates token pruning with a determinantal point process to keep "
        "diverse, instruction-relevant tokens [@btp]."
    )
    report = check(text, entries)
    assert kinds(report) == {"wrong_entry"}
    assert "cdpruner" in report.problems[0].ids
    assert check(text.replace("@btp", "@cdpruner"), entries).ok


def test_number_in_another_role(entries: list[Entry]) -> None:
    # The entry says 4.2× for TTFT and 3.2-4.5× for throughput.
    bad = check("ElasticMM reduces TTFT by up to 4.5× [@elasticmm].", entries)
    assert kinds(bad) == {"wrong_number"}
    assert "4.2×" in bad.problems[0].detail
    assert check("ElasticMM reduces TTFT by up to 4.2× [@elasticmm].", entries).ok
    assert check("ElasticMM has 4.5× higher throughput than vLLM [@elasticmm].", entries).ok


def test_smollm2_invented_number_is_flagged(entries: list[Entry]) -> None:
    report = check("CDPruner reduces FLOPs by 9.1% [@cdpruner].", entries)
    assert kinds(report) == {"wrong_number"}


# --- parsing --------------------------------------------------------------------------------


def test_parse_pandoc_forms(entries: list[Entry]) -> None:
    found = parse_citations("A [@cdpruner]. B [@btp; @holitom]. C [@nit][@dico].", entries)
    assert [c.ids for c in found] == [("cdpruner",), ("btp", "holitom"), ("nit",), ("dico",)]
    assert not any(c.slip for c in found)


@pytest.mark.parametrize(
    ("written", "ids"),
    [
        ("[cdpruner]", ("cdpruner",)),
        ("(@cdpruner)", ("cdpruner",)),
        ("[@CDPruner]", ("cdpruner",)),
        ("[@cdpruner, @btp]", ("cdpruner", "btp")),
        ("[@VITA-1.5]", ("vita-1-5",)),
        ("[CDPruner](https://arxiv.org/abs/2506.10967)", ("cdpruner",)),
    ],
)
def test_slips_are_normalised_and_recorded(written: str, ids: tuple[str, ...], entries) -> None:
    (citation,) = parse_citations(f"It prunes tokens {written}.", entries)
    assert citation.ids == ids and citation.slip
    report = check(f"CDPruner prunes visual tokens {written}.", entries)
    assert report.normalised_slips == (f"{written} → [{'; '.join('@' + i for i in ids)}]",)


@pytest.mark.parametrize(
    "text",
    [
        "See footnote [1].",
        "A [link](https://example.org) and [^2].",
        "Mail me@example.org.",
        "Tick [x] the box.",
    ],
)
def test_non_citations_are_ignored(text: str, entries: list[Entry]) -> None:
    assert parse_citations(text, entries) == ()


def test_unknown_ids_are_kept_and_reported(entries: list[Entry]) -> None:
    (citation,) = parse_citations("X [@cdprunner].", entries)
    assert citation.ids == ("cdprunner",)
    report = check("CDPruner reduces FLOPs by 95% [@cdprunner].", entries)
    assert kinds(report) == {"unknown_id"}
    assert "did you mean [@cdpruner]" in report.problems[0].detail


def test_bare_brackets_need_a_catalog() -> None:
    assert parse_citations("It [cdpruner].") == ()
    assert parse_citations("It [@cdpruner].")[0].ids == ("cdpruner",)


# --- splitting ------------------------------------------------------------------------------


def test_split_keeps_decimals_and_abbreviations() -> None:
    text = (
        "ElasticMM gives 4.2× lower TTFT, e.g. on mixed requests [@elasticmm]. "
        "Bonnaire et al. find two phases [@why]. NiT reaches FID 1.48 [@nit]."
    )
    assert units(text) == [
        "ElasticMM gives 4.2× lower TTFT, e.g. on mixed requests [@elasticmm].",
        "Bonnaire et al. find two phases [@why].",
        "NiT reaches FID 1.48 [@nit].",
    ]


def test_split_markdown_structure() -> None:
    text = (
        "# Heading\n\nIntro line:\n\n- **A**: first [@a]. Second [@a].\n"
        "  continued here.\n2. Numbered item [@b].\n\n"
        "| Paper | Result |\n|---|---|\n| A | 95% [@a] |\n\n```\ncode [@x]\n```\n> Quoted [@c]."
    )
    assert [kind for _, _, kind in split_answer(text)] == [
        "heading",
        "prose",
        "prose",
        "prose",
        "prose",
        "heading",
        "row",
        "prose",
    ]
    assert units(text)[3] == "Second [@a].\n  continued here."
    assert units(text)[6] == "| A | 95% [@a] |"


def test_citation_after_the_full_stop_belongs_to_its_sentence() -> None:
    assert units("It cuts FLOPs. [@a] It keeps accuracy. [@b]") == [
        "It cuts FLOPs. [@a]",
        "It keeps accuracy. [@b]",
    ]


def test_split_matches_text_split_sentences_on_prose() -> None:
    from paperbot.text import split_sentences

    prose = "CDPruner reduces FLOPs by 95% [@cdpruner]. It keeps 94% of accuracy [@cdpruner]."
    assert units(prose) == split_sentences(prose)


# --- numbers --------------------------------------------------------------------------------


def values(text: str) -> list[tuple[float | str, str]]:
    return [(q.value, q.kind) for q in numbers_in(text)]


@pytest.mark.parametrize("text", ["4.2× faster", "4.2x faster", "4.2-fold faster", "4.2 times"])
def test_times_spellings(text: str) -> None:
    assert values(text) == [(4.2, "times")]


@pytest.mark.parametrize("text", ["95%", "95 %", "95 percent", "95 per cent"])
def test_percent_spellings(text: str) -> None:
    assert values(text) == [(95.0, "percent")]


def test_thousands_ranges_and_dimensions() -> None:
    assert values("1,000 tokens vs. 8K") == [(1000.0, "plain"), (8000.0, "plain")]
    assert values("3.2-4.5× higher") == [(3.2, "times"), (4.5, "times")]
    assert values("FID 2.05 on 256×256") == [(2.05, "plain"), ("256x256", "dim")]


def test_names_years_and_enumerations_are_not_figures() -> None:
    text = (
        "On LLaVA-OneVision-7B, Qwen2.5-VL and DiT-XL/2 (GPT-4o level, NeurIPS 2025, "
        "in 2024): (1) caching, [2] a note."
    )
    assert values(text) == []


def test_spelled_counts() -> None:
    assert values("three multimodal scenarios") == [(3.0, "plain")]
    assert values("two papers agree") == []


def test_rounded_figures_match(entries: list[Entry]) -> None:
    assert check("StreamForest keeps about 97% accuracy [@streamforest].", entries).ok
    assert not check("StreamForest keeps about 98% accuracy [@streamforest].", entries).ok


# --- claims and connectives -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Here is what the catalog says.",
        "The catalog has no entry about quantum error correction.",
        "The catalog does not say how much memory it saves.",
        "I hope this helps.",
        "Two papers address this question:",
        "## CDPruner",
    ],
)
def test_connective_text_is_not_a_claim(text: str, entries: list[Entry]) -> None:
    report = check(text, entries)
    assert report.ok and report.claims == 0
    assert report.verdict_line() == "No claims to check."


def test_answer_without_citations(entries: list[Entry]) -> None:
    report = check("HoliTom merges visual tokens. It keeps 99.1% of performance.", entries)
    assert kinds(report) == {"no_citation", "uncited_claim"}
    assert report.problems[0].sentence == 0
    assert report.recall == 0.0 and report.precision == 0.0


def test_naming_a_paper_without_citing_it(entries: list[Entry]) -> None:
    report = check("It is faster than HoliTom [@streamforest].", entries)
    assert kinds(report) == {"uncited_claim"}
    assert report.problems[0].ids == ("holitom",)


def test_irrelevant_extra_citation_lowers_precision_only(entries: list[Entry]) -> None:
    report = check("CDPruner reduces FLOPs by 95% on LLaVA [@cdpruner; @vsa].", entries)
    assert report.ok
    assert report.precision == 0.5
    # As in ALCE, no citation of an unsupported sentence counts as relevant.
    assert check("HoliTom merges tokens [@vsa; @dico].", entries).precision == 0.0


# --- report and policies --------------------------------------------------------------------

MIXED = (
    "Here is what the catalog says:\n\n"
    "- **CDPruner**: reduces FLOPs by 96% on LLaVA [@cdpruner].\n"
    "- **HoliTom**: keeps 99.1% of performance with 6.9% of the FLOPs [@holitom].\n"
    "- **BTP**: selects tokens with a determinantal point process [@btp]."
)


def test_report_fields_and_json(entries: list[Entry]) -> None:
    report = check(MIXED, entries)
    assert [s.verdict for s in report.sentences] == [
        "no-claim",
        "unsupported",
        "supported",
        "unsupported",
    ]
    assert report.claims == 3 and report.supported == 1
    assert report.recall == pytest.approx(1 / 3)
    assert report.verdict_line() == (
        "1/3 claims supported; 2 problems: wrong number in sentence 2, wrong entry in sentence 4"
    )
    data = json.loads(json.dumps(report.to_json()))
    assert data["ok"] is False
    assert data["sentences"][1]["problems"][0]["kind"] == "wrong_number"
    assert all(0.0 <= s["support"] <= 1.0 for s in data["sentences"])


def test_annotate_marks_unsupported_sentences(entries: list[Entry]) -> None:
    report = check(MIXED, entries)
    marked = annotate(MIXED, report)
    assert "LLaVA [@cdpruner]. ⚠[unsupported: wrong number]" in marked
    assert "process [@btp]. ⚠[unsupported: wrong entry]" in marked
    assert "performance with 6.9% of the FLOPs [@holitom].\n" in marked
    assert marked.endswith("(wrong entry): " + report.problems[1].detail)
    good = "CDPruner reduces FLOPs by 95% [@cdpruner]."
    assert annotate(good, check(good, entries)) == good


def test_strip_drops_unsupported_sentences_and_empty_items(entries: list[Entry]) -> None:
    text, dropped = strip_unsupported(MIXED, check(MIXED, entries))
    assert dropped == 2
    assert text == (
        "Here is what the catalog says:\n\n"
        "- **HoliTom**: keeps 99.1% of performance with 6.9% of the FLOPs [@holitom]."
    )


def test_strip_keeps_the_rest_of_a_paragraph(entries: list[Entry]) -> None:
    text = "CDPruner reduces FLOPs by 95% [@cdpruner]. It was trained on 10,000 robots [@cdpruner]."
    assert strip_unsupported(text, check(text, entries)) == (
        "CDPruner reduces FLOPs by 95% [@cdpruner].",
        1,
    )


def test_retry_instructions_name_each_failure(entries: list[Entry]) -> None:
    message = retry_instructions(check(MIXED, entries))
    assert 'Sentence 2 ("**CDPruner**: reduces FLOPs by 96% on LLaVA [@cdpruner].")' in message
    assert "96% is not in [@cdpruner]; it says 95%" in message
    assert "Sentence 4" in message and "[@cdpruner]" in message
    assert retry_instructions(check("Here is the answer.", entries)) == ""


def test_format_report_lists_sentences_and_slips(entries: list[Entry]) -> None:
    report = check("HoliTom merges tokens [holitom]. It cuts FLOPs by 50% [@holitom].", entries)
    output = format_report(report)
    assert output.splitlines()[0] == report.verdict_line()
    assert "Normalised citation: [holitom] → [@holitom]" in output
    assert "→ wrong number: 50% is not in [@holitom]" in output


def test_import_is_light() -> None:
    code = (
        "import sys, paperbot.citations; "
        "print(sorted(m for m in ('chromadb', 'litellm', 'torch', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_best_support_finds_the_backing_sentence(entries: list[Entry]) -> None:
    cdpruner = next(entry for entry in entries if entry.id == "cdpruner")
    found = best_support(
        "It uses a determinantal point process to pick tokens [@cdpruner].", cdpruner
    )
    assert found is not None and "Determinantal Point Process (DPP)" in found
    figures = best_support("CDPruner cuts FLOPs by 95% [@cdpruner].", cdpruner)
    assert figures is not None and "reduces FLOPs by 95%" in figures
    assert best_support("Bananas are yellow.", cdpruner) is None
