"""Settings: defaults, then the config file, then environment variables, then flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

APP_NAME = "paperbot"


class ConfigError(ValueError):
    """Settings that cannot be used; the message names where the bad value came from."""


def data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class Settings:
    """The effective settings, with where each came from (for ``paperbot config show``)."""

    store: Path
    catalog: Path | None = None
    k: int = 5
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def data_dir(self) -> Path:
        return data_dir()


ENVIRONMENT = {"store": "PAPERBOT_STORE", "catalog": "PAPERBOT_CATALOG", "k": "PAPERBOT_K"}


def resolve(flags: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """Apply precedence flag > environment > default; ``None`` in ``flags`` means not given."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {"store": data_dir() / "store", "catalog": None, "k": 5}
    sources = dict.fromkeys(values, "default")
    for name, variable in ENVIRONMENT.items():
        if environ.get(variable):
            values[name] = _convert(name, environ[variable], f"environment variable {variable}")
            sources[name] = f"env {variable}"
    for name in values:
        if flags.get(name) is not None:
            values[name] = _convert(name, flags[name], f"--{name}")
            sources[name] = "flag"
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in values.items() if k in known}, sources=sources)


def _convert(name: str, value: Any, origin: str) -> Any:
    if name in ("store", "catalog"):
        return Path(os.path.expanduser(str(value)))
    if name == "k":
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{origin}: k must be a whole number, not '{value}'") from None
        if not 1 <= number <= 100:
            raise ConfigError(f"{origin}: k must be between 1 and 100, not {number}")
        return number
    return value
