from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
from csv_to_postgres.coercion import coerce
from csv_to_postgres.columns import ColumnSpec, Kind
from csv_to_postgres.config import Cleaning, RegexRule


def _run(
    values: list[str], kind: Kind, rules: Cleaning | None = None, **kw: Any
) -> tuple[list[Any], list[bool]]:
    res = coerce(pa.array(values, pa.string()), ColumnSpec("c", kind, **kw), rules or Cleaning())
    bad = [False] * len(values) if res.bad is None else res.bad.tolist()
    return res.values.to_pylist(), bad


def test_integers_with_thousands_nulls_and_range() -> None:
    values, bad = _run(["1,234", " 7 ", "NA", "", "12.5", "x", "70000"], "int16")
    assert values[:4] == [1234, 7, None, None]
    assert bad == [False, False, False, False, True, True, True]


def test_float_and_numeric_keep_values() -> None:
    values, bad = _run(["1,000.5", "-2e3", "nan?"], "float")
    assert values[:2] == [1000.5, -2000.0] and bad == [False, False, True]
    values, bad = _run(["12345678901234.56", "1,000.10"], "numeric")
    assert values == ["12345678901234.56", "1000.10"] and bad == [False, False]


def test_european_numbers() -> None:
    rules = Cleaning(thousands=".", decimal=",")
    values, bad = _run(["1.234,50", "-0,5"], "float", rules)
    assert values == [1234.5, -0.5] and not any(bad)


def test_booleans() -> None:
    values, bad = _run(["Yes", "no", "TRUE", "0", "", "maybe"], "bool")
    assert values == [True, False, True, False, None, None]
    assert bad == [False] * 5 + [True]


def test_dates_with_formats_and_invalid_day() -> None:
    rules = Cleaning(date_formats={"c": ["%Y-%m-%d", "%d/%m/%Y"]})
    values, bad = _run(["2023-01-15", "15/02/2023", "2023-02-30", "N/A"], "date", rules)
    assert values[:2] == [dt.date(2023, 1, 15), dt.date(2023, 2, 15)]
    assert bad == [False, False, True, False]


def test_timestamps_with_zone_and_without() -> None:
    values, bad = _run(
        ["2024-03-01T10:00:00Z", "2024-03-01 12:00:00+02:00", "2024-03-01 10:00:00"], "timestamp"
    )
    utc = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    assert values == [utc, utc, utc] and not any(bad)
    values, bad = _run(["soon"], "timestamp")
    assert bad == [True]


def test_required_values_and_cleaning_rules() -> None:
    values, bad = _run(["1", ""], "int64", nullable=False)
    assert bad == [False, True]
    rules = Cleaning(regex=[RegexRule(column="c", pattern=r"[^0-9]", replace="")], lowercase=["c"])
    values, _ = _run(["(555) 123-4567"], "text", rules)
    assert values == ["5551234567"]


def test_limits_of_the_column_type_are_rejects_not_load_failures() -> None:
    _, bad = _run(["abcd", "abcdefghi", ""], "text", length=8)
    assert bad == [False, True, False]
    _, bad = _run(["999.99", "1000.00", "-1000", "x"], "numeric", precision=5, scale=2)
    assert bad == [False, True, True, True]
    _, bad = _run(["ok", "nul\x00inside"], "text")
    assert bad == [False, True]
