"""Integration fixtures: the CLI as a subprocess, Kinesis streams, and the servers the launcher does
not run (Azurite, fake-gcs-server), each started here by pid on a free port and stopped after.

Azurite and fake-gcs-server live here rather than in the launcher because only this project uses
them; they install themselves into the shared cache folder on first use (npm, go install), so a
fresh machine (and CI) needs nothing but node/npm and go on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from de_services.testing import s3_client, service_missing, unique_name

CACHE = Path(os.environ.get("DE_CACHE_DIR", Path.home() / ".cache" / "de-showcase"))
AZURITE_VERSION = "3.37.0"
FAKE_GCS_VERSION = "v1.56.1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
BENCH = Path(__file__).parents[2] / "bench"
CLI_TIMEOUT_S = 300


def cli_env(endpoint: str, **settings: str) -> dict[str, str]:
    """The CLI's environment: test credentials through the standard chain, our settings only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUD_PIPELINE_")}
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing-secret")
    env["CLOUD_PIPELINE_ENDPOINT_URL"] = endpoint
    env["CLOUD_PIPELINE_REGION"] = "us-east-1"
    env.update({f"CLOUD_PIPELINE_{k.upper()}": v for k, v in settings.items()})
    return env


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m cloud_pipeline ARGS --json`, run to the end."""
    return subprocess.run(
        [sys.executable, "-m", "cloud_pipeline", *args, "--json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def run_cli(args: list[str], env: dict[str, str], cwd: Path, expect: int = 0) -> dict[str, Any]:
    """Run the CLI; assert the exit status; return its one JSON summary (balanced)."""
    proc = cli(args, env, cwd)
    assert proc.returncode == expect, proc.stdout + proc.stderr[-3000:]
    summary: dict[str, Any] = json.loads(proc.stdout)
    skipped = sum(summary["records_skipped"].values())
    assert summary["records_in"] == summary["records_out"] + summary["records_rejected"] + skipped
    return summary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(
    port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"exited with {proc.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"port {port} not listening after {timeout}s: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop exactly the process this fixture started."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def azurite_binary() -> Path:
    """azurite-blob from npm, installed once into the cache folder."""
    folder = CACHE / "npm-azurite"
    binary = folder / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            service_missing("azurite: npm is not installed (apt-get install npm)")
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(folder),
                f"azurite@{AZURITE_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return binary


def fake_gcs_binary() -> Path:
    """fake-gcs-server through the Go module proxy, built once into the cache folder."""
    gobin = CACHE / "gobin"
    binary = gobin / "fake-gcs-server"
    if not binary.exists():
        go = shutil.which("go") or (
            "/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None
        )
        if go is None:
            service_missing("fake-gcs-server: go is not installed")
        subprocess.run(
            [go, "install", f"github.com/fsouza/fake-gcs-server@{FAKE_GCS_VERSION}"],
            env={**os.environ, "GOBIN": str(gobin)},
            check=True,
            capture_output=True,
            timeout=900,
        )
    return binary


@dataclass(frozen=True)
class Azurite:
    url: str
    connection_string: str


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """A private Azurite blob server (its own folder, a free port), stopped at the session's end."""
    binary = azurite_binary()
    folder = tmp_path_factory.mktemp("azurite")
    port = free_port()
    log = folder / "azurite.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(binary),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(port),
                "--location",
                str(folder),
                "--skipApiVersionCheck",
                "--silent",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_listening(port, proc, log)
        url = f"http://127.0.0.1:{port}/devstoreaccount1"
        connection = (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={url};"
        )
        yield Azurite(url, connection)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private fake-gcs-server (in memory, a free port); its URL."""
    binary = fake_gcs_binary()
    folder = tmp_path_factory.mktemp("fake-gcs")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "fake-gcs.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(binary),
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
                "-port",
                str(port),
                "-backend",
                "memory",
                "-public-host",
                f"127.0.0.1:{port}",
                "-external-url",
                url,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_listening(port, proc, log)
        yield url
    finally:
        stop(proc)


@pytest.fixture
def kinesis_stream(s3_endpoint: str) -> Iterator[str]:
    """A fresh one-shard stream on the moto server, deleted after the test."""
    kinesis = s3_client(s3_endpoint, "kinesis")
    name = unique_name("stream", "-")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    try:
        yield name
    finally:
        kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)


def read_stream(endpoint: str, stream: str) -> list[dict[str, Any]]:
    """Every record on every shard, from the horizon (GetRecords until caught up)."""
    kinesis = s3_client(endpoint, "kinesis")
    records: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        it = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while it:
            resp = kinesis.get_records(ShardIterator=it, Limit=10_000)
            records.extend(resp["Records"])
            if not resp["Records"] and resp.get("MillisBehindLatest", 0) == 0:
                break
            it = resp.get("NextShardIterator")
    return records


def aws_cli() -> Path:
    """awscli in its own venv with exactly bench/awscli.txt (its botocore pin is not ours)."""
    venv = CACHE / "venvs" / "cloud-pipeline-awscli"
    wanted = (BENCH / "awscli.txt").read_text()
    marker = venv / ".pins"
    if not (marker.exists() and marker.read_text() == wanted):
        uv = shutil.which("uv")
        if uv is None:
            pytest.fail("uv not found on PATH: it makes the awscli venv")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True)
        subprocess.run(
            [uv, "pip", "sync", "-q", "-p", str(venv / "bin" / "python"), "awscli.txt"],
            cwd=BENCH,
            check=True,
        )
        marker.write_text(wanted)
    return venv / "bin" / "aws"
