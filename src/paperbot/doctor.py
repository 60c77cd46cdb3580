"""`paperbot doctor`: one line per check of what paperbot needs, each failure with its fix."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata

from paperbot.config import Settings, default_config_path
from paperbot.workspace import Workspace

REACH_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        fix = f" — fix: {self.fix}" if self.fix and not self.ok else ""
        return f"[{mark}] {self.name}: {self.detail}{fix}"


def run_checks(workspace: Workspace) -> Iterator[Check]:
    """Each check in turn; one that raises is reported as failed, never as a crash."""
    steps: list[tuple[str, Callable[[Workspace], Check]]] = [
        ("config", _config),
        ("catalog", _catalog),
        ("chroma server", _chroma_server),
        ("store", _store),
        ("tiktoken", _tiktoken),
        ("litellm", _litellm),
        ("model", _model),
        ("history", _history),
    ]
    for name, step in steps:
        try:
            yield step(workspace)
        except Exception as error:
            yield Check(name, False, " ".join(str(error).split())[:300] or type(error).__name__)


def _config(workspace: Workspace) -> Check:
    settings = workspace.settings
    if settings.config_file:
        return Check("config", True, f"{settings.config_file} read")
    return Check("config", True, f"no file at {default_config_path()}; defaults in use")


def _catalog(workspace: Workspace) -> Check:
    entries = workspace.entries
    source = workspace.settings.catalog or "built-in catalog and imports"
    return Check("catalog", True, f"{len(entries)} entries from {source}")


def _chroma_server(workspace: Workspace) -> Check:
    url = workspace.settings.chroma_url
    if not url:
        return Check("chroma server", True, "not configured; the local store is used")
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=REACH_TIMEOUT_S):
            return Check("chroma server", True, f"{url} answers")
    except OSError as error:
        return Check(
            "chroma server",
            False,
            f"{url} does not answer ({error})",
            "start it with 'chroma run --path DIR --port PORT' or fix chroma_url",
        )


def _store(workspace: Workspace) -> Check:
    store = workspace.store
    stored = store.count()
    detail = (
        f"{store.location}: {stored} entries embedded with {store.embedder.name} "
        f"({store.embedder.dimension} dimensions)"
    )
    if store.up_to_date(workspace.entries):
        return Check("store", True, detail + ", in step with the catalog")
    return Check(
        "store",
        False,
        detail + f", behind the catalog of {len(workspace.entries)} entries",
        "run 'paperbot index'",
    )


def _tiktoken(workspace: Workspace) -> Check:
    from paperbot.prompting import count_tokens

    count_tokens("paperbot", "gpt-4o-mini")
    count_tokens("paperbot", "openai/any")
    folder = os.environ.get("TIKTOKEN_CACHE_DIR", "")
    return Check("tiktoken", True, f"o200k_base and cl100k_base load offline from {folder}")


def _litellm(workspace: Workspace) -> Check:
    if not workspace.settings.uses_model:
        return Check("litellm", True, "not needed by the extractive answerer (not imported)")
    from paperbot.llm import import_litellm

    import_litellm()
    offline = os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP") == "True"
    return Check(
        "litellm",
        offline,
        f"version {metadata.version('litellm')} imported, local cost map "
        f"{'on' if offline else 'off (it would fetch prices from the internet)'}",
        "unset LITELLM_LOCAL_MODEL_COST_MAP or set it to True",
    )


def _model(workspace: Workspace) -> Check:
    settings = workspace.settings
    if not settings.uses_model:
        return Check("model", True, "extractive (built in; no key, no network)")
    if settings.model.startswith("ollama/"):
        chat = "ollama_chat/" + settings.model.split("/", 1)[1]
        return Check(
            "model",
            False,
            f"{settings.model} uses Ollama's generate endpoint",
            f'use model = "{chat}"',
        )
    if settings.api_base:
        return _reach_server(settings)
    from paperbot.llm import import_litellm

    missing = import_litellm().validate_environment(settings.model).get("missing_keys") or []
    if missing and not settings.api_key:
        return Check(
            "model",
            False,
            f"{settings.model} needs {', '.join(missing)}",
            f"export {missing[0]}=… or set api_key in the config",
        )
    return Check("model", True, f"{settings.model}: its API key is set (not contacted)")


def _reach_server(settings: Settings) -> Check:
    base = settings.api_base.rstrip("/")
    probe = f"{base}/api/tags" if settings.model.startswith("ollama") else f"{base}/models"
    try:
        with urllib.request.urlopen(probe, timeout=REACH_TIMEOUT_S) as response:
            body = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        # It answered, just not to this probe: reachable is what this check is about.
        return Check("model", True, f"{settings.model} at {base} answers (HTTP {error.code})")
    except (OSError, ValueError) as error:
        return Check(
            "model",
            False,
            f"{settings.model} at {base} does not answer ({error})",
            "start the server or fix api_base",
        )
    served = [m.get("id") or m.get("name") for m in body.get("data") or body.get("models") or []]
    listed = f"; it serves {', '.join(map(str, served[:5]))}" if served else ""
    return Check("model", True, f"{settings.model} at {base} answers{listed}")


def _history(workspace: Workspace) -> Check:
    from paperbot.history import History

    path = workspace.settings.data_dir / "history.db"
    recorded = History(path).count()
    return Check("history", True, f"{path}: {recorded} answers")
