from __future__ import annotations

from openai_server import OpenAIServer, unused_port


def lines(result) -> dict[str, str]:
    return {
        line.split("]", 1)[1].split(":", 1)[0].strip(): line for line in result.out.splitlines()
    }


def test_a_healthy_offline_setup_passes_every_check(run, tmp_path):
    store = ["--store", str(tmp_path / "s")]
    assert run("index", *store).code == 0
    result = run("doctor", *store)
    assert result.code == 0, result.out
    checks = lines(result)
    assert set(checks) == {
        "config",
        "catalog",
        "chroma server",
        "store",
        "tiktoken",
        "litellm",
        "model",
        "history",
    }
    assert all(line.startswith("[ok  ]") for line in checks.values())
    assert "23 entries embedded with wordllama/l2_supercat_256" in checks["store"]


def test_a_store_behind_the_catalog_says_to_index(run, tmp_path):
    result = run("doctor", "--store", str(tmp_path / "empty"))
    assert result.code == 1
    assert "fix: run 'paperbot index'" in lines(result)["store"]


def test_ollama_generate_prefix_is_caught(run, tmp_path):
    result = run("doctor", "--store", str(tmp_path / "s"), "--model", "ollama/llama3.2")
    assert result.code == 1
    assert 'fix: use model = "ollama_chat/llama3.2"' in lines(result)["model"]


def test_model_server_reachability(run, tmp_path):
    server = OpenAIServer().start()
    try:
        down = f"http://127.0.0.1:{unused_port()}/v1"
        failed = run("doctor", "--model", "openai/x", "--api-base", down)
        assert "[FAIL] model: openai/x at " in lines(failed)["model"]
        assert "fix: start the server or fix api_base" in lines(failed)["model"]
        up = run("doctor", "--model", "openai/x", "--api-base", server.api_base)
        assert lines(up)["model"].startswith("[ok  ] model: openai/x at")
    finally:
        server.stop()


def test_a_corrupt_store_and_history_are_reported_not_raised(run, tmp_path, isolated_dirs):
    store = tmp_path / "s"
    run("index", "--store", str(store))
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    (store / "chroma.sqlite3").write_bytes(b"garbage" * 1000)
    history = isolated_dirs / "data" / "paperbot" / "history.db"
    history.parent.mkdir(parents=True, exist_ok=True)
    history.write_bytes(b"garbage" * 1000)
    result = run("doctor", "--store", str(store))
    assert result.code == 1
    assert "index --rebuild" in lines(result)["store"]
    assert "[FAIL] history" in lines(result)["history"]
    assert "Traceback" not in result.out + result.err
    assert run("index", "--rebuild", "--store", str(store)).code == 0
    SharedSystemClient.clear_system_cache()
    assert lines(run("doctor", "--store", str(store)))["store"].startswith("[ok  ]")
