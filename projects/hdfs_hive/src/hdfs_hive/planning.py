"""Which local files go where in HDFS: folders mirrored, the lake layout checked, types checked."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from de_common.inputs import InputMissing
from hdfs_hive.identifiers import dt_of
from hdfs_hive.webhdfs import join

SUPPORTED = (".parquet", ".csv")
PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class Planned:
    """One local file and the HDFS path it ends at."""

    local: Path
    remote: str
    size: int


@dataclass(frozen=True)
class Refused:
    """A local file that is not uploaded, and why."""

    local: Path
    reason: str
    skip: bool = False  # True: counted as skipped (hidden files), not rejected


@dataclass(frozen=True)
class Target:
    """Where uploads go: a plain folder, or a dataset (with a fixed partition or dt= folders)."""

    root: str
    lake: bool
    dt: str | None = None


def _walk(source: Path) -> list[tuple[Path, str]]:
    """(file, path relative to what the user named) for a file or every file under a folder."""
    if source.is_file():
        return [(source, source.name)]
    if not source.is_dir():
        raise InputMissing(f"input not found: {source}")
    found = []
    for folder, dirs, files in os.walk(source):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            found.append((path, path.relative_to(source).as_posix()))
    return found


def _check(path: Path, relative: str, target: Target) -> str | None:
    """Why this file may not be uploaded, or None."""
    if not path.name.endswith(SUPPORTED):
        return f"unsupported file type (expected {', '.join(SUPPORTED)})"
    if path.name.endswith(".parquet"):
        with path.open("rb") as fh:
            head = fh.read(4)
            fh.seek(max(path.stat().st_size - 4, 0))
            tail = fh.read(4)
        if head != PARQUET_MAGIC or tail != PARQUET_MAGIC or path.stat().st_size < 12:
            return "not a Parquet file (magic bytes missing: truncated or corrupt)"
    if target.lake and target.dt is None:
        first = relative.split("/", 1)[0]
        if "/" not in relative or dt_of(first) is None:
            return "not inside a dt=YYYY-MM-DD folder (give --dt for loose files)"
    return None


def plan(sources: list[Path], target: Target) -> tuple[list[Planned], list[Refused]]:
    """Every file under the sources, either planned to a remote path or refused with a reason."""
    planned: dict[str, Planned] = {}
    refused: list[Refused] = []
    base = join(target.root, f"dt={target.dt}") if target.dt else target.root
    for source in sources:
        for path, relative in _walk(source):
            if any(part.startswith((".", "_")) for part in relative.split("/")):
                # Hidden and marker files (.crc, _SUCCESS): readers ignore them, so do we.
                refused.append(Refused(path, "hidden", skip=True))
                continue
            reason = _check(path, relative, target)
            if reason is not None:
                refused.append(Refused(path, reason))
                continue
            remote = join(base, relative)
            if remote in planned:
                refused.append(Refused(path, f"another input also goes to {remote}"))
                continue
            planned[remote] = Planned(path, remote, path.stat().st_size)
    return list(planned.values()), refused
