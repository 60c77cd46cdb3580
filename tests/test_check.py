"""The citation checker wired into the CLI: `paperbot check`, `ask`'s verdict and the policies."""

from __future__ import annotations

import json

import pytest

from openai_server import Reply

GOOD = "CDPruner reduces FLOPs by 95% on LLaVA [@cdpruner]."
BAD_NUMBER = "CDPruner reduces FLOPs by 96% on LLaVA [@cdpruner]."
QUESTION = "How much does CDPruner reduce FLOPs?"


def model_args(server, tmp_path, policy: str = "annotate"):
    config = tmp_path / "config.toml"
    config.write_text(f'[citations]\npolicy = "{policy}"\n')
    return [
        "--config",
        str(config),
        "--model",
        "openai/stub",
        "--api-base",
        server.api_base,
        "--store",
        str(tmp_path / "store"),
    ]


def test_check_flags_a_wrong_number_and_passes_the_right_one(run):
    bad = run("check", "-", stdin=BAD_NUMBER)
    assert bad.code == 1
    assert "wrong number in sentence 1" in bad.out
    assert "96% is not in [@cdpruner]; it says 95%" in bad.out
    good = run("check", "-", stdin=GOOD)
    assert good.code == 0
    assert good.out.startswith("All 1 claim supported.")


def test_check_json_is_the_report(run, tmp_path):
    answer = tmp_path / "answer.md"
    answer.write_text("HoliTom cuts FLOPs to 6.9% [@cdpruner].\n", encoding="utf-8")
    result = run("check", "--json", "--question", "What does HoliTom do?", str(answer))
    report = json.loads(result.out)
    assert result.code == 1 and report["ok"] is False
    kinds = {p["kind"] for p in report["problems"]}
    assert "wrong_entry" in kinds
    assert report["sentences"][0]["verdict"] == "unsupported"


def test_true_claim_cited_to_the_wrong_paper_is_wrong_entry(run):
    result = run(
        "check",
        "--json",
        "-",
        stdin="The method uses a determinantal point process to pick tokens [@holitom].",
    )
    kinds = [p["kind"] for p in json.loads(result.out)["problems"]]
    assert "wrong_entry" in kinds


@pytest.mark.parametrize(
    "question",
    [
        "How much does CDPruner reduce FLOPs?",
        "Which papers reduce time-to-first-token?",
        "Which papers are about diffusion transformers?",
        "What does VLA-Cache cache?",
        "What FID does NiT reach on ImageNet 512x512?",
        "How does StreamForest keep long-term memory?",
        "What is the capital of France?",
    ],
)
def test_extractive_answers_always_pass_the_check(run, tmp_path, question):
    data = json.loads(run("ask", "--json", "--store", str(tmp_path / "s"), question).out)
    assert data["check"]["ok"] is True, data["check"]["problems"]


def test_ask_prints_a_one_line_verdict(run, tmp_path):
    result = run("ask", "--store", str(tmp_path / "s"), QUESTION)
    assert result.out.rstrip().endswith("Citation check: All 1 claim supported.")


def test_annotate_marks_the_unsupported_sentence_and_lists_problems(run, server, tmp_path):
    server.replies.append(Reply(text=f"{GOOD} {BAD_NUMBER}"))
    result = run("ask", "--no-stream", *model_args(server, tmp_path), QUESTION)
    assert result.code == 0
    assert f"{BAD_NUMBER} ⚠[unsupported: wrong number]" in result.out
    assert "Citation check: 1/2 claims supported; 1 problem: wrong number in sentence 2" in (
        result.out
    )
    data = json.loads(run("history", "--json").out)[0]
    assert data["answer"] == f"{GOOD} {BAD_NUMBER}"
    assert data["check"]["ok"] is False


def test_strip_policy_drops_unsupported_sentences(run, server, tmp_path):
    server.replies.append(Reply(text=f"{GOOD} {BAD_NUMBER}"))
    data = json.loads(run("ask", "--json", *model_args(server, tmp_path, "strip"), QUESTION).out)
    assert data["answer"] == GOOD
    assert data["policy"] == "removed 1 unsupported sentence"
    assert data["check"]["ok"] is True


def test_retry_policy_tells_the_model_what_failed(run, server, tmp_path):
    server.replies.extend([Reply(text=BAD_NUMBER), Reply(text=GOOD)])
    data = json.loads(run("ask", "--json", *model_args(server, tmp_path, "retry"), QUESTION).out)
    assert len(server.requests) == 2
    retry = server.requests[1]["body"]["messages"]
    assert retry[-2] == {"role": "assistant", "content": BAD_NUMBER}
    assert "96% is not in [@cdpruner]; it says 95%" in retry[-1]["content"]
    assert data["answer"] == GOOD and data["check"]["ok"] is True
    assert data["policy"] == "retried once after the check"


def test_retry_policy_annotates_what_still_fails(run, server, tmp_path):
    server.replies.extend([Reply(text=BAD_NUMBER), Reply(text=BAD_NUMBER)])
    result = run("ask", *model_args(server, tmp_path, "retry"), QUESTION)
    assert "⚠[unsupported: wrong number]" in result.out
    assert len(server.requests) == 2
