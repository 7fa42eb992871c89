"""A seeded, production-shaped landing zone: skewed keys, late and duplicate records, messy values.

Vectorised with numpy and pyarrow so tens of millions of rows take a minute, not an hour. The
layout: trips/dt=YYYY-MM-DD/part-NNNNN.csv (the day each record landed), zones.csv, drivers.csv.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spark_etl.schemas import TRIP_COLUMNS

ZONES = 265
DRIVERS = 5_000
BOROUGHS = ["Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island", "EWR"]
FLEETS = ["yellow", "green", "fhv-a", "fhv-b", "fhv-c"]
UNKNOWN_ZONE = 999
UNKNOWN_DRIVER = 99_999
PAYMENTS = ["card", "cash", "Card", " CASH ", "dispute", "", "NULL", "null", "N/A", "none", "-"]
PAYMENT_WEIGHTS = [0.55, 0.25, 0.05, 0.03, 0.02, 0.03, 0.02, 0.02, 0.01, 0.01, 0.01]
BAD_FARES = ["abc", "12,50", "NULL", "1.2.3"]
BAD_TIMESTAMPS = ["2026-13-45 25:61:00", "yesterday", "2026/11/03 10:00"]
GARBAGE = ["###garbage###", "trip,cut,short", "\u00ff\u00fe junk;;"]
CHUNK = 1_000_000


@dataclass(frozen=True)
class Shape:
    """What to generate: `rows` landed over `days` days from `start`, reproducibly from `seed`."""

    rows: int
    days: int
    start: date
    seed: int = 42


def write_dimensions(root: Path) -> None:
    """zones.csv (every third zone in the busiest borough) and drivers.csv."""
    root.mkdir(parents=True, exist_ok=True)
    zone_lines = ["zone_id,zone_name,borough"]
    for zone in range(1, ZONES + 1):
        borough = BOROUGHS[0] if zone % 3 == 0 else BOROUGHS[zone % len(BOROUGHS)]
        zone_lines.append(f"{zone},Zone {zone},{borough}")
    (root / "zones.csv").write_text("\n".join(zone_lines) + "\n")
    driver_lines = ["driver_id,fleet"]
    driver_lines += [f"{d},{FLEETS[d % len(FLEETS)]}" for d in range(1, DRIVERS + 1)]
    (root / "drivers.csv").write_text("\n".join(driver_lines) + "\n")


def _money(cents: np.ndarray) -> pa.Array:
    sign = pa.array(np.where(cents < 0, "-", ""))
    whole = pc.cast(pa.array(np.abs(cents) // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(np.abs(cents) % 100), pa.string()), 2, "0")
    return pc.binary_join_element_wise(sign, whole, ".", frac, "")


def _timestamps(seconds: np.ndarray) -> pa.Array:
    stamps = pa.array(seconds.astype("datetime64[s]"))
    return pc.strftime(stamps, format="%Y-%m-%d %H:%M:%S")


def _replace(
    column: pa.Array, mask: np.ndarray, values: list[str], rng: np.random.Generator
) -> pa.Array:
    picks = pa.array(rng.choice(values, size=len(mask)))
    return pc.if_else(pa.array(mask), picks, column)


def _chunk(landed: date, first_id: int, n: int, rng: np.random.Generator) -> pa.Array:
    """n CSV lines (no header) landed on `landed`."""
    day0 = np.datetime64(landed.isoformat(), "s").astype(np.int64)
    # Event day relative to the landing day: mostly the same day, some late, a few too late or
    # from a driver's clock set to tomorrow.
    offsets = rng.choice([0, -1, -2, -3, -5, 1], size=n, p=[0.93, 0.04, 0.02, 0.004, 0.004, 0.002])
    event = day0 + offsets * 86_400 + rng.integers(0, 86_400, size=n)
    ids = first_id + np.arange(n)
    # Resends: 3% of rows repeat an earlier trip of the chunk, half of them as a later correction.
    dup = rng.random(n) < 0.03
    dup[0] = False
    src = np.where(dup, rng.integers(0, np.maximum(np.arange(n), 1)), np.arange(n))
    ids = ids[src]
    event = event[src]
    updated = event + rng.integers(0, 3_600, size=n)[src]
    correction = dup & (rng.random(n) < 0.5)
    updated = updated + np.where(correction, rng.integers(60, 7_200, size=n), 0)
    # Skewed keys: a few hot zones and drivers carry most trips.
    pickup = np.minimum(rng.zipf(1.3, size=n), ZONES)[src]
    pickup = np.where(rng.random(n) < 0.003, UNKNOWN_ZONE, pickup)
    dropoff = rng.integers(1, ZONES + 1, size=n)[src]
    driver = np.minimum(rng.zipf(1.2, size=n), DRIVERS)[src]
    driver = np.where(rng.random(n) < 0.002, UNKNOWN_DRIVER, driver)
    distance = np.round(rng.gamma(2.0, 2.5, size=n) * 100).astype(np.int64)[src]
    fare = 250 + distance * 17 // 10 + rng.integers(0, 300, size=n)[src]
    fare = np.where(correction, fare + rng.integers(-200, 200, size=n), fare)
    distance = np.where(rng.random(n) < 0.003, -distance - 1, distance)
    fare = np.where(rng.random(n) < 0.002, fare + 150_000, fare)
    payment = rng.choice(PAYMENTS, size=n, p=PAYMENT_WEIGHTS)

    trip_id = pc.binary_join_element_wise(
        "t", pc.utf8_lpad(pc.cast(pa.array(ids), pa.string()), 10, "0"), ""
    )
    columns = {
        "trip_id": trip_id,
        "event_ts": _timestamps(event),
        "updated_at": _timestamps(updated),
        "pickup_zone": pc.cast(pa.array(pickup), pa.string()),
        "dropoff_zone": pc.cast(pa.array(dropoff), pa.string()),
        "driver_id": pc.cast(pa.array(driver), pa.string()),
        "distance_km": _money(distance),
        "fare": _money(fare),
        "payment_type": pa.array(payment),
    }
    # Messy values spread through: unparseable fares and timestamps, missing required fields.
    columns["fare"] = _replace(columns["fare"], rng.random(n) < 0.004, BAD_FARES, rng)
    columns["event_ts"] = _replace(columns["event_ts"], rng.random(n) < 0.002, BAD_TIMESTAMPS, rng)
    columns["trip_id"] = _replace(columns["trip_id"], rng.random(n) < 0.001, [""], rng)
    columns["pickup_zone"] = _replace(columns["pickup_zone"], rng.random(n) < 0.001, [""], rng)
    lines = pc.binary_join_element_wise(*[columns[c] for c in TRIP_COLUMNS], ",")
    lines = _replace(lines, rng.random(n) < 0.001, GARBAGE, rng)
    # Out of order within the file, as a real export is.
    return lines.take(pa.array(rng.permutation(n)))


def write_landing(root: Path, shape: Shape) -> int:
    """Write the landing zone under root; returns the number of trip lines written."""
    write_dimensions(root)
    rng = np.random.default_rng(shape.seed)
    per_day = [
        shape.rows // shape.days + (1 if d < shape.rows % shape.days else 0)
        for d in range(shape.days)
    ]
    header = ",".join(TRIP_COLUMNS) + "\n"
    next_id = 1
    for day, count in enumerate(per_day):
        landed = shape.start + timedelta(days=day)
        folder = root / "trips" / f"dt={landed.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        for part, begin in enumerate(range(0, max(count, 1), CHUNK)):
            n = min(CHUNK, count - begin)
            body = _chunk(landed, next_id, n, rng) if n > 0 else pa.array([], pa.string())
            next_id += n
            with (folder / f"part-{part:05d}.csv").open("w", encoding="utf-8") as out:
                out.write(header)
                for line in body.to_pylist() if n < 50_000 else _batches(body):
                    out.write(line + "\n")
    return shape.rows


def _batches(lines: pa.Array) -> list[str]:
    # One big join per chunk is far faster than a Python loop over millions of rows.
    return ["\n".join(lines.to_pylist())]
