"""PostgreSQL from Debian's binaries: initdb + pg_ctl on 127.0.0.1, trust auth, superuser `postgres`."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from de_services.probes import which
from de_services.processes import log_tail
from de_services.runtime import Runtime
from de_services.service import DockerSpec, NotInstalled, Service, ServiceError


def bin_dir() -> str | None:
    """$DE_POSTGRES_BIN_DIR, else the newest /usr/lib/postgresql/*/bin, else None (use PATH)."""
    env = os.environ.get("DE_POSTGRES_BIN_DIR")
    if env:
        return env
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    return found[-1] if found else None


def _tool(name: str) -> str:
    folder = bin_dir()
    path = which(name, folder) if folder else which(name)
    if path is None or (folder and not path.startswith(folder)):
        raise NotInstalled(f"postgres: {name} not found in {folder or 'PATH'}")
    return path


def _as_root() -> bool:
    return os.geteuid() == 0


def _wrap(argv: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; as root we hand it to the `postgres` system user.
    return ["runuser", "-u", "postgres", "--", *argv] if _as_root() else argv


def pg_home(rt: Runtime) -> Path:
    """Where the cluster lives: the state folder, or, when the postgres user cannot reach it (a
    state folder under /root), a folder under /var/tmp linked from the state folder."""
    if not _as_root() or _reachable_by_postgres(rt.state_dir):
        return rt.state_dir
    digest = hashlib.sha256(str(rt.state_dir.resolve()).encode()).hexdigest()[:10]
    # A fixed, per-state-folder path: the cluster must survive between launcher runs.
    return Path("/var/tmp/de-showcase") / f"postgres-{digest}"  # noqa: S108


def _reachable_by_postgres(path: Path) -> bool:
    import pwd

    user = pwd.getpwnam("postgres")
    for folder in (path, *path.parents):
        if not folder.exists():
            continue
        st = folder.stat()
        if st.st_uid == user.pw_uid:
            mode_bit = 0o100
        elif st.st_gid == user.pw_gid:
            mode_bit = 0o010
        else:
            mode_bit = 0o001
        if not st.st_mode & mode_bit:
            return False
    return True


def _missing(rt: Runtime) -> str | None:
    try:
        for tool in ("initdb", "pg_ctl", "pg_isready"):
            _tool(tool)
    except NotInstalled as exc:
        return f"{exc} (apt-get install postgresql)"
    if _as_root():
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs the `postgres` system user (apt-get install postgresql)"
    return None


def _prepare(rt: Runtime) -> Path:
    home = pg_home(rt)
    rt.state_dir.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    if home != rt.state_dir:
        _link(rt.state_dir / "cluster", home)
    if _as_root():
        shutil.chown(home, "postgres", "postgres")
        home.chmod(0o700)
    return home


_INITDB_OPTIONS = ("--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")


def _start(rt: Runtime) -> None:
    home = _prepare(rt)
    data = home / "data"
    if not (data / "PG_VERSION").exists():
        rt.run(
            _wrap([_tool("initdb"), "-D", str(data), "-U", "postgres", *_INITDB_OPTIONS]),
            timeout=120,
        )
    # Not rt.log_file: when home is the state folder that name is the launcher's own log, which
    # root owns and the postgres user cannot append to.
    log = home / "server.log"
    options = (
        f"-p {rt.port()} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c max_connections=200"
    )
    _link_log(rt, log)
    try:
        rt.run(
            _wrap([_tool("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"]),
            timeout=90,
        )
    except ServiceError as exc:
        # pg_ctl only says "Examine the log output"; the reason is in the server's own log.
        raise ServiceError(f"{exc}; server log {log}:\n{log_tail(log)}") from exc
    pid_line = (data / "postmaster.pid").read_text().splitlines()[0]
    rt.pids.append(int(pid_line))


def _link_log(rt: Runtime, log: Path) -> None:
    # The server writes its own log (as the postgres user); keep a link to it beside the launcher's.
    if log.parent != rt.state_dir:
        _link(rt.state_dir / log.name, log)


def _link(link: Path, target: Path) -> None:
    """link -> target, replacing whatever an earlier layout left under that name."""
    if link.is_symlink() and link.readlink() == target:
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    link.symlink_to(target)


def _ready(rt: Runtime) -> bool:
    proc = subprocess.run(
        [_tool("pg_isready"), "-h", "127.0.0.1", "-p", str(rt.port()), "-t", "1"],
        capture_output=True,
        timeout=5,
        check=False,
    )
    return proc.returncode == 0


def _stop(rt: Runtime) -> None:
    data = pg_home(rt) / "data"
    rt.run(_wrap([_tool("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]), check=False)


def _url(rt: Runtime) -> str:
    return f"postgresql://postgres@127.0.0.1:{rt.port()}/postgres"


SERVICE = Service(
    name="postgres",
    env_var="DE_POSTGRES_URL",
    ports={"port": 25432},
    url=_url,
    start=_start,
    ready=_ready,
    stop=_stop,
    missing=_missing,
    startup_timeout=60.0,
    docker=DockerSpec(
        image="postgres:16",
        port=5432,
        url="postgresql://postgres@{host}:{port}/postgres",
        env={"POSTGRES_HOST_AUTH_METHOD": "trust"},
        wait_log="database system is ready to accept connections",
    ),
)
