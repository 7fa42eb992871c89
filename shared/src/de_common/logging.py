"""One logging setup: JSON lines off a terminal, readable lines on one, secrets redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

REDACTED = "***"

# Keys whose values are secrets wherever they appear: as extras, as key=value or key: value in text.
SENSITIVE_KEY = re.compile(
    r"(?i)(pass(word|wd)?|token|api[_-]?key|authorization|secret|credentials?|private[_-]?key)"
)
_KV_SECRET = re.compile(
    r"(?i)\b((?:[\w-]*?)(?:pass(?:word|wd)?|token|api[_-]?key|secret|private[_-]?key)[\w-]*)"
    r"(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&'\"}]+)"
)
_AUTH_HEADER = re.compile(
    r"(?i)\b(authorization\s*[=:]\s*)(?:(bearer|basic|token)\s+)?([^\s,;'\"}]+)"
)
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]+:)([^@/\s]+)(@)")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

# Third-party loggers routed through our handler; their own handlers are dropped.
THIRD_PARTY = (
    "kafka",
    "confluent_kafka",
    "pika",
    "py4j",
    "airflow",
    "botocore",
    "boto3",
    "urllib3",
    "s3transfer",
    "pyhive",
    "hdfs",
    "sqlalchemy",
    "asyncio",
)


class Redactor:
    """Known secret values plus key-shaped patterns, replaced in any text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        # A one- or two-character "secret" would mangle every line; not worth hiding.
        if value and len(value) >= 3:
            with self._lock:
                self._values.add(value)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def text(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        text = _URL_PASSWORD.sub(rf"\1{REDACTED}\3", text)
        text = _AUTH_HEADER.sub(
            lambda m: f"{m.group(1)}{(m.group(2) or '') and m.group(2) + ' '}{REDACTED}", text
        )
        return _KV_SECRET.sub(rf"\1\2{REDACTED}", text)

    def value(self, key: str, value: Any) -> Any:
        if SENSITIVE_KEY.search(key):
            return REDACTED
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {str(k): self.value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value("", v) for v in value]
        return value


_redactor = Redactor()
_context: dict[str, str] = {}


def add_secret(value: str) -> None:
    """Redact this value from every line logged from now on."""
    _redactor.add(value)


def redact(text: str) -> str:
    """The text as it would appear in a log line (for errors printed outside logging)."""
    return _redactor.text(text)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": _redactor.text(record.getMessage()),
        **_context,
    }
    for key, value in vars(record).items():
        if key not in _STANDARD and not key.startswith("_") and key not in out:
            out[key] = _redactor.value(key, value)
    if record.exc_info:
        out["exc"] = _redactor.text(logging.Formatter().formatException(record.exc_info))
    return out


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, msg, project, run_id and the extras."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record), default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """A line a person reads: time, level, logger, message, then key=value extras."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        ts = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        extras = " ".join(
            f"{k}={v}"
            for k, v in fields.items()
            if k not in {"ts", "level", "logger", "msg", "exc", "project", "run_id"}
        )
        line = f"{ts} {record.levelname:<7} {record.name}: {fields['msg']}"
        if extras:
            line += f"  {extras}"
        if "exc" in fields:
            line += "\n" + str(fields["exc"])
        return line


def configure(
    project: str,
    level: str = "INFO",
    fmt: str = "auto",
    run_id: str | None = None,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> str:
    """Route every logger through one stderr handler; returns the run_id bound to each line."""
    if fmt not in {"auto", "json", "console"}:
        raise ValueError(f"log format must be auto, json or console, not {fmt!r}")
    run_id = run_id or uuid.uuid4().hex[:12]
    _context.clear()
    _context.update(project=project, run_id=run_id)
    for value in secrets:
        add_secret(value)
    out = stream if stream is not None else sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter() if use_json else ConsoleFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in THIRD_PARTY:
        lib = logging.getLogger(name)
        lib.handlers.clear()
        lib.propagate = True
    logging.captureWarnings(True)
    return run_id
