"""The CLI contract every project runs on its own CLI."""

from __future__ import annotations

from de_services.cli_contract import CliContract


class TestCliContract(CliContract):
    module = "airflow_dags"
    job = ("demo", "--out", "{tmp}/demo")
    bad_setting = ("AIRFLOW_DAGS_RETRIES", "many")
    missing_input = ("stage", "{tmp}/missing.jsonl", "--out", "{tmp}/orders.csv")
