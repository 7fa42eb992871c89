"""Quality checks of one loaded interval, run against PostgreSQL after the load."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import psycopg2

from airflow_dags.interval import Interval


class QualityFailed(RuntimeError):
    """The loaded interval breaks a check; the message names every broken one."""


@dataclass(frozen=True)
class OrdersQuality:
    rows: int
    distinct_ids: int
    null_keys: int
    negative_amounts: int
    outside_interval: int


def measure(
    database_url: str, table: str, interval: Interval, ids: tuple[int, int]
) -> OrdersQuality:
    """Counts over the interval's rows (by updated_at) and over the loaded id range."""
    sql = f"""
        SELECT count(*) FILTER (WHERE inside),
               count(DISTINCT id) FILTER (WHERE inside),
               count(*) FILTER (WHERE inside AND id IS NULL),
               count(*) FILTER (WHERE inside AND amount::numeric < 0),
               count(*) FILTER (WHERE NOT inside AND id::bigint BETWEEN %(lo)s AND %(hi)s)
        FROM (SELECT id, amount,
                     updated_at::timestamptz >= %(start)s AND updated_at::timestamptz < %(end)s
                       AS inside
              FROM "{table}") t
    """  # noqa: S608 - the table name is a setting, quoted; values are parameters
    params = {"start": interval.start, "end": interval.end, "lo": ids[0], "hi": ids[1]}
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    conn.close()
    assert row is not None
    return OrdersQuality(*(int(v) for v in row))


def check(found: OrdersQuality, expected_rows: int) -> dict[str, Any]:
    """Every check at once, so one failure message names all of them."""
    broken = []
    if found.rows != expected_rows:
        broken.append(f"{found.rows} rows in the interval, {expected_rows} staged")
    if found.distinct_ids != found.rows:
        broken.append(f"{found.rows - found.distinct_ids} duplicate ids")
    if found.null_keys:
        broken.append(f"{found.null_keys} null ids")
    if found.negative_amounts:
        broken.append(f"{found.negative_amounts} negative amounts")
    if found.outside_interval:
        broken.append(f"{found.outside_interval} staged ids dated outside the interval")
    if broken:
        raise QualityFailed("quality check failed: " + "; ".join(broken))
    return asdict(found)
