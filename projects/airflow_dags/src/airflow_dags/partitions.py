"""Replace one partition folder whole: a rerun of an interval swaps its output, never mixes it."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from de_common.durable import fsync_path


def staging_for(final: Path) -> Path:
    """A fresh sibling folder the step writes into before `publish` swaps it in."""
    staging = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
    staging.mkdir(parents=True)
    return staging


def publish(staging: Path, final: Path) -> Path:
    """Move `staging` to `final`; the old partition is renamed away first, then deleted."""
    old = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.old")
    if final.exists():
        final.rename(old)
    staging.rename(final)
    fsync_path(final.parent)
    shutil.rmtree(old, ignore_errors=True)
    return final
