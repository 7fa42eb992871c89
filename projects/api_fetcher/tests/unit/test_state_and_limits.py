"""State saved atomically, one run per source at a time, the token bucket's pace, and the
quarantine cut back to the saved length."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from api_fetcher.quarantine import Quarantine
from api_fetcher.ratelimit import TokenBucket
from api_fetcher.state import EndpointState, SourceBusy, StateStore, source_lock

from de_common.errors import UserError


def test_state_round_trips_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = StateStore(tmp_path, "src")
    store.save("orders", EndpointState(cursor="2024-01-02T00:00:00Z", quarantine_bytes=12))
    store.mark_success()
    again = StateStore(tmp_path, "src").get("orders")
    assert (again.cursor, again.quarantine_bytes) == ("2024-01-02T00:00:00Z", 12)
    assert [p.name for p in tmp_path.iterdir()] == ["src.json"]
    assert json.loads((tmp_path / "src.json").read_text())["last_success"]


def test_a_corrupt_state_file_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "src.json").write_text("{not json")
    with pytest.raises(UserError, match=r"state file .* unreadable"):
        StateStore(tmp_path, "src")


def test_a_source_runs_once_at_a_time(tmp_path: Path) -> None:
    with source_lock(tmp_path, "src"):
        busy = pytest.raises(SourceBusy, match="already running")
        with busy, source_lock(tmp_path, "src"):
            pass
    with source_lock(tmp_path, "src"):
        pass  # released: free again


def test_token_bucket_paces_requests_and_pauses_for_retry_after() -> None:
    bucket = TokenBucket(rate=50, burst=1)
    started = time.monotonic()
    for _ in range(11):
        bucket.acquire()
    assert time.monotonic() - started >= 0.19  # 10 waits of 1/50 s after the first token
    bucket.pause(0.3)
    started = time.monotonic()
    bucket.acquire()
    assert time.monotonic() - started >= 0.29


def test_quarantine_is_cut_back_to_the_saved_length(tmp_path: Path) -> None:
    q = Quarantine(tmp_path, "s", "e", 0)
    q.record({"id": 1}, "bad", "page 1")
    saved = q.sync()
    q.record({"id": 2}, "bad", "page 2")  # written, but the state never saved this length
    q.sync()
    q.close()
    again = Quarantine(tmp_path, "s", "e", saved)
    again.record({"id": 2}, "bad", "page 2")
    again.close()
    lines = [json.loads(x) for x in (tmp_path / "s" / "e.jsonl").read_text().splitlines()]
    assert [x["record"]["id"] for x in lines] == [1, 2]
