"""Aggregates that are updated per chunk and merged across chunks and worker processes."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BOT_PATTERN = re.compile(
    r"bot|crawl|spider|slurp|archiver|facebookexternalhit|bingpreview|curl|wget|python-requests|"
    r"python-urllib|go-http-client|libwww|httpclient|okhttp|headless|phantomjs|scrapy|monitor|"
    r"pingdom|uptime|feedfetcher|mediapartners|ahrefs|semrush|yandex|baidu",
    re.IGNORECASE,
)
TOP_CAPACITY = 200_000


def is_bot(ua: str) -> bool:
    """A user agent that names itself a crawler, monitor or scripted client."""
    return bool(BOT_PATTERN.search(ua))


@dataclass
class TopCounter:
    """Exact counts while there are at most `capacity` keys, then pruned (Misra-Gries style)."""

    capacity: int = TOP_CAPACITY
    counts: Counter[str] = field(default_factory=Counter)
    max_error: int = 0  # an upper bound on how much any reported count may be short

    def add_pairs(self, keys: list[str], values: list[int]) -> None:
        counts = self.counts
        for k, v in zip(keys, values, strict=True):
            counts[k] += v
        if len(counts) > 2 * self.capacity:
            self._prune()

    def merge(self, other: TopCounter) -> None:
        self.counts.update(other.counts)
        self.max_error += other.max_error
        if len(self.counts) > 2 * self.capacity:
            self._prune()

    def _prune(self) -> None:
        kept = self.counts.most_common(self.capacity)
        dropped = kept[-1][1] if kept else 0
        self.max_error += dropped
        self.counts = Counter(dict(kept))

    def top(self, n: int) -> list[tuple[str, int]]:
        return self.counts.most_common(n)


def _value_counts(arr: pa.Array) -> tuple[list[str], list[int]]:
    vc = pc.value_counts(pc.drop_null(arr))
    return vc.field("values").to_pylist(), vc.field("counts").to_pylist()


@dataclass
class Aggregate:
    """Everything the report needs, mergeable: counters, time buckets, visitor hashes, latency."""

    requests: int = 0
    bytes: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    status: Counter[int] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    paths: TopCounter = field(default_factory=TopCounter)
    ips: TopCounter = field(default_factory=TopCounter)
    uas: TopCounter = field(default_factory=TopCounter)
    referers: TopCounter = field(default_factory=TopCounter)
    bot_requests: int = 0
    # minute (epoch // 60) -> [requests, 4xx, 5xx, bytes]
    minutes: dict[int, list[int]] = field(default_factory=dict)
    # day (epoch // 86400) -> 64-bit hashes of ip + user agent (exact distinct count); the
    # first array is sorted and unique, later ones are pending until compaction
    visitors: dict[int, list[np.ndarray]] = field(default_factory=dict)
    # hour (epoch // 3600) -> {duration in whole ms: requests}
    latency: dict[int, Counter[int]] = field(default_factory=dict)
    timed_requests: int = 0

    def update(self, t: pa.Table) -> None:
        """Fold one chunk of typed rows (parsing.SCHEMA) into the aggregate."""
        n = t.num_rows
        if n == 0:
            return
        self.requests += n
        self.bytes += int(pc.sum(t["bytes"]).as_py() or 0)
        mm = pc.min_max(t["ts"]).as_py()
        lo, hi = int(mm["min"]), int(mm["max"])
        self.first_ts = lo if self.first_ts is None else min(self.first_ts, lo)
        self.last_ts = hi if self.last_ts is None else max(self.last_ts, hi)
        codes, vals = _value_counts(t["status"])
        self.status.update({int(c): v for c, v in zip(codes, vals, strict=True)})
        keys, vals = _value_counts(t["method"])
        self.methods.update(dict(zip(keys, vals, strict=True)))
        self.paths.add_pairs(*_value_counts(t["path"]))
        self.ips.add_pairs(*_value_counts(t["ip"]))
        referer = pc.if_else(pc.equal(t["referer"], "-"), None, t["referer"])
        self.referers.add_pairs(*_value_counts(pc.if_else(pc.equal(referer, ""), None, referer)))
        ua_keys, ua_vals = _value_counts(t["ua"])
        self.uas.add_pairs(ua_keys, ua_vals)
        self.bot_requests += sum(v for k, v in zip(ua_keys, ua_vals, strict=True) if is_bot(k))
        self._update_minutes(t)
        self._update_visitors(t)
        self._update_latency(t)

    def _update_minutes(self, t: pa.Table) -> None:
        status = t["status"]
        minute = pc.divide(t["ts"], 60)
        c4 = pc.cast(pc.and_(pc.greater_equal(status, 400), pc.less(status, 500)), pa.int64())
        c5 = pc.cast(pc.greater_equal(status, 500), pa.int64())
        g = (
            pa.table({"m": minute, "c4": c4, "c5": c5, "b": t["bytes"]})
            .group_by("m")
            .aggregate([("m", "count"), ("c4", "sum"), ("c5", "sum"), ("b", "sum")])
        )
        cols = [g[c].to_pylist() for c in ("m", "m_count", "c4_sum", "c5_sum", "b_sum")]
        minutes = self.minutes
        for m, cnt, s4, s5, b in zip(*cols, strict=True):
            row = minutes.get(m)
            if row is None:
                minutes[m] = [cnt, s4, s5, b]
            else:
                row[0] += cnt
                row[1] += s4
                row[2] += s5
                row[3] += b

    def _update_visitors(self, t: pa.Table) -> None:
        # distinct (day, ip, ua) via dictionary indices, hashing only the distinct strings
        ip = pc.dictionary_encode(pc.fill_null(t["ip"].combine_chunks(), ""))
        ua = pc.dictionary_encode(pc.fill_null(t["ua"].combine_chunks(), ""))
        day = t["ts"].to_numpy() // 86400
        ip_i = ip.indices.to_numpy().astype(np.int64)
        ua_i = ua.indices.to_numpy().astype(np.int64)
        d0 = int(day.min())
        key = ((day - d0) << 42) | (ip_i << 21) | ua_i
        uniq = np.sort(pc.unique(pa.array(key)).to_numpy())
        h_ip = _hash_strings(ip.dictionary)
        h_ua = _hash_strings(ua.dictionary)
        with np.errstate(over="ignore"):
            hashes = (
                h_ip[(uniq >> 21) & 0x1FFFFF] * np.uint64(0x9E3779B97F4A7C15)
                + h_ua[uniq & 0x1FFFFF]
            )
        days = (uniq >> 42) + d0
        for d in np.unique(days).tolist():
            self._add_visitors(int(d), hashes[days == d])

    def _add_visitors(self, day: int, new: np.ndarray) -> None:
        parts = self.visitors.setdefault(day, [])
        parts.append(new)
        pending = sum(len(p) for p in parts[1:])
        if pending > max(len(parts[0]), 1 << 18):
            # amortised compaction: merge only when the pending parts outgrow the sorted base
            self.visitors[day] = [np.unique(np.concatenate(parts))]

    def visitor_counts(self) -> dict[int, int]:
        """Exact distinct visitors per day (compacts the pending hash parts)."""
        out = {}
        for day, parts in self.visitors.items():
            merged = np.unique(np.concatenate(parts))
            self.visitors[day] = [merged]
            out[day] = len(merged)
        return out

    def _update_latency(self, t: pa.Table) -> None:
        dur = t["duration_ms"]
        if dur.null_count == len(dur):
            return
        valid = pc.is_valid(dur)
        ms = pc.cast(pc.round(pc.filter(dur, valid)), pa.int64())
        hour = pc.divide(pc.filter(t["ts"], valid), 3600)
        self.timed_requests += len(ms)
        g = pa.table({"h": hour, "ms": ms}).group_by(["h", "ms"]).aggregate([("ms", "count")])
        for h, v, c in zip(
            g["h"].to_pylist(), g["ms"].to_pylist(), g["ms_count"].to_pylist(), strict=True
        ):
            self.latency.setdefault(h, Counter())[v] += c

    def merge(self, o: Aggregate) -> None:
        """Add another aggregate (from another chunk, range or worker) into this one."""
        self.requests += o.requests
        self.bytes += o.bytes
        for attr, pick in (("first_ts", min), ("last_ts", max)):
            mine, theirs = getattr(self, attr), getattr(o, attr)
            setattr(
                self,
                attr,
                theirs if mine is None else mine if theirs is None else pick(mine, theirs),
            )
        self.status.update(o.status)
        self.methods.update(o.methods)
        self.paths.merge(o.paths)
        self.ips.merge(o.ips)
        self.uas.merge(o.uas)
        self.referers.merge(o.referers)
        self.bot_requests += o.bot_requests
        for m, row in o.minutes.items():
            mine_row = self.minutes.get(m)
            if mine_row is None:
                self.minutes[m] = list(row)
            else:
                for i, v in enumerate(row):
                    mine_row[i] += v
        for d, parts in o.visitors.items():
            for part in parts:
                self._add_visitors(d, part)
        for h, hist in o.latency.items():
            self.latency.setdefault(h, Counter()).update(hist)
        self.timed_requests += o.timed_requests


def _hash_strings(values: pa.Array) -> np.ndarray:
    # pandas' vectorised SipHash with its fixed key: the same 64 bits in every process and run,
    # so results of workers merge (pyarrow has already imported pandas for its conversions)
    from pandas.util import hash_array

    hashed: np.ndarray = hash_array(values.to_numpy(zero_copy_only=False).astype(object))
    return hashed


def percentiles(hist: Counter[int], qs: tuple[float, ...]) -> dict[str, float]:
    """Nearest-rank percentiles (the smallest value with at least q of the requests at or below)."""
    total = sum(hist.values())
    if total == 0:
        return {}
    values = np.array(sorted(hist), dtype=np.int64)
    cum = np.cumsum([hist[v] for v in values])
    out: dict[str, float] = {}
    for q in qs:
        rank = max(1, int(np.ceil(q * total - 1e-9)))
        out[f"p{round(q * 100):d}"] = float(values[int(np.searchsorted(cum, rank))])
    return out
