"""Reranking with the configured model: it reads the retrieved entries and says which of them
answer the question, in what order. Off by default (it costs one more model call per
question); retrieval's own order and relevance floor stand whenever it is off or its reply
cannot be read."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace

from paperbot.config import Settings
from paperbot.retrieval import Hit

# How many retrieved entries the model is shown: enough that one retrieval ranked low can
# still be brought up, few enough to keep the request short.
POOL = 10
REPLY_TOKENS = 256
JSON_LIST = re.compile(r"\[(?:[^\[\]]|\[@?[\w.+-]+\])*\]", re.DOTALL)
CITED = re.compile(r"\[@([\w.+-]+)\]")


class RerankReplyError(ValueError):
    """The model's reply was not a list of the entries it was shown."""


def rerank(question: str, hits: Sequence[Hit], settings: Settings) -> list[Hit]:
    """The hits in the model's order, the ones it chose first and judged relevant, the others
    after them in retrieval's order and judged not relevant."""
    from paperbot import llm, prompting

    if not hits:
        return []
    # The reply is a short list of ids: no need to reserve, or pay for, a whole answer.
    settings = replace(settings, max_tokens=min(settings.max_tokens, REPLY_TOKENS))
    messages, shown = prompting.rerank_messages(
        question,
        hits,
        prompting.load_templates(settings.prompts_dir),
        settings.model,
        llm.context_window(settings),
        settings.max_tokens,
    )
    completion = llm.complete(settings, messages, stream=False)
    if completion.error:
        raise RerankReplyError(f"the reply broke off: {completion.error}")
    chosen = chosen_ids(completion.text, [hit.entry.id for hit in shown])
    by_id = {hit.entry.id: hit for hit in hits}
    ordered = [replace(by_id[entry_id], judged=True) for entry_id in chosen]
    ordered += [replace(hit, judged=False) for hit in hits if hit.entry.id not in chosen]
    return [replace(hit, rank=rank) for rank, hit in enumerate(ordered, 1)]


def chosen_ids(reply: str, shown: Sequence[str]) -> list[str]:
    """The ids the reply lists, in its order, keeping only entries that were shown.

    The reply should be a JSON list, but models wrap it in prose or code fences, or cite
    "[@id]" instead; all of that is read. A reply that is neither raises RerankReplyError.
    """
    known = set(shown)
    for candidate in JSON_LIST.findall(reply):
        try:
            items = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(items, list) and all(isinstance(item, str) for item in items):
            cleaned = (item.strip().strip("[]").removeprefix("@") for item in items)
            return list(dict.fromkeys(item for item in cleaned if item in known))
    cited = [entry_id for entry_id in CITED.findall(reply) if entry_id in known]
    if cited:
        return list(dict.fromkeys(cited))
    raise RerankReplyError(f"expected a JSON list of entry ids, got {reply.strip()[:80]!r}")
