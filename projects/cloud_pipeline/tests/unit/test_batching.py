"""PutRecords batching limits and backoff, without a service."""

from __future__ import annotations

import random

from cloud_pipeline.producer import BACKOFF_CAP_S, Batching, Entry, backoff, batches


def entry(i: int, size: int) -> Entry:
    return Entry(i, b"x" * (size - 1), "k")


def test_batches_cap_records_at_the_limit_and_keep_order() -> None:
    groups = list(batches((entry(i, 10) for i in range(1_201)), Batching(max_records=500)))
    assert [len(g) for g in groups] == [500, 500, 201]
    assert [e.index for g in groups for e in g] == list(range(1_201))


def test_batches_cap_bytes_counting_data_and_partition_key() -> None:
    limits = Batching(max_records=500, max_bytes=1_000)
    groups = list(batches((entry(i, 300) for i in range(10)), limits))
    assert [len(g) for g in groups] == [3, 3, 3, 1]
    assert all(sum(e.size for e in g) <= 1_000 for g in groups)


def test_a_record_alone_over_the_byte_limit_still_forms_its_own_batch() -> None:
    groups = list(batches([entry(0, 10), entry(1, 2_000), entry(2, 10)], Batching(max_bytes=1_000)))
    assert [[e.index for e in g] for g in groups] == [[0], [1], [2]]


def test_backoff_is_full_jitter_doubling_to_a_cap() -> None:
    rng = random.Random(1)
    for attempt in range(1, 12):
        ceiling = min(BACKOFF_CAP_S, 0.1 * 2**attempt)
        waits = [backoff(attempt, 0.1, rng) for _ in range(200)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8  # the whole range is used, not a fixed delay
