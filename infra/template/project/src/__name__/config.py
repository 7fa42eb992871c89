"""Settings: defaults < TOML (--config) < .env < {{NAME}}_* environment < CLI flags."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from de_common.config import Settings, settings_config


class {{Name}}Settings(Settings):
    """Every knob of a run; each is also {{NAME}}_<FIELD> in the environment."""

    model_config = settings_config(env_prefix="{{NAME}}_")

    quarantine: Path = Field(
        default=Path("rejects.jsonl"), description="Where rejected lines go, with the reason."
    )
