"""Which files to read and how to open them: globs, .gz, single-member .zip, content hashes."""

from __future__ import annotations

import glob
import gzip
import hashlib
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, cast

from de_common.errors import UserError


def expand(patterns: Iterable[str]) -> list[Path]:
    """Every file named or matched, in a stable order; a pattern that matches nothing is an error."""
    found: list[Path] = []
    for pattern in patterns:
        matches = (
            sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
        )
        files = [Path(m) for m in matches if Path(m).is_file()]
        if not files:
            raise UserError(f"no file matches {pattern!r}")
        found.extend(f for f in files if f not in found)
    return found


def open_binary(path: Path) -> IO[bytes]:
    """The file's decompressed bytes as a stream."""
    name = path.name.lower()
    try:
        if name.endswith(".gz"):
            return cast(IO[bytes], gzip.open(path, "rb"))
        if name.endswith(".zip"):
            archive = zipfile.ZipFile(path)
            members = [m for m in archive.namelist() if not m.endswith("/")]
            if len(members) != 1:
                raise UserError(f"{path}: a .zip must hold exactly one file, has {len(members)}")
            return archive.open(members[0])
        return path.open("rb")
    except (OSError, zipfile.BadZipFile) as exc:
        raise UserError(f"cannot open {path}: {exc}") from None


def content_hash(path: Path) -> str:
    """sha256 of the bytes on disk: the identity the audit table uses for "same file"."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
