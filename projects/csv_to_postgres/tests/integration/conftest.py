from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from click.testing import CliRunner
from csv_to_postgres.cli import cli


@pytest.fixture
def db(pg_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database; the loader is pointed at it through the environment."""
    monkeypatch.setenv("CSV_TO_POSTGRES_DATABASE_URL", pg_database)
    yield pg_database


def load(*args: str, code: int = 0, config: Path | None = None) -> dict[str, Any]:
    """`csv-to-postgres load --json ...` in process; the parsed summary (on failure too, then
    with the stderr)."""
    head = ["--config", str(config)] if config else []
    result = CliRunner().invoke(cli, [*head, "load", "--json", *args])
    assert result.exit_code == code, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    assert summary["status"] == ("ok" if code == 0 else "failed")
    return summary if code == 0 else {**summary, "stderr": result.stderr}


def balanced(summary: dict[str, Any]) -> bool:
    """records_in = records_out + records_rejected + every skipped record."""
    skipped = sum(summary["records_skipped"].values())
    return bool(
        summary["records_in"] == summary["records_out"] + summary["records_rejected"] + skipped
    )


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def execute(url: str, sql: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def spawn(
    url: str, args: list[str], extra_env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """The loader as its own process (for SIGKILL and concurrency tests)."""
    env = {**os.environ, "CSV_TO_POSTGRES_DATABASE_URL": url, **(extra_env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "csv_to_postgres", "--log-format", "json", "load", "--json", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path
