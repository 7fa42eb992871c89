"""Cut a byte stream into UTF-8 chunks of whole CSV records, remembering line numbers."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from csv_to_postgres.dialect import Dialect

_UTF8 = ("utf-8", "utf8", "utf-8-sig", "utf_8")


@dataclass
class RawChunk:
    """Whole records, UTF-8, each ending in a newline."""

    data: bytes
    first_line: int  # physical (1-based) line number of the chunk's first byte
    newlines: int
    bad_lines: set[int] = field(default_factory=set)  # lines that were not valid in the encoding


class ChunkReader:
    """Reads the header, then yields RawChunks of about chunk_bytes each."""

    def __init__(self, stream: IO[bytes], dialect: Dialect, chunk_bytes: int) -> None:
        self._stream = stream
        self._dialect = dialect
        self._chunk_bytes = chunk_bytes
        self._quote = dialect.quote.encode()
        self._utf8 = dialect.encoding.lower().replace("_", "-") in _UTF8
        self._decoder = (
            None if self._utf8 else codecs.getincrementaldecoder(dialect.encoding)("replace")
        )
        self._pending = b""
        self._eof = False
        self._next_line = 1
        self.header: list[str] = self._read_header()

    def _read(self, n: int) -> bytes:
        raw = self._stream.read(n)
        if not raw:
            self._eof = True
            if self._decoder is not None:
                return self._decoder.decode(b"", final=True).encode("utf-8")
            return b""
        if self._decoder is not None:
            return self._decoder.decode(raw).encode("utf-8")
        return raw

    def at_eof(self) -> bool:
        """True once the stream is exhausted."""
        return self._eof

    def _read_header(self) -> list[str]:
        while b"\n" not in self._pending and not self._eof:
            self._pending += self._read(64 * 1024)
        if self._pending.startswith(codecs.BOM_UTF8):
            self._pending = self._pending[len(codecs.BOM_UTF8) :]
        line, _, rest = self._pending.partition(b"\n")
        self._pending = rest
        self._next_line = 2
        text = line.decode("utf-8", errors="replace").rstrip("\r")
        rows = list(
            csv.reader([text], delimiter=self._dialect.delimiter, quotechar=self._dialect.quote)
        )
        return rows[0] if rows else []

    def _cut(self, buf: bytes) -> int:
        """Index just past the last newline that ends a record (quotes balanced), or -1."""
        pos = buf.rfind(b"\n")
        if self._quote not in buf:
            return pos + 1 if pos >= 0 else -1
        while pos >= 0:
            if buf.count(self._quote, 0, pos) % 2 == 0:
                return pos + 1
            pos = buf.rfind(b"\n", 0, pos)
        return -1

    def __iter__(self) -> Iterator[RawChunk]:
        while True:
            buf = self._pending
            while not self._eof and len(buf) < self._chunk_bytes:
                buf += self._read(self._chunk_bytes - len(buf) + 1)
            if self._eof:
                cut = len(buf)
                if buf and not buf.endswith(b"\n"):
                    buf += b"\n"
                    cut += 1
            else:
                cut = self._cut(buf)
                while cut < 0 and not self._eof:  # one record longer than a chunk: read on
                    buf += self._read(self._chunk_bytes)
                    cut = self._cut(buf) if not self.at_eof() else len(buf)
                if self.at_eof() and cut == len(buf) and buf and not buf.endswith(b"\n"):
                    buf += b"\n"
                    cut += 1
            data, self._pending = buf[:cut], buf[cut:]
            if not data:
                if self._eof and not self._pending:
                    return
                continue
            chunk = RawChunk(data, self._next_line, data.count(b"\n"))
            if self._utf8:
                chunk = _check_utf8(chunk)
            self._next_line += chunk.newlines
            yield chunk
            if self._eof and not self._pending:
                return


def _check_utf8(chunk: RawChunk) -> RawChunk:
    """Mark lines that are not UTF-8 (and make them decodable) so their rows can be rejected."""
    try:
        chunk.data.decode("utf-8")
        return chunk
    except UnicodeDecodeError:
        pass
    lines = chunk.data.split(b"\n")
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            lines[i] = line.decode("utf-8", errors="replace").encode("utf-8")
            chunk.bad_lines.add(chunk.first_line + i)
    chunk.data = b"\n".join(lines)
    return chunk


def record_lines(data: bytes, quote: bytes, first_line: int) -> list[tuple[int, bytes]]:
    """(start line, raw text) of every record in a chunk: the slow path, used for rejects only."""
    out: list[tuple[int, bytes]] = []
    parts: list[bytes] = []
    start = first_line
    open_quote = False
    for offset, line in enumerate(data.split(b"\n")[:-1]):
        if not parts:
            start = first_line + offset
        parts.append(line)
        if line.count(quote) % 2:
            open_quote = not open_quote
        if not open_quote:
            out.append((start, b"\n".join(parts).rstrip(b"\r")))
            parts = []
    if parts:
        out.append((start, b"\n".join(parts).rstrip(b"\r")))
    return out
