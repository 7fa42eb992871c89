"""The CLI contract every project runs on its own CLI."""

from __future__ import annotations

from de_services.cli_contract import CliContract


class TestCliContract(CliContract):
    module = "hdfs_hive"
    job = ("generate", "{tmp}/data", "--days", "2", "--rows", "50")
    bad_setting = ("HDFS_HIVE_WORKERS", "many")
    missing_input = ("put", "{tmp}/missing", "--dataset", "events")
