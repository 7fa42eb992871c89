"""Log inputs on top of de_common.inputs: rotated sets in time order, vanished files, fingerprints."""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Iterable
from typing import IO

from de_common.inputs import STDIN, Input, InputMissing, expand_inputs, open_input

__all__ = [
    "FINGERPRINT_BYTES",
    "STDIN",
    "Input",
    "expand",
    "fingerprint",
    "open_source",
    "read_head",
    "rotation_key",
    "sample_lines",
]

FINGERPRINT_BYTES = 1024

_ROTATED = re.compile(r"^(?P<base>.+?)(?:[.-](?P<n>\d+))?(?P<ext>\.gz|\.bz2|\.zip)?$")


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


def expand(specs: Iterable[str]) -> list[Input]:
    """The inputs of `expand_inputs` (paths, globs, folders, '-'), each rotated set oldest first
    and stdin last, so lines are read in the order they were written."""
    found = expand_inputs(specs)
    files = sorted((i for i in found if not i.is_stdin), key=lambda i: rotation_key(i.path))
    return files + [i for i in found if i.is_stdin]


def open_source(source: Input) -> IO[bytes]:
    """The decompressed bytes; a file deleted since it was listed raises FileNotFoundError, so the
    run names it and goes on, while any other failure to open stays a UserError."""
    try:
        return open_input(source)
    except InputMissing:
        raise FileNotFoundError(source.path) from None


def read_head(source: Input, size: int = FINGERPRINT_BYTES) -> bytes:
    """The first `size` decompressed bytes (fewer for a short file)."""
    with open_source(source) as fh:
        return fh.read(size)


def fingerprint(head: bytes) -> str:
    """Content identity that survives renames and compression of a rotated file."""
    return hashlib.sha256(head).hexdigest()[:32]


def sample_lines(source: Input, limit: int = 50) -> list[str]:
    """The first lines of a file for format detection, decoded leniently."""
    if source.is_stdin:
        head = sys.stdin.buffer.peek(256 * 1024)  # type: ignore[union-attr]
    else:
        with open_source(source) as fh:
            head = fh.read(256 * 1024)
    lines = head.split(b"\n")[:limit]
    return [line.decode("utf-8", errors="replace") for line in lines]
