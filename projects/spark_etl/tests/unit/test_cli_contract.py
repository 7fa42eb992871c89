"""The CLI contract every project runs on its own CLI."""

from __future__ import annotations

from de_services.cli_contract import CliContract


class TestCliContract(CliContract):
    module = "spark_etl"
    job = ("generate", "--out", "{tmp}/landing", "--rows", "500", "--days", "2")
    bad_setting = ("SPARK_ETL_FILES_PER_PARTITION", "many")
    missing_input = ("run", "--source", "{tmp}/missing", "--output", "{tmp}/lake")
    secret = ("SPARK_ETL_S3_SECRET_KEY", "not-for-the-logs-123")
