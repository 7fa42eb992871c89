"""A deterministic pause point so crash tests can SIGKILL the loader at a known moment."""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_AT = "CSV_TO_POSTGRES_PAUSE_AT"  # copy | merge
PAUSE_FILE = "CSV_TO_POSTGRES_PAUSE_FILE"  # touched when the pause starts
RELEASE_FILE = "CSV_TO_POSTGRES_RELEASE_FILE"  # if set: go on once this file exists


def pause(point: str) -> None:
    """Block at `point` if the environment asks for it (tests only; off by default): until the
    release file appears, or forever (to be killed)."""
    if os.environ.get(PAUSE_AT) != point:
        return
    flag = os.environ.get(PAUSE_FILE)
    if flag:
        Path(flag).write_text(f"{os.getpid()}\n", encoding="utf-8")
    release = os.environ.get(RELEASE_FILE)
    while not (release and Path(release).exists()):
        time.sleep(0.05)
