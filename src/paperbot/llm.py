"""Model calls through litellm: streaming, bounded retries, and one clear line per failure.

litellm is imported here only, and only when a call is about to happen: the import costs
seconds, and without ``LITELLM_LOCAL_MODEL_COST_MAP`` it would try to fetch a price list.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from paperbot.config import Settings

BACKOFF_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 20.0
PLACEHOLDER_KEY = "no-key-needed"


class LLMError(RuntimeError):
    """A model call that failed; ``str()`` is one line saying what failed and what to try."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Completion:
    """What the model sent back, including a partial answer when the stream broke."""

    text: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    first_token_s: float | None = None
    total_s: float = 0.0
    error: LLMError | None = None

    @property
    def incomplete(self) -> bool:
        return self.error is not None

    def usage(self) -> dict[str, int | None]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}

    def latency(self) -> dict[str, float | None]:
        first = None if self.first_token_s is None else round(self.first_token_s, 3)
        return {"first_token_s": first, "total_s": round(self.total_s, 3)}


def import_litellm():
    """Import litellm quietly and offline."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from paperbot.prompting import use_bundled_tiktoken_files

    use_bundled_tiktoken_files()
    # pydantic warns about litellm's own types as it builds their schemas (at import and on
    # first use): noise for a paperbot user.
    warnings.filterwarnings("ignore", message=r".*`ReadOnly` qualifier", category=UserWarning)
    import litellm

    litellm.suppress_debug_info = True
    litellm.drop_params = True
    litellm.telemetry = False
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm", "httpx"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return litellm


def context_window(settings: Settings) -> int:
    """The configured window, else what litellm knows of the model, else a safe default."""
    from paperbot.prompting import DEFAULT_CONTEXT_WINDOW

    if settings.context_window:
        return settings.context_window
    if settings.api_base:
        # A self-hosted server's window is set when it starts; litellm's table cannot know it,
        # and asking litellm would make it query the server (Ollama's /api/show).
        return DEFAULT_CONTEXT_WINDOW
    litellm = import_litellm()
    try:
        info = litellm.get_model_info(settings.model)
    except Exception:
        return DEFAULT_CONTEXT_WINDOW
    return int(info.get("max_input_tokens") or info.get("max_tokens") or DEFAULT_CONTEXT_WINDOW)


def _register_free_model(litellm: Any, model: str) -> None:
    """A self-hosted model costs nothing; saying so stops litellm's cost lookup from warning
    "could not find cost" and from probing an Ollama server's /api/show after each answer."""
    provider, _, name = model.partition("/")
    price = {
        "input_cost_per_token": 0.0,
        "output_cost_per_token": 0.0,
        "mode": "chat",
        "litellm_provider": provider,
    }
    litellm.register_model({model: price, name: price})


def call_arguments(settings: Settings, messages: list[dict[str, str]], stream: bool) -> dict:
    arguments: dict[str, Any] = {
        "model": settings.model,
        "messages": messages,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "timeout": settings.timeout,
        "stream": stream,
        # paperbot retries itself, visibly and a bounded number of times.
        "num_retries": 0,
        "max_retries": 0,
    }
    if stream:
        arguments["stream_options"] = {"include_usage": True}
    if settings.api_base:
        arguments["api_base"] = settings.api_base
    if settings.api_key:
        arguments["api_key"] = settings.api_key
    elif settings.api_base and settings.model.startswith(("openai/", "hosted_vllm/")):
        # OpenAI-compatible local servers ignore the key, but the client insists on one.
        arguments["api_key"] = PLACEHOLDER_KEY
    return arguments


def complete(
    settings: Settings,
    messages: list[dict[str, str]],
    on_text: Callable[[str], None] | None = None,
    stream: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> Completion:
    """Send ``messages``; stream text to ``on_text``. Failures before any text is received are
    raised as LLMError (after retries for 429 and 5xx); a stream that breaks later returns the
    partial text with ``error`` set."""
    litellm = import_litellm()
    if settings.api_base:
        _register_free_model(litellm, settings.model)
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        completion = Completion()
        try:
            response = litellm.completion(**call_arguments(settings, messages, stream))
            if stream:
                _consume_stream(response, completion, started, on_text)
            else:
                _read_response(response, completion, started, on_text)
        except Exception as error:
            failure = describe_failure(error, settings)
            if completion.text:
                completion.error = failure
                completion.total_s = time.monotonic() - started
                return completion
            if failure.kind in ("rate_limit", "server_error") and attempt <= settings.retries:
                sleep(min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2 ** (attempt - 1)))
                continue
            raise failure from None
        completion.total_s = time.monotonic() - started
        return completion


def _consume_stream(
    response: Iterator[Any],
    completion: Completion,
    started: float,
    on_text: Callable[[str], None] | None,
) -> None:
    for chunk in response:
        usage = getattr(chunk, "usage", None)
        if usage:
            completion.prompt_tokens = getattr(usage, "prompt_tokens", None)
            completion.completion_tokens = getattr(usage, "completion_tokens", None)
        choices = getattr(chunk, "choices", None) or []
        delta = getattr(choices[0], "delta", None) if choices else None
        text = getattr(delta, "content", None) if delta else None
        if text:
            if completion.first_token_s is None:
                completion.first_token_s = time.monotonic() - started
            completion.text += text
            if on_text:
                on_text(text)


def _read_response(
    response: Any, completion: Completion, started: float, on_text: Callable[[str], None] | None
) -> None:
    completion.text = response.choices[0].message.content or ""
    completion.first_token_s = time.monotonic() - started
    usage = getattr(response, "usage", None)
    if usage:
        completion.prompt_tokens = usage.prompt_tokens
        completion.completion_tokens = usage.completion_tokens
    if on_text and completion.text:
        on_text(completion.text)


def describe_failure(error: BaseException, settings: Settings) -> LLMError:
    """One actionable line for any failure of a model call; the API key never appears."""
    kind = _classify(error)
    where = f"model {settings.model}" + (f" at {settings.api_base}" if settings.api_base else "")
    status = getattr(error, "status_code", None) or "5xx"
    messages = {
        "timeout": f"{where} did not answer within {settings.timeout:g} s; "
        "raise timeout in the config or check the server",
        "auth": f"{where} rejected the API key (401); set a valid key in PAPERBOT_API_KEY, "
        "the provider's variable (e.g. OPENAI_API_KEY) or api_key in the config",
        "forbidden": f"{where} refused access (403); check that the key may use this model",
        "no_key": f"{where} needs an API key; set the provider's variable (e.g. OPENAI_API_KEY), "
        "PAPERBOT_API_KEY or api_key in the config",
        "unknown_provider": f"litellm cannot tell which provider serves {settings.model}; "
        "prefix the model with its provider (openai/, anthropic/, ollama_chat/, …)",
        "not_found": f"{where} was not found (404); check the model name "
        "(for Ollama pull it first; for servers use openai/NAME with api_base)",
        "rate_limit": f"{where} is rate-limited (429) even after {settings.retries} retries; "
        "wait a little, or raise retries in the config",
        "context": f"the prompt is too long for {where}; set context_window in the config "
        "to the model's real window so paperbot can fit the prompt",
        "server_error": f"{where} failed with a server error ({status}) after "
        f"{settings.retries} retries; try again later or check the server's log",
        "connection": f"cannot connect to {where}; is the server running and is api_base right?",
        "bad_request": f"{where} rejected the request: {_short(error, settings)}; "
        "check the model name and provider prefix (e.g. openai/, ollama_chat/)",
        "error": f"{where} failed: {_short(error, settings)}",
    }
    return LLMError(kind, messages[kind])


STATUS_KINDS = {
    400: "bad_request",
    401: "auth",
    403: "forbidden",
    404: "not_found",
    429: "rate_limit",
}


def _classify(error: BaseException) -> str:
    """The kind of failure. litellm reports some by status code only (a 403 arrives as a plain
    APIError) and a refused connection as a 500, so the cause chain is read as well."""
    exceptions = import_litellm().exceptions
    causes = _causes(error)
    names = {type(cause).__name__ for cause in causes}
    text = " ".join(str(cause) for cause in causes).lower()
    if isinstance(error, exceptions.Timeout) or names & {
        "Timeout",
        "ReadTimeout",
        "ConnectTimeout",
        "APITimeoutError",
        "TimeoutError",
    }:
        return "timeout"
    if "missing credentials" in text or "api_key client option must be set" in text:
        return "no_key"
    if "llm provider not provided" in text:
        return "unknown_provider"
    if names & {"ConnectError", "ConnectionRefusedError", "APIConnectionError"} or (
        "connection error" in text or "connection refused" in text
    ):
        return "connection"
    if isinstance(error, exceptions.ContextWindowExceededError):
        return "context"
    status = getattr(error, "status_code", None)
    if status in STATUS_KINDS:
        return STATUS_KINDS[status]
    if isinstance(status, int) and status >= 500:
        return "server_error"
    return "error"


def _causes(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _short(error: BaseException, settings: Settings) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    if settings.api_key:
        text = text.replace(settings.api_key, "***")
    text = text.replace("litellm.", "")
    return text[:200]
