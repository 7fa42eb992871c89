"""The names of the shipped ORM models, without importing the ORM until one is used."""

from __future__ import annotations

import sqlalchemy as sa

MODEL_NAMES = ("airlines", "airports", "customers", "flights", "planes", "weather")


def model_table(name: str) -> sa.Table:
    """The Table of a shipped model."""
    from csv_to_postgres.models import MODELS

    table = MODELS[name].__table__
    assert isinstance(table, sa.Table)
    return table
