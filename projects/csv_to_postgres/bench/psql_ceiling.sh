#!/usr/bin/env bash
# What PostgreSQL itself needs for an upsert, with no client of ours involved: psql alone.
#
#   bench/psql_ceiling.sh [pair|merge] [same|changed]
#
# Loads the 1M-row benchmark CSV into a fresh `bench` table (timed \copy: the anchor), then in one
# transaction: \copy into a TEMP staging table, ANALYZE, and either MERGE or UPDATE ... FROM +
# INSERT ... WHERE NOT EXISTS, with the same file ("same": every key exists, same values) or the
# seed-43 file ("changed": every key exists, every row differs). Prints psql's own timings.
# Needs bench/out/bench_1000000.csv and bench_1000000_seed43.csv, which
# `nox -s bench -- csv_to_postgres --data plain --scale 0.2` writes, and $DE_POSTGRES_URL (a database it may
# create and drop a `bench` table in; the launcher's server is the default).
set -euo pipefail
statement=${1:-merge}
values=${2:-changed}
url=${DE_POSTGRES_URL:-postgresql://postgres@127.0.0.1:25432/postgres}
out=$(cd "$(dirname "$0")" && pwd)/out
anchor=$out/bench_1000000.csv
source=$anchor
[ "$values" = changed ] && source=$out/bench_1000000_seed43.csv
for f in "$anchor" "$source"; do
  [ -f "$f" ] || { echo "error: $f missing (run: nox -s bench -- csv_to_postgres --data plain --scale 0.2)" >&2; exit 2; }
done

cols="id,user_id,amount,qty,price,category,flag,day,ts,note"
set_list="user_id=s.user_id, amount=s.amount, qty=s.qty, price=s.price, category=s.category, flag=s.flag, day=s.day, ts=s.ts, note=s.note"
differs="ROW(t.user_id,t.amount,t.qty,t.price,t.category,t.flag,t.day,t.ts,t.note)::record *<> ROW(s.user_id,s.amount,s.qty,s.price,s.category,s.flag,s.day,s.ts,s.note)::record"
values_list="s.id,s.user_id,s.amount,s.qty,s.price,s.category,s.flag,s.day,s.ts,s.note"

psql -q -X "$url" -v ON_ERROR_STOP=1 <<SQL
DROP TABLE IF EXISTS bench;
CREATE TABLE bench (id BIGINT PRIMARY KEY, user_id INTEGER NOT NULL, amount DOUBLE PRECISION,
  qty SMALLINT, price NUMERIC(12, 2), category TEXT, flag BOOLEAN, day DATE, ts TIMESTAMPTZ, note TEXT);
CHECKPOINT;
\\echo anchor: psql copy of 1M rows into the empty table
\\timing on
\\copy bench ($cols) FROM '$anchor' WITH (FORMAT csv, HEADER true)
\\timing off
VACUUM ANALYZE bench;
CHECKPOINT;
SET temp_buffers = '256MB';
BEGIN;
CREATE TEMP TABLE s (LIKE bench) ON COMMIT DROP;
\\echo upsert ($statement, $values values): copy into staging, ANALYZE, then the merge
\\timing on
\\copy s ($cols) FROM '$source' WITH (FORMAT csv, HEADER true)
ANALYZE s;
SET LOCAL work_mem = '256MB';
$(if [ "$statement" = merge ]; then
  echo "MERGE INTO bench t USING s ON t.id = s.id WHEN MATCHED AND $differs THEN UPDATE SET $set_list WHEN NOT MATCHED THEN INSERT ($cols) VALUES ($values_list);"
else
  echo "UPDATE bench t SET $set_list FROM s WHERE t.id = s.id AND $differs;"
  echo "INSERT INTO bench ($cols) SELECT $values_list FROM s WHERE NOT EXISTS (SELECT 1 FROM bench t WHERE t.id = s.id);"
fi)
\\timing off
COMMIT;
DROP TABLE bench;
SQL
