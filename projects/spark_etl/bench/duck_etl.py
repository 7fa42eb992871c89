"""The same transformation written independently in DuckDB SQL: the tests' expectation and the
benchmark's anchor. It parses the CSV lines itself (split on commas, TRY_CAST), so it shares no
parsing, classification or aggregation code with the Spark job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

FIELDS = 9
SQL = """
CREATE OR REPLACE TEMP TABLE classified AS
WITH raw AS (
    SELECT line,
           CAST(regexp_extract(filename, 'dt=(\\d{4}-\\d{2}-\\d{2})', 1) AS DATE) AS landed_on
    FROM read_csv($files, columns = {'line': 'VARCHAR'}, delim = '\\x01', quote = '',
                  escape = '', header = true, auto_detect = false, filename = true)
),
split AS (
    SELECT landed_on, line, string_split(line, ',') AS f FROM raw
),
texts AS (
    SELECT landed_on, line, len(f) = 9 AS shaped,
           nullif(f[1], '') AS s_trip, nullif(f[2], '') AS s_event, nullif(f[3], '') AS s_upd,
           nullif(f[4], '') AS s_pu, nullif(f[5], '') AS s_do, nullif(f[6], '') AS s_drv,
           nullif(f[7], '') AS s_km, nullif(f[8], '') AS s_fare, nullif(f[9], '') AS s_pay
    FROM split
),
typed AS (
    SELECT *,
           s_trip AS trip_id,
           try_strptime(s_event, '%Y-%m-%d %H:%M:%S') AS event_ts,
           try_strptime(s_upd, '%Y-%m-%d %H:%M:%S') AS updated_at,
           TRY_CAST(s_pu AS INTEGER) AS pickup_zone,
           TRY_CAST(s_do AS INTEGER) AS dropoff_zone,
           TRY_CAST(s_drv AS INTEGER) AS driver_id,
           TRY_CAST(s_km AS DECIMAL(8, 2)) AS distance_km,
           TRY_CAST(s_fare AS DECIMAL(10, 2)) AS fare
    FROM texts
),
flagged AS (
    SELECT t.*, z.borough AS pickup_borough, d.fleet,
           NOT shaped
             OR (s_event IS NOT NULL AND event_ts IS NULL)
             OR (s_upd IS NOT NULL AND updated_at IS NULL)
             OR (s_pu IS NOT NULL AND t.pickup_zone IS NULL)
             OR (s_do IS NOT NULL AND dropoff_zone IS NULL)
             OR (s_drv IS NOT NULL AND t.driver_id IS NULL)
             OR (s_km IS NOT NULL AND distance_km IS NULL)
             OR (s_fare IS NOT NULL AND fare IS NULL) AS malformed
    FROM typed t
    LEFT JOIN zones z ON z.zone_id = t.pickup_zone
    LEFT JOIN (SELECT driver_id AS d_id, fleet FROM drivers) d ON d.d_id = t.driver_id
),
reasoned AS (
    SELECT *,
           CASE
             WHEN malformed THEN 'malformed'
             WHEN trip_id IS NULL OR event_ts IS NULL OR updated_at IS NULL
                  OR pickup_zone IS NULL OR dropoff_zone IS NULL OR driver_id IS NULL
                  OR distance_km IS NULL OR fare IS NULL THEN 'missing_field'
             WHEN CAST(event_ts AS DATE) > landed_on THEN 'clock_skew'
             WHEN CAST(event_ts AS DATE) < landed_on - $lateness THEN 'too_late'
             WHEN fare < 0 OR fare > 1000 OR distance_km < 0 OR distance_km > 500
               THEN 'out_of_range'
             WHEN pickup_borough IS NULL THEN 'unknown_zone'
             WHEN fleet IS NULL THEN 'unknown_driver'
           END AS reason
    FROM flagged
),
dated AS (
    SELECT *,
           CASE WHEN reason IN ('malformed', 'missing_field', 'clock_skew', 'too_late')
                THEN landed_on ELSE CAST(event_ts AS DATE) END AS date
    FROM reasoned
)
SELECT *,
       CASE WHEN date NOT BETWEEN $first AND $last THEN 'other_date'
            WHEN reason = 'too_late' THEN 'too_late'
            WHEN reason IS NOT NULL THEN 'rejected'
            ELSE 'ok' END AS outcome,
       CASE WHEN s_pay IS NULL
              OR lower(trim(s_pay)) IN ('', 'null', 'none', 'n/a', 'na', '-', 'nan')
            THEN 'unknown' ELSE lower(trim(s_pay)) END AS payment_type
FROM dated;

CREATE OR REPLACE TEMP TABLE trips AS
SELECT * EXCLUDE (n) FROM (
    SELECT *, row_number() OVER (
        PARTITION BY trip_id
        ORDER BY updated_at DESC, fare DESC, distance_km DESC, landed_on DESC, payment_type DESC
    ) AS n
    FROM classified WHERE outcome = 'ok'
) WHERE n = 1;

CREATE OR REPLACE TEMP TABLE daily AS
SELECT *, CAST(rank() OVER (PARTITION BY date ORDER BY revenue DESC) AS INTEGER) AS revenue_rank
FROM (
    SELECT date, pickup_borough, fleet, count(*) AS trips,
           CAST(sum(fare) AS DECIMAL(20, 2)) AS revenue,
           CAST(sum(distance_km) AS DECIMAL(20, 2)) AS distance_km,
           count(DISTINCT driver_id) AS drivers,
           count(*) FILTER (WHERE landed_on > date) AS late_trips
    FROM trips GROUP BY ALL
);
"""
DAILY_COLUMNS = "date, pickup_borough, fleet, trips, revenue, distance_km, drivers, late_trips, "
DAILY_COLUMNS += "revenue_rank"


@dataclass(frozen=True)
class Result:
    """DuckDB's view of one run: the outcome and reason counts, clean trips, and the daily rows."""

    outcomes: dict[str, int]
    reasons: dict[str, int]
    trips: int
    daily: list[tuple[object, ...]]
    trips_by_date: dict[date, int]


def landing_files(landing: Path, first: date, last: date, lateness: int) -> list[str]:
    """The CSV files a run of [first, last] reads: landing folders first .. last + lateness."""
    files = []
    for folder in sorted((landing / "trips").glob("dt=*")):
        day = date.fromisoformat(folder.name[3:])
        if first <= day and (day - last).days <= lateness:
            files += [str(p) for p in sorted(folder.glob("*.csv"))]
    return files


def run(landing: Path, first: date, last: date, lateness: int, threads: int = 2) -> Result:
    """Classify, deduplicate and aggregate [first, last] like the Spark job, in DuckDB."""
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute(
        "CREATE TEMP TABLE zones AS SELECT * FROM read_csv($p, header = true, "
        "columns = {'zone_id': 'INTEGER', 'zone_name': 'VARCHAR', 'borough': 'VARCHAR'})",
        {"p": str(landing / "zones.csv")},
    )
    con.execute(
        "CREATE TEMP TABLE drivers AS SELECT * FROM read_csv($p, header = true, "
        "columns = {'driver_id': 'INTEGER', 'fleet': 'VARCHAR'})",
        {"p": str(landing / "drivers.csv")},
    )
    files = landing_files(landing, first, last, lateness)
    params = {"files": files, "lateness": lateness, "first": first, "last": last}
    for statement in [s for s in SQL.split(";") if s.strip()]:
        used = {k: v for k, v in params.items() if f"${k}" in statement}
        con.execute(statement, used)
    outcomes = dict(con.execute("SELECT outcome, count(*) FROM classified GROUP BY 1").fetchall())
    reasons = dict(
        con.execute(
            "SELECT reason, count(*) FROM classified WHERE outcome = 'rejected' GROUP BY 1"
        ).fetchall()
    )
    trips = con.execute("SELECT count(*) FROM trips").fetchone()
    daily = con.execute(f"SELECT {DAILY_COLUMNS} FROM daily ORDER BY ALL").fetchall()
    by_date = dict(con.execute("SELECT date, count(*) FROM trips GROUP BY 1").fetchall())
    con.close()
    return Result(outcomes, reasons, int(trips[0]) if trips else 0, daily, by_date)
