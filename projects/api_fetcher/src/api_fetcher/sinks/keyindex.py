"""The file sinks' commit log: which keys (with their content digest) and which files are stored,
in one SQLite database per endpoint. Files are written as `*.tmp`, committed here, then renamed; on
open, a `*.tmp` the log names is finished and any other is deleted (its records were never
acknowledged, so the state never passed them and the rerun fetches them again)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

KEY_SEP = "\x1f"
_CHUNK = 500


class KeyIndex:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.conn = sqlite3.connect(folder / "_keys.sqlite", check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        with self.conn:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, digest TEXT NOT NULL) "
                "WITHOUT ROWID"
            )
            self.conn.execute("CREATE TABLE IF NOT EXISTS files (name TEXT PRIMARY KEY)")
        self.recover()

    def recover(self) -> None:
        """Finish the renames a crash interrupted; delete files that were never committed."""
        committed = {row[0] for row in self.conn.execute("SELECT name FROM files")}
        for tmp in sorted(self.folder.rglob("*.tmp")):
            final = tmp.with_suffix("")
            if str(final.relative_to(self.folder)) in committed:
                os.replace(tmp, final)
            else:
                tmp.unlink()

    def known(self, keys: Sequence[str]) -> dict[str, str]:
        """key -> digest of the keys already stored."""
        found: dict[str, str] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(f"SELECT key, digest FROM keys WHERE key IN ({marks})", chunk)  # noqa: S608 - placeholders only
            found.update(rows)
        return found

    def commit(self, entries: Iterable[tuple[str, str]], files: Iterable[str]) -> None:
        """Record the keys and the files of one write in one transaction."""
        with self.conn:
            self.conn.executemany(
                "INSERT INTO keys (key, digest) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET digest = excluded.digest",
                entries,
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO files (name) VALUES (?)", ((f,) for f in files)
            )

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM keys").fetchone()[0])

    def close(self) -> None:
        self.conn.close()
