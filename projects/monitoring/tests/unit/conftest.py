"""Shared paths for the unit tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
