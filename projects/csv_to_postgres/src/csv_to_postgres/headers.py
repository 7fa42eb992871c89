"""Turn whatever a CSV header says into safe, unique column names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1
_NOT_WORD = re.compile(r"[^a-z0-9_]+")


def sanitize(name: str, position: int) -> str:
    """One header cell -> lowercase [a-z0-9_] identifier; empty becomes col_<position>."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = _NOT_WORD.sub("_", text.strip().lower()).strip("_")
    text = re.sub(r"_+", "_", text)
    if not text:
        text = f"col_{position}"
    if text[0].isdigit():
        text = f"c_{text}"
    return text[:MAX_IDENTIFIER]


def map_headers(raw: Sequence[str], mapping: Mapping[str, str] | None = None) -> list[str]:
    """Apply the user's header map, sanitize, and make duplicates unique (_2, _3, ...)."""
    mapping = mapping or {}
    names: list[str] = []
    seen: set[str] = set()
    for position, cell in enumerate(raw, start=1):
        base = sanitize(mapping.get(cell, mapping.get(cell.strip(), cell)), position)
        name, n = base, 1
        while name in seen:
            n += 1
            suffix = f"_{n}"
            name = base[: MAX_IDENTIFIER - len(suffix)] + suffix
        seen.add(name)
        names.append(name)
    return names
