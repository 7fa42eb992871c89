"""The CLI contract every project runs on its own CLI."""

from __future__ import annotations

from de_services.cli_contract import CliContract


class TestCliContract(CliContract):
    module = "{{name}}"
    job = ("demo", "--out", "{tmp}/demo")
    bad_setting = ("{{NAME}}_METRICS_PORT", "not-a-port")
    missing_input = ("count", "{tmp}/missing.log")
