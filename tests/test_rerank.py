"""Reranking with the configured model, against a real OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperbot.rerank import POOL, REPLY_TOKENS, RerankReplyError, chosen_ids

from openai_server import Reply

QUERY = "Which papers prune visual tokens?"


def search(run, model_args, query=QUERY, *extra):
    result = run("search", "--json", "--rerank", *model_args, *extra, query)
    assert result.code == 0, result.err
    return json.loads(result.out)["hits"], result.err


def test_the_models_choice_comes_first_and_the_rest_is_judged_irrelevant(run, server, model_args):
    plain = json.loads(run("search", "--json", *model_args, QUERY).out)["hits"]
    server.replies.append(Reply(text='["btp", "holitom"]'))
    hits, _ = search(run, model_args)
    assert [hit["id"] for hit in hits[:2]] == ["btp", "holitom"]
    assert [hit["relevant"] for hit in hits] == [True, True, False, False, False]
    assert [hit["rank"] for hit in hits] == [1, 2, 3, 4, 5]
    # The rest keep retrieval's order.
    rest = [hit["id"] for hit in plain if hit["id"] not in ("btp", "holitom")]
    assert [hit["id"] for hit in hits[2:]] == rest[:3]
    (request,) = server.requests
    assert request["body"]["max_tokens"] == REPLY_TOKENS
    prompt = request["body"]["messages"][0]["content"]
    assert prompt.count("[@") == POOL
    assert "[@cdpruner] CDPruner" in prompt and f"Question: {QUERY}" in prompt


def test_an_empty_choice_abstains_without_asking_for_an_answer(run, server, model_args):
    server.replies.append(Reply(text="[]"))
    result = run("ask", "--json", "--rerank", *model_args, "How do video models cut cost?")
    data = json.loads(result.out)
    assert data["abstained"] is True and data["citations"] == []
    assert len(server.requests) == 1


def test_the_answer_is_written_from_the_models_choice(run, server, model_args):
    server.replies.extend(
        [Reply(text='["cdpruner"]'), Reply(text="CDPruner keeps diverse tokens [@cdpruner].")]
    )
    data = json.loads(run("ask", "--json", "--rerank", *model_args, QUERY).out)
    assert data["citations"] == ["cdpruner"]
    answer_prompt = server.requests[1]["body"]["messages"][-1]["content"]
    assert "[@cdpruner]" in answer_prompt and "[@btp]" not in answer_prompt


def test_a_named_paper_stays_relevant_when_the_model_leaves_it_out(run, server, model_args):
    server.replies.append(Reply(text="[]"))
    hits, _ = search(run, model_args, "What does CDPruner do?")
    assert hits[0]["id"] == "cdpruner" and hits[0]["relevant"]
    assert not any(hit["relevant"] for hit in hits[1:])


def test_an_unreadable_reply_keeps_retrievals_ranking_and_says_so(run, server, model_args):
    plain = json.loads(run("search", "--json", *model_args, QUERY).out)["hits"]
    server.replies.append(Reply(text="They all look relevant to me."))
    hits, err = search(run, model_args)
    assert hits == plain
    assert err.startswith("paperbot: reranking skipped (expected a JSON list of entry ids")


def test_an_unreachable_model_is_one_line_and_a_failure(run, server, model_args):
    server.replies.append(Reply(status=401))
    result = run("search", "--rerank", *model_args, QUERY)
    assert result.code == 1 and result.out == ""
    (line,) = result.err.strip().splitlines()
    assert line.startswith("paperbot: error:")


def test_eval_rerank_needs_a_model(run, tmp_path):
    result = run("eval", "--rerank", "--store", str(tmp_path / "s"))
    assert result.code == 2
    assert result.err.startswith("paperbot: error: --rerank needs a model")


def test_eval_rerank_scores_the_reranked_ranking_beside_the_others(
    run, server, model_args, tmp_path: Path
):
    questions = [
        {"id": "a", "question": "How much does CDPruner reduce FLOPs?", "gold": ["cdpruner"],
         "type": "numeric", "split": "train"},
        {"id": "b", "question": "How do video models cut their cost?",
         "gold": ["holitom"], "type": "topic", "split": "train"},
        {"id": "c", "question": "How does speculative decoding work?", "gold": [],
         "type": "unanswerable", "split": "train"},
    ]  # fmt: skip
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    server.replies.extend([Reply(text='["cdpruner"]'), Reply(text='["vsa"]'), Reply(text="[]")])
    result = run("eval", "--json", "--rerank", *model_args, str(path))
    assert result.code == 0, result.err
    systems = json.loads(result.out)["systems"]
    assert list(systems) == ["bm25", "dense", "paperbot", "rerank"]
    outcomes = {outcome["id"]: outcome for outcome in systems["rerank"]["questions"]}
    assert outcomes["a"]["ranked"][0] == "cdpruner" and outcomes["a"]["reciprocal_rank"] == 1
    # The model put VSA first: the score counts the ranking as the model made it.
    assert outcomes["b"]["ranked"][0] == "vsa" and outcomes["b"]["reciprocal_rank"] < 1
    assert outcomes["c"]["abstained"] is True
    assert systems["rerank"]["by_type"]["unanswerable"]["abstention"] == 1.0


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('["btp", "cdpruner"]', ["btp", "cdpruner"]),
        ('Here you go:\n```json\n["holitom"]\n```', ["holitom"]),
        ("[]", []),
        ('["[@btp]", "not-shown", "btp"]', ["btp"]),
        ("The best are [@holitom] and [@btp].", ["holitom", "btp"]),
    ],
)
def test_chosen_ids_reads_the_lists_models_write(reply, expected):
    assert chosen_ids(reply, ["cdpruner", "btp", "holitom"]) == expected


def test_chosen_ids_refuses_a_reply_without_a_list():
    with pytest.raises(RerankReplyError):
        chosen_ids("None of them, sorry.", ["cdpruner"])
