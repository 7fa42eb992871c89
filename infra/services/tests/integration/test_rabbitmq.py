"""RabbitMQ through the launcher: up -> pika publish + consume -> down stops the node AND epmd."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pika
import pytest

from de_services import lifecycle, processes, registry
from de_services.catalog import rabbitmq

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def services() -> list[str]:
    return ["rabbitmq"]


def test_up_publish_consume_vhost_down(
    started: dict[str, str], ports: dict[str, int], down_leaves_nothing: Callable[..., list[int]]
) -> None:
    service = registry.get("rabbitmq")
    url = started["rabbitmq"]
    assert url == f"amqp://guest:guest@127.0.0.1:{ports['DE_RABBITMQ_AMQP_PORT']}/%2F"

    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.queue_declare("roundtrip", durable=True)
        for i in range(10):
            channel.basic_publish("", "roundtrip", f"m{i}".encode(), mandatory=True)
        got = []
        for method, _props, body in channel.consume("roundtrip", inactivity_timeout=5):
            if method is None:
                break
            got.append(body)
            channel.basic_ack(method.delivery_tag)
            if len(got) == 10:
                break
        channel.cancel()
        assert got == [f"m{i}".encode() for i in range(10)]
    finally:
        conn.close()

    # Per-test isolation: a vhost made through rabbitmqctl, usable by guest, then gone.
    rabbitmq.add_vhost(url, "iso_test")
    iso = pika.BlockingConnection(pika.URLParameters(url.replace("%2F", "iso_test")))
    iso.channel().queue_declare("only_here")
    iso.close()
    assert "iso_test" in rabbitmq.ctl("list_vhosts")
    rabbitmq.delete_vhost(url, "iso_test")
    assert "iso_test" not in rabbitmq.ctl("list_vhosts").split()

    # The management API on its own loopback port: the counts operators and exporters read.
    api = rabbitmq.management_url(url)
    assert api == f"http://127.0.0.1:{ports['DE_RABBITMQ_MGMT_PORT']}"
    conn = pika.BlockingConnection(pika.URLParameters(url))
    conn.channel().basic_publish("", "roundtrip", b"waiting")
    conn.close()
    token = base64.b64encode(b"guest:guest").decode()
    request = urllib.request.Request(
        f"{api}/api/queues/%2F/roundtrip", headers={"Authorization": f"Basic {token}"}
    )
    for _ in range(100):  # queue stats are sampled every few seconds
        with urllib.request.urlopen(request, timeout=10) as resp:
            info = json.load(resp)
        if info.get("messages") == 1:
            break
        time.sleep(0.2)
    assert (info["messages"], info["messages_unacknowledged"]) == (1, 0)

    first = lifecycle.status(service)
    assert lifecycle.up(service) == url and lifecycle.status(service).pids == first.pids
    # The node and its epmd are both recorded and both stopped.
    assert len(first.pids) >= 2
    down_leaves_nothing()


def test_only_loopback_listeners(isolated: dict[str, str], ports: dict[str, int]) -> None:
    service = registry.get("rabbitmq")
    lifecycle.up(service)
    try:
        for port in ports.values():
            assert processes.listeners(port), port
            assert not _listening_on_wildcard(port), port
    finally:
        lifecycle.down(service)


def _listening_on_wildcard(port: int) -> bool:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            address, hex_port = cols[1].rsplit(":", 1)
            if cols[3] == "0A" and int(hex_port, 16) == port and set(address) == {"0"}:
                return True
    return False
