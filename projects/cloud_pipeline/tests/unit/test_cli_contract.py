"""The CLI contract every project runs on its own CLI (the demo against a folder lake: no service)."""

from __future__ import annotations

from de_services.cli_contract import CliContract


class TestCliContract(CliContract):
    module = "cloud_pipeline"
    job = ("demo", "--lake-url", "file://{tmp}/lake")
    bad_setting = ("CLOUD_PIPELINE_PART_SIZE_MB", "1")
    missing_input = ("upload", "{tmp}/missing.bin", "--lake-url", "file://{tmp}/lake")
    secret = ("CLOUD_PIPELINE_AZURE_CONNECTION_STRING", "AccountKey=c2VjcmV0LWtleS1mb3ItdGVzdHM=")
