"""Identifiers and partition values: hostile text is refused before it can reach HiveQL."""

from __future__ import annotations

import pytest
from hdfs_hive.identifiers import dt_of, identifier, partition_date, table_name

from de_common.errors import UserError

HOSTILE = [
    "events; DROP TABLE x",
    "a`b",
    "x--",
    "1abc",
    "",
    "name with space",
    "t'",
    "zürich",
    "a" * 200,
    "db.table",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_identifiers_are_refused(name: str) -> None:
    with pytest.raises(UserError):
        identifier(name)


def test_plain_identifiers_are_backquoted_and_lowercased() -> None:
    assert identifier("Events_2026") == "`events_2026`"
    assert table_name("lake", "events") == "`lake`.`events`"


@pytest.mark.parametrize("value", ["2026-02-30", "2026-1-01", "20260101", "2026-01-01' OR 1=1"])
def test_bad_partition_dates_are_refused(value: str) -> None:
    with pytest.raises(UserError):
        partition_date(value)


def test_partition_folders_need_a_real_date() -> None:
    assert dt_of("dt=2026-11-01") == "2026-11-01"
    assert dt_of("dt=2026-13-01") is None
    assert dt_of("dt=2026-11-01.old") is None
    assert dt_of("day=2026-11-01") is None
