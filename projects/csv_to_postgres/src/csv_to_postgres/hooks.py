"""A deterministic pause point so crash tests can SIGKILL the loader at a known moment."""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_AT = "CSV_TO_POSTGRES_PAUSE_AT"  # copy | merge
PAUSE_FILE = "CSV_TO_POSTGRES_PAUSE_FILE"  # touched when the pause starts


def pause(point: str) -> None:
    """Block forever at `point` if the environment asks for it (tests only; off by default)."""
    if os.environ.get(PAUSE_AT) != point:
        return
    flag = os.environ.get(PAUSE_FILE)
    if flag:
        Path(flag).write_text(f"{os.getpid()}\n", encoding="utf-8")
    while True:
        time.sleep(60)
