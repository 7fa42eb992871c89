"""HDFS's own file checksum, computed locally: MD5 of the per-block MD5s of the CRC32C of every
512-byte chunk (`MD5-of-<n>MD5-of-512CRC32C`, what WebHDFS GETFILECHECKSUM returns).

Computing the same value here lets an upload be verified without reading the file back: the
datanode computes its CRCs from the bytes it stored, so equal checksums mean equal bytes. The
quirk reproduced below: Hadoop digests the whole backing array of its DataOutputBuffer (32 bytes,
doubling), so the block MD5s are followed by zero padding before the final MD5.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

import google_crc32c

BYTES_PER_CRC = 512
_BUFFER = 1 << 20  # read size: a multiple of BYTES_PER_CRC


@dataclass
class HdfsChecksum:
    """Feed bytes in order with `update`; `hexdigest()` then equals HDFS's file checksum MD5."""

    block_size: int
    bytes_per_crc: int = BYTES_PER_CRC
    _block_md5s: list[bytes] = field(default_factory=list)
    _block_crcs: list[int] = field(default_factory=list)
    _in_block: int = 0
    _pending: bytes = b""

    def update(self, data: bytes) -> None:
        """Add the next bytes of the file."""
        view = self._pending + data if self._pending else data
        pos = 0
        size = len(view)
        step = self.bytes_per_crc
        value = google_crc32c.value
        while size - pos >= step:
            # Whole chunks up to the end of the data or of the current block, in one pass.
            # A chunk never spans a block boundary: block sizes are multiples of 512.
            room = min(size - pos, self.block_size - self._in_block) // step * step
            self._block_crcs.extend(value(view[i : i + step]) for i in range(pos, pos + room, step))
            pos += room
            self._in_block += room
            if self._in_block == self.block_size:
                self._close_block()
        self._pending = view[pos:]

    def _close_block(self) -> None:
        crcs = struct.pack(f">{len(self._block_crcs)}I", *self._block_crcs)
        self._block_md5s.append(hashlib.md5(crcs).digest())  # noqa: S324 - HDFS's algorithm
        self._block_crcs = []
        self._in_block = 0

    def hexdigest(self) -> str:
        """The file MD5 HDFS reports (call once, after the last update)."""
        if self._pending:
            self._block_crcs.append(google_crc32c.value(self._pending))
            self._in_block += len(self._pending)
            self._pending = b""
        if self._block_crcs:
            self._close_block()
        digests = b"".join(self._block_md5s)
        capacity = 32
        while capacity < len(digests):
            capacity *= 2
        padded = digests + b"\0" * (capacity - len(digests))
        return hashlib.md5(padded).hexdigest()  # noqa: S324 - HDFS's algorithm


def file_checksum(path: Path, block_size: int) -> str:
    """HDFS's checksum MD5 of a local file, as if written with this block size."""
    summer = HdfsChecksum(block_size)
    with path.open("rb") as fh:
        while chunk := fh.read(_BUFFER):
            summer.update(chunk)
    return summer.hexdigest()


def remote_md5(checksum: dict[str, object]) -> str:
    """The MD5 part of a GETFILECHECKSUM answer (bytes: 4 bytesPerCRC, 8 crcPerBlock, 16 MD5)."""
    raw = str(checksum.get("bytes", ""))
    return raw[24:56]
