"""Fixtures shared by the unit and integration tests: `kit` runs the CLI as a user would, writes
source files and reads what the sinks hold; `api` starts the bundled demo API (a real HTTP server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from api_fetcher import jobs
from api_fetcher.config import ApiFetcherSettings
from api_fetcher.demo_api import CREDENTIALS, DemoApi, DemoConfig
from api_fetcher.telemetry import fetch_metrics

from de_common.metrics import job_metrics
from de_common.run import JobFailed, Summary

SECRETS_ENV = {f"API_FETCHER_SECRETS__{k.upper()}": v for k, v in CREDENTIALS.items()}


class Kit:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp

    def cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """`python -m api_fetcher ARGS` in the test folder, the demo credentials as secrets."""
        return subprocess.run(
            [sys.executable, "-m", "api_fetcher", *args],
            capture_output=True,
            text=True,
            cwd=self.tmp,
            env={**os.environ, **SECRETS_ENV, **(env or {})},
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "api_fetcher", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.tmp,
            env={**os.environ, **SECRETS_ENV, **(env or {})},
        )

    @staticmethod
    def summary(res: subprocess.CompletedProcess[str]) -> dict[str, Any]:
        """The one JSON summary on stdout, its balance checked."""
        assert res.stdout.strip(), res.stderr
        data: dict[str, Any] = json.loads(res.stdout)
        skipped = sum(data["records_skipped"].values())
        assert data["records_in"] == data["records_out"] + data["records_rejected"] + skipped
        return data

    def sources(self, text: str, name: str = "sources.yaml") -> Path:
        path = self.tmp / name
        path.write_text(text)
        return path

    def orders(self, base: str, route: str, pagination: str, extra: str = "") -> Path:
        """A source file: source `s`, endpoint `orders` at `route` of the demo API, incremental on
        updated_at; `extra` adds source-level YAML lines."""
        records = {"page": "data", "offset": "results", "cursor": "items", "next": "records"}
        style = route.split("/")[2]
        where = f"\n        records_path: {records[style]}" if style in records else ""
        return self.sources(
            f"""
sources:
  - name: s
    base_url: {base}
{extra}
    endpoints:
      - name: orders
        path: {route}{where}
        primary_key: id
        incremental: {{cursor_field: updated_at, param: updated_since, end_param: updated_before}}
        pagination: {pagination}
"""
        )

    def jsonl(self, folder: Path | None = None) -> list[dict[str, Any]]:
        rows = []
        for path in sorted((folder or self.tmp / "data").rglob("*.jsonl")):
            rows += [json.loads(line) for line in path.read_text().splitlines()]
        return rows

    def parquet(self, folder: Path | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for path in sorted((folder or self.tmp / "data").rglob("*.parquet")):
            rows += pq.read_table(path).to_pylist()
        return rows

    def settings(self, sources: Path, **values: Any) -> ApiFetcherSettings:
        """Settings for an in-process run: every folder under the test's, the demo credentials."""
        base: dict[str, Any] = {
            "sources": sources,
            "sink": "jsonl",
            "output_dir": self.tmp / "data",
            "state_dir": self.tmp / "state",
            "quarantine_dir": self.tmp / "quarantine",
            "secrets": dict(CREDENTIALS),
            "backoff_s": 0.01,
        }
        return ApiFetcherSettings(**{**base, **values})

    @staticmethod
    def fetch(settings: ApiFetcherSettings, names: list[str] | None = None) -> Summary:
        """`run` in-process; a failure's summary is returned with `extra["failure"]` set."""
        metrics = fetch_metrics(job_metrics("api_fetcher"))
        try:
            summary = jobs.fetch(settings, metrics, names or [])
        except JobFailed as exc:
            summary = exc.summary
            summary.extra["failure"] = str(exc)
            summary.extra["exit_code"] = exc.exit_code
        summary.check()
        return summary

    def quarantine(self) -> list[dict[str, Any]]:
        rows = []
        for path in sorted((self.tmp / "quarantine").rglob("*.jsonl")):
            rows += [json.loads(line) for line in path.read_text().splitlines()]
        return rows


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit(tmp_path)


@pytest.fixture
def api() -> Iterator[Callable[..., DemoApi]]:
    """Factory: `api(records=500, latency_s=0.01, faults=[...])` starts a demo API, stopped after."""
    started: list[DemoApi] = []

    def start(**config: Any) -> DemoApi:
        server = DemoApi(DemoConfig(**config)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
