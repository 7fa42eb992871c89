"""Guess a file's encoding, delimiter and quote character from its first bytes; flags win."""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass

from de_common.errors import UserError

SAMPLE_BYTES = 256 * 1024
_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class Dialect:
    """How to read one file."""

    encoding: str
    delimiter: str
    quote: str


def detect_encoding(sample: bytes) -> str:
    """BOMs first, then strict UTF-8, then Windows-1252 (which decodes nearly anything)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample's end is still UTF-8.
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def detect(
    sample: bytes,
    encoding: str | None = None,
    delimiter: str | None = None,
    quote: str | None = None,
) -> Dialect:
    """Fill in whatever was not given explicitly."""
    enc = encoding or detect_encoding(sample)
    try:
        codecs.lookup(enc)
    except LookupError:
        raise UserError(f"unknown encoding {enc!r}") from None
    text = sample.decode(enc, errors="replace")
    if delimiter is None or quote is None:
        sniffed_delim, sniffed_quote = _sniff(text)
        delimiter = delimiter or sniffed_delim
        quote = quote or sniffed_quote
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    if len(delimiter) != 1 or len(quote) != 1:
        raise UserError("delimiter and quote must be single characters")
    return Dialect(enc, delimiter, quote)


def _sniff(text: str) -> tuple[str, str]:
    lines = text.splitlines()[:50]
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters=_DELIMITERS)
        return found.delimiter, found.quotechar or '"'
    except csv.Error:
        header = lines[0] if lines else ""
        best = max(_DELIMITERS, key=header.count)
        return (best if header.count(best) else ","), '"'
