"""The CLI contract every project runs on its own CLI."""

from __future__ import annotations

from de_services.cli_contract import CliContract


class TestCliContract(CliContract):
    module = "api_fetcher"
    job = ("demo", "--out", "{tmp}/demo", "--sink", "jsonl")
    bad_setting = ("API_FETCHER_CONCURRENCY", "many")
    missing_input = ("run", "--sources", "{tmp}/missing.yaml")
    secret = ("API_FETCHER_SECRETS__DEMO_TOKEN", "s3cr3t-value-0451")
