"""moto through the launcher: up -> boto3 S3 put/get and Kinesis put_record/get_records -> down."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from de_services import lifecycle, registry
from de_services.testing import s3_client

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def services() -> list[str]:
    return ["moto"]


def test_s3_and_kinesis_round_trip_then_down(
    started: dict[str, str], ports: dict[str, int], down_leaves_nothing: Callable[..., list[int]]
) -> None:
    service = registry.get("moto")
    endpoint = started["moto"]
    assert endpoint == f"http://127.0.0.1:{ports['DE_MOTO_PORT']}"

    s3 = s3_client(endpoint)
    s3.create_bucket(Bucket="roundtrip")
    s3.put_object(Bucket="roundtrip", Key="a/b.json", Body=b'{"x": 1}')
    assert s3.get_object(Bucket="roundtrip", Key="a/b.json")["Body"].read() == b'{"x": 1}'
    listed = s3.list_objects_v2(Bucket="roundtrip", Prefix="a/")
    assert [o["Key"] for o in listed["Contents"]] == ["a/b.json"]

    kinesis = s3_client(endpoint, "kinesis")
    kinesis.create_stream(StreamName="events", ShardCount=1)
    for _ in range(50):
        if kinesis.describe_stream(StreamName="events")["StreamDescription"]["StreamStatus"] == (
            "ACTIVE"
        ):
            break
        time.sleep(0.1)
    put = kinesis.put_record(StreamName="events", Data=b"hello", PartitionKey="k")
    iterator = kinesis.get_shard_iterator(
        StreamName="events", ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [r["Data"] for r in records] == [b"hello"]

    first = lifecycle.status(service)
    assert lifecycle.up(service) == endpoint and lifecycle.status(service).pids == first.pids
    down_leaves_nothing()
