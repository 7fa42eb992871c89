"""Input files: globs, rotated sets in time order, compression, stdin."""

from __future__ import annotations

import bz2
import glob
import gzip
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from de_common.errors import UserError

STDIN = "-"
FINGERPRINT_BYTES = 1024

_ROTATED = re.compile(r"^(?P<base>.+?)(?:[.-](?P<n>\d+))?(?P<ext>\.gz|\.bz2)?$")


@dataclass(frozen=True)
class Source:
    """One input: a path (or '-' for stdin) and how it is compressed."""

    path: str
    compression: str  # "" | "gz" | "bz2"

    @property
    def splittable(self) -> bool:
        """Plain files can be cut into byte ranges for parallel workers."""
        return self.path != STDIN and not self.compression


def compression_of(path: str) -> str:
    """Compression by file name, confirmed by magic bytes when the file is readable."""
    if path == STDIN:
        return ""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(3)
    except OSError:
        magic = b""
    if magic[:2] == b"\x1f\x8b":
        return "gz"
    if magic == b"BZh":
        return "bz2"
    return ""


def rotation_key(path: str) -> tuple[str, int, int]:
    """Sort key putting a rotated set oldest first: access.log.3.gz, .2, .1, access.log."""
    name = os.path.basename(path)
    m = _ROTATED.match(name)
    assert m is not None  # the pattern matches any non-empty name
    base, n = m.group("base"), m.group("n")
    folder = os.path.dirname(path)
    if n is None:
        return (os.path.join(folder, base), 1, 0)
    if len(n) >= 8:  # dated rotation (access.log-20240101): ascending dates are oldest first
        return (os.path.join(folder, base), 0, int(n))
    return (os.path.join(folder, base), 0, -int(n))


def expand(inputs: list[str]) -> list[Source]:
    """Files from paths, globs and folders, each rotated set in time order; missing -> UserError."""
    found: list[str] = []
    for item in inputs:
        if item == STDIN:
            found.append(STDIN)
            continue
        if any(ch in item for ch in "*?["):
            matches = [m for m in glob.glob(item) if os.path.isfile(m)]
            if not matches:
                raise UserError(f"no files match {item}")
            found.extend(matches)
        elif os.path.isdir(item):
            found.extend(str(p) for p in Path(item).iterdir() if p.is_file())
        elif os.path.isfile(item):
            found.append(item)
        else:
            raise UserError(f"input file not found: {item}")
    unique = list(dict.fromkeys(found))
    files = sorted((p for p in unique if p != STDIN), key=rotation_key)
    ordered = files + ([STDIN] if STDIN in unique else [])
    return [Source(p, compression_of(p)) for p in ordered]


def open_source(source: Source) -> BinaryIO:
    """A binary stream of the decompressed content."""
    if source.path == STDIN:
        import sys

        return sys.stdin.buffer
    if source.compression == "gz":
        return gzip.open(source.path, "rb")  # type: ignore[return-value]
    if source.compression == "bz2":
        return bz2.open(source.path, "rb")  # type: ignore[return-value]
    return open(source.path, "rb")


def read_head(source: Source, size: int = FINGERPRINT_BYTES) -> bytes:
    """The first `size` decompressed bytes (fewer for a short file)."""
    with open_source(source) as fh:
        return fh.read(size)


def fingerprint(head: bytes) -> str:
    """Content identity that survives renames and compression of a rotated file."""
    return hashlib.sha256(head).hexdigest()[:32]


def sample_lines(source: Source, limit: int = 50) -> list[str]:
    """The first lines of a file for format detection, decoded leniently."""
    if source.path == STDIN:
        import sys

        head = sys.stdin.buffer.peek(256 * 1024)  # type: ignore[union-attr]
    else:
        with open_source(source) as fh:
            head = fh.read(256 * 1024)
    lines = head.split(b"\n")[:limit]
    return [line.decode("utf-8", errors="replace") for line in lines]
