"""The command line end to end, in-process, against a temporary store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from paperbot.answer import asks_for_list
from paperbot.text import split_sentences

CITATION = re.compile(r"\[@([a-z0-9][a-z0-9_-]*)\]")


@pytest.fixture
def store_dir(tmp_path: Path) -> str:
    return str(tmp_path / "store")


def test_help_lists_the_commands(run):
    result = run("--help")
    assert result.code == 0
    for command in ("ask", "search", "catalog", "import", "index"):
        assert command in result.out


def test_ask_prints_a_cited_answer_and_sources(run, store_dir, entries):
    result = run("ask", "--store", store_dir, "How much does CDPruner reduce FLOPs?")
    assert result.code == 0, result.err
    answer, sources = result.out.split("\nSources:\n")
    assert "95%" in answer
    assert CITATION.findall(answer) == ["cdpruner"]
    assert "[@cdpruner] CDPruner · https://arxiv.org/abs/2506.10967" in sources


def test_which_papers_question_gets_one_paper_per_line(run, store_dir, entries):
    result = run("ask", "--json", "--store", store_dir, "Which papers reduce time-to-first-token?")
    data = json.loads(result.out)
    lines = data["answer"].splitlines()
    assert all(line.startswith("- **") for line in lines)
    assert [CITATION.findall(line) for line in lines] == [[c] for c in data["citations"]]
    assert {"elasticmm", "streamforest", "holitom"} <= set(data["citations"])


@pytest.mark.parametrize(
    ("question", "is_list"),
    [
        ("Which papers prune visual tokens?", True),
        ("Which visual token reduction methods need no retraining?", True),
        ("What training-free approaches exist for video LLMs?", True),
        ("I'm looking for every paper that prunes visual tokens.", True),
        ("Papers about long videos?", True),
        ("Any work on audio?", True),
        ("What has been done on caching during inference?", True),
        ("Which paper introduces a forest of event memories?", False),
        ("What does the representation entanglement paper propose?", False),
        ("Which paper squeezes video chat models by merging frame tokens?", False),
    ],
)
def test_questions_asking_for_several_papers_get_a_list(question, is_list):
    assert asks_for_list(question) is is_list


def test_a_list_reaches_past_the_entries_retrieved_per_question(run, store_dir, entries):
    question = "Which papers are about diffusion models?"
    data = json.loads(run("ask", "--json", "--store", store_dir, "-k", "5", question).out)
    assert len(data["citations"]) > 5
    assert {"llada", "dico", "grafting", "nit", "consistency-models"} & set(data["citations"])
    assert not {"cdpruner", "elasticmm", "vla-cache"} & set(data["citations"])


@pytest.mark.parametrize(
    ("question", "papers"),
    [
        (
            "Compare the memorization paper with the representation entanglement paper.",
            {"why-diffusion-models-dont-memorize", "representation-entanglement-for-generation"},
        ),
        (
            "Do VLA-Cache and the dynamic visual token exit paper both skip visual tokens?",
            {"vla-cache", "dynamic-visual-token-exit"},
        ),
        (
            "How do μP and Grafting cut the cost of research?",
            {"grafting", "maximal-update-parametrization"},
        ),
    ],
)
def test_a_comparison_answers_from_both_papers(run, store_dir, entries, question, papers):
    data = json.loads(run("ask", "--json", "--store", store_dir, question).out)
    assert set(data["citations"]) == papers


def test_answer_sentences_are_quoted_from_the_cited_entries(run, store_dir, entries):
    by_id = {entry.id: entry for entry in entries}
    for question in (
        "How does VLA-Cache save compute?",
        "Which papers are about diffusion transformers?",
        "What FID does NiT reach on ImageNet 512x512?",
    ):
        data = json.loads(run("ask", "--json", "--store", store_dir, question).out)
        assert not data["abstained"]
        for line in data["answer"].splitlines():
            for sentence in split_sentences(line):
                (cited,) = CITATION.findall(sentence)
                quoted = CITATION.sub("", sentence).replace(" .", ".")
                quoted = re.sub(r"^- \*\*[^*]+\*\*: |^\*\*[^*]+\*\*: ", "", quoted).strip()
                assert quoted.rstrip(".") in by_id[cited].summary


def test_ask_json_has_the_documented_shape(run, store_dir):
    data = json.loads(run("ask", "--json", "--store", store_dir, "What does DiCo replace?").out)
    assert set(data) >= {"question", "answer", "citations", "sources", "backend", "abstained"}
    assert data["backend"] == "extractive"
    assert data["citations"][0] == "dico"
    assert set(data["sources"][0]) == {"id", "name", "score"}


def test_off_topic_question_abstains_and_cites_nothing(run, store_dir):
    result = run("ask", "--json", "--store", store_dir, "What is the capital of France?")
    data = json.loads(result.out)
    assert data["abstained"] is True
    assert data["citations"] == [] and data["sources"] == []
    assert data["answer"] == "The catalog has no entry about the capital of France."


def test_an_in_domain_question_the_catalog_lacks_names_what_is_missing(run, store_dir):
    question = "How does speculative decoding with a small draft model speed up LLMs?"
    data = json.loads(run("ask", "--json", "--store", store_dir, question).out)
    assert data["abstained"] is True and data["citations"] == []
    assert data["answer"] == "The catalog has no entry about speculative decoding."


def test_a_named_paper_is_answered_and_the_missing_subject_said_first(run, store_dir):
    question = "Does CDPruner work with quantized models?"
    data = json.loads(run("ask", "--json", "--store", store_dir, question).out)
    assert data["abstained"] is False and data["citations"] == ["cdpruner"]
    assert data["answer"].startswith("No entry in the catalog mentions quantization.\n\n")
    assert data["check"]["ok"] is True


def test_a_named_paper_asked_for_what_it_never_mentions_is_refused_by_name(run, store_dir):
    question = "Has μP been used to transfer hyperparameters for LLaVA-style models?"
    data = json.loads(run("ask", "--json", "--store", store_dir, question).out)
    assert data["abstained"] is True and data["citations"] == []
    assert data["answer"] == (
        "The catalog has no entry about that. The closest, Maximal Update Parametrization,"
        " does not mention vision-language models."
    )


def test_of_two_named_papers_the_one_lacking_what_is_asked_is_said_first(run, store_dir):
    question = "Do HoliTom and VLA-Cache both work on video?"
    data = json.loads(run("ask", "--json", "--store", store_dir, question).out)
    assert data["abstained"] is False
    assert data["answer"].startswith("VLA-Cache does not mention video.\n\n")
    assert "holitom" in data["citations"]
    assert data["check"]["ok"] is True


def test_a_combination_no_entry_covers_is_named_in_the_refusal(run, store_dir):
    question = "Is there work on pruning audio tokens in speech models?"
    data = json.loads(run("ask", "--json", "--store", store_dir, question).out)
    assert data["abstained"] is True and data["citations"] == []
    assert data["answer"] == (
        "The catalog has no entry about pruning together with audio. "
        "The closest, Balanced Token Pruning, does not mention audio."
    )
    searched = run("search", "--store", store_dir, question).out
    assert searched.startswith(
        "No entry mentions pruning together with audio.\n"
        "The closest, Balanced Token Pruning, does not mention audio.\n"
    )
    assert searched.count("(not relevant)") == 5


def test_a_kind_of_result_no_entry_reports_is_refused_by_name(run, store_dir):
    question = "Which image generation paper ran a human preference study?"
    data = json.loads(run("ask", "--json", "--store", store_dir, question).out)
    assert data["abstained"] is True
    assert data["answer"] == "The catalog has no entry about human evaluation."


def test_a_refusal_lists_each_aspect_of_a_combination_once(run, store_dir):
    question = "Any serving system for streaming video LLMs?"
    data = json.loads(run("ask", "--json", "--store", store_dir, question).out)
    assert data["answer"] == (
        "The catalog has no entry about serving, streaming, video and vision-language "
        "models together. The closest, StreamForest, does not mention serving."
    )


def test_a_refusal_names_the_closest_entry_and_what_it_lacks(run, store_dir):
    question = (
        "Is there a vision-language assistant that answers questions about images by "
        "iteratively unmasking its reply in parallel rather than writing it left to right?"
    )
    data = json.loads(run("ask", "--json", "--store", store_dir, question).out)
    assert data["abstained"] is True and data["citations"] == []
    assert data["answer"] == (
        "The catalog has no entry about that. "
        "The closest, LLaDA, does not mention vision-language models."
    )


def test_question_from_stdin(run, store_dir):
    result = run("ask", "--store", store_dir, "-", stdin="What does StreamForest organise?\n")
    assert result.code == 0
    assert "[@streamforest]" in result.out


def test_store_environment_variable_is_used(run, tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERBOT_STORE", str(tmp_path / "from-env"))
    assert run("index").code == 0
    assert (tmp_path / "from-env" / "chroma.sqlite3").exists()


def test_catalog_json_lists_23_entries(run):
    data = json.loads(run("catalog", "--json").out)
    assert len(data["entries"]) == 23
    assert {"id", "title", "name", "authors", "links", "summary", "tags"} <= set(data["entries"][0])


def test_catalog_table_and_show(run):
    table = run("catalog").out
    assert re.search(r"^cdpruner\s+CDPruner", table, re.MULTILINE)
    assert "23 entries" in table
    shown = run("catalog", "show", "vla-cache")
    assert shown.code == 0
    assert "VLA-Cache" in shown.out and "https://arxiv.org/abs/2502.02175" in shown.out


def test_unknown_entry_id_is_one_clear_line(run):
    result = run("catalog", "show", "no-such-paper")
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        "paperbot: error: no entry with id 'no-such-paper'; 'paperbot catalog' lists the ids"
    ]


def test_search_json_ranks_cdpruner_first(run, store_dir):
    result = run("search", "--json", "-k", "3", "--store", store_dir, "determinantal point process")
    data = json.loads(result.out)
    assert data["query"] == "determinantal point process"
    assert len(data["hits"]) == 3
    assert data["hits"][0]["id"] == "cdpruner"
    assert set(data["hits"][0]) == {"id", "name", "score", "rank", "relevant"}


def test_search_says_which_hits_answers_may_use(run, store_dir):
    lines = run("search", "--store", store_dir, "How does speculative decoding work?").out
    lines = lines.splitlines()
    assert lines[0] == "No entry mentions speculative decoding."
    assert len(lines) == 6 and all(line.endswith("(not relevant)") for line in lines[1:])
    relevant = run("search", "--store", store_dir, "determinantal point process").out
    assert "(not relevant)" not in relevant.splitlines()[0]


def test_search_batch_prints_one_json_object_per_line(run, store_dir, tmp_path):
    queries = tmp_path / "queries.txt"
    queries.write_text("determinantal point process\n\nHoliTom\nvideo diffusion sparse attention\n")
    result = run("search", "--batch", str(queries), "--store", store_dir)
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [line["query"] for line in lines][1] == "HoliTom"
    assert [line["hits"][0]["id"] for line in lines] == ["cdpruner", "holitom", "vsa"]


def test_index_is_incremental_and_rebuild_reembeds(run, store_dir):
    assert "23 added" in run("index", "--store", store_dir).out
    assert "0 added, 0 updated, 0 removed, 23 unchanged" in run("index", "--store", store_dir).out
    assert "23 added" in run("index", "--rebuild", "--store", store_dir).out


def test_import_then_ask_about_the_new_paper(run, store_dir, tmp_path):
    extra = tmp_path / "extra.txt"
    extra.write_text(
        "More\n- Link: arXiv:2601.00001\n- Summary: QuillNet compresses visual tokens with "
        "learned quill codes, cutting FLOPs by 40%.\n",
        encoding="utf-8",
    )
    assert run("import", str(extra), "--store", store_dir).code == 0
    again = run("import", str(extra), "--store", store_dir)
    assert "nothing changed" in again.out
    data = json.loads(run("ask", "--json", "--store", store_dir, "What are quill codes?").out)
    assert data["citations"] == ["quillnet"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("ask", "--frobnicate", "q"),
            2,
            "No such option '--frobnicate' (see 'paperbot ask --help')",
        ),
        (("ask",), 2, "Missing argument 'QUESTION'"),
        (("ask", "   "), 2, "the question is empty"),
        (("ask", "x" * 5000), 2, "the question is 5,000 characters long"),
        (("ask", "--catalog", "/nonexistent/list.txt", "q"), 1, "/nonexistent/list.txt: no such"),
        (("search", "-k", "0", "q"), 1, "k must be between 1 and 100"),
        (("search",), 2, "give either a QUERY or --batch FILE"),
        (("nosuchcommand",), 2, "No such command 'nosuchcommand'"),
    ],
)
def test_bad_input_is_one_line_and_a_nonzero_exit(run, args, code, message):
    result = run(*args)
    assert result.code == code
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("paperbot: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.err


def test_malformed_catalog_names_file_and_line(run, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("Header\n- Link: x\n- Summry: oops\n", encoding="utf-8")
    result = run("catalog", "--catalog", str(bad))
    assert result.code == 1
    assert (
        result.err.strip() == f"paperbot: error: {bad}:3: unknown field 'Summry' "
        "(expected Link, Authors, Summary)"
    )


def test_store_that_cannot_be_created_is_one_line(run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("ask", "--store", str(blocker / "store"), "What does DiCo do?")
    assert result.code == 1
    assert len(result.err.strip().splitlines()) == 1
    assert "cannot create the store directory" in result.err
