"""Aggregates: merging is the same as one pass; percentiles and top counters."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
from log_analyzer.aggregate import Aggregate, TopCounter, percentiles
from log_analyzer.parsing import SCHEMA
from log_analyzer.report import build_report


def _table(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    ts = 1704067200 + np.sort(rng.integers(0, 3 * 86400, n))
    ips = [f"10.0.0.{i}" for i in rng.integers(0, 50, n)]
    uas = [["Mozilla/5.0", "Googlebot/2.1", "curl/8"][i] for i in rng.integers(0, 3, n)]
    status = rng.choice([200, 404, 500, 301], n)
    return pa.table(
        {
            "ts": ts,
            "ip": ips,
            "method": ["GET"] * n,
            "path": [f"/p{i}" for i in rng.integers(0, 30, n)],
            "protocol": ["HTTP/1.1"] * n,
            "status": status.astype(np.int16),
            "bytes": rng.integers(0, 1000, n),
            "referer": ["-"] * n,
            "ua": uas,
            "vhost": [None] * n,
            "duration_ms": rng.integers(1, 500, n).astype(float),
        },
        schema=SCHEMA,
    )


def test_merge_of_chunks_equals_one_pass() -> None:
    t = _table(5000, 1)
    whole = Aggregate()
    whole.update(t)
    merged = Aggregate()
    for i in range(0, 5000, 700):
        part = Aggregate()
        part.update(t.slice(i, 700))
        merged.merge(part)
    assert build_report(whole) == build_report(merged)
    rep = build_report(whole)
    assert rep["totals"]["requests"] == 5000
    ts = t["ts"].to_numpy()
    days = ts // 86400
    pairs = {
        (d, ip, ua)
        for d, ip, ua in zip(days, t["ip"].to_pylist(), t["ua"].to_pylist(), strict=True)
    }
    per_day = Counter(d for d, _, _ in pairs)
    assert list(rep["unique_visitors_per_day"].values()) == [per_day[d] for d in sorted(per_day)]
    bots = sum(1 for u in t["ua"].to_pylist() if u != "Mozilla/5.0")
    assert rep["bots"]["bot_requests"] == bots


def test_nearest_rank_percentiles_match_numpy() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 2000, 10_001)
    got = percentiles(Counter(values.tolist()), (0.5, 0.9, 0.99))
    for q in (0.5, 0.9, 0.99):
        assert got[f"p{round(q * 100)}"] == float(np.quantile(values, q, method="inverted_cdf"))


def test_top_counter_is_exact_until_capacity_then_bounds_its_error() -> None:
    c = TopCounter(capacity=10)
    c.add_pairs([f"k{i}" for i in range(15)], [100 - i for i in range(15)])
    assert c.max_error == 0 and len(c.counts) == 15
    c.add_pairs([f"x{i}" for i in range(10)], [1] * 10)
    assert len(c.counts) == 10 and c.max_error > 0
    assert c.top(1) == [("k0", 100)]
