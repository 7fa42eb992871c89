from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from de_common import logging as de_logging


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """configure() writes to sys.stderr unless given a stream; hand every call this buffer."""
    buf = io.StringIO()
    real = de_logging.configure
    monkeypatch.setattr(de_logging, "configure", lambda *a, **k: real(*a, stream=buf, **k))
    yield buf
    de_logging._redactor.clear()
    logging.getLogger().handlers.clear()


def lines(buf: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


def test_json_line_shape(captured: io.StringIO):
    run_id = de_logging.configure("proj", fmt="json", run_id="r1")
    logging.getLogger("proj.load").info("loaded %d rows", 5, extra={"table": "t"})
    (line,) = lines(captured)
    assert run_id == "r1"
    assert set(line) == {"ts", "level", "logger", "msg", "project", "run_id", "table"}
    assert line["msg"] == "loaded 5 rows"
    assert (line["level"], line["logger"], line["project"], line["run_id"]) == (
        "info",
        "proj.load",
        "proj",
        "r1",
    )
    assert str(line["ts"]).endswith("+00:00")


def test_auto_is_json_when_not_a_terminal(captured: io.StringIO):
    de_logging.configure("proj")  # StringIO is not a TTY
    logging.getLogger("x").warning("hello")
    assert lines(captured)[0]["msg"] == "hello"


def test_run_id_is_generated_and_bound(captured: io.StringIO):
    run_id = de_logging.configure("proj", fmt="json")
    logging.getLogger("x").info("a")
    assert len(run_id) == 12
    assert lines(captured)[0]["run_id"] == run_id


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_secrets_redacted_everywhere(captured: io.StringIO, fmt: str):
    de_logging.configure("proj", fmt=fmt, secrets=["s3cr3t-value"])
    log = logging.getLogger("proj")
    log.info("connecting with s3cr3t-value")
    log.info("dsn", extra={"password": "plain-pw", "dsn": "postgresql://u:urlpass@h/db"})
    logging.getLogger("botocore.auth").info("header Authorization: Bearer tok-xyz-123")
    logging.getLogger("pika.connection").warning("login refused for s3cr3t-value")
    try:
        raise ValueError("bad login token=tk-998877 for s3cr3t-value")
    except ValueError:
        log.exception("failed")
    de_logging.add_secret("late-secret")
    log.info("then late-secret and api_key=k-445566")

    out = captured.getvalue()
    for secret in (
        "s3cr3t-value",
        "plain-pw",
        "urlpass",
        "tok-xyz-123",
        "tk-998877",
        "late-secret",
        "k-445566",
    ):
        assert secret not in out, secret
    assert out.count("***") >= 8
    assert "pika.connection" in out  # the third-party line went through our formatter
    assert "ValueError" in out  # the exception itself is kept, only the secret is gone


def test_console_format_is_readable(captured: io.StringIO):
    de_logging.configure("proj", fmt="console")
    logging.getLogger("proj.x").info("hello", extra={"rows": 3})
    out = captured.getvalue()
    assert "INFO" in out and "proj.x: hello" in out and "rows=3" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_third_party_handlers_are_replaced(captured: io.StringIO):
    own = logging.StreamHandler(io.StringIO())
    logging.getLogger("kafka").addHandler(own)
    logging.getLogger("kafka").propagate = False
    de_logging.configure("proj", fmt="json")
    logging.getLogger("kafka").error("broker down")
    assert lines(captured)[0]["logger"] == "kafka"
    assert own not in logging.getLogger("kafka").handlers


def test_bad_format_is_refused():
    with pytest.raises(ValueError, match="log format"):
        de_logging.configure("proj", fmt="xml")
