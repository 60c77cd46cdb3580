"""Model answers through litellm against a real OpenAI-compatible server on loopback."""

from __future__ import annotations

import json

import pytest

from paperbot import llm
from paperbot.config import resolve

from openai_server import Reply, unused_port

QUESTION = "How much does CDPruner reduce FLOPs?"
GOOD = "CDPruner reduces FLOPs by 95% on LLaVA [@cdpruner]."


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(llm, "BACKOFF_SECONDS", 0.0)


def test_streamed_answer_then_sources(run, server, model_args):
    server.replies.append(Reply(text=GOOD))
    result = run("ask", *model_args, QUESTION)
    assert result.code == 0, result.err
    assert result.out.startswith(GOOD)
    assert "Sources:\n  [@cdpruner] CDPruner" in result.out
    assert result.err == ""
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["stream"] is True
    system, user = request["body"]["messages"]
    assert system["role"] == "system" and "[@id]" in system["content"]
    assert "[@cdpruner] CDPruner" in user["content"]
    assert user["content"].rstrip().endswith(f"Question: {QUESTION}")


def test_json_adds_model_usage_and_latency(run, server, model_args):
    server.replies.append(Reply(text=GOOD, prompt_tokens=321))
    data = json.loads(run("ask", "--json", *model_args, QUESTION).out)
    assert data["answer"] == GOOD
    assert data["citations"] == ["cdpruner"]
    assert data["model"] == "openai/stub"
    assert data["usage"]["prompt_tokens"] == 321
    assert data["usage"]["completion_tokens"] > 0
    assert data["latency"]["total_s"] >= data["latency"]["first_token_s"] >= 0
    assert data["abstained"] is False


def test_no_stream_sends_one_request_without_streaming(run, server, model_args):
    server.replies.append(Reply(text=GOOD))
    result = run("ask", "--no-stream", *model_args, QUESTION)
    assert result.out.startswith(GOOD)
    assert not server.requests[0]["body"].get("stream")


def test_a_missing_subject_is_said_before_the_models_answer(run, server, model_args):
    server.replies.append(Reply(text=GOOD))
    result = run("ask", *model_args, "Does CDPruner work with quantized models?")
    assert result.out.startswith(f"No entry in the catalog mentions quantization.\n\n{GOOD}")


def test_nothing_relevant_means_no_model_call(run, server, model_args):
    data = json.loads(run("ask", "--json", *model_args, "What is the capital of France?").out)
    assert data["abstained"] and data["citations"] == []
    assert server.requests == []


def test_api_key_is_sent_but_never_shown_or_logged(run, server, model_args, monkeypatch):
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("PAPERBOT_API_KEY", secret)
    server.replies.append(Reply(status=401))
    result = run("ask", *model_args, QUESTION)
    assert server.requests[0]["authorization"] == f"Bearer {secret}"
    assert result.code == 1
    assert secret not in result.out + result.err
    server.replies.append(Reply(text=GOOD))
    run("ask", *model_args, QUESTION)
    history = run("history", "--json")
    assert secret not in history.out
    shown = run("config", "show").out
    assert secret not in shown and "api_key = (set, 24 characters)" in shown


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, "rejected the API key (401)"),
        (403, "refused access (403)"),
        (404, "was not found (404)"),
    ],
)
def test_http_failures_are_one_clear_line(run, server, model_args, status, message):
    server.replies.append(Reply(status=status))
    result = run("ask", *model_args, QUESTION)
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert "model openai/stub at http://127.0.0.1" in lines[0]
    assert "Traceback" not in result.err
    assert len(server.requests) == 1


def test_rate_limit_is_retried_then_answered(run, server, model_args):
    server.replies.extend([Reply(status=429), Reply(status=429), Reply(text=GOOD)])
    result = run("ask", *model_args, QUESTION)
    assert result.code == 0, result.err
    assert len(server.requests) == 3


def test_rate_limit_retries_are_bounded(run, server, model_args):
    server.replies.extend([Reply(status=429)] * 5)
    result = run("ask", *model_args, QUESTION)
    assert result.code == 1
    assert "rate-limited (429) even after 2 retries" in result.err
    assert len(server.requests) == 3


def test_server_errors_are_retried_then_reported(run, server, model_args):
    server.replies.extend([Reply(status=500)] * 3)
    result = run("ask", *model_args, QUESTION)
    assert result.code == 1
    assert "server error (500) after 2 retries" in result.err
    assert len(server.requests) == 3


def test_connection_refused_names_the_endpoint(run, tmp_path):
    api_base = f"http://127.0.0.1:{unused_port()}/v1"
    result = run(
        "ask",
        "--model",
        "openai/stub",
        "--api-base",
        api_base,
        "--store",
        str(tmp_path / "s"),
        QUESTION,
    )
    assert result.code == 1
    assert result.err.strip() == (
        f"paperbot: error: cannot connect to model openai/stub at {api_base}; "
        "is the server running and is api_base right?"
    )


def test_timeout_is_configurable_and_reported(run, server, model_args, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("timeout = 1\nretries = 0\n")
    server.replies.append(Reply(hang=True))
    result = run("ask", "--config", str(config), *model_args, QUESTION)
    assert result.code == 1
    assert "did not answer within 1 s" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_broken_stream_keeps_the_text_and_marks_it_incomplete(run, server, model_args):
    server.replies.append(Reply(text=GOOD * 3, break_after=3))
    result = run("ask", *model_args, QUESTION)
    assert result.code == 1
    assert result.out.startswith(GOOD[:21])
    assert "[answer incomplete]" in result.out
    assert "the answer broke off" in result.err
    (record,) = json.loads(run("history", "--json").out)
    assert record["incomplete"] is True and record["answer"] == GOOD[:21]


def test_prompt_that_cannot_fit_is_never_sent(run, server, model_args, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("context_window = 600\nmax_tokens = 400\n")
    result = run("ask", "--config", str(config), *model_args, QUESTION + " please" * 200)
    assert result.code == 1
    assert "shorten the question, lower max_tokens or set context_window" in result.err
    assert server.requests == []


def test_budget_drops_the_lowest_ranked_sources_first(run, server, model_args, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("context_window = 1400\nmax_tokens = 300\nk = 8\n")
    server.replies.append(Reply(text=GOOD))
    run("ask", "--config", str(config), *model_args, "Which papers prune visual tokens?")
    user = server.requests[0]["body"]["messages"][-1]["content"]
    cited = [line for line in user.splitlines() if line.startswith("[@")]
    assert 1 <= len(cited) < 8


def test_follow_up_is_condensed_and_carries_the_conversation(run, server, model_args):
    server.replies.append(Reply(text=GOOD))
    run("ask", *model_args, QUESTION)
    server.replies.extend(
        [Reply(text="What is the CUDA latency reduction of CDPruner?"), Reply(text=GOOD)]
    )
    data = json.loads(run("ask", "-c", "--json", *model_args, "And its latency?").out)
    condense, answer = server.requests[1:]
    assert not condense["body"].get("stream")
    assert "And its latency?" in condense["body"]["messages"][0]["content"]
    assert data["standalone_question"] == "What is the CUDA latency reduction of CDPruner?"
    roles = [m["role"] for m in answer["body"]["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert answer["body"]["messages"][1]["content"] == QUESTION
    records = json.loads(run("history", "--json").out)
    assert records[0]["conversation_id"] == records[1]["conversation_id"]


def test_no_log_skips_the_history(run, server, model_args):
    server.replies.append(Reply(text=GOOD))
    run("ask", "--no-log", *model_args, QUESTION)
    assert json.loads(run("history", "--json").out) == []


def test_prompt_plumbing_through_litellm_mock_response(monkeypatch):
    original = llm.call_arguments

    def with_mock(settings, messages, stream):
        return {**original(settings, messages, stream), "mock_response": "Mocked [@cdpruner]."}

    monkeypatch.setattr(llm, "call_arguments", with_mock)
    pieces: list[str] = []
    settings = resolve({"model": "openai/mock"})
    completion = llm.complete(settings, [{"role": "user", "content": "hi"}], pieces.append)
    assert completion.text == "Mocked [@cdpruner]."
    assert "".join(pieces) == completion.text and len(pieces) > 1
    assert completion.first_token_s is not None


def test_ollama_chat_recipe(run, server, tmp_path):
    """The README's Ollama recipe: ollama_chat/MODEL with api_base, no key."""
    config = tmp_path / "config.toml"
    config.write_text(f'model = "ollama_chat/llama3.2"\napi_base = "{server.api_base[:-3]}"\n')
    server.replies.append(Reply(text=GOOD))
    result = run("ask", "--json", "--config", str(config), "--store", str(tmp_path / "s"), QUESTION)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["answer"] == GOOD and data["citations"] == ["cdpruner"]
    assert [r["path"] for r in server.requests] == ["/api/chat"]
    assert server.requests[0]["body"]["model"] == "llama3.2"


def test_prompts_directory_in_config_overrides_templates(run, server, model_args, tmp_path):
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "system.md").write_text("Answer like a pirate, citing [@id].\n")
    config = tmp_path / "config.toml"
    config.write_text(f'prompts_dir = "{prompts}"\n')
    server.replies.append(Reply(text=GOOD))
    assert run("ask", "--config", str(config), *model_args, QUESTION).code == 0
    system, user = server.requests[0]["body"]["messages"]
    assert system["content"] == "Answer like a pirate, citing [@id]."
    assert "Sources:" in user["content"]


def test_a_corrupt_history_never_blocks_asking(run, server, model_args, isolated_dirs):
    history = isolated_dirs / "data" / "paperbot" / "history.db"
    history.parent.mkdir(parents=True)
    history.write_bytes(b"not a database at all" * 50)
    server.replies.append(Reply(text=GOOD))
    result = run("ask", *model_args, QUESTION)
    assert result.code == 0
    assert result.out.startswith(GOOD)
    assert result.err.startswith("paperbot: warning: the history at")
    assert "this answer was not logged" in result.err


def test_uncited_model_answer_lists_what_the_model_was_shown(run, server, model_args):
    server.replies.append(Reply(text="It reduces FLOPs by 9.1%."))
    result = run("ask", *model_args, QUESTION)
    assert "\nSources given to the model (it cited none):\n  [@cdpruner] CDPruner" in result.out


def test_missing_key_and_unknown_provider_are_one_clear_line(run, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    store = ["--store", str(tmp_path / "s")]
    no_key = run("ask", "--model", "gpt-4o-mini", *store, QUESTION)
    assert no_key.code == 1
    assert "needs an API key; set the provider's variable (e.g. OPENAI_API_KEY)" in no_key.err
    unknown = run("ask", "--model", "no-such-model-xyz", *store, QUESTION)
    assert unknown.code == 1
    assert "cannot tell which provider serves no-such-model-xyz" in unknown.err
    assert len((no_key.err + unknown.err).strip().splitlines()) == 2
