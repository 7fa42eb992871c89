"""Scheduled, incremental REST API ingestion: auth, pagination, retries, rate limits, state."""

__version__ = "0.1.0"
