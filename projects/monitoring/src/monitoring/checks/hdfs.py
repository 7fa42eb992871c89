"""HDFS partition freshness: the newest partition folder (or file) under a path, over WebHDFS."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from monitoring.checks import CheckFailed, Sample
from monitoring.checks.http import get_json
from monitoring.series import DATA_ITEMS, DATA_LAST_UPDATE, DATA_SLA


@dataclass(frozen=True)
class Folder:
    """A partitioned folder (children like dt=2026-11-30) and its freshness SLA."""

    path: str
    sla_s: float


@dataclass
class HdfsFolders:
    """LISTSTATUS of each folder: partitions counted, the newest modification time reported."""

    name: str
    webhdfs_url: str
    folders: list[Folder]
    timeout_s: float
    user: str = "monitoring"
    kind: str = "hdfs"

    def run(self) -> list[Sample]:
        return [s for f in self.folders for s in self._folder(f)]

    def _folder(self, folder: Folder) -> list[Sample]:
        path = urllib.parse.quote(folder.path)
        query = urllib.parse.urlencode({"op": "LISTSTATUS", "user.name": self.user})
        url = f"{self.webhdfs_url.rstrip('/')}/webhdfs/v1{path}?{query}"
        body = get_json(url, self.timeout_s)
        try:
            statuses = body["FileStatuses"]["FileStatus"]
        except (KeyError, TypeError):
            raise CheckFailed(f"webhdfs {folder.path}: unexpected answer") from None
        partitions = [s for s in statuses if s.get("type") == "DIRECTORY"]
        # Writers add files inside a partition folder, which bumps its modification time.
        newest = max((s["modificationTime"] / 1000 for s in statuses), default=None)
        labels = (self.name, self.kind, folder.path)
        samples = [
            Sample(DATA_ITEMS, labels, len(partitions)),
            Sample(DATA_SLA, labels, folder.sla_s),
        ]
        if newest is not None:
            samples.append(Sample(DATA_LAST_UPDATE, labels, newest))
        return samples

    def close(self) -> None:
        return None
