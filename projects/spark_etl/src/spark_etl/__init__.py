"""PySpark batch ETL: explicit schemas, partitioned Parquet with dynamic overwrite, quality checks, idempotent reruns, local or on a cluster"""

__version__ = "0.1.0"
