"""Settings: defaults, then the config file, then environment variables, then flags.

One model setting drives every model call; the default is the built-in extractive answerer, so
nothing is ever sent to a provider the user did not name.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP_NAME = "paperbot"
EXTRACTIVE_MODEL = "extractive"
POLICIES = ("annotate", "strip", "retry")


class ConfigError(ValueError):
    """Settings that cannot be used; the message names where the bad value came from."""


def data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    return config_dir() / "config.toml"


@dataclass(frozen=True)
class Option:
    """One setting: how its text is read, its default, and what it is for."""

    convert: Callable[[str, Any], Any]
    default: Callable[[], Any]
    help: str
    secret: bool = False

    def environment_variable(self, key: str) -> str:
        return "PAPERBOT_" + key.upper().replace(".", "_")


def _text(key: str, value: Any) -> str | None:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value.strip() or None


def _path(key: str, value: Any) -> Path | None:
    text = _text(key, value)
    return Path(os.path.expanduser(text)) if text else None


def _number(kind: type, low: float, high: float) -> Callable[[str, Any], Any]:
    def convert(key: str, value: Any) -> Any:
        try:
            number = kind(value)
        except (TypeError, ValueError):
            noun = "a whole number" if kind is int else "a number"
            raise ValueError(f"{key} must be {noun}, not '{value}'") from None
        if isinstance(value, bool) or not low <= number <= high:
            raise ValueError(f"{key} must be between {low:g} and {high:g}, not {value}")
        return number

    return convert


def _flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{key} must be true or false, not '{value}'")


def _choice(*choices: str) -> Callable[[str, Any], str]:
    def convert(key: str, value: Any) -> str:
        text = str(value).strip().lower()
        if text not in choices:
            raise ValueError(f"{key} must be one of {', '.join(choices)}, not '{value}'")
        return text

    return convert


def _url(key: str, value: Any) -> str | None:
    text = _text(key, value)
    if text and not re.fullmatch(r"https?://[^\s/:]+(:\d{1,5})?/?", text):
        raise ValueError(f"{key} must look like http://HOST:PORT, not '{text}'")
    return text.rstrip("/") if text else None


def _model(key: str, value: Any) -> str:
    return _text(key, value) or EXTRACTIVE_MODEL


OPTIONS: dict[str, Option] = {
    "model": Option(
        _model,
        lambda: EXTRACTIVE_MODEL,
        "litellm model string (gpt-4o-mini, ollama_chat/llama3.2, openai/NAME with api_base); "
        "'extractive' is the built-in offline answerer",
    ),
    "api_base": Option(_text, lambda: None, "endpoint of an OpenAI-compatible or Ollama server"),
    "api_key": Option(_text, lambda: None, "API key for the model's provider", secret=True),
    "temperature": Option(_number(float, 0, 2), lambda: 0.0, "sampling temperature"),
    "max_tokens": Option(_number(int, 1, 1_000_000), lambda: 1024, "longest answer, in tokens"),
    "k": Option(
        _number(int, 1, 100),
        lambda: 5,
        "entries retrieved per question (at least 10 for a list of papers)",
    ),
    "timeout": Option(_number(float, 1, 3600), lambda: 60.0, "seconds to wait for the model"),
    "retries": Option(
        _number(int, 0, 10), lambda: 2, "retries after a rate limit (429) or server error (5xx)"
    ),
    "context_window": Option(
        _number(int, 256, 10_000_000),
        lambda: None,
        "the model's context window in tokens, when litellm does not know it",
    ),
    "prompts_dir": Option(_path, lambda: None, "directory of prompt templates overriding ours"),
    "store": Option(_path, lambda: data_dir() / "store", "directory of the vector store"),
    "catalog": Option(_path, lambda: None, "catalog file used instead of built-in + imports"),
    "chroma_url": Option(
        _url, lambda: None, "a Chroma server (http://HOST:PORT) to use instead of the local store"
    ),
    "log": Option(_flag, lambda: True, "record every answer in the history database"),
    "rerank": Option(
        _flag,
        lambda: False,
        "let the model reorder the retrieved entries and judge which answer the question "
        "(one more model call per question)",
    ),
    "citations.policy": Option(
        _choice(*POLICIES), lambda: "annotate", "what to do with unsupported sentences"
    ),
}


@dataclass(frozen=True)
class Settings:
    """The effective settings, with where each came from (for ``paperbot config show``)."""

    model: str = EXTRACTIVE_MODEL
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    temperature: float = 0.0
    max_tokens: int = 1024
    k: int = 5
    timeout: float = 60.0
    retries: int = 2
    context_window: int | None = None
    prompts_dir: Path | None = None
    store: Path = field(default_factory=lambda: data_dir() / "store")
    catalog: Path | None = None
    chroma_url: str | None = None
    log: bool = True
    rerank: bool = False
    citations_policy: str = "annotate"
    config_file: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def data_dir(self) -> Path:
        return data_dir()

    @property
    def uses_model(self) -> bool:
        return self.model != EXTRACTIVE_MODEL

    def value(self, key: str) -> Any:
        return getattr(self, key.replace(".", "_"))

    def public(self) -> dict[str, Any]:
        """Settings safe to show, log or store: secrets are left out."""
        return {
            key: _plain(self.value(key)) for key, option in OPTIONS.items() if not option.secret
        }


def resolve(
    flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Settings:
    """Apply precedence flag > environment > file > default; ``None`` in flags means unset."""
    environ = os.environ if environ is None else environ
    path, explicit = _config_location(config_path, environ)
    values = {key: option.default() for key, option in OPTIONS.items()}
    sources = dict.fromkeys(OPTIONS, "default")
    for key, (value, line) in _read_file(path, explicit).items():
        values[key] = _convert(key, value, f"{path}:{line}")
        sources[key] = f"{path}:{line}"
    for key, option in OPTIONS.items():
        variable = option.environment_variable(key)
        if environ.get(variable, "").strip():
            values[key] = _convert(key, environ[variable], f"environment variable {variable}")
            sources[key] = f"env {variable}"
    for key, value in flags.items():
        if value is not None:
            values[key] = _convert(key, value, f"--{key.replace('_', '-')}")
            sources[key] = "flag"
    return Settings(
        **{key.replace(".", "_"): value for key, value in values.items()},
        config_file=path if path.exists() else None,
        sources=sources,
    )


def _config_location(config_path: Path | None, environ: Mapping[str, str]) -> tuple[Path, bool]:
    if config_path is not None:
        return config_path, True
    if environ.get("PAPERBOT_CONFIG"):
        return Path(os.path.expanduser(environ["PAPERBOT_CONFIG"])), True
    return default_config_path(), False


def _read_file(path: Path, explicit: bool) -> dict[str, tuple[Any, int]]:
    """The file's settings with the line each is on; a missing default file is no error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{path}: no such config file") from None
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the config file ({error})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"\(at line (\d+), column \d+\)", str(error))
        where = f"{path}:{match.group(1)}" if match else str(path)
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise ConfigError(f"{where}: not valid TOML: {reason}") from None
    found: dict[str, tuple[Any, int]] = {}
    for key, value in _flatten(data):
        line = _line_of(text, key)
        if key not in OPTIONS:
            known = ", ".join(OPTIONS)
            raise ConfigError(f"{path}:{line}: unknown key '{key}' (known keys: {known})")
        found[key] = (value, line)
    return found


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items.extend(_flatten(value, f"{name}."))
        else:
            items.append((name, value))
    return items


def _line_of(text: str, dotted_key: str) -> int:
    """The line a key is set on (tomllib keeps no positions)."""
    table, _, leaf = dotted_key.rpartition(".")
    in_table = not table
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
        if header:
            in_table = header.group(1) == table
            continue
        if in_table and re.match(rf"^[\"']?{re.escape(leaf)}[\"']?\s*=", stripped):
            return number
        if re.match(rf"^{re.escape(dotted_key)}\s*=", stripped):
            return number
    return 1


def _convert(key: str, value: Any, origin: str) -> Any:
    try:
        return OPTIONS[key].convert(key, value)
    except ValueError as error:
        raise ConfigError(f"{origin}: {error}") from None


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def describe(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """``paperbot config show``: each setting, documented, with its value and its origin.

    The output reads as a config file, so a user can copy it into ``config.toml``.
    """
    environ = os.environ if environ is None else environ
    where = settings.config_file or f"{default_config_path()} (not present)"
    lines = [f"# config file: {where}"]
    for key, option in OPTIONS.items():
        origin = settings.sources.get(key, "default")
        lines.append(f"# {option.help}")
        if option.secret:
            lines.append(f"# {key} = {mask(settings.value(key))}  ({origin})")
        elif settings.value(key) is None:
            lines.append(f"# {key} = (not set)  # {origin}")
        else:
            lines.append(f"{key} = {_show(settings.value(key))}  # {origin}")
    provider_keys = sorted(
        name
        for name, value in environ.items()
        if re.fullmatch(r"[A-Z0-9_]+_API_KEY", name) and name != "PAPERBOT_API_KEY" and value
    )
    if provider_keys:
        listed = ", ".join(f"{name} {mask(environ[name])}" for name in provider_keys)
        lines.append(f"# provider keys litellm will see: {listed}")
    return lines


def mask(secret: Any) -> str:
    """Enough to tell a key is set, never enough to use it."""
    if not secret:
        return "(not set)"
    return f"(set, {len(str(secret))} characters)"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))
