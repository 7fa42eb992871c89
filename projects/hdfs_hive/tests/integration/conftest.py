"""A private lake root (an hdfs_dir) and Hive database per test, and the CLI run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hdfs import InsecureClient
from pyhive import hive

from de_services.testing import unique_name


@dataclass
class Lake:
    """One test's lake: env for the CLI, an HDFS client and a Hive cursor."""

    env: dict[str, str]
    root: str
    database: str
    hdfs: InsecureClient
    cursor: Any

    def cli(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hdfs_hive", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **self.env, **(env or {})},
            cwd=cwd,
            timeout=300,
            check=False,
        )

    def ok(self, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
        res = self.cli(*args, "--json", env=env)
        assert res.returncode == 0, res.stdout + res.stderr
        summary: dict[str, Any] = json.loads(res.stdout)
        return summary

    def sql(self, statement: str, params: dict[str, object] | None = None) -> list[tuple[Any, ...]]:
        self.cursor.execute(statement, params)
        return list(self.cursor.fetchall())


@pytest.fixture
def lake(hdfs_url: str, hive_url: str, hdfs_dir: str, tmp_path: Path) -> Iterator[Lake]:
    database = unique_name("db")
    host_port = hive_url.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    conn = hive.connect(host=host, port=int(port), auth="NONE", username="root")
    cursor = conn.cursor()
    env = {
        "HDFS_HIVE_HDFS_URL": hdfs_url,
        "HDFS_HIVE_HIVE_URL": hive_url,
        "HDFS_HIVE_LAKE_ROOT": hdfs_dir,
        "HDFS_HIVE_DATABASE": database,
        "HDFS_HIVE_QUARANTINE": str(tmp_path / "rejects.jsonl"),
        "HDFS_HIVE_LOG_LEVEL": "warning",
    }
    try:
        yield Lake(env, hdfs_dir, database, InsecureClient(hdfs_url, user="root"), cursor)
    finally:
        cursor.execute(f"DROP DATABASE IF EXISTS `{database}` CASCADE")
        conn.close()


@pytest.fixture
def generated(tmp_path: Path) -> Callable[..., Path]:
    """generated(days=.., files=.., rows=..) -> a local dataset folder from `hdfs-hive generate`."""

    def make(**opts: int) -> Path:
        folder = tmp_path / unique_name("data")
        args = [f"--{k.replace('_', '-')}={v}" for k, v in opts.items()]
        res = subprocess.run(
            [sys.executable, "-m", "hdfs_hive", "generate", str(folder), *args, "--json"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert res.returncode == 0, res.stderr
        return folder

    return make
