"""One way to name and open inputs: paths, globs, folders, '-' for stdin; gzip, bz2 and zip by content."""

from __future__ import annotations

import bz2
import glob
import gzip
import os
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from de_common.errors import UserError

STDIN = "-"

_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"PK\x03\x04", "zip"))


class InputMissing(UserError):
    """A named input does not exist (or vanished after it was listed)."""


@dataclass(frozen=True)
class Input:
    """One input: a file path or '-' (stdin), and how its bytes are compressed."""

    path: str
    compression: str  # "" | "gzip" | "bz2" | "zip"

    @property
    def is_stdin(self) -> bool:
        return self.path == STDIN

    @property
    def splittable(self) -> bool:
        """A plain file can be cut into byte ranges for parallel readers."""
        return not self.is_stdin and not self.compression


def compression_of(path: str) -> str:
    """The compression, read from the file's first bytes (a name can lie; content cannot)."""
    if path == STDIN:
        return ""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return ""
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), "")


def expand_inputs(specs: Iterable[str], folders: bool = True) -> list[Input]:
    """Every file named, matched by a glob or (with `folders`) inside a folder, once each, in a
    stable order; a name or pattern that finds nothing is a UserError (exit 2)."""
    found: list[str] = []
    for spec in specs:
        if spec == STDIN:
            found.append(STDIN)
        elif glob.has_magic(spec):
            matches = sorted(m for m in glob.glob(spec, recursive=True) if os.path.isfile(m))
            if not matches:
                raise UserError(f"no file matches {spec!r}")
            found.extend(matches)
        elif folders and os.path.isdir(spec):
            found.extend(sorted(str(p) for p in Path(spec).iterdir() if p.is_file()))
        elif os.path.isfile(spec):
            found.append(spec)
        else:
            raise InputMissing(f"input file not found: {spec}")
    return [Input(path, compression_of(path)) for path in dict.fromkeys(found)]


def open_input(source: Input | str) -> IO[bytes]:
    """The decompressed bytes of one input as a binary stream (a zip must hold exactly one file)."""
    item = source if isinstance(source, Input) else Input(source, compression_of(source))
    if item.is_stdin:
        return sys.stdin.buffer
    try:
        if item.compression == "gzip":
            return cast(IO[bytes], gzip.open(item.path, "rb"))
        if item.compression == "bz2":
            return cast(IO[bytes], bz2.open(item.path, "rb"))
        if item.compression == "zip":
            archive = zipfile.ZipFile(item.path)
            members = [m for m in archive.namelist() if not m.endswith("/")]
            if len(members) != 1:
                raise UserError(
                    f"{item.path}: a .zip must hold exactly one file, has {len(members)}"
                )
            return archive.open(members[0])
        return open(item.path, "rb")
    except FileNotFoundError:
        raise InputMissing(f"input file not found: {item.path}") from None
    except (OSError, zipfile.BadZipFile) as exc:
        raise UserError(f"cannot open {item.path}: {exc}") from None
