"""The ledger: an effect and its message id commit together, once."""

from __future__ import annotations

from pathlib import Path

import pytest
from rabbitmq_worker.messages import Task
from rabbitmq_worker.store import Store
from rabbitmq_worker.tasks import Context, PermanentError, TransientError, fail, load_readings

RECORDS = [
    {"sensor": "a", "ts": "2026-11-01T00:00:00", "value": 1.0},
    {"sensor": "a", "ts": "2026-11-01T00:01:00", "value": 2.0},
    {"sensor": "b", "ts": "2026-11-01T00:00:00", "value": None},
    {"sensor": "", "ts": "2026-11-01T00:00:00", "value": 1.0},
    {"sensor": "c", "ts": "2026-11-01T00:00:00", "value": "NaN"},
    "garbage",
]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    s.ensure_schema()
    return s


def test_a_redelivered_batch_adds_nothing_twice(store: Store) -> None:
    task = Task("m-1", "load_readings", {"records": RECORDS})
    first = load_readings(task, Context(store, 0))
    second = load_readings(task, Context(store, 0))
    assert (first.duplicate, second.duplicate) == (False, True)
    assert store.query("SELECT sensor, readings, value_sum FROM sensor_totals ORDER BY 1") == [
        ("a", 2, 3.0),
        ("b", 1, 0.0),
    ]
    reasons = store.query("SELECT position, reason FROM rejected_readings ORDER BY 1")
    assert [p for p, _ in reasons] == [3, 4, 5]
    assert store.query("SELECT records FROM processed_messages") == [(6,)]


def test_a_failing_effect_rolls_back_the_ledger_row_too(store: Store) -> None:
    def effect(tx: object) -> int:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.apply_once("m-2", "x", effect)  # type: ignore[arg-type]
    assert store.query("SELECT COUNT(*) FROM processed_messages") == [(0,)]


def test_bad_arguments_are_permanent_and_flaky_tasks_pass_later(store: Store) -> None:
    with pytest.raises(PermanentError):
        load_readings(Task("m-3", "load_readings", {"records": "x"}), Context(store, 0))
    flaky = Task("m-4", "fail", {"times": 2})
    for attempt in (0, 1):
        with pytest.raises(TransientError):
            fail(flaky, Context(None, attempt))
    assert not fail(flaky, Context(None, 2)).duplicate


def test_an_unknown_database_scheme_is_a_user_error() -> None:
    from de_common.errors import UserError

    with pytest.raises(UserError, match="DATABASE_URL"):
        Store("mysql://x")
