"""The three failures a CLI distinguishes, each mapped to one exit code."""

from __future__ import annotations


class UserError(Exception):
    """Bad input, usage or configuration: exit 2."""

    exit_code = 2


class JobError(Exception):
    """The run itself failed (too many rejects, a sink refused data): exit 1."""

    exit_code = 1


class ServiceUnavailable(JobError):
    """A server could not be reached: exit 1, naming the service and address."""

    def __init__(self, service: str, address: str, reason: str = "") -> None:
        self.service = service
        self.address = address
        detail = f": {reason}" if reason else ""
        super().__init__(f"{service} unreachable at {address}{detail}")
