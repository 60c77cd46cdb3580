from __future__ import annotations

from pathlib import Path

import pytest

from paperbot.config import ConfigError, describe, resolve


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_use_the_offline_answerer(tmp_path):
    settings = resolve({}, environ={}, config_path=None)
    assert settings.model == "extractive" and not settings.uses_model
    assert settings.k == 5 and settings.timeout == 60.0
    assert settings.citations_policy == "annotate"
    assert set(settings.sources.values()) == {"default"}


def test_precedence_is_flag_then_env_then_file_then_default(tmp_path):
    config = write(tmp_path, 'model = "from-file"\nk = 7\ntimeout = 30\n')
    environ = {"PAPERBOT_MODEL": "from-env", "PAPERBOT_K": "9"}
    settings = resolve({"model": "from-flag"}, environ=environ, config_path=config)
    assert settings.model == "from-flag" and settings.sources["model"] == "flag"
    assert settings.k == 9 and settings.sources["k"] == "env PAPERBOT_K"
    assert settings.timeout == 30.0 and settings.sources["timeout"] == f"{config}:3"
    assert settings.max_tokens == 1024 and settings.sources["max_tokens"] == "default"


def test_nested_keys_and_the_config_env_variable(tmp_path):
    config = write(tmp_path, '[citations]\npolicy = "strip"\n')
    settings = resolve({}, environ={"PAPERBOT_CONFIG": str(config)})
    assert settings.citations_policy == "strip"
    assert settings.sources["citations.policy"] == f"{config}:2"
    assert settings.config_file == config


def test_default_config_file_is_read_from_the_user_config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    path = tmp_path / "cfg" / "paperbot" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("k = 3\n")
    assert resolve({}, environ={}).k == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('model = "x"\nmodle = "y"\n', ":2: unknown key 'modle'"),
        ('[citations]\npolcy = "strip"\n', ":2: unknown key 'citations.polcy'"),
        ("k = 0\n", ":1: k must be between 1 and 100, not 0"),
        ('k = "many"\n', ":1: k must be a whole number, not 'many'"),
        ('[citations]\npolicy = "ignore"\n', ":2: citations.policy must be one of annotate"),
        ('model = "x"\ntemperature = \n', ":2: not valid TOML"),
        ("log = maybe\n", ":1: not valid TOML"),
    ],
)
def test_bad_config_files_name_the_file_line_and_key(tmp_path, text, message):
    config = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        resolve({}, environ={}, config_path=config)
    assert str(raised.value).startswith(str(config))
    assert message in str(raised.value)


def test_an_explicit_config_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        resolve({}, environ={}, config_path=tmp_path / "missing.toml")


def test_bad_environment_values_name_the_variable():
    with pytest.raises(ConfigError, match="environment variable PAPERBOT_TIMEOUT: timeout must"):
        resolve({}, environ={"PAPERBOT_TIMEOUT": "soon"})


def test_show_explains_every_setting_and_masks_keys(tmp_path):
    config = write(tmp_path, 'api_key = "sk-file-secret-value"\nmodel = "gpt-4o-mini"\n')
    environ = {"OPENAI_API_KEY": "sk-openai-secret", "PAPERBOT_K": "4"}
    settings = resolve({"temperature": 0.5}, environ=environ, config_path=config)
    text = "\n".join(describe(settings, environ))
    assert "sk-file-secret-value" not in text and "sk-openai-secret" not in text
    assert f"# api_key = (set, 20 characters)  ({config}:1)" in text
    assert f'model = "gpt-4o-mini"  # {config}:2' in text
    assert "k = 4  # env PAPERBOT_K" in text
    assert "temperature = 0.5  # flag" in text
    assert "OPENAI_API_KEY (set, 16 characters)" in text
    assert "api_key" not in settings.public()


def test_cli_config_show_and_path(run, tmp_path, monkeypatch):
    shown = run("config", "show", "--model", "openai/x", "--api-base", "http://127.0.0.1:9/v1")
    assert shown.code == 0
    assert 'model = "openai/x"  # flag' in shown.out
    assert 'api_base = "http://127.0.0.1:9/v1"  # flag' in shown.out
    monkeypatch.setenv("PAPERBOT_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert run("config", "path").out.strip() == str(tmp_path / "elsewhere.toml")


def test_cli_reports_a_bad_config_in_one_line(run, tmp_path):
    config = write(tmp_path, "colour = 'blue'\n")
    result = run("ask", "--config", str(config), "What is DiCo?")
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        f"paperbot: error: {config}:1: unknown key 'colour' (known keys: model, api_base, "
        "api_key, temperature, max_tokens, k, timeout, retries, context_window, prompts_dir, "
        "store, catalog, chroma_url, log, rerank, citations.policy)"
    ]
