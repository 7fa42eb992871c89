"""Cut a byte stream into UTF-8 chunks of whole CSV records, remembering line numbers."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import numpy as np
import numpy.typing as npt

from csv_to_postgres.dialect import Dialect

_UTF8 = ("utf-8", "utf8", "utf-8-sig", "utf_8")
FIRST_CHUNK = 256 << 10


@dataclass
class RawChunk:
    """Whole records, UTF-8, each ending in a newline."""

    data: bytes
    first_line: int  # physical (1-based) line number of the chunk's first byte
    newlines: int
    bad_lines: set[int] = field(default_factory=set)  # lines that were not valid in the encoding
    utf8_checked: bool = False  # known to be valid UTF-8 (transcoded, or checked line by line)


class ChunkReader:
    """Reads the header, then yields RawChunks of about chunk_bytes each."""

    def __init__(self, stream: IO[bytes], dialect: Dialect, chunk_bytes: int) -> None:
        self._stream = stream
        self._dialect = dialect
        self._chunk_bytes = chunk_bytes
        # the first chunks are small and double up to chunk_bytes: COPY starts after a few
        # milliseconds of parsing instead of a whole chunk's
        self._size = min(chunk_bytes, FIRST_CHUNK)
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
            size, self._size = self._size, min(self._size * 2, self._chunk_bytes)
            while not self._eof and len(buf) < size:
                buf += self._read(size - len(buf) + 1)
            if self._eof:
                cut = len(buf)
                if buf and not buf.endswith(b"\n"):
                    buf += b"\n"
                    cut += 1
            else:
                cut = self._cut(buf)
                while cut < 0 and not self._eof:  # one record longer than a chunk: read on
                    buf += self._read(size)
                    cut = self._cut(buf) if not self.at_eof() else len(buf)
                if self.at_eof() and cut == len(buf) and buf and not buf.endswith(b"\n"):
                    buf += b"\n"
                    cut += 1
            data, self._pending = buf[:cut], buf[cut:]
            if not data:
                if self._eof and not self._pending:
                    return
                continue
            # UTF-8 input is checked by the parser, which refuses invalid bytes (see check_utf8)
            chunk = RawChunk(data, self._next_line, data.count(b"\n"), utf8_checked=not self._utf8)
            self._next_line += chunk.newlines
            yield chunk
            if self._eof and not self._pending:
                return


def check_utf8(chunk: RawChunk) -> RawChunk:
    """Mark lines that are not UTF-8 (and make them decodable) so their rows can be rejected."""
    chunk.utf8_checked = True
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


def record_starts(data: bytes, quote: bytes, first_line: int) -> npt.NDArray[np.int64]:
    """The physical line each record of a chunk starts on (blank lines included), vectorised:
    a newline ends a record when an even number of quotes precedes it."""
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    quotes = np.flatnonzero(buf == ord(quote))
    ends = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
    # the line after each record's last newline starts the next record (if any follows)
    after = np.searchsorted(newlines, ends[:-1]) + 1
    return np.concatenate(([0], after)).astype(np.int64) + first_line


def quotes_open_fields_only(data: bytes, delimiter: str, quote: str) -> bool:
    """True when COPY splits these records into the same values as the parser.

    COPY starts a quoted section at any quote it meets outside one (`x"y` is an unterminated
    quote to it); the parser only at the start of a field (`x"y` is literal text). They agree
    exactly when every quote that COPY would take as an opening one starts a field: counting
    from a record boundary, the even-numbered quotes open a section (a doubled quote inside one
    closes and reopens it), so each must follow a delimiter, a newline or the quote before it.
    """
    q = ord(quote)
    buf = np.frombuffer(data, dtype=np.uint8)
    at = np.flatnonzero(buf == q)
    if len(at) == 0:
        return True
    if len(at) % 2:
        return False  # a quote left open at the end
    opening = at[0::2]
    before = buf[np.maximum(opening - 1, 0)]
    ok = (before == ord(delimiter)) | (before == 10) | (before == q)
    ok[opening == 0] = True
    return bool(ok.all())
