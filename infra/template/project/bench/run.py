"""`count` against `wc -l` on the same generated file: same line count, our time / theirs."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from {{name}} import jobs


def timed(argv: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, check=True).stdout
    return time.perf_counter() - started, out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = jobs.sample(folder / "bench.log", 1_000_000, seed=42)
        ours_s, ours = timed(
            [sys.executable, "-m", "{{name}}", "count", str(data), "--json"], folder
        )
        wc_s, wc = timed(["wc", "-l", str(data)], folder)
        assert json.loads(ours)["records_in"] == int(wc.split()[0]), "our count differs from wc -l"
        print(f"count: ours {ours_s:.2f}s, wc -l {wc_s:.2f}s, ratio {ours_s / wc_s:.1f}x wc's time")


if __name__ == "__main__":
    main()
