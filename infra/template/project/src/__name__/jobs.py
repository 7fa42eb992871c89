"""The jobs: each takes its settings (and inputs) and returns a Summary for the run contract."""

from __future__ import annotations

import json
import random
from pathlib import Path

from de_common.config import with_overrides
from de_common.inputs import expand_inputs, open_input
from de_common.run import Summary
from {{name}}.config import {{Name}}Settings


def count(settings: {{Name}}Settings, specs: list[str]) -> Summary:
    """Count lines; empty lines are skipped, lines that are not UTF-8 are quarantined."""
    records_in = records_out = empty = 0
    rejects = []
    for item in expand_inputs(specs):
        with open_input(item) as stream:
            for number, line in enumerate(stream, start=1):
                records_in += 1
                if not line.strip():
                    empty += 1
                    continue
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    rejects.append({"input": item.path, "line": number, "reason": str(exc)})
                    continue
                records_out += 1
    settings.quarantine.write_text("".join(json.dumps(r) + "\n" for r in rejects))
    return Summary(
        records_in=records_in,
        records_out=records_out,
        records_rejected=len(rejects),
        records_skipped={"empty": empty},
        extra={"quarantine": str(settings.quarantine)},
    )


def sample(path: Path, lines: int, seed: int) -> Path:
    """A seeded sample: text lines with empty and non-UTF-8 lines spread through it."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    with path.open("wb") as out:
        for i in range(lines):
            roll = rng.random()
            if roll < 0.01:
                out.write(b"\n")
            elif roll < 0.02:
                out.write(b"bad \xff\xfe bytes\n")
            else:
                out.write(f"line {i} value {rng.randint(0, 10**6)}\n".encode())
    return path


def demo(settings: {{Name}}Settings, folder: Path) -> Summary:
    """Generate a sample file in `folder`, then count it."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = with_overrides(settings, quarantine=folder / "rejects.jsonl")
    return count(settings, [str(sample(folder / "sample.log", 10_000, seed=7))])
