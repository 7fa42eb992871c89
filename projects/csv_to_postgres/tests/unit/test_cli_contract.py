"""The CLI contract every project runs on its own CLI: a load into SQLite needs no server."""

from __future__ import annotations

from csv_to_postgres.demo import DATA

from de_services.cli_contract import CliContract


class TestCliContract(CliContract):
    module = "csv_to_postgres"
    # relative to the test's folder, which is the working directory of every run
    env = {"CSV_TO_POSTGRES_DATABASE_URL": "sqlite:///contract.sqlite"}
    # the dirty demo file: rejects and a duplicate key, so every part of the balance is exercised
    job = (
        "load",
        str(DATA / "customers_dirty.csv"),
        "--model",
        "customers",
        "--header-map",
        "E-mail=email",
        "--max-reject-rate",
        "1",
    )
    bad_setting = ("CSV_TO_POSTGRES_CHUNK_BYTES", "lots")
    secret = ("CSV_TO_POSTGRES_PASSWORD", "pw-contract-0001")
    missing_input = ("load", "{tmp}/missing.csv", "--table", "t")
