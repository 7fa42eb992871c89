"""Queue state for operators: depth, consumers, unacked and parked, from the management API
(or, without it, the AMQP passive declare, which knows depth and consumers but not unacked)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from de_common.errors import ServiceUnavailable
from rabbitmq_worker import broker
from rabbitmq_worker.config import RabbitmqWorkerSettings


def management_base(settings: RabbitmqWorkerSettings) -> str:
    """The management API URL: the setting, else port 15672 on the AMQP host."""
    if settings.management_url:
        return settings.management_url.rstrip("/")
    host = urllib.parse.urlsplit(settings.url.get_secret_value()).hostname or "127.0.0.1"
    return f"http://{host}:15672"


def _vhost(url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"


def _get(settings: RabbitmqWorkerSettings, path: str) -> Any:
    parts = urllib.parse.urlsplit(settings.url.get_secret_value())
    user = urllib.parse.unquote(parts.username or "guest")
    password = urllib.parse.unquote(parts.password or "guest")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - the operator's own management URL
        f"{management_base(settings)}/api/{path}", headers={"Authorization": f"Basic {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        return json.load(resp)


def queue_status(settings: RabbitmqWorkerSettings) -> dict[str, Any]:
    """Every queue of the topology with its depth, ready, unacked and consumers."""
    topo = broker.topology(settings)
    vhost = urllib.parse.quote(_vhost(settings.url.get_secret_value()), safe="")
    queues: dict[str, Any] = {}
    source = "management"
    try:
        for name in topo.queues:
            try:
                q = _get(settings, f"queues/{vhost}/{urllib.parse.quote(name, safe='')}")
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise
                queues[name] = None
                continue
            queues[name] = {
                "type": q.get("type"),
                "messages": q.get("messages", 0),
                "ready": q.get("messages_ready", 0),
                "unacked": q.get("messages_unacknowledged", 0),
                "consumers": q.get("consumers", 0),
            }
    except (OSError, ValueError):
        source = "amqp"
        queues = _amqp_status(settings, topo.queues)
    parked = queues.get(topo.parked_queue) or {}
    return {
        "source": source,
        "exchange": topo.exchange,
        "queues": queues,
        "parked": parked.get("messages", 0),
    }


def _amqp_status(settings: RabbitmqWorkerSettings, names: list[str]) -> dict[str, Any]:
    conn = broker.connect(settings)
    out: dict[str, Any] = {}
    try:
        for name in names:
            channel = conn.channel()
            try:
                ok = channel.queue_declare(name, passive=True).method
            except broker.CONNECTION_ERRORS:
                raise
            except Exception:
                out[name] = None
                continue
            out[name] = {
                "messages": ok.message_count,
                "ready": ok.message_count,
                "unacked": None,
                "consumers": ok.consumer_count,
            }
            channel.close()
        conn.close()
    except broker.CONNECTION_ERRORS as exc:
        raise ServiceUnavailable("rabbitmq", broker.where(settings), broker.describe(exc)) from None
    return out
