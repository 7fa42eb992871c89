"""RabbitMQ from Debian's package: a detached node with its own epmd, everything in the state folder."""

from __future__ import annotations

import base64
import json
import os
import socket
import urllib.parse
import urllib.request
from functools import partial
from pathlib import Path

from de_services.probes import needs, which
from de_services.runtime import Runtime, runtime
from de_services.service import DockerSpec, NotInstalled, Service, ServiceError

# Debian's /usr/sbin wrappers `su` to the rabbitmq user and cd into /var/lib/rabbitmq; the real
# scripts run fine as any user with our own HOME, cookie and folders.
_BIN = "/usr/lib/rabbitmq/bin"


def _tool(name: str) -> str:
    folder = os.environ.get("DE_RABBITMQ_BIN_DIR", _BIN)
    path = which(name, folder)
    if path is None:
        raise NotInstalled(f"rabbitmq: {name} not found (apt-get install rabbitmq-server)")
    return path


def _node(rt: Runtime) -> str:
    return f"de{rt.port('amqp_port')}@localhost"


def _env(rt: Runtime) -> dict[str, str]:
    base = rt.state_dir
    return {
        "HOME": str(base),
        "RABBITMQ_NODENAME": _node(rt),
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(rt.port("amqp_port")),
        "RABBITMQ_DIST_PORT": str(rt.port("dist_port")),
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
        "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "log"),
        "RABBITMQ_PID_FILE": str(_pid_file(rt)),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "ERL_EPMD_PORT": str(rt.port("epmd_port")),
    }


def _pid_file(rt: Runtime) -> Path:
    return rt.state_dir / "rabbitmq.pid"


def _start(rt: Runtime) -> None:
    base = rt.state_dir
    for folder in (base / "mnesia", base / "log"):
        folder.mkdir(parents=True, exist_ok=True)
    (base / "rabbitmq.conf").write_text(
        f"listeners.tcp.1 = 127.0.0.1:{rt.port('amqp_port')}\n"
        "loopback_users = none\n"
        "log.file.level = info\n"
        "log.console = false\n"
        # The management API is how operators (and the projects' `status` commands and exporters)
        # read queue depth, consumers and unacked counts; loopback only like the rest.
        f"management.tcp.port = {rt.port('mgmt_port')}\n"
        "management.tcp.ip = 127.0.0.1\n"
    )
    # The Erlang distribution port would listen on every interface without this.
    (base / "advanced.config").write_text("[{kernel, [{inet_dist_use_interface, {127,0,0,1}}]}].\n")
    (base / "rabbitmq-env.conf").write_text("")
    (base / "enabled_plugins").write_text("[rabbitmq_management].\n")
    cookie = base / ".erlang.cookie"
    if not cookie.exists():
        cookie.write_text(os.urandom(16).hex().upper())
        cookie.chmod(0o400)
    rt.run([_tool("rabbitmq-server"), "-detached"], env=_env(rt), timeout=60)


def _ready(rt: Runtime) -> bool:
    # The management listener comes up a moment after AMQP; callers use both.
    return amqp_answers("127.0.0.1", rt.port("amqp_port")) and _listening(rt.port("mgmt_port"))


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0):
            return True
    except OSError:
        return False


def amqp_answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """True if the port speaks AMQP 0-9-1: the server answers the protocol header with a frame."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            return sock.recv(1) == b"\x01"
    except OSError:
        return False


def _stop(rt: Runtime) -> None:
    env = _env(rt)
    rt.run(
        [_tool("rabbitmqctl"), "-n", _node(rt), "stop", str(_pid_file(rt))], env=env, check=False
    )
    # epmd outlives the node; it is one of our recorded listener pids, but ask it politely first.
    epmd = which("epmd", "/usr/lib/erlang/bin") or which("epmd")
    if epmd:
        rt.run(
            [epmd, "-port", str(rt.port("epmd_port")), "-kill"], env=env, check=False, timeout=10
        )


def _url(rt: Runtime) -> str:
    return f"amqp://guest:guest@127.0.0.1:{rt.port('amqp_port')}/%2F"


SERVICE = Service(
    name="rabbitmq",
    env_var="DE_RABBITMQ_URL",
    ports={"amqp_port": 25672, "dist_port": 25673, "epmd_port": 24369, "mgmt_port": 25675},
    url=_url,
    start=_start,
    ready=_ready,
    stop=_stop,
    missing=needs(partial(_tool, "rabbitmq-server"), partial(_tool, "rabbitmqctl")),
    startup_timeout=90.0,
    docker=DockerSpec(
        image="rabbitmq:3-management",
        port=5672,
        url="amqp://guest:guest@{host}:{port}/%2F",
        wait_log="Server startup complete",
    ),
)


# --- vhosts for test isolation ------------------------------------------------------------------


def ctl(*args: str) -> str:
    """Run rabbitmqctl against the launcher's node; its stdout."""
    rt = runtime(SERVICE)
    proc = rt.run([_tool("rabbitmqctl"), "-n", _node(rt), *args], env=_env(rt), timeout=60)
    return proc.stdout


def _is_native(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.port == runtime(SERVICE).port("amqp_port") and parts.hostname in (
        "127.0.0.1",
        "localhost",
    )


def management_url(url: str) -> str:
    """The HTTP management API beside an AMQP URL: $DE_RABBITMQ_MANAGEMENT_URL, the launcher's own
    management port for its native node, else the server's default port 15672."""
    env = os.environ.get("DE_RABBITMQ_MANAGEMENT_URL")
    if env:
        return env.rstrip("/")
    if _is_native(url):
        return f"http://127.0.0.1:{runtime(SERVICE).port('mgmt_port')}"
    return f"http://{urllib.parse.urlsplit(url).hostname}:15672"


def _management(url: str, method: str, path: str, body: object | None = None) -> None:
    parts = urllib.parse.urlsplit(url)
    api = management_url(url)
    token = base64.b64encode(
        f"{urllib.parse.unquote(parts.username or 'guest')}:"
        f"{urllib.parse.unquote(parts.password or 'guest')}".encode()
    ).decode()
    request = urllib.request.Request(  # noqa: S310 - the management URL is the operator's own
        f"{api.rstrip('/')}/api/{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310
            pass
    except OSError as exc:
        raise ServiceError(f"rabbitmq management API {api}: {exc}") from exc


def add_vhost(url: str, name: str) -> None:
    """Create vhost `name` with full rights for the URL's user (rabbitmqctl, else management API)."""
    user = urllib.parse.unquote(urllib.parse.urlsplit(url).username or "guest")
    if _is_native(url):
        ctl("add_vhost", name)
        ctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        return
    quoted = urllib.parse.quote(name, safe="")
    _management(url, "PUT", f"vhosts/{quoted}", {})
    _management(
        url,
        "PUT",
        f"permissions/{quoted}/{urllib.parse.quote(user, safe='')}",
        {"configure": ".*", "write": ".*", "read": ".*"},
    )


def delete_vhost(url: str, name: str) -> None:
    """Delete vhost `name` and everything in it."""
    if _is_native(url):
        ctl("delete_vhost", name)
    else:
        _management(url, "DELETE", f"vhosts/{urllib.parse.quote(name, safe='')}")
