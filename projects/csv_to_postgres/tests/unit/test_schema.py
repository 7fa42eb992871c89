from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from csv_to_postgres.columns import ColumnSpec, TableSpec, ddl
from csv_to_postgres.config import Cleaning
from csv_to_postgres.contract import compare, resolve
from csv_to_postgres.dedupe import KeyTracker
from csv_to_postgres.inference import infer
from sqlalchemy.dialects import postgresql

from de_common.errors import UserError


def _strings(**cols: list[str]) -> pa.Table:
    return pa.table({k: pa.array(v, pa.string()) for k, v in cols.items()})


def test_inference_picks_the_narrowest_kind() -> None:
    sample = _strings(
        id=["1", "2", "3"],
        zip=["01234", "12345", "99999"],
        price=["1.5", "2", "NA"],
        flag=["yes", "no", "yes"],
        day=["2024-01-01", "2024-01-02", ""],
        at=["2024-01-01T00:00:00Z", "2024-01-02T00:00:00+01:00", "2024-01-03T00:00:00Z"],
        note=["a", "b", "c"],
    )
    spec = infer("t", sample, Cleaning(), ["id"])
    kinds = {c.name: c.kind for c in spec.columns}
    assert kinds == {
        "id": "int64",
        "zip": "text",
        "price": "float",
        "flag": "bool",
        "day": "date",
        "at": "timestamp",
        "note": "text",
    }
    assert spec.primary_key == ["id"]
    text = ddl(spec, postgresql.dialect())
    assert "PRIMARY KEY (id)" in text and "TIMESTAMP WITH TIME ZONE" in text


TABLE = TableSpec(
    "t",
    [ColumnSpec("id", "int64", False, True), ColumnSpec("n", "int32"), ColumnSpec("opt", "text")],
)


def test_contract_fails_clearly_on_new_missing_changed() -> None:
    sample = _strings(id=["1", "2"], n=["a", "b"], extra=["x", "y"])
    drift = compare(TABLE, sample, Cleaning())
    assert [c.name for c in drift.new] == ["extra"]
    assert [c.name for c in drift.missing] == ["opt"]
    assert [(c.name, k) for c, k in drift.changed] == [("n", "text")]
    with pytest.raises(
        UserError, match=r"new column.*extra.*missing column.*opt.*changed column.*n"
    ):
        resolve(TABLE, drift, "fail")


def test_contract_evolve_plans_add_and_widen() -> None:
    sample = _strings(id=["1"], n=["1.5"], opt=["x"], extra=["2024-01-01"])
    plan = resolve(TABLE, compare(TABLE, sample, Cleaning()), "evolve")
    assert [(c.name, c.kind) for c in plan.new] == [("extra", "date")]
    assert [(c.name, k) for c, k in plan.changed] == [("n", "float")]


def test_a_few_dirty_values_are_rejects_not_a_schema_change() -> None:
    sample = _strings(id=["1", "2", "3"], n=["1", "2", "oops"], opt=["", "", ""])
    assert not compare(TABLE, sample, Cleaning())


def test_missing_required_column_fails_even_when_evolving() -> None:
    sample = _strings(n=["1"])
    with pytest.raises(UserError, match="required"):
        resolve(TABLE, compare(TABLE, sample, Cleaning()), "evolve")


def test_key_tracker_flags_repeats_within_and_across_chunks() -> None:
    tracker = KeyTracker(["id"])
    first = tracker.suspects(pa.table({"id": pa.array([1, 2, 2, 3], pa.int64())}))
    assert first.tolist() == [False, False, True, False]
    second = tracker.suspects(pa.table({"id": pa.array([4, 1, 5], pa.int64())}))
    assert second.tolist() == [False, True, False]
    for i in range(20):  # force run merging
        tracker.suspects(pa.table({"id": pa.array([100 + i], pa.int64())}))
    assert tracker.suspects(pa.table({"id": pa.array([3, 105, 999], pa.int64())})).tolist() == [
        True,
        True,
        False,
    ]


def test_key_tracker_composite_text_keys() -> None:
    tracker = KeyTracker(["a", "b"])
    t = pa.table({"a": ["x", "x", "y", "x"], "b": ["1", "2", "1", "1"]})
    assert np.array_equal(tracker.suspects(t), [False, False, False, True])
