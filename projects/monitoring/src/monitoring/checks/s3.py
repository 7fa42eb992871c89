"""S3 prefix freshness (newest LastModified) and object counts, through boto3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

from monitoring.checks import CheckFailed, Sample
from monitoring.series import DATA_ITEMS, DATA_LAST_UPDATE, DATA_SLA


@dataclass(frozen=True)
class Prefix:
    """A key prefix to watch and its freshness SLA."""

    prefix: str
    sla_s: float


@dataclass
class S3Prefixes:
    """Lists every watched prefix of one bucket; credentials from the standard AWS chain."""

    name: str
    bucket: str
    prefixes: list[Prefix]
    timeout_s: float
    endpoint: str | None = None
    region: str = "us-east-1"
    kind: str = "s3"
    _client: Any = None

    def client(self) -> Any:
        if self._client is None:
            config = Config(
                connect_timeout=self.timeout_s,
                read_timeout=self.timeout_s,
                retries={"max_attempts": 1, "mode": "standard"},
            )
            self._client = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint, region_name=self.region, config=config
            )
        return self._client

    def run(self) -> list[Sample]:
        try:
            return [s for p in self.prefixes for s in self._prefix(p)]
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise CheckFailed(f"s3 {self.bucket}: {exc}") from None

    def _prefix(self, prefix: Prefix) -> list[Sample]:
        count = 0
        newest: float | None = None
        pages = self.client().get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix.prefix):
            for obj in page.get("Contents", []):
                count += 1
                stamp = obj["LastModified"].timestamp()
                newest = stamp if newest is None else max(newest, stamp)
        labels = (self.name, self.kind, f"s3://{self.bucket}/{prefix.prefix}")
        samples = [Sample(DATA_ITEMS, labels, count), Sample(DATA_SLA, labels, prefix.sla_s)]
        if newest is not None:
            samples.append(Sample(DATA_LAST_UPDATE, labels, newest))
        return samples

    def close(self) -> None:
        self._client = None
