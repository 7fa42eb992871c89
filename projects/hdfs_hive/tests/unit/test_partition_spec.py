"""The --partition spec of `load`: what may become HiveQL identifiers, parameters and folders."""

from __future__ import annotations

import pytest
from hdfs_hive.partition_spec import parse

from de_common.errors import UserError


def test_a_day_and_hour_spec_keeps_its_order_and_path() -> None:
    spec = parse("dt=2026-11-30/hour=07")
    assert spec.pairs == (("dt", "2026-11-30"), ("hour", "07"))
    assert spec.keys == ("dt", "hour")
    assert spec.path == "dt=2026-11-30/hour=07"
    assert spec.value("hour") == "07"
    assert parse("DT=2026-11-30").path == "dt=2026-11-30"


@pytest.mark.parametrize(
    "text",
    [
        "dt=2026-11-30/hour=24",
        "dt=2026-11-30/hour=7",
        "dt=2026-02-30/hour=01",
        "dt=20261130",
        "hour=01/dt=2026-11-30",
        "hour=01",
        "dt=2026-11-30/hour=01/hour=02",
        "dt=2026-11-30/hour=01' OR '1'='1",
        "dt=2026-11-30/`hour`=01",
        "dt=2026-11-30/1x=a",
        "dt=2026-11-30/region=eu west",
        "dt=2026-11-30/region=",
        "dt=2026-11-30//hour=01",
        "dt",
        "",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(UserError):
        parse(text)


def test_other_keys_take_plain_values() -> None:
    assert parse("dt=2026-11-30/region=eu-west_1").value("region") == "eu-west_1"
