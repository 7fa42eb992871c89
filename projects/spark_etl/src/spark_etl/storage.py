"""Filesystem operations through Hadoop's FileSystem API, so local, hdfs:// and s3a:// behave alike."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pyspark.sql import SparkSession

from de_common.errors import ServiceUnavailable, UserError

PARTITION = re.compile(r"^(?:dt|date)=(\d{4}-\d{2}-\d{2})$")


class Storage:
    """The Hadoop FileSystem of one root URI, used by the driver only (listings, deletes)."""

    def __init__(self, spark: SparkSession, root: str) -> None:
        self.root = root.rstrip("/")
        jvm: Any = spark.sparkContext._jvm
        self._jvm = jvm
        conf = spark.sparkContext._jsc.hadoopConfiguration()
        try:
            self._fs = jvm.org.apache.hadoop.fs.Path(self.root).getFileSystem(conf)
        except Exception as exc:
            raise ServiceUnavailable("filesystem", self.root, short(exc)) from exc

    def _path(self, relative: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(f"{self.root}/{relative}")

    def exists(self, relative: str) -> bool:
        """Whether root/relative exists."""
        try:
            return bool(self._fs.exists(self._path(relative)))
        except Exception as exc:
            raise ServiceUnavailable("filesystem", self.root, short(exc)) from exc

    def partition_dates(self, relative: str) -> list[date]:
        """The dates of the dt=/date= folders under root/relative, sorted (none if it is missing)."""
        if not self.exists(relative):
            return []
        found = []
        for status in self._fs.listStatus(self._path(relative)):
            match = PARTITION.match(status.getPath().getName())
            if status.isDirectory() and match:
                found.append(date.fromisoformat(match.group(1)))
        return sorted(found)

    def delete(self, relative: str) -> bool:
        """Delete root/relative recursively; False when there was nothing."""
        try:
            return bool(self._fs.delete(self._path(relative), True))
        except Exception as exc:
            raise ServiceUnavailable("filesystem", self.root, short(exc)) from exc

    def glob(self, pattern: str) -> list[str]:
        """Paths (relative to root) of the files matching root/pattern, sorted."""
        found = self._fs.globStatus(self._path(pattern)) or []
        prefix = len(self._fs.makeQualified(self._path("")).toString().rstrip("/")) + 1
        return sorted(
            self._fs.makeQualified(st.getPath()).toString()[prefix:] for st in found if st.isFile()
        )

    def move(self, source: str, target: str) -> None:
        """Rename root/source to root/target, replacing it (atomic on local and HDFS)."""
        dest = self._path(target)
        self._fs.mkdirs(dest.getParent())
        self._fs.delete(dest, False)
        if not self._fs.rename(self._path(source), dest):
            raise ServiceUnavailable("filesystem", self.root, f"rename {source} -> {target} failed")

    def url(self, relative: str) -> str:
        """The full URI of root/relative."""
        return f"{self.root}/{relative}"


def require(storage: Storage, relative: str) -> None:
    """UserError when an input is missing: one line, exit 2."""
    if not storage.exists(relative):
        raise UserError(f"input not found: {storage.url(relative)}")


def short(exc: Exception) -> str:
    """The first telling line of a JVM or py4j error, without the plan or stack."""
    text = str(exc).strip()
    for line in text.splitlines():
        if "Exception:" in line:
            return line.strip().lstrip(": ")[:300]
    return text.splitlines()[0][:300] if text else type(exc).__name__
