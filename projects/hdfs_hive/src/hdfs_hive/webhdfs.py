"""The one module that talks to HDFS (the `hdfs` package over WebHDFS): its errors become ours here.

A refused connection or a timeout is `ServiceUnavailable` (exit 1, one line naming the address); an
HDFS error answer (permission, a parent that is a file) is `JobError` with HDFS's own message.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from hdfs import HdfsError, InsecureClient

from de_common.errors import JobError, ServiceUnavailable
from hdfs_hive.checksum import remote_md5
from hdfs_hive.config import HdfsHiveSettings

T = TypeVar("T")

# One INFO line per HTTP call (status, checksum, write) drowns the job's own log.
logging.getLogger("hdfs.client").setLevel(logging.WARNING)


@contextmanager
def _mapped(url: str) -> Iterator[None]:
    try:
        yield
    except requests.RequestException as exc:
        raise ServiceUnavailable("hdfs", url, type(exc).__name__) from exc
    except HdfsError as exc:
        raise JobError(f"hdfs: {' '.join(str(exc).split())[:300]}") from exc


@dataclass
class Hdfs:
    """A WebHDFS client with the few operations the loader needs, errors mapped."""

    url: str
    client: InsecureClient

    def call(self, fn: Callable[[], T]) -> T:
        """Run one client call with the error mapping."""
        with _mapped(self.url):
            return fn()

    def status(self, path: str) -> dict[str, Any] | None:
        """GETFILESTATUS, or None when the path does not exist."""
        found = self.call(lambda: self.client.status(path, strict=False))
        return dict(found) if found is not None else None

    def checksum_md5(self, path: str) -> str:
        """The MD5 part of HDFS's file checksum (MD5-of-MD5-of-CRC32C)."""
        return remote_md5(self.call(lambda: self.client.checksum(path)))

    def list_dir(self, path: str) -> list[tuple[str, dict[str, Any]]]:
        """(name, status) of a folder's children; empty when the folder does not exist."""
        if self.status(path) is None:
            return []
        return [(n, dict(s)) for n, s in self.call(lambda: self.client.list(path, status=True))]

    def write(
        self, path: str, data: Iterable[bytes] | bytes, block_size: int | None = None
    ) -> None:
        """CREATE (overwriting): the bytes go from the namenode's redirect to the datanode."""
        self.call(lambda: self.client.write(path, data=data, overwrite=True, blocksize=block_size))

    def rename(self, src: str, dst: str, overwrite: bool) -> None:
        """Move src to exactly dst (never into a folder named dst); OVERWRITE replaces a file."""
        options = "OVERWRITE" if overwrite else "NONE"
        # The package's rename() would move into an existing folder; rename2 with options does
        # not, and it replaces an existing file in one namenode operation when asked to.
        self.call(lambda: self.client._rename(src, destination=dst, renameoptions=options))

    def delete(self, path: str, recursive: bool = False) -> bool:
        """Delete; False when it did not exist."""
        return bool(self.call(lambda: self.client.delete(path, recursive=recursive)))

    def mkdirs(self, path: str) -> None:
        self.call(lambda: self.client.makedirs(path))

    def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        """Bytes of a file (a range when length is given)."""

        def fetch() -> bytes:
            with self.client.read(path, offset=offset, length=length) as reader:
                return bytes(reader.read())

        return self.call(fetch)


def connect(settings: HdfsHiveSettings) -> Hdfs:
    """A client for the configured namenode; nothing is contacted yet."""
    client = InsecureClient(settings.hdfs_url, user=settings.hdfs_user, timeout=settings.timeout_s)
    return Hdfs(settings.hdfs_url, client)


def join(*parts: str) -> str:
    """An HDFS path from parts (POSIX rules)."""
    return posixpath.join(*parts)
