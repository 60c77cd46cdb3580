"""The status bar: what is loaded, which model answers, and what the last answer cost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

STATE_STYLES = {
    "ready": ("✓", "$text-success"),
    "failed": ("✗", "$text-error"),
}
BUSY = ("●", "$text-warning")


class StatusBar(Static):
    index: reactive[tuple[str, str]] = reactive(("loading", ""))
    litellm: reactive[tuple[str, str] | None] = reactive(None)
    model: reactive[str] = reactive("")
    last: reactive[str] = reactive("")
    activity: reactive[str] = reactive("")

    def render(self) -> Content:
        parts = [_state("index", *self.index)]
        if self.litellm is not None:
            parts.append(_state("litellm", *self.litellm))
        parts.append(Content.assemble(("model ", "$text-muted"), (self.model, "bold")))
        if self.activity:
            parts.append(Content.styled(self.activity, "italic $text-warning"))
        elif self.last:
            parts.append(Content.assemble(("last ", "$text-muted"), self.last))
        return Content(" │ ").join(parts)


def _state(name: str, state: str, detail: str) -> Content:
    mark, style = STATE_STYLES.get(state, BUSY)
    text = (detail or state) if state == "ready" else f"{state} {detail}".strip()
    return Content.assemble((f"{mark} {name} ", style), (text, style))


def last_answer(record: Mapping[str, Any], elapsed: float) -> str:
    """Token usage and latency of an answer; without a model only the time it took."""
    usage = record.get("usage") or {}
    latency = record.get("latency") or {}
    parts = []
    if usage.get("prompt_tokens") is not None or usage.get("completion_tokens") is not None:
        prompt = usage.get("prompt_tokens")
        completion = usage.get("completion_tokens")
        parts.append(f"{_count(prompt)} in / {_count(completion)} out tokens")
    if latency.get("first_token_s") is not None:
        parts.append(f"first token {latency['first_token_s']:.2f} s")
    total = latency.get("total_s")
    parts.append(f"{total if total is not None else elapsed:.2f} s")
    return " · ".join(parts)


def _count(tokens: int | None) -> str:
    return "?" if tokens is None else f"{tokens:,}"
