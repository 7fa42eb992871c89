"""The service description and the generic launcher machinery every service module shares.

A service module (postgres.py, kafka.py, ...) defines ONE module-level constant::

    SERVICE = Service(
        name="postgres",                       # CLI name, state folder name
        env_var="DE_POSTGRES_URL",             # an external server's URL; wins over a native start
        ports={"port": 25432},                 # each overridable by DE_<NAME>_<PORTNAME>, e.g. DE_POSTGRES_PORT
        url=lambda rt: f"postgresql://postgres@127.0.0.1:{rt.port()}/postgres",
        start=_start,                          # launch it (rt.spawn / rt.run), do not wait for readiness
        ready=_ready,                          # True once clients can use it (polled by up())
        stop=_stop,                            # optional graceful stop; TERM/KILL of recorded pids follows
        provision=_provision,                  # optional one-time setup (jars, tool venv), idempotent
        missing=_missing,                      # optional: why it cannot start natively here, or None
        startup_timeout=30.0,
        requires=(),                           # names of services that must be up first
        commands={"kafka-tool": _tool},        # optional extra CLI verbs: fn(args) -> exit code
        docker=DockerSpec(...),                # optional: how the testcontainers fallback runs it
    )

Every callable receives a `Runtime`: the resolved ports, the service's own state folder
(`$DE_STATE_DIR/<name>` or `~/.cache/de-showcase/state/<name>`), its log file, the cache folder, the
infra/local folder, and `spawn()` / `run()` helpers that log to the service's log file and record the
pids that `down()` must stop.

The generic part here: `up()` (lock, reuse a running instance, refuse a port held by something else,
provision, start, wait for readiness with a timeout and the log tail on failure, record pids and the
listeners on the service's ports), `down()` (graceful stop, then TERM/KILL of exactly the recorded pids,
then wait until no recorded process and no listening port remain) and `status()`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"


class ServiceError(Exception):
    """A local service could not be provisioned, started or stopped; the message is one line."""


class PortInUse(ServiceError):
    """A port the service needs is held by a process the launcher did not start."""


class NotInstalled(ServiceError):
    """The binaries or jars the native start needs are not on this machine."""


@dataclass(frozen=True)
class DockerSpec:
    """How the testcontainers fallback runs a service: `url` formats with {host} and {port}."""

    image: str
    port: int
    url: str
    env: Mapping[str, str] = field(default_factory=dict)
    command: str | None = None
    wait_log: str | None = None


@dataclass(frozen=True)
class Service:
    """One local service: what it is called, where it listens and how to start, probe and stop it."""

    name: str
    env_var: str
    ports: Mapping[str, int]
    url: Callable[[Runtime], str]
    start: Callable[[Runtime], None]
    ready: Callable[[Runtime], bool]
    stop: Callable[[Runtime], None] | None = None
    provision: Callable[[Runtime], None] | None = None
    missing: Callable[[Runtime], str | None] | None = None
    startup_timeout: float = 60.0
    requires: tuple[str, ...] = ()
    commands: Mapping[str, Callable[[Sequence[str]], int]] = field(default_factory=dict)
    docker: DockerSpec | None = None


def state_root() -> Path:
    """Where every service keeps data, logs and pid records."""
    env = os.environ.get("DE_STATE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "de-showcase" / "state"


def cache_root() -> Path:
    """Where downloaded jars and tool venvs live (shared by every state folder)."""
    env = os.environ.get("DE_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "de-showcase"


def infra_dir() -> Path | None:
    """The repository's infra/local folder: $DE_INFRA_DIR, else found walking up from cwd or here."""
    env = os.environ.get("DE_INFRA_DIR")
    if env:
        return Path(env)
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            candidate = folder / "infra" / "local"
            if candidate.is_dir():
                return candidate
    return None


def port_env_var(service: str, port_name: str) -> str:
    """The env var overriding one port: DE_<SERVICE>_<PORTNAME>."""
    return f"DE_{service.upper()}_{port_name.upper()}"


@dataclass
class Runtime:
    """What a service's callables get: resolved ports, folders and process helpers."""

    service: Service
    state_dir: Path
    cache_dir: Path
    infra_dir: Path | None
    ports: dict[str, int]
    pids: list[int] = field(default_factory=list)

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"{self.service.name}.log"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    def port(self, name: str = "port") -> int:
        return self.ports[name]

    def require_infra_dir(self) -> Path:
        if self.infra_dir is None:
            raise NotInstalled("infra/local not found: set DE_INFRA_DIR or run from the repository")
        return self.infra_dir

    def spawn(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start a long-running process in its own session, output to the log; its pid is recorded."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env} if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        self.pids.append(proc.pid)
        return proc

    def run(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 120.0,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run a short command to completion; output is appended to the log; failure -> ServiceError."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            proc = subprocess.run(
                list(argv),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                env={**os.environ, **env} if env is not None else None,
                cwd=cwd,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise NotInstalled(f"{self.service.name}: {argv[0]} not found") from exc
        except subprocess.TimeoutExpired as exc:
            raise ServiceError(
                f"{self.service.name}: {' '.join(argv[:2])} timed out after {timeout:.0f}s"
            ) from exc
        with self.log_file.open("a") as log:
            log.write(f"$ {' '.join(argv)}\n{proc.stdout}{proc.stderr}")
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            last = detail[-1] if detail else f"exit {proc.returncode}"
            raise ServiceError(f"{self.service.name}: {' '.join(argv[:2])} failed: {last}")
        return proc


def _int_env(var: str, default: int) -> int:
    raw = os.environ.get(var, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ServiceError(f"{var}={raw!r} is not a number") from exc


def runtime(service: Service) -> Runtime:
    """The Runtime for a service, ports resolved from the environment."""
    ports: dict[str, int] = {}
    offset = _int_env("DE_PORT_OFFSET", 0)
    for port_name, default in service.ports.items():
        ports[port_name] = _int_env(port_env_var(service.name, port_name), default + offset)
    return Runtime(
        service=service,
        state_dir=state_root() / service.name,
        cache_dir=cache_root(),
        infra_dir=infra_dir(),
        ports=ports,
    )


# --- processes and ports ------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    """True for a live, non-zombie process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def port_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    return inodes


def listeners(port: int) -> list[int]:
    """Pids of the processes holding a listening socket on `port` (any address)."""
    targets = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not targets:
        return []
    found: list[int] = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in targets:
                        found.append(int(proc.name))
                        break
    return sorted(found)


def port_listening(port: int) -> bool:
    """True if any socket listens on `port` (a listener on another address counts too)."""
    return bool(_listening_inodes(port)) or port_open(port)


def _describe(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        cmd = "?"
    return f"pid {pid} ({cmd[:80]})"


def descendants(pids: Sequence[int]) -> set[int]:
    """The pids and every live process below them."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(proc.name))
    found: set[int] = set()
    todo = [p for p in pids if pid_alive(p)]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def memory_mb(pids: Sequence[int]) -> float:
    """Proportional set size (shared pages split fairly) of the pids and their descendants, in MB."""
    total_kb = 0
    for pid in descendants(pids):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
                    break
    return round(total_kb / 1024, 1)


def log_tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


# --- state records --------------------------------------------------------------------------------


def _record_path(rt: Runtime) -> Path:
    return rt.state_dir / "service.json"


def _read_record(rt: Runtime) -> dict[str, object]:
    try:
        data = json.loads(_record_path(rt).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _recorded_pids(record: Mapping[str, object]) -> list[int]:
    """The recorded pids that are still the processes we started (a pid reused after a reboot or
    a crash belongs to someone else and must never be signalled)."""
    pids = record.get("pids", [])
    starts = record.get("starts", {})
    if not isinstance(pids, list):
        return []
    known = starts if isinstance(starts, dict) else {}
    return [int(p) for p in pids if str(p) not in known or known[str(p)] == _start_time(int(p))]


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


@contextlib.contextmanager
def _locked(rt: Runtime) -> Iterator[None]:
    """Serialise up/down of one service across processes (parallel pytest sessions)."""
    rt.state_dir.mkdir(parents=True, exist_ok=True)
    with (rt.state_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Status:
    """What `status` reports for one service."""

    name: str
    running: bool
    ready: bool
    url: str
    pids: tuple[int, ...]
    ports: Mapping[str, int]
    startup_s: float | None = None


def status(service: Service) -> Status:
    """Whether the launcher's instance of a service runs and answers."""
    rt = runtime(service)
    record = _read_record(rt)
    alive = tuple(p for p in _recorded_pids(record) if pid_alive(p))
    running = bool(alive)
    ready = running and _safe_ready(rt)
    took = record.get("startup_s")
    startup = float(took) if isinstance(took, int | float) else None
    return Status(service.name, running, ready, service.url(rt), alive, rt.ports, startup)


def _safe_ready(rt: Runtime) -> bool:
    try:
        return rt.service.ready(rt)
    except Exception:
        return False


# --- up / down ------------------------------------------------------------------------------------


def up(service: Service, timeout: float | None = None) -> str:
    """Start a service (or reuse the running instance) and return its URL once it is ready."""
    rt = runtime(service)
    with _locked(rt):
        record = _read_record(rt)
        alive = [p for p in _recorded_pids(record) if pid_alive(p)]
        if alive:
            if _wait_ready(rt, timeout or service.startup_timeout, alive):
                return service.url(rt)
            raise ServiceError(
                f"{service.name}: running (pids {alive}) but not ready; "
                f"`down {service.name}` then retry; log {rt.log_file}:\n{log_tail(rt.log_file)}"
            )
        if service.missing is not None:
            reason = service.missing(rt)
            if reason:
                raise NotInstalled(f"{service.name}: {reason}")
        for port_name, port in rt.ports.items():
            if port_listening(port):
                holders = ", ".join(_describe(p) for p in listeners(port)) or "unknown process"
                raise PortInUse(
                    f"{service.name}: port {port} ({port_env_var(service.name, port_name)}) is "
                    f"already in use by {holders}; stop it or choose another port"
                )
        if service.provision is not None:
            service.provision(rt)
        rt.state_dir.mkdir(parents=True, exist_ok=True)
        with rt.log_file.open("a") as log:
            log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {service.name}\n")
        started = time.monotonic()
        try:
            service.start(rt)
            _write_record(rt, started)
            ok = _wait_ready(rt, timeout or service.startup_timeout, rt.pids)
        except ServiceError:
            _write_record(rt, started)
            _stop(rt)
            raise
        if not ok:
            _stop(rt)
            raise ServiceError(
                f"{service.name}: not ready within {timeout or service.startup_timeout:.0f}s; "
                f"log {rt.log_file}:\n{log_tail(rt.log_file)}"
            )
        _write_record(rt, started)
        return service.url(rt)


def _write_record(rt: Runtime, started: float) -> None:
    """Record spawned pids plus whatever now listens on the service's ports (daemonised children)."""
    pids = set(rt.pids)
    for port in rt.ports.values():
        pids.update(listeners(port))
    rt.pids[:] = sorted(pids)
    record = {
        "pids": rt.pids,
        "starts": {str(p): _start_time(p) for p in rt.pids},
        "ports": rt.ports,
        "url": rt.service.url(rt),
        "startup_s": round(time.monotonic() - started, 2),
        "started_at": time.time(),
    }
    _record_path(rt).write_text(json.dumps(record, indent=2))


def _wait_ready(rt: Runtime, timeout: float, watched: Sequence[int]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _safe_ready(rt):
            return True
        if watched and not any(pid_alive(p) for p in watched):
            raise ServiceError(
                f"{rt.service.name}: exited during startup; log {rt.log_file}:\n{log_tail(rt.log_file)}"
            )
        time.sleep(0.2)
    return False


def down(service: Service) -> bool:
    """Stop exactly what `up` started; True if something was running."""
    rt = runtime(service)
    with _locked(rt):
        record = _read_record(rt)
        rt.pids[:] = _recorded_pids(record)
        if not rt.pids:
            return False
        _stop(rt)
        return True


def _stop(rt: Runtime) -> None:
    was_alive = [p for p in rt.pids if pid_alive(p)]
    if was_alive and rt.service.stop is not None:
        with contextlib.suppress(ServiceError):
            rt.service.stop(rt)
    _terminate(rt.pids)
    deadline = time.monotonic() + 15
    busy = [p for p in rt.ports.values() if _listened_by(p, was_alive)]
    while busy and time.monotonic() < deadline:
        time.sleep(0.1)
        busy = [p for p in busy if _listened_by(p, was_alive)]
    with contextlib.suppress(OSError):
        _record_path(rt).unlink()
    if busy:
        raise ServiceError(f"{rt.service.name}: ports {busy} still listening after stop")


def _listened_by(port: int, pids: Sequence[int]) -> bool:
    """A port still held by one of our processes (a foreign listener is not ours to wait for)."""
    holders = listeners(port)
    return any(p in pids for p in holders) or (not holders and port_open(port))


def _terminate(pids: Sequence[int], grace: float = 10.0) -> None:
    """TERM then, after `grace` seconds, KILL each live pid (and its process group if it leads one)."""
    alive = [p for p in pids if pid_alive(p)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if os.getpgid(pid) == pid:
                    os.killpg(pid, sig)
                else:
                    os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while alive and time.monotonic() < deadline:
            for pid in alive:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
            alive = [p for p in alive if pid_alive(p)]
            if alive:
                time.sleep(0.1)
        if not alive:
            return


def which(tool: str, *extra_dirs: str) -> str | None:
    """A tool's path from extra folders first, then PATH."""
    for folder in extra_dirs:
        candidate = Path(folder) / tool
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(tool)


def executable(service: str, *names: str, install: str) -> str:
    """The first of `names` found on PATH; NotInstalled("<service>: <install>") when none is."""
    for name in names:
        path = which(name)
        if path is not None:
            return path
    raise NotInstalled(f"{service}: {install}")


def needs(*finders: Callable[[], object]) -> Callable[[Runtime], str | None]:
    """A `missing` hook: the message of the first finder raising NotInstalled, else None."""

    def missing(rt: Runtime) -> str | None:
        try:
            for find in finders:
                find()
        except NotInstalled as exc:
            return str(exc)
        return None

    return missing


def http_url(rt: Runtime) -> str:
    """http://127.0.0.1:<port>: the URL of a service that speaks HTTP on its one port."""
    return f"http://{HOST}:{rt.port()}"


def http_ready(path: str) -> Callable[[Runtime], bool]:
    """A `ready` probe: GET http://127.0.0.1:<port><path> answers 2xx."""

    def ready(rt: Runtime) -> bool:
        return http_ok(http_url(rt) + path)

    return ready


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True if GET url answers 2xx (stdlib only, so the launcher needs no client packages)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback URLs we build
            return 200 <= int(resp.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False
