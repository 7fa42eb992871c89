"""Kinesis records as AWS Lambda receives them: the event an event source mapping would pass to
`handler(event, context)`, built from what GetRecords returned."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any


def event(
    records: list[dict[str, Any]], stream_arn: str, shard_id: str, region: str
) -> dict[str, Any]:
    """The `{"Records": [...]}` payload of a Kinesis-triggered Lambda invocation."""
    return {"Records": [_record(r, stream_arn, shard_id, region) for r in records]}


def _record(record: dict[str, Any], stream_arn: str, shard_id: str, region: str) -> dict[str, Any]:
    arrival = record.get("ApproximateArrivalTimestamp") or datetime.now(UTC)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode("ascii"),
            "approximateArrivalTimestamp": arrival.timestamp(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/cloud-pipeline",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }
