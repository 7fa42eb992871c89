"""The CLI contract every project passes (de_services.cli_contract), run against log_analyzer."""

from __future__ import annotations

from de_services.cli_contract import CliContract


class TestCliContract(CliContract):
    module = "log_analyzer"
    job = ("generate", "{tmp}/logs", "--lines", "50", "--malformed-every", "7")
    bad_setting = ("LOG_ANALYZER_WORKERS", "many")
    missing_input = ("analyze", "{tmp}/missing.log")
