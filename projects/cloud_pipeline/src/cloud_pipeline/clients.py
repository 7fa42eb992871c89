"""boto3 clients and the one place botocore errors become UserError / ServiceUnavailable / JobError.

Credentials come only from boto3's standard chain; nothing here reads, logs or passes a key.
Pure boto3 + stdlib (and de_common.errors): the Lambda zip imports this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from de_common.errors import JobError, ServiceUnavailable, UserError

# Codes that mean the caller asked for something that is not there or not allowed.
USER_CODES = {"NoSuchBucket", "ResourceNotFoundException", "AccessDenied", "InvalidAccessKeyId"}


@dataclass(frozen=True)
class AwsTarget:
    """Where the AWS APIs are: a region and, for MinIO/LocalStack/moto, an endpoint."""

    region: str
    endpoint_url: str | None = None
    max_attempts: int = 3

    @property
    def address(self) -> str:
        return self.endpoint_url or f"aws:{self.region}"


def client(service: str, target: AwsTarget) -> Any:
    """A boto3 client with the standard credential chain and adaptive retries for throttling."""
    config = Config(
        retries={"mode": "standard", "max_attempts": target.max_attempts},
        connect_timeout=10,
        read_timeout=120,
        max_pool_connections=64,
    )
    return boto3.client(  # type: ignore[call-overload]
        service, region_name=target.region, endpoint_url=target.endpoint_url, config=config
    )


@contextmanager
def aws_errors(service: str, target: AwsTarget) -> Iterator[None]:
    """Map botocore's errors to the three a CLI distinguishes, naming the service."""
    try:
        yield
    except (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError) as exc:
        raise ServiceUnavailable(service, target.address, str(exc)) from exc
    except NoCredentialsError as exc:
        raise UserError(f"{service}: no AWS credentials found in the standard chain") from exc
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if code in USER_CODES:
            raise UserError(f"{service} at {target.address}: {code}: {message}") from exc
        raise JobError(f"{service} at {target.address}: {code}: {message}") from exc
    except BotoCoreError as exc:
        raise ServiceUnavailable(service, target.address, str(exc)) from exc
