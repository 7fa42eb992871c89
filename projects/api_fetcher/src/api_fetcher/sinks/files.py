"""JSONL or Parquet files under <output_dir>/<source>/<endpoint>/date=YYYY-MM-DD/, deduplicated on
the primary key and the content digest through the endpoint's key index (`keyindex.py`).

A write: the new files as `*.tmp` (fsynced), then the keys and file names committed in SQLite,
then the renames. A record whose key is stored with the same digest is a duplicate; with another
digest it is a change, appended as a new version (readers take the last file's version per key).
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from api_fetcher.records import Record
from api_fetcher.sinks import Sink, WriteResult, collapse
from api_fetcher.sinks.formats import FileFormat, JsonLines, Parquet
from api_fetcher.sinks.keyindex import KEY_SEP, KeyIndex
from api_fetcher.spec import Endpoint
from de_common.durable import fsync_path
from de_common.faults import fault_point


class FileSink:
    def __init__(self, folder: Path, fmt: FileFormat) -> None:
        self.folder = folder
        self.fmt = fmt
        self.index = KeyIndex(folder)
        self._run = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self._seq = itertools.count(1)

    def write(self, records: Sequence[Record]) -> WriteResult:
        kept, repeated = collapse(records)
        keys = [KEY_SEP.join(r.key) for r in kept]
        known = self.index.known(keys)
        fresh = [(k, r) for k, r in zip(keys, kept, strict=True) if known.get(k) != r.digest]
        result = WriteResult(
            written=len(fresh),
            updated=sum(1 for k, _ in fresh if k in known),
            duplicates=repeated + len(kept) - len(fresh),
        )
        if not fresh:
            return result
        by_day: dict[str, list[Record]] = defaultdict(list)
        for _, record in fresh:
            by_day[record.day].append(record)
        names = []
        for day, rows in sorted(by_day.items()):
            name = f"date={day}/part-{self._run}-{next(self._seq):05d}{self.fmt.suffix}"
            final = self.folder / name
            final.parent.mkdir(parents=True, exist_ok=True)
            self.fmt.write(final.with_name(final.name + ".tmp"), [r.data for r in rows])
            names.append(name)
        fault_point("sink.before_commit")
        self.index.commit(((k, r.digest) for k, r in fresh), names)
        for name in names:
            final = self.folder / name
            os.replace(final.with_name(final.name + ".tmp"), final)
        for folder in {(self.folder / n).parent for n in names}:
            fsync_path(folder)
        return result

    def close(self) -> None:
        self.index.close()


class FileDestination:
    def __init__(self, root: Path, kind: Literal["jsonl", "parquet", "postgres"]) -> None:
        self.root = root
        self.kind = kind

    def open(self, source: str, endpoint: Endpoint) -> Sink:
        fmt: FileFormat = JsonLines() if self.kind == "jsonl" else Parquet(endpoint)
        return FileSink(self.root / source / endpoint.name, fmt)

    def close(self) -> None:
        return None
