"""Records: found at their path, keyed, hashed, dated, validated against the JSON Schema."""

from __future__ import annotations

import pytest
from api_fetcher.client import PageError
from api_fetcher.records import Checker, Record, Rejected, dig, digest, later, page_records
from api_fetcher.spec import Endpoint

SCHEMA = {
    "type": "object",
    "required": ["id", "amount"],
    "properties": {"id": {"type": "integer"}, "amount": {"type": "number"}},
}


def endpoint(**extra: object) -> Endpoint:
    data = {"name": "e", "path": "/e", "primary_key": "id", "schema": SCHEMA, **extra}
    return Endpoint.model_validate(data)


def test_dig_follows_dots_and_list_indices() -> None:
    body = {"data": {"items": [{"x": 1}]}, "meta": [{"total": 3}]}
    assert dig(body, "data.items") == [{"x": 1}]
    assert dig(body, "meta.0.total") == 3
    assert dig(body, "data.missing.deeper") is None
    assert dig(body, None) is body


def test_page_records_wants_a_list_or_one_object() -> None:
    assert page_records({"d": [1, 2]}, "d") == [1, 2]
    assert page_records({"d": {"id": 1}}, "d") == [{"id": 1}]
    with pytest.raises(PageError, match="no list of records at 'd'"):
        page_records({"d": "text"}, "d")


def test_checker_keys_hashes_and_dates_valid_records() -> None:
    ep = endpoint(incremental={"cursor_field": "ts", "param": "since"})
    record = Checker(ep).check({"id": 7, "amount": 1.5, "ts": "2024-03-05T10:00:00Z"})
    assert isinstance(record, Record)
    assert record.key == ("7",) and record.cursor == "2024-03-05T10:00:00Z"
    assert record.day == "2024-03-05"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"amount": 1}, "primary key 'id' missing"),
        ({"id": 1, "amount": "n/a"}, "schema: data.amount must be number"),
        ({"id": 2}, "schema: data must contain ['amount']"),
        ("text", "not an object"),
    ],
)
def test_checker_rejects_with_the_reason(raw: object, reason: str) -> None:
    rejected = Checker(endpoint()).check(raw)
    assert isinstance(rejected, Rejected) and rejected.reason.startswith(reason)


def test_digest_ignores_key_order_but_not_values() -> None:
    assert digest({"a": 1, "b": 2}) == digest({"b": 2, "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})


def test_epoch_cursor_dates_and_later_keeps_the_max() -> None:
    ep = endpoint(schema=None, incremental={"cursor_field": "ts", "param": "since"})
    record = Checker(ep).check({"id": 1, "ts": 86_400})
    assert isinstance(record, Record) and record.day == "1970-01-02"
    assert later(None, 3) == 3 and later(5, 3) == 5 and later("b", "a") == "b"
    assert later(1, "x") == 1
