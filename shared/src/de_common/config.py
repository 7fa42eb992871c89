"""Settings with one precedence everywhere: defaults < TOML < .env < environment < CLI flags."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from de_common.errors import UserError

S = TypeVar("S", bound="Settings")

MASK = "**********"

# load_settings() tells the TOML source which file to read without a global that outlives the call.
_toml_file: ContextVar[Path | None] = ContextVar("_toml_file", default=None)


def settings_config(env_prefix: str, **extra: Any) -> SettingsConfigDict:
    """The model_config every project's settings class uses, with its own env prefix."""
    secrets_dir = os.environ.get("DE_SECRETS_DIR")
    config = SettingsConfigDict(
        env_prefix=env_prefix,
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="forbid",
        secrets_dir=secrets_dir if secrets_dir and Path(secrets_dir).is_dir() else None,
    )
    config.update(extra)  # type: ignore[typeddict-item]
    return config


class Settings(BaseSettings):
    """Base for every project's settings; subclass with `model_config = settings_config(...)`."""

    model_config = settings_config(env_prefix="DE_")

    pushgateway_url: str | None = Field(
        default=None,
        description="Pushgateway URL: a batch run pushes its metrics there when it finishes.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve /metrics on 127.0.0.1:PORT while the run lasts (long-running jobs).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
        ]
        toml_file = _toml_file.get()
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


def env_name(cls: type[Settings], field: str) -> str:
    """The environment variable of a settings field: PREFIX_FIELD."""
    return _field_env_name(cls, (field,))


def _field_env_name(cls: type[Settings], loc: tuple[int | str, ...]) -> str:
    prefix = str(cls.model_config.get("env_prefix", ""))
    return prefix + "__".join(str(part) for part in loc).upper()


def _describe(cls: type[Settings], err: ValidationError) -> str:
    first = err.errors()[0]
    name = _field_env_name(cls, first["loc"]) if first["loc"] else cls.__name__
    value = first.get("input")
    shown = "" if isinstance(value, dict) or value is None else f" (got {value!r})"
    if _is_secret_field(cls, first["loc"]):
        shown = ""
    return f"invalid setting {name}: {first['msg']}{shown}"


def _is_secret_field(cls: type[Settings], loc: tuple[int | str, ...]) -> bool:
    field = cls.model_fields.get(str(loc[0])) if loc else None
    return field is not None and "SecretStr" in repr(field.annotation)


def load_settings(
    cls: type[S],
    config_file: Path | None = None,
    overrides: Mapping[str, object] | None = None,
) -> S:
    """Build settings from every source; an invalid value raises UserError naming the field."""
    if config_file is not None:
        if not config_file.is_file():
            raise UserError(f"config file not found: {config_file}")
        try:
            tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"config file {config_file} is not valid TOML: {exc}") from None
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    token = _toml_file.set(config_file)
    try:
        return cls(**given)  # type: ignore[arg-type]  # field values, validated here
    except ValidationError as exc:
        raise UserError(_describe(cls, exc)) from None
    finally:
        _toml_file.reset(token)


def with_overrides(settings: S, **overrides: object) -> S:
    """A validated copy with CLI flag values applied (None means the flag was not given)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return settings
    data = settings.model_dump()
    data.update(given)
    cls = type(settings)
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise UserError(_describe(cls, exc)) from None


def _mask(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return MASK if value.get_secret_value() else ""
    if isinstance(value, BaseModel):
        return {k: _mask(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def masked(settings: BaseModel) -> dict[str, Any]:
    """The effective settings as a JSON-able dict, every secret replaced by a mask."""
    return {k: _mask(getattr(settings, k)) for k in type(settings).model_fields}


def secret_values(settings: BaseModel) -> list[str]:
    """The plain value of every SecretStr, so logging can redact them wherever they appear."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            if value.get_secret_value():
                found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for k in type(value).model_fields:
                walk(getattr(value, k))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk(settings)
    return found
