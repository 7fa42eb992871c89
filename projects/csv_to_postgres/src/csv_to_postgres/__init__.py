"""CSV -> PostgreSQL ETL: COPY into staging, one-transaction merge, audit, rejects."""

__version__ = "0.1.0"
