from __future__ import annotations

import datetime as dt
import math
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


NULL_LIKE = ["NA", "N/A", "n/a", "NULL", "null", "None", "nan", "NaN", "-"]


def test_text_keeps_null_like_tokens_and_whitespace_by_default() -> None:
    values, bad = _run([*NULL_LIKE, " padded ", "", "\ttab"], "text")
    assert values == [*NULL_LIKE, " padded ", "", "\ttab"] and not any(bad)
    res = coerce(pa.array(["NA", None, ""], pa.string()), ColumnSpec("c", "text"), Cleaning())
    assert res.values.to_pylist() == ["NA", None, ""] and res.verbatim


def test_null_tokens_apply_to_typed_columns_where_they_cannot_be_values() -> None:
    cases: list[tuple[Kind, str]] = [
        ("int64", " 7 "),
        ("bool", "yes"),
        ("date", "2024-01-02"),
        ("timestamp", "2024-01-02 03:04:05Z"),
    ]
    for kind, value in cases:
        values, bad = _run([*NULL_LIKE, "", value], kind)
        assert values[:-1] == [None] * (len(NULL_LIKE) + 1) and values[-1] is not None, kind
        assert not any(bad), kind
    # NaN is a value of a float or numeric column (PostgreSQL reads it): it stays NaN there
    words = [t for t in NULL_LIKE if t.lower() != "nan"]
    values, bad = _run([*words, "", "nan", "NaN", "1.5"], "float")
    assert values[: len(words) + 1] == [None] * (len(words) + 1) and values[-1] == 1.5
    assert all(math.isnan(v) for v in values[-3:-1]) and not any(bad)
    values, _ = _run(["NA", "NaN", "2.50"], "numeric")
    assert values == [None, "NaN", "2.50"]


def test_per_column_overrides_and_strip() -> None:
    rules = Cleaning(column_null_values={"c": ["NA", ""]})
    values, _ = _run(["NA", "", "N/A"], "text", rules)
    assert values == [None, None, "N/A"]
    values, bad = _run(["NA", "-"], "int64", rules)  # the column's list replaces null_values
    assert values == [None, None] and bad == [False, True]
    values, _ = _run([" padded ", "NA"], "text", Cleaning(strip=True))
    assert values == ["padded", "NA"]


def test_verbatim_only_when_cleaning_changed_nothing() -> None:
    def verbatim(values: list[str | None], kind: Kind) -> bool:
        return coerce(pa.array(values, pa.string()), ColumnSpec("c", kind), Cleaning()).verbatim

    assert verbatim(["1", None, "3"], "int64")
    assert not verbatim(["1", "NA"], "int64")  # COPY would refuse NA in an integer
    assert not verbatim(["1", ""], "int64")  # nor "" (an empty string, not NULL, to COPY)
    assert not verbatim([" 1"], "int64")
    assert verbatim(["NA", "", None, " x "], "text")
    assert not verbatim(["1,234"], "int64")


def test_timestamps_with_and_without_offsets_in_one_column_take_the_fast_path() -> None:
    arr = pa.array(["2024-03-01 10:00:00", "2024-03-01T12:00:00+02:00", None, "2024-03-01"])
    res = coerce(arr, ColumnSpec("c", "timestamp", tz=True), Cleaning())
    utc = dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    assert res.values.to_pylist() == [utc, utc, None, dt.datetime(2024, 3, 1, tzinfo=dt.UTC)]
    assert res.bad is None and res.fast and res.verbatim
