"""Grounded prompts: templates from ``prompts/``, fitted into the model's context window.

Token counts come from tiktoken, whose encodings are read from the copy that litellm ships, so
counting never downloads anything.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy comes with retrieval; `paperbot --help` should not wait for it
    from paperbot.retrieval import Hit

TEMPLATES = ("system", "answer", "source", "condense", "retry", "rerank")
# Counts from an OpenAI tokenizer only approximate other models' tokenizers: keep a margin.
SAFETY_MARGIN = 0.1
DEFAULT_CONTEXT_WINDOW = 4096


class PromptError(ValueError):
    """A prompt that cannot be built or would not fit; nothing was sent."""


@dataclass(frozen=True)
class Turn:
    """An earlier question and answer of the conversation."""

    question: str
    answer: str


@dataclass(frozen=True)
class Prompt:
    messages: list[dict[str, str]]
    sources: tuple[Hit, ...]
    dropped_sources: int
    dropped_turns: int
    tokens: int


def templates_dir(override: Path | None = None) -> Path:
    return override or Path(str(files("paperbot") / "data" / "prompts"))


def load_templates(override: Path | None = None) -> dict[str, Template]:
    """Templates by name; a directory in config may override any of them."""
    found: dict[str, Template] = {}
    for name in TEMPLATES:
        for folder in (override, templates_dir()):
            path = folder / f"{name}.md" if folder else None
            if path and path.is_file():
                try:
                    found[name] = Template(path.read_text(encoding="utf-8").strip())
                except OSError as error:
                    raise PromptError(f"cannot read prompt template {path}: {error}") from None
                break
        else:
            raise PromptError(f"prompt template '{name}.md' is missing from {templates_dir()}")
    return found


def use_bundled_tiktoken_files() -> None:
    """Point tiktoken at the encodings inside litellm's package (found without importing it)."""
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return
    spec = importlib.util.find_spec("litellm")
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "litellm_core_utils" / "tokenizers"
        if folder.is_dir():
            os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
            return


@lru_cache(maxsize=4)
def _encoding(name: str):
    use_bundled_tiktoken_files()
    import tiktoken

    return tiktoken.get_encoding(name)


def encoding_name(model: str) -> str:
    bare = model.rsplit("/", 1)[-1].lower()
    newer = ("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4")
    return "o200k_base" if bare.startswith(newer) else "cl100k_base"


def count_tokens(text: str, model: str) -> int:
    try:
        return len(_encoding(encoding_name(model)).encode(text, disallowed_special=()))
    except Exception as error:
        raise PromptError(
            f"cannot count tokens with tiktoken ({error}); "
            "reinstall litellm, which ships tiktoken's encoding files"
        ) from None


def render_source(template: Template, hit: Hit) -> str:
    entry = hit.entry
    title = f" — {entry.title}" if entry.title and entry.title != entry.name else ""
    return template.safe_substitute(
        id=entry.id, name=entry.name, title=title, summary=entry.summary
    )


def build(
    question: str,
    hits: Sequence[Hit],
    *,
    model: str,
    context_window: int,
    max_tokens: int,
    history: Sequence[Turn] = (),
    templates: dict[str, Template],
) -> Prompt:
    """The chat messages for a grounded answer, within ``context_window``.

    The lowest-ranked sources go first, then the oldest turns; the best source and the question
    are never dropped. A prompt that cannot fit raises PromptError and is never sent.
    """
    budget = int(context_window * (1 - SAFETY_MARGIN)) - max_tokens
    sources = list(hits)
    turns = list(history)
    dropped_sources = dropped_turns = 0
    while True:
        messages = _messages(question, sources, turns, templates)
        tokens = sum(count_tokens(m["content"], model) + 4 for m in messages)
        if tokens <= budget:
            return Prompt(messages, tuple(sources), dropped_sources, dropped_turns, tokens)
        if len(sources) > 1:
            sources.pop()
            dropped_sources += 1
        elif turns:
            turns.pop(0)
            dropped_turns += 1
        else:
            raise PromptError(
                f"the question and its best source need about {tokens} tokens but {model} has "
                f"room for {max(budget, 0)} (context window {context_window}, max_tokens "
                f"{max_tokens}); shorten the question, lower max_tokens or set context_window"
            )


def _messages(
    question: str, hits: Sequence[Hit], turns: Sequence[Turn], templates: dict[str, Template]
) -> list[dict[str, str]]:
    sources = "\n\n".join(render_source(templates["source"], hit) for hit in hits)
    messages = [{"role": "system", "content": templates["system"].safe_substitute()}]
    for turn in turns:
        messages.append({"role": "user", "content": turn.question})
        messages.append({"role": "assistant", "content": turn.answer})
    user = templates["answer"].safe_substitute(sources=sources, question=question)
    messages.append({"role": "user", "content": user})
    return messages


def condense_messages(
    question: str, turns: Sequence[Turn], templates: dict[str, Template]
) -> list[dict[str, str]]:
    """Ask the model to turn a follow-up into a stand-alone question for retrieval."""
    conversation = "\n".join(f"Q: {t.question}\nA: {t.answer}" for t in turns)
    content = templates["condense"].safe_substitute(conversation=conversation, question=question)
    return [{"role": "user", "content": content}]


def rerank_messages(
    question: str,
    hits: Sequence[Hit],
    templates: dict[str, Template],
    model: str,
    context_window: int,
    reply_tokens: int,
) -> tuple[list[dict[str, str]], tuple[Hit, ...]]:
    """Ask the model which retrieved entries answer the question: the messages, and the
    entries shown (the lowest-ranked are left out until the request and its reply fit)."""
    shown = list(hits)
    budget = int(context_window * (1 - SAFETY_MARGIN)) - reply_tokens
    while True:
        sources = "\n\n".join(render_source(templates["source"], hit) for hit in shown)
        content = templates["rerank"].safe_substitute(sources=sources, question=question)
        tokens = count_tokens(content, model)
        if tokens <= budget:
            return [{"role": "user", "content": content}], tuple(shown)
        if len(shown) <= 1:
            raise PromptError(
                f"reranking needs about {tokens} tokens but {model} has room for {max(budget, 0)} "
                f"(context window {context_window}); set context_window or turn rerank off"
            )
        shown.pop()
