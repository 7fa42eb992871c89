"""Numbers are never silently rescaled: a thousands separator only between groups of three
digits, a decimal comma detected per column (and from a ';' delimiter), anything else rejected."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from csv_to_postgres.coercion import coerce
from csv_to_postgres.columns import ColumnSpec, Kind
from csv_to_postgres.config import Cleaning
from csv_to_postgres.inference import infer
from csv_to_postgres.number_format import detect_decimal, resolve


def _run(values: list[str], kind: Kind, rules: Cleaning) -> tuple[list[Any], list[bool], str]:
    res = coerce(pa.array(values, pa.string()), ColumnSpec("c", kind), rules)
    bad = [False] * len(values) if res.bad is None else res.bad.tolist()
    return res.values.to_pylist(), bad, res.reason


POINT = Cleaning()
COMMA = Cleaning(column_decimal={"c": ","})


@pytest.mark.parametrize(
    ("values", "mark"),
    [
        (["2202,72", "15", "0,5"], ","),
        (["1.234,56", "12"], ","),
        (["1.234.567", "12"], ","),  # two dots: the dots group thousands
        (["0,125"], ","),  # no thousands group is "0"
        (["2202,720"], ","),  # nor has four digits
        (["1,234.56", "3"], "."),
        (["1,234,567"], "."),
        (["3.14", "2.5"], "."),
        (["1,234", "5,678"], None),  # three digits after the mark: either reading fits
        (["12", "7", None], None),
        (["abc", "x,y"], None),
        (["2202,72", "3.14", "1.5"], "."),  # mixed: the majority decides, the rest is rejected
    ],
)
def test_decimal_mark_detected_from_the_values(values: list[str | None], mark: str | None) -> None:
    assert detect_decimal(pa.array(values, pa.string())) == mark


def test_resolve_per_column_with_the_delimiter_as_the_tie_breaker() -> None:
    sample = pa.table(
        {
            "amount": pa.array(["2202,72", "1,5"]),
            "price": pa.array(["3.14", "2.50"]),
            "qty": pa.array(["1.234", "12"]),
        }
    )
    semicolon = resolve(Cleaning(), sample, ";")
    assert semicolon.column_decimal == {"amount": ",", "price": ".", "qty": ","}
    comma = resolve(Cleaning(), sample, ",")
    assert comma.column_decimal == {"amount": ",", "price": ".", "qty": "."}
    # configured marks win: the column's first, then the file's
    forced = resolve(Cleaning(decimal=".", column_decimal={"qty": ","}), sample, ";")
    assert forced.column_decimal == {"amount": ".", "price": ".", "qty": ","}
    assert forced.number_format("qty") == (".", ",")
    assert Cleaning(thousands="'", decimal=".").number_format("x") == ("'", ".")


def test_thousands_removed_only_in_groups_of_three() -> None:
    values, bad, reason = _run(
        ["1,234,567", "-12,345.60", "12,34", "2202,72", "1,2345", "7"], "float", POINT
    )
    assert values[:2] == [1234567.0, -12345.6] and values[5] == 7.0
    assert bad == [False, False, True, True, True, False]
    assert (
        reason
        == "not a number (decimal mark '.', thousands ',' only between groups of three digits)"
    )
    values, bad, _ = _run(["1,234", "2202,72", "12"], "int64", POINT)
    assert values == [1234, None, 12] and bad == [False, True, False]  # never 220272


def test_decimal_comma_columns() -> None:
    values, bad, reason = _run(
        ["2202,72", "1.234,56", "-0,5", "1.234", "1.5", "1,2,3", "12"], "float", COMMA
    )
    assert values[:4] == [2202.72, 1234.56, -0.5, 1234.0] and values[6] == 12.0
    assert bad == [
        False,
        False,
        False,
        False,
        True,
        True,
        False,
    ]  # a '.' is never a decimal point here
    assert "decimal mark ','" in reason
    values, bad, _ = _run(["2202,72", "1.234,00"], "numeric", COMMA)
    assert values == ["2202.72", "1234.00"] and bad == [False, False]
    values, bad, reason = _run(["2202,72", "1.234"], "int64", COMMA)
    assert values == [None, 1234] and bad == [True, False]
    assert reason.startswith("not an integer in int64 range (decimal mark ','")


def test_no_thousands_separator_when_told_none() -> None:
    values, bad, _ = _run(["1,234", "1234"], "int64", Cleaning(thousands=""))
    assert values == [None, 1234] and bad == [True, False]
    values, bad, _ = _run(["1.5", "2,25"], "float", Cleaning(thousands="", decimal=","))
    assert values == [None, 2.25] and bad == [True, False]


def test_inference_reads_european_amounts_as_decimals_not_integers() -> None:
    sample = pa.table(
        {
            "id": pa.array(["1", "2", "3"]),
            "amount": pa.array(["2202,72", "15,00", "-3,5"]),
            "total": pa.array(["1.234,56", "999,99", "12"]),
            "qty": pa.array(["1.234", "12", "7"]),
        }
    )
    rules = resolve(Cleaning(), sample, ";")
    kinds = {c.name: c.kind for c in infer("t", sample, rules, ["id"]).columns}
    assert kinds == {"id": "int64", "amount": "float", "total": "float", "qty": "int64"}
    # the same amounts in a ','-delimited file (quoted) are still read as decimals
    rules = resolve(Cleaning(), sample, ",")
    assert {c.name: c.kind for c in infer("t", sample, rules).columns}["amount"] == "float"
