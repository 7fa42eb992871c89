"""The one module that wraps pika's connection set-up: URL to parameters, errors to ServiceUnavailable."""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any

import pika
import pika.exceptions

from de_common.errors import ServiceUnavailable, UserError
from rabbitmq_worker.config import RabbitmqWorkerSettings
from rabbitmq_worker.topology import Topology

# pika logs every socket state change at INFO and each failed connect with its traceback at
# ERROR; every such error reaches our code, which logs or reports it as one line.
logging.getLogger("pika").setLevel(logging.CRITICAL)

# What a lost or refused connection looks like in pika: retry these after a backoff.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    pika.exceptions.AMQPConnectionError,
    pika.exceptions.ConnectionClosed,
    pika.exceptions.StreamLostError,
    pika.exceptions.ChannelWrongStateError,
    pika.exceptions.ConnectionWrongStateError,
    ConnectionError,
    OSError,
)


def address(url: str) -> str:
    """host:port/vhost of an AMQP URL, without the credentials (safe to log)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5672}{parts.path or '/'}"


def parameters(
    settings: RabbitmqWorkerSettings, heartbeat: int | None = None
) -> pika.URLParameters:
    """Connection parameters from the URL plus our timeouts and heartbeat."""
    url = settings.url.get_secret_value()
    if not url.startswith(("amqp://", "amqps://")):
        raise UserError("invalid setting RABBITMQ_WORKER_URL: must start with amqp:// or amqps://")
    params = pika.URLParameters(url)
    params.heartbeat = settings.heartbeat_s if heartbeat is None else heartbeat
    params.socket_timeout = settings.connect_timeout_s
    params.blocked_connection_timeout = max(settings.connect_timeout_s * 6, 30.0)
    params.connection_attempts = 1
    return params


def topology(settings: RabbitmqWorkerSettings) -> Topology:
    """The topology the settings name."""
    return Topology(settings.prefix, tuple(settings.retry_delays_ms), settings.delivery_limit)


def connect(settings: RabbitmqWorkerSettings, heartbeat: int | None = None) -> Any:
    """A BlockingConnection, or ServiceUnavailable naming the broker (never the password)."""
    try:
        return pika.BlockingConnection(parameters(settings, heartbeat))
    except pika.exceptions.ProbableAuthenticationError as exc:
        raise ServiceUnavailable(
            "rabbitmq", where(settings), f"authentication failed {exc}"
        ) from None
    except CONNECTION_ERRORS as exc:
        raise ServiceUnavailable("rabbitmq", where(settings), describe(exc)) from None


def where(settings: RabbitmqWorkerSettings) -> str:
    return address(settings.url.get_secret_value())


def describe(exc: BaseException) -> str:
    """One line for a pika error (their str() is often empty or a tuple)."""
    inner = exc
    # pika wraps the cause: AMQPConnectionError(AMQPConnectorSocketConnectError(OSError(...))).
    while True:
        nested = getattr(inner, "exception", None)  # pika's connection workflow errors
        if not isinstance(nested, BaseException) and inner.args:
            nested = inner.args[0]
        if not isinstance(nested, BaseException):
            break
        inner = nested
    if isinstance(inner, OSError) and inner.strerror:
        return inner.strerror
    text = str(inner) or type(inner).__name__
    return f"{type(inner).__name__}: {text}".replace("\n", " ")


def unavailable(settings: RabbitmqWorkerSettings, exc: BaseException) -> ServiceUnavailable:
    """The error for a broker lost mid-operation."""
    return ServiceUnavailable("rabbitmq", where(settings), describe(exc))
