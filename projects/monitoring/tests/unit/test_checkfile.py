"""The checks file: validated into checks, one clear line for a mistake, secrets from the env."""

from __future__ import annotations

from pathlib import Path

import pytest
from monitoring import checkfile
from monitoring.checks.kafka import KafkaLag
from monitoring.checks.postgres import PostgresTables
from monitoring.checks.rabbitmq import RabbitQueues

from de_common.errors import UserError
from de_common.logging import redact

GOOD = """
timeout_s: 3
job_success_sla_s: {csv_to_postgres: 7200}
checks:
  - {name: lag, kind: kafka, bootstrap: "127.0.0.1:29092", groups: [g], dead_letter_topics: [e.dlq]}
  - {name: queues, kind: rabbitmq, management_url: "http://127.0.0.1:25675", timeout_s: 1}
  - name: warehouse
    kind: postgres
    dsn: ${WAREHOUSE_DSN}
    tables: [{table: public.orders, timestamp_column: loaded_at, sla_s: 600}]
  - {name: lake, kind: s3, bucket: lake, prefixes: [{prefix: raw/}]}
  - {name: hdfs, kind: hdfs, webhdfs_url: "http://127.0.0.1:29870", folders: [{path: /lake}]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "checks.yml"
    path.write_text(text)
    return path


def test_a_valid_file_builds_one_check_per_entry_with_its_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAREHOUSE_DSN", "postgresql://app:s3cret-pw@db/warehouse")
    parsed = checkfile.load(write(tmp_path, GOOD))
    checks = checkfile.build(parsed)
    assert [c.kind for c in checks] == ["kafka", "rabbitmq", "postgres", "s3", "hdfs"]
    assert [c.timeout_s for c in checks] == [3, 1, 3, 3, 3]
    kafka, rabbit, postgres = checks[0], checks[1], checks[2]
    assert isinstance(kafka, KafkaLag) and kafka.dead_letter_topics == ["e.dlq"]
    assert isinstance(rabbit, RabbitQueues)
    assert rabbit.role("tasks.dlq") == "dead_letter"
    assert rabbit.role("tasks.parking-lot") == "parking_lot"
    assert rabbit.role("tasks") == "work"
    assert isinstance(postgres, PostgresTables) and postgres.dsn.endswith("/warehouse")
    assert postgres.tables[0].column == "loaded_at"
    assert parsed.job_success_sla_s == {"csv_to_postgres": 7200}
    # A DSN read from the environment is a secret: never in a log line.
    assert "s3cret-pw" not in redact("connecting to postgresql://app:s3cret-pw@db/warehouse")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("checks: [{name: x, kind: redis}]", "checks.0"),
        ("checks: [{name: x, kind: kafka, bootstrap: b, groups: []}]", "groups"),
        ("checks: [{name: x, kind: hdfs, webhdfs_url: u, folders: [{path: relative}]}]", "path"),
        ("checks: [{name: x, kind: s3, bucket: b, prefixes: [{prefix: p}], extra: 1}]", "extra"),
        (
            "checks:\n" + "  - {name: a, kind: s3, bucket: b, prefixes: [{prefix: p}]}\n" * 2,
            "duplicate",
        ),
        (
            "checks: [{name: x, kind: postgres, dsn: '${NOT_SET_ANYWHERE}', tables: [{table: t}]}]",
            "NOT_SET_ANYWHERE",
        ),
        ("checks: [unclosed", "checks file"),
    ],
)
def test_a_mistake_is_one_user_error_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(UserError) as err:
        checkfile.load(write(tmp_path, text))
    message = str(err.value)
    assert expected in message and "\n" not in message, message


def test_a_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        checkfile.load(tmp_path / "nope.yml")


def test_the_example_file_loads_and_comments_are_never_expanded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RABBITMQ_PASSWORD", "guest-pw")
    monkeypatch.setenv("WAREHOUSE_DSN", "postgresql://u@h/db")
    example = Path(__file__).resolve().parents[2] / "checks.example.yml"
    assert "${VAR}" in example.read_text()  # in a comment: must not be read from the environment
    checks = checkfile.build(checkfile.load(example))
    assert [c.kind for c in checks] == ["kafka", "rabbitmq", "postgres", "s3", "hdfs"]
