"""The task contract: schema validation, stable ids, and `validate` accounting for every line."""

from __future__ import annotations

from pathlib import Path

import pytest
from rabbitmq_worker import jobs
from rabbitmq_worker.messages import InvalidTask, parse, task_from_delivery, task_from_line

TASKS = Path(__file__).parent / "data" / "tasks.jsonl"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "schema"),
        (b'{"task": "noop"}', "schema"),
        (b'{"task": "drop_tables", "args": {}}', "schema"),
        (b'{"task": "noop", "args": {}, "x": 1}', "schema"),
        (b'{"task": "noop", "args": []}', "schema"),
    ],
)
def test_invalid_bodies_name_the_problem(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidTask, match=reason):
        parse(body)


def test_ids_come_from_the_line_or_are_stable_per_source_and_content() -> None:
    explicit = task_from_line(b'{"id": "abc", "task": "noop", "args": {}}', "f:1")
    assert explicit.message_id == "abc"
    line = b'{"task": "noop", "args": {"n": 1}}'
    first, again = task_from_line(line, "f:2"), task_from_line(line, "f:2")
    elsewhere = task_from_line(line, "f:3")
    assert first.message_id == again.message_id != elsewhere.message_id


def test_a_delivery_keeps_its_message_id_and_gets_one_from_the_body_without() -> None:
    body = b'{"task": "noop", "args": {}}'
    assert task_from_delivery(body, "m-1").message_id == "m-1"
    assert task_from_delivery(body, None).message_id == task_from_delivery(body, None).message_id


def test_the_wire_body_round_trips() -> None:
    task = task_from_line(b'{"id": "x", "task": "sleep", "args": {"seconds": 1}}', "f:1")
    back = task_from_delivery(task.body(), task.message_id)
    assert back == task


def test_validate_accounts_for_every_line() -> None:
    summary = jobs.validate([str(TASKS)])
    assert summary.records_in == len(TASKS.read_bytes().splitlines()) == 8
    assert (summary.records_out, summary.records_rejected) == (3, 4)
    assert summary.records_skipped == {"blank": 1}
    assert [r["line"] for r in summary.details["rejects"]] == [5, 6, 7, 8]
