"""The generic launcher machinery with real processes: startup failures show the log tail, a
timeout stops what was started, env overrides move ports."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

from de_services import lifecycle, processes, runtime
from de_services.service import Service, ServiceError

pytestmark = pytest.mark.integration


def _service(script: str, ready: bool = False, timeout: float = 10.0) -> Service:
    return Service(
        name="fake",
        env_var="DE_FAKE_URL",
        ports={"port": 31999},
        url=lambda rt: f"fake://127.0.0.1:{rt.port()}",
        start=lambda rt: rt.spawn([sys.executable, "-c", script]) and None,
        ready=lambda rt: ready,
        startup_timeout=timeout,
    )


def test_process_dying_during_startup_reports_the_log_tail(isolated: dict[str, str]) -> None:
    service = _service("import sys; print('boom: bad config line 7', flush=True); sys.exit(3)")
    with pytest.raises(ServiceError, match="exited during startup") as err:
        lifecycle.up(service)
    assert "boom: bad config line 7" in str(err.value)
    assert not lifecycle.status(service).running


def test_never_ready_times_out_and_stops_the_process(isolated: dict[str, str]) -> None:
    service = _service(
        "import time; print('starting slowly', flush=True); time.sleep(600)", timeout=2
    )
    with pytest.raises(ServiceError, match=r"not ready within 2s") as err:
        lifecycle.up(service)
    assert "starting slowly" in str(err.value)
    rt = runtime.runtime(service)
    assert not (rt.state_dir / "service.json").exists()
    leftovers = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):
            if b"starting slowly" in (proc / "cmdline").read_bytes() and processes.pid_alive(
                int(proc.name)
            ):
                leftovers.append(proc.name)
    assert leftovers == []


def test_port_env_override_and_offset(
    isolated: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = _service("pass")
    monkeypatch.setenv("DE_PORT_OFFSET", "7")
    assert runtime.runtime(service).port() == 31999 + 7
    monkeypatch.setenv("DE_FAKE_PORT", "31001")
    assert runtime.runtime(service).port() == 31001  # an explicit port wins over the offset
    monkeypatch.setenv("DE_FAKE_PORT", "not-a-port")
    with pytest.raises(ServiceError, match="DE_FAKE_PORT='not-a-port' is not a number"):
        runtime.runtime(service)


def test_a_recycled_pid_is_never_signalled(isolated: dict[str, str]) -> None:
    """A record whose pid now belongs to another process (after a reboot) is not ours to stop."""
    import json
    import subprocess

    service = _service("pass")
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        folder = runtime.runtime(service).state_dir
        folder.mkdir(parents=True, exist_ok=True)
        record = {"pids": [stranger.pid], "starts": {str(stranger.pid): "1"}, "ports": {}}
        (folder / "service.json").write_text(json.dumps(record))
        assert not lifecycle.status(service).running
        assert not lifecycle.down(service)
        assert stranger.poll() is None  # still alive
    finally:
        stranger.kill()
        stranger.wait()


def test_kafka_cluster_ids_never_look_like_an_option() -> None:
    from de_services.catalog import kafka

    ids = [kafka._cluster_id() for _ in range(5000)]
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
    assert len(set(ids)) == len(ids)
