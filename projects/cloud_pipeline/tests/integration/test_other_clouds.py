"""The same lake on Azure Blob (Azurite from npm) and Google Cloud Storage (fake-gcs-server), chosen
by the lake URL's scheme: the batch path, metadata, checksums, block/resumable uploads, reruns."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cloud_pipeline.demo_api import DemoApi, DemoConfig

from de_services.testing import unique_name

from .conftest import Azurite, cli_env, run_cli

pytestmark = pytest.mark.integration

DAY = "2024-02-29"
KEYS = {
    "raw/orders/dt=2024-02-29/orders-20240229.jsonl.gz",
    "errors/orders/dt=2024-02-29/orders-20240229.jsonl.gz",
    "curated/orders/dt=2024-02-29/orders-20240229.parquet",
}


def test_azure_blob_lake_on_azurite(azurite: Azurite, tmp_path: Path) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    name = unique_name("lake", "-")
    container = service.create_container(name)
    env = cli_env(
        "http://unused.invalid",
        lake_url=f"az://{name}/lake",
        azure_connection_string=azurite.connection_string,
        multipart_threshold_mb="5",
        part_size_mb="5",
    )
    with DemoApi(DemoConfig(records=300, page_size=100, invalid_every=50, overlap=0)) as api:
        env["CLOUD_PIPELINE_SOURCE_URL"] = api.url
        first = run_cli(["ingest", "--date", DAY], env, tmp_path)
        second = run_cli(["ingest", "--date", DAY], env, tmp_path)
    assert first["records_rejected"] == second["records_rejected"] == 6
    assert {b.name for b in container.list_blobs()} == {f"lake/{k}" for k in KEYS}

    curated = container.get_blob_client("lake/curated/orders/dt=2024-02-29/orders-20240229.parquet")
    body = curated.download_blob().readall()
    assert pq.read_table(io.BytesIO(body)).num_rows == first["records_out"] == 294
    meta = curated.get_blob_properties().metadata
    assert meta["run_id"] == "orders-20240229"  # Azure names: no hyphens
    assert meta["sha256"] == hashlib.sha256(body).hexdigest()
    errors = container.get_blob_client("lake/errors/orders/dt=2024-02-29/orders-20240229.jsonl.gz")
    reasons = [
        json.loads(line)["reason"]
        for line in gzip.decompress(errors.download_blob().readall()).splitlines()
    ]
    assert len(reasons) == 6 and all(reasons)

    # A large file goes up as staged blocks, committed once: a block list, the bytes intact.
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    run_cli(["upload", str(big), "--prefix", "files"], env, tmp_path)
    blob = container.get_blob_client("lake/files/big.bin")
    assert len(blob.get_block_list("committed")[0]) == 3
    assert blob.download_blob().readall() == big.read_bytes()
    container.delete_container()


def test_gcs_lake_on_fake_gcs_server(fake_gcs: str, tmp_path: Path) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(
        project="local",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": fake_gcs},
    )
    name = unique_name("lake", "-")
    bucket = client.create_bucket(name)
    env = cli_env(
        "http://unused.invalid",
        lake_url=f"gs://{name}",
        gcs_endpoint_url=fake_gcs,
        multipart_threshold_mb="5",
        part_size_mb="5",
    )
    with DemoApi(DemoConfig(records=300, page_size=100, invalid_every=50, overlap=0)) as api:
        env["CLOUD_PIPELINE_SOURCE_URL"] = api.url
        first = run_cli(["ingest", "--date", DAY], env, tmp_path)
        run_cli(["ingest", "--date", DAY], env, tmp_path)
    assert {b.name for b in client.list_blobs(bucket)} == KEYS
    blob = bucket.get_blob("curated/orders/dt=2024-02-29/orders-20240229.parquet")
    body = blob.download_as_bytes()
    assert pq.read_table(io.BytesIO(body)).num_rows == first["records_out"] == 294
    assert blob.metadata["run-id"] == "orders-20240229"
    assert blob.metadata["sha256"] == hashlib.sha256(body).hexdigest()

    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(11 * 1024 * 1024))  # a resumable upload in 5 MiB chunks
    run_cli(["upload", str(big)], env, tmp_path)
    assert bucket.get_blob("big.bin").download_as_bytes() == big.read_bytes()
