"""The task message contract: a JSON object {"task", "args"} validated by a JSON Schema, with a stable
message id so a republished or redelivered task is recognised."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import fastjsonschema

TASKS = ("noop", "sleep", "fail", "load_readings")

TASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["task", "args"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 200},
        "task": {"enum": list(TASKS)},
        "args": {"type": "object"},
    },
}

_validate = fastjsonschema.compile(TASK_SCHEMA)

# uuid5 namespace of ids derived from content: the same line published twice gets the same id.
_NAMESPACE = uuid.UUID("6f1d8a52-4a55-4a59-9c1e-2b0f5d0c7e11")


class InvalidTask(ValueError):
    """A body that is not JSON or breaks the schema: never retried, parked with this reason."""


@dataclass(frozen=True)
class Task:
    """One unit of work: which handler, its arguments, and the id that makes it idempotent."""

    message_id: str
    name: str
    args: dict[str, Any]

    def body(self) -> bytes:
        """The wire form: compact JSON without the id (that travels as the message_id property)."""
        return json.dumps({"task": self.name, "args": self.args}, separators=(",", ":")).encode()


def parse(body: bytes) -> dict[str, Any]:
    """Decode and validate a body; InvalidTask names what is wrong."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidTask(f"not JSON: {exc}") from None
    try:
        _validate(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise InvalidTask(f"schema: {exc.message}") from None
    if not isinstance(data, dict):  # the schema guarantees it; this narrows the type
        raise InvalidTask("schema: data must be object")
    return data


def task_from_line(line: bytes, source: str) -> Task:
    """A task from one input line; its id is the line's "id", else derived from where and what it is."""
    data = parse(line)
    message_id = data.get("id") or str(uuid.uuid5(_NAMESPACE, f"{source}\n{line.strip()!r}"))
    return Task(message_id=str(message_id), name=str(data["task"]), args=dict(data["args"]))


def task_from_delivery(body: bytes, message_id: str | None) -> Task:
    """A task from a delivery; a third-party publisher without a message_id gets one from the body."""
    data = parse(body)
    mid = message_id or data.get("id") or str(uuid.uuid5(_NAMESPACE, body.decode()))
    return Task(message_id=str(mid), name=str(data["task"]), args=dict(data["args"]))
