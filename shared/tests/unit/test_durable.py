"""Atomic replacement: the old content or the new one, never a mix, and no temp file left."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from de_common.durable import write_atomically


def test_write_atomically_replaces_text_and_bytes(tmp_path: Path):
    target = tmp_path / "deep" / "state.json"
    write_atomically(target, "first")
    write_atomically(target, b"second \xff")
    assert target.read_bytes() == b"second \xff"
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]


def test_a_failed_write_keeps_the_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "state.json"
    write_atomically(target, "old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
