"""One verified, atomic upload per file, many in parallel.

Each file is streamed to a hidden temporary path beside its final one (`.name.uploading`: Hive and
Spark skip names starting with '.'), HDFS's checksum of what it stored is compared with the one
computed from the bytes we sent, the size too, and only then is it renamed into place: a reader
sees the whole file or none. A file already at the final path with the same size and checksum is
left alone (a rerun uploads nothing); one that differs is rejected unless overwrite is set.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal

from de_common.errors import JobError
from de_common.faults import fault_point
from hdfs_hive.checksum import HdfsChecksum, file_checksum
from hdfs_hive.planning import Planned
from hdfs_hive.webhdfs import Hdfs

# HDFS's default block size, passed explicitly so the checksum computed while streaming is the
# one the datanode will report (it depends on where blocks end).
BLOCK_SIZE = 128 * 1024 * 1024
READ_SIZE = 4 * 1024 * 1024

Outcome = Literal["uploaded", "unchanged", "rejected"]


@dataclass(frozen=True)
class Result:
    """What happened to one planned file."""

    item: Planned
    outcome: Outcome
    reason: str = ""


@dataclass
class UploadOptions:
    """How uploads behave."""

    overwrite: bool = False
    workers: int = 4


@dataclass
class Batch:
    """The results of the files that finished, and the first error that stopped the rest."""

    results: list[Result] = field(default_factory=list)
    error: JobError | None = None


def temp_path(remote: str) -> str:
    """The hidden path a file is written to before it is renamed into place."""
    folder, name = posixpath.split(remote)
    return posixpath.join(folder, f".{name}.uploading")


def _stream(item: Planned, summer: HdfsChecksum) -> Iterator[bytes]:
    """The file's bytes in chunks, each added to the checksum as it is sent."""
    with item.local.open("rb") as fh:
        first = True
        while chunk := fh.read(READ_SIZE):
            summer.update(chunk)
            yield chunk
            if first:
                # The datanode holds part of the file now: the moment a crash test kills us at.
                fault_point("put.mid_file")
                first = False


def _same(hdfs: Hdfs, item: Planned, status: dict[str, object]) -> bool:
    """Whether the file at the final path has our size and HDFS checksum."""
    if status.get("length") != item.size:
        return False
    block = int(str(status.get("blockSize") or BLOCK_SIZE))
    return hdfs.checksum_md5(item.remote) == file_checksum(item.local, block)


def upload(
    hdfs: Hdfs, item: Planned, overwrite: bool, listing: dict[str, dict[str, Any]] | None = None
) -> Result:
    """Upload one file through a temporary path, verify it, rename it into place.

    `listing` (final path -> status, from one LISTSTATUS of its folder) saves a request per file.
    """
    existing = listing.get(item.remote) if listing is not None else hdfs.status(item.remote)
    if existing is not None:
        if existing.get("type") != "FILE":
            return Result(item, "rejected", f"a folder is at {item.remote}")
        if _same(hdfs, item, existing):
            return Result(item, "unchanged")
        if not overwrite:
            return Result(item, "rejected", f"a different file is already at {item.remote}")
    tmp = temp_path(item.remote)
    summer = HdfsChecksum(BLOCK_SIZE)
    hdfs.write(tmp, _stream(item, summer), block_size=BLOCK_SIZE)
    stored = hdfs.status(tmp) or {}
    expected = summer.hexdigest()
    if stored.get("length") != item.size or hdfs.checksum_md5(tmp) != expected:
        hdfs.delete(tmp)
        raise JobError(f"verification failed for {item.remote}: size or checksum differs")
    fault_point("put.before_rename")
    hdfs.rename(tmp, item.remote, overwrite=existing is not None)
    return Result(item, "uploaded")


def _listing(hdfs: Hdfs, items: list[Planned]) -> dict[str, dict[str, Any]]:
    """What already exists at the final paths: one LISTSTATUS per target folder."""
    found: dict[str, dict[str, Any]] = {}
    for folder in sorted({posixpath.dirname(item.remote) for item in items}):
        for name, status in hdfs.list_dir(folder):
            found[posixpath.join(folder, name)] = status
    return found


def upload_all(hdfs: Hdfs, items: list[Planned], options: UploadOptions) -> Batch:
    """Upload in parallel, largest first (a big file started last would finish alone).

    The first error (HDFS gone, a failed verification) stops new uploads; the files that finished
    before it are still reported, so the summary accounts for them.
    """
    ordered = sorted(items, key=lambda p: p.size, reverse=True)
    batch = Batch()
    try:
        listing = _listing(hdfs, items)
    except JobError as unreachable:
        batch.error = unreachable
        return batch
    with ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="upload") as pool:
        futures = [pool.submit(upload, hdfs, item, options.overwrite, listing) for item in ordered]
        _, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        wait(futures)
    for future in futures:
        if future.cancelled():
            continue
        exc = future.exception()
        if exc is None:
            batch.results.append(future.result())
        elif batch.error is None:
            if not isinstance(exc, JobError):
                raise exc
            batch.error = exc
    return batch
