"""A partition spec such as `dt=2026-11-30/hour=14`: keys and values checked before any HiveQL.

Keys become identifiers (backquoted) and folder names; values travel as PyHive parameters and
become folder names, so both are held to strict patterns: dt a real date, hour 00-23, anything
else letters, digits, '-' and '_'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from de_common.errors import UserError
from hdfs_hive.identifiers import identifier, partition_date

HOUR = re.compile(r"(?:[01][0-9]|2[0-3])")
PLAIN_VALUE = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class PartitionSpec:
    """Ordered (key, value) pairs of one partition."""

    pairs: tuple[tuple[str, str], ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.pairs)

    @property
    def path(self) -> str:
        """The spec as folders: dt=2026-11-30/hour=14."""
        return "/".join(f"{k}={v}" for k, v in self.pairs)

    def value(self, key: str) -> str | None:
        return next((v for k, v in self.pairs if k == key), None)


def _value(key: str, value: str) -> str:
    if key == "dt":
        partition_date(value)
    elif key == "hour":
        if not HOUR.fullmatch(value):
            raise UserError(f"invalid hour {value!r}: expected two digits 00-23")
    elif not PLAIN_VALUE.fullmatch(value):
        raise UserError(
            f"invalid value {value!r} for partition key {key!r}: letters, digits, - and _ only"
        )
    return value


def parse(text: str) -> PartitionSpec:
    """`k=v/k=v` -> PartitionSpec (keys lower-cased), or UserError naming what is wrong."""
    pairs: list[tuple[str, str]] = []
    for part in text.strip("/").split("/"):
        key, sep, value = part.partition("=")
        if not sep:
            raise UserError(f"invalid partition {text!r}: expected key=value[/key=value]")
        identifier(key, "partition key")
        key = key.lower()
        if key in (k for k, _ in pairs):
            raise UserError(f"invalid partition {text!r}: {key} given twice")
        pairs.append((key, _value(key, value)))
    if not pairs or pairs[0][0] != "dt":
        raise UserError(f"invalid partition {text!r}: the first key must be dt")
    return PartitionSpec(tuple(pairs))
