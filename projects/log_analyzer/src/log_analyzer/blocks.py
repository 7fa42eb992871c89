"""Reading a stream as blocks of whole lines, with line numbers, offsets and long-line guards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import IO


@dataclass(frozen=True)
class Reject:
    """One line that could not be used, and why."""

    line: int
    reason: str
    text: bytes


@dataclass
class Block:
    """Whole lines (each ending in a newline) plus where they sit in the file."""

    data: bytes
    first_line: int
    n_lines: int
    end_offset: int  # bytes of the stream consumed once this block is done
    rejects: list[Reject] = field(default_factory=list)  # lines dropped while reading


PREVIEW = 512
MIN_RANGE_BYTES = 2 << 20  # below this, splitting a file costs more than it saves


@dataclass(frozen=True)
class Reading:
    """Which part of a stream to read and how: from `start` (a line boundary, numbered
    `first_line`) up to `end` (also a line boundary; None = to the end), in blocks of about
    `block_size` bytes; a line longer than `max_line` is rejected; with `hold_partial` a last line
    without a newline is left unread."""

    start: int = 0
    end: int | None = None
    first_line: int = 1
    block_size: int = 8 << 20
    max_line: int = 1 << 20
    hold_partial: bool = False


def iter_blocks(stream: IO[bytes], reading: Reading) -> Iterator[Block]:
    """Blocks of whole lines of the part of `stream` that `reading` names.

    A line longer than `max_line` is never held in memory whole: it is reported as a reject
    and skipped. With `hold_partial`, a last line without a newline is left unread (it may still
    be being written) so an incremental rerun picks it up complete.
    """
    start, end, max_line = reading.start, reading.end, reading.max_line
    block_size = reading.block_size
    pos = start  # stream offset of the first byte of `pending`
    line_no = reading.first_line
    pending = b""
    skipping: Reject | None = None
    remaining = None if end is None else end - start
    while True:
        want = block_size if remaining is None else min(block_size, remaining)
        chunk = stream.read(want) if want > 0 else b""
        if remaining is not None:
            remaining -= len(chunk)
        if not chunk:
            break
        if skipping is not None:
            nl = chunk.find(b"\n")
            if nl < 0:
                pos += len(chunk)
                continue
            pos += nl + 1
            yield Block(b"", line_no, 0, pos, [skipping])
            line_no += 1
            skipping = None
            chunk = chunk[nl + 1 :]
        data = pending + chunk if pending else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            pending = data
        else:
            body = data[: cut + 1]
            pending = data[cut + 1 :]
            n = body.count(b"\n")
            pos += len(body)
            yield Block(body, line_no, n, pos)
            line_no += n
        if len(pending) > max_line:
            skipping = Reject(line_no, f"line longer than {max_line} bytes", pending[:PREVIEW])
            pos += len(pending)
            pending = b""
    if skipping is not None:
        yield Block(b"", line_no, 0, pos, [skipping])
    elif pending and not reading.hold_partial:
        pos += len(pending)
        yield Block(pending + b"\n", line_no, 1, pos)


def aligned_ranges(path: str, start: int, size: int, parts: int) -> list[tuple[int, int]]:
    """Cut [start, size) into about `parts` byte ranges that begin and end on line starts."""
    if parts <= 1 or size - start < MIN_RANGE_BYTES:
        return [(start, size)]
    step = (size - start) // parts
    bounds = [start]
    with open(path, "rb") as fh:
        for i in range(1, parts):
            fh.seek(start + i * step)
            fh.readline()
            b = fh.tell()
            if bounds[-1] < b < size:
                bounds.append(b)
    bounds.append(size)
    return list(pairwise(bounds))
