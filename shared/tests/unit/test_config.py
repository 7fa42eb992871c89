from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from de_common.config import (
    Settings,
    load_settings,
    masked,
    secret_values,
    settings_config,
    with_overrides,
)
from de_common.errors import UserError


class AppSettings(Settings):
    model_config = settings_config(env_prefix="DEMO_")

    batch_size: int = 100
    name: str = "default"
    region: str = "eu"
    mode: str = "append"
    color: str = "blue"
    password: SecretStr = SecretStr("")


def test_each_source_overrides_the_one_below(clean_env: Path, monkeypatch: pytest.MonkeyPatch):
    toml = clean_env / "app.toml"
    toml.write_text(
        'name = "from-toml"\nregion = "from-toml"\nmode = "from-toml"\ncolor = "from-toml"\n'
    )
    (clean_env / ".env").write_text(
        "DEMO_REGION=from-dotenv\nDEMO_MODE=from-dotenv\nDEMO_COLOR=from-dotenv\n"
    )
    monkeypatch.setenv("DEMO_MODE", "from-env")
    monkeypatch.setenv("DEMO_COLOR", "from-env")

    s = load_settings(AppSettings, toml, overrides={"color": "from-cli", "batch_size": None})

    assert s.batch_size == 100  # default: no source sets it; a None flag does not count
    assert s.name == "from-toml"
    assert s.region == "from-dotenv"
    assert s.mode == "from-env"
    assert s.color == "from-cli"


def test_invalid_value_names_the_variable(clean_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DEMO_BATCH_SIZE", "lots")
    with pytest.raises(UserError) as err:
        load_settings(AppSettings)
    assert str(err.value).startswith("invalid setting DEMO_BATCH_SIZE:")
    assert "'lots'" in str(err.value)


def test_unknown_toml_key_is_rejected(clean_env: Path):
    toml = clean_env / "app.toml"
    toml.write_text("batch_sise = 5\n")
    with pytest.raises(UserError, match="DEMO_BATCH_SISE"):
        load_settings(AppSettings, toml)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "config file not found"), ("name = [unclosed", "is not valid TOML")],
)
def test_bad_config_file(clean_env: Path, content: str | None, message: str):
    path = clean_env / "cfg.toml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError, match=message):
        load_settings(AppSettings, path)


def test_overrides_are_validated(clean_env: Path):
    s = load_settings(AppSettings)
    assert with_overrides(s, batch_size=7).batch_size == 7
    with pytest.raises(UserError, match="DEMO_BATCH_SIZE"):
        with_overrides(s, batch_size="x")


def test_secrets_are_masked_and_listed(clean_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DEMO_PASSWORD", "hunter22")
    s = load_settings(AppSettings)
    assert masked(s)["password"] == "**********"
    assert "hunter22" not in repr(masked(s))
    assert secret_values(s) == ["hunter22"]


def test_secrets_dir_is_a_source(clean_env: Path, monkeypatch: pytest.MonkeyPatch):
    secrets = clean_env / "secrets"
    secrets.mkdir()
    (secrets / "DEMO_PASSWORD").write_text("from-file")
    monkeypatch.setenv("DE_SECRETS_DIR", str(secrets))

    class FileSettings(Settings):
        model_config = settings_config(env_prefix="DEMO_")
        password: SecretStr = SecretStr("")

    assert load_settings(FileSettings).password.get_secret_value() == "from-file"
