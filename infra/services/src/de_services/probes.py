"""Readiness probes and tool lookups the catalog modules compose (stdlib only)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from de_services.runtime import Runtime
from de_services.service import HOST, NotInstalled


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
