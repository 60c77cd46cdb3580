from __future__ import annotations

import pytest

from paperbot.prompting import (
    PromptError,
    Turn,
    build,
    count_tokens,
    load_templates,
    rerank_messages,
)
from paperbot.retrieval import Hit


@pytest.fixture
def hits(entries):
    return [Hit(entry=entry, score=1.0 / rank, rank=rank) for rank, entry in enumerate(entries, 1)]


def test_tiktoken_counts_offline_with_both_encodings():
    assert count_tokens("CDPruner reduces FLOPs by 95%.", "gpt-4o-mini") > 5
    assert count_tokens("CDPruner reduces FLOPs by 95%.", "openai/smollm2") > 5


def test_prompt_lists_each_source_with_its_key(hits):
    prompt = build(
        "What is CDPruner?",
        hits[:3],
        model="gpt-4o-mini",
        context_window=128000,
        max_tokens=500,
        templates=load_templates(),
    )
    user = prompt.messages[-1]["content"]
    for hit in hits[:3]:
        assert f"[@{hit.entry.id}] {hit.entry.name}" in user
        assert hit.entry.summary in user
    assert "cite" in prompt.messages[0]["content"].lower()
    assert prompt.dropped_sources == 0


def test_budget_drops_lowest_ranked_sources_then_oldest_turns(hits):
    turns = [Turn(f"old question {n}", "old answer " * 50) for n in range(3)]
    prompt = build(
        "What is CDPruner?",
        hits,
        model="gpt-4o-mini",
        context_window=1500,
        max_tokens=300,
        history=turns,
        templates=load_templates(),
    )
    assert prompt.sources == tuple(hits[: len(prompt.sources)])
    assert prompt.dropped_sources == len(hits) - len(prompt.sources) > 0
    assert prompt.tokens <= 1500 * 0.9 - 300
    tight = build(
        "What is CDPruner?",
        hits,
        model="gpt-4o-mini",
        context_window=700,
        max_tokens=200,
        history=turns,
        templates=load_templates(),
    )
    assert len(tight.sources) == 1 and tight.dropped_turns > 0


def test_a_prompt_that_cannot_fit_raises(hits):
    with pytest.raises(PromptError, match="shorten the question"):
        build(
            "why " * 2000,
            hits[:1],
            model="gpt-4o-mini",
            context_window=1000,
            max_tokens=100,
            templates=load_templates(),
        )


def test_rerank_request_drops_the_lowest_ranked_entries_to_fit_with_its_reply(hits):
    templates = load_templates()
    messages, shown = rerank_messages(
        "Which papers prune tokens?", hits[:10], templates, "gpt-4o-mini", 100_000, 256
    )
    assert len(shown) == 10 and messages[0]["content"].count("[@") == 10
    roomy = count_tokens(messages[0]["content"], "gpt-4o-mini")
    # A window that holds the request but not the reply as well: entries are dropped.
    window = int((roomy + 100) / 0.9)
    _, fewer = rerank_messages(
        "Which papers prune tokens?", hits[:10], templates, "gpt-4o-mini", window, 256
    )
    assert 1 <= len(fewer) < 10 and list(fewer) == hits[: len(fewer)]
    with pytest.raises(PromptError, match="turn rerank off"):
        rerank_messages("why " * 2000, hits[:1], templates, "gpt-4o-mini", 1000, 256)
