"""Fixtures from promkit.py (our own Prometheus, the exporter as a process) for every module here."""

from __future__ import annotations

import sys
from pathlib import Path

# --import-mode=importlib does not put test folders on sys.path: the helpers module needs it.
sys.path.insert(0, str(Path(__file__).parent))

from promkit import exporter, prometheus

__all__ = ["exporter", "prometheus"]
