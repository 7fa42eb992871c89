"""A table as the loader sees it: columns with a coercion kind, the primary key, the SQL types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

Kind = Literal["int16", "int32", "int64", "float", "numeric", "bool", "date", "timestamp", "text"]

# What a value of one kind can be widened to without losing information (contract evolve).
WIDER: dict[str, list[str]] = {
    "bool": ["text"],
    "int16": ["int32", "int64", "numeric", "float", "text"],
    "int32": ["int64", "numeric", "float", "text"],
    "int64": ["numeric", "float", "text"],
    "float": ["text"],
    "numeric": ["text"],
    "date": ["timestamp", "text"],
    "timestamp": ["text"],
    "text": [],
}


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its name, how its values are coerced, and whether it may be NULL."""

    name: str
    kind: Kind
    nullable: bool = True
    primary_key: bool = False
    tz: bool = True  # timestamps only
    length: int | None = None  # VARCHAR(n)
    precision: int | None = None  # NUMERIC(p, s)
    scale: int | None = None


@dataclass
class TableSpec:
    """A target table."""

    name: str
    columns: list[ColumnSpec]
    schema: str | None = None
    model: str | None = None  # the ORM model it came from, if any
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def primary_key(self) -> list[str]:
        return [c.name for c in self.columns if c.primary_key]

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)


def sa_type(col: ColumnSpec) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type a kind is stored as."""
    types: dict[str, sa.types.TypeEngine[Any]] = {
        "int16": sa.SmallInteger(),
        "int32": sa.Integer(),
        "int64": sa.BigInteger(),
        "float": sa.Double(),
        "numeric": sa.Numeric(col.precision, col.scale) if col.precision else sa.Numeric(),
        "bool": sa.Boolean(),
        "date": sa.Date(),
        "timestamp": sa.DateTime(timezone=col.tz),
        "text": sa.String(col.length) if col.length else sa.Text(),
    }
    return types[col.kind]


def kind_of(sql_type: sa.types.TypeEngine[Any]) -> tuple[Kind, bool]:
    """(kind, tz) for a reflected or declared SQL type; unknown types load as text."""
    if isinstance(sql_type, sa.Boolean):
        return "bool", True
    if isinstance(sql_type, sa.SmallInteger):
        return "int16", True
    if isinstance(sql_type, sa.BigInteger):
        return "int64", True
    if isinstance(sql_type, sa.Integer):
        return "int32", True
    if isinstance(sql_type, sa.Float):
        return "float", True
    if isinstance(sql_type, sa.Numeric):
        return "numeric", True
    if isinstance(sql_type, sa.DateTime):
        return "timestamp", bool(sql_type.timezone)
    if isinstance(sql_type, sa.Date):
        return "date", True
    return "text", True


def spec_from_table(table: sa.Table, model: str | None = None) -> TableSpec:
    """A TableSpec from a SQLAlchemy Table (declared by a model or reflected from the database)."""
    cols = []
    for c in table.columns:
        kind, tz = kind_of(c.type)
        length = getattr(c.type, "length", None) if kind == "text" else None
        precision = getattr(c.type, "precision", None) if kind == "numeric" else None
        scale = getattr(c.type, "scale", None) if kind == "numeric" else None
        cols.append(
            ColumnSpec(
                c.name, kind, bool(c.nullable), bool(c.primary_key), tz, length, precision, scale
            )
        )
    return TableSpec(table.name, cols, table.schema, model)


def to_table(
    spec: TableSpec, metadata: sa.MetaData | None = None, name: str | None = None
) -> sa.Table:
    """The SQLAlchemy Table for a spec (optionally under another name, for replace)."""
    metadata = metadata or sa.MetaData()
    return sa.Table(
        name or spec.name,
        metadata,
        *[
            sa.Column(
                c.name,
                sa_type(c),
                primary_key=c.primary_key,
                nullable=c.nullable and not c.primary_key,
                autoincrement=False,
            )
            for c in spec.columns
        ],
        schema=spec.schema,
    )


def ddl(spec: TableSpec, dialect: sa.engine.Dialect) -> str:
    """CREATE TABLE text for a spec in a given SQL dialect."""
    return str(sa.schema.CreateTable(to_table(spec)).compile(dialect=dialect)).strip() + ";\n"
