"""The names of the shipped ORM models, without importing the ORM until one is used."""

from __future__ import annotations

from typing import get_args

import sqlalchemy as sa

from csv_to_postgres.config import ModelName

MODEL_NAMES: tuple[str, ...] = get_args(ModelName)


def model_table(name: str) -> sa.Table:
    """The Table of a shipped model."""
    from csv_to_postgres.models import MODELS

    table = MODELS[name].__table__
    assert isinstance(table, sa.Table)
    return table
