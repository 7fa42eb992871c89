"""The assets the DAGs produce: an update of one schedules the DAGs that consume it."""

from __future__ import annotations

from airflow.sdk import Asset

# daily_batch's last task emits this once an interval's orders are loaded and checked.
ORDERS_TABLE = Asset(name="orders_table", uri="postgres://warehouse/public/orders")
# log_rollup emits this once an hour's Parquet is in HDFS and its Hive partition points at it.
LOG_PARQUET = Asset(name="log_parquet", uri="hive://lake/access_logs")
