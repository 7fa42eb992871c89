"""The checks file (YAML): which targets to measure, validated; `${VAR}` reads the environment."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from de_common.errors import UserError
from de_common.logging import add_secret
from monitoring.checks import Check
from monitoring.checks.hdfs import Folder, HdfsFolders
from monitoring.checks.kafka import KafkaLag
from monitoring.checks.postgres import PostgresTables, Table
from monitoring.checks.rabbitmq import RabbitQueues
from monitoring.checks.s3 import Prefix, S3Prefixes

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_NAME = re.compile(r"(?i)pass|secret|token|key|dsn|credential")
DAY = 86_400.0


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Base(_Model):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    timeout_s: float | None = Field(default=None, gt=0, le=300)


class KafkaSpec(_Base):
    kind: Literal["kafka"]
    bootstrap: str
    groups: list[str] = Field(min_length=1)
    topics: list[str] = []
    dead_letter_topics: list[str] = []
    config: dict[str, str] = {}


class RabbitSpec(_Base):
    kind: Literal["rabbitmq"]
    management_url: str
    vhost: str = "/"
    user: str = "guest"
    password: str = "guest"  # noqa: S105 - RabbitMQ's default; use ${RABBITMQ_PASSWORD}
    queues: str = ".*"
    dead_letter: str = r"(?i).*[._-](dlq|dead|dead[._-]letter)"
    parking_lot: str = r"(?i).*[._-](parked|parking[._-]?lot)"


class TableSpec(_Model):
    table: str
    timestamp_column: str = "updated_at"
    sla_s: float = Field(default=DAY, gt=0)


class PostgresSpec(_Base):
    kind: Literal["postgres"]
    dsn: str
    tables: list[TableSpec] = Field(min_length=1)


class PrefixSpec(_Model):
    prefix: str
    sla_s: float = Field(default=DAY, gt=0)


class S3Spec(_Base):
    kind: Literal["s3"]
    bucket: str
    endpoint: str | None = None
    region: str = "us-east-1"
    prefixes: list[PrefixSpec] = Field(min_length=1)


class FolderSpec(_Model):
    path: str = Field(pattern=r"^/")
    sla_s: float = Field(default=DAY, gt=0)


class HdfsSpec(_Base):
    kind: Literal["hdfs"]
    webhdfs_url: str
    user: str = "monitoring"
    folders: list[FolderSpec] = Field(min_length=1)


Spec = Annotated[
    KafkaSpec | RabbitSpec | PostgresSpec | S3Spec | HdfsSpec, Field(discriminator="kind")
]


class ChecksFile(_Model):
    timeout_s: float = Field(default=5.0, gt=0, le=300)
    checks: list[Spec] = []
    # project -> seconds: how old its last success may get (JobLastSuccessTooOld); default 1 day.
    job_success_sla_s: dict[str, float] = {}


def _expand(text: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise UserError(f"checks file: environment variable {name} is not set")
        value = os.environ[name]
        if _SECRET_NAME.search(name):
            add_secret(value)  # a password or a DSN carrying one: redacted from every log line
        return value

    return _VAR.sub(value, text)


def _expand_all(node: object) -> object:
    """${VAR} in every string value (after parsing: comments and keys are never expanded)."""
    if isinstance(node, str):
        return _expand(node)
    if isinstance(node, list):
        return [_expand_all(item) for item in node]
    if isinstance(node, dict):
        return {key: _expand_all(value) for key, value in node.items()}
    return node


def load(path: Path) -> ChecksFile:
    """Parse and validate the file; any problem is one UserError line naming the file."""
    try:
        raw = _expand_all(yaml.safe_load(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise UserError(f"checks file {path} does not exist") from None
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"checks file {path}: {' '.join(str(exc).split())}") from None
    try:
        parsed = ChecksFile.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"checks file {path}: {where}: {first['msg']}") from None
    names = [c.name for c in parsed.checks]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UserError(f"checks file {path}: duplicate check names {', '.join(dupes)}")
    return parsed


def build(parsed: ChecksFile) -> list[Check]:
    """One Check per entry, each with its own timeout (the file's default when unset)."""
    return [_build(spec, spec.timeout_s or parsed.timeout_s) for spec in parsed.checks]


def _build(spec: Spec, timeout: float) -> Check:
    if isinstance(spec, KafkaSpec):
        return KafkaLag(
            spec.name, spec.bootstrap, spec.groups, spec.topics, spec.dead_letter_topics,
            timeout, spec.config,
        )  # fmt: skip
    if isinstance(spec, RabbitSpec):
        return RabbitQueues(
            spec.name, spec.management_url, spec.vhost, spec.user, spec.password, spec.queues,
            spec.dead_letter, spec.parking_lot, timeout,
        )  # fmt: skip
    if isinstance(spec, PostgresSpec):
        tables = [Table(t.table, t.timestamp_column, t.sla_s) for t in spec.tables]
        return PostgresTables(spec.name, spec.dsn, tables, timeout)
    if isinstance(spec, S3Spec):
        prefixes = [Prefix(p.prefix, p.sla_s) for p in spec.prefixes]
        return S3Prefixes(spec.name, spec.bucket, prefixes, timeout, spec.endpoint, spec.region)
    folders = [Folder(f.path, f.sla_s) for f in spec.folders]
    return HdfsFolders(spec.name, spec.webhdfs_url, folders, timeout, spec.user)
