"""The jobs: each takes its settings (and inputs) and returns a Summary for the run contract."""

from __future__ import annotations

import json
import random
from pathlib import Path

from airflow_dags.config import AirflowDagsSettings
from airflow_dags.orders_csv import latest_orders, write_csv
from de_common.config import with_overrides
from de_common.durable import write_atomically
from de_common.inputs import expand_inputs
from de_common.run import Summary


def stage(settings: AirflowDagsSettings, specs: list[str], out: Path) -> Summary:
    """Raw JSONL orders (a partition folder, files, globs) -> one CSV of each order's last version."""
    # Sorted names are run order: api_fetcher names its files part-<run start>-<sequence>.
    inputs = sorted(expand_inputs(specs), key=lambda i: Path(i.path).name) if specs else []
    staged = latest_orders(inputs)
    write_csv(staged.rows, out)
    write_atomically(settings.quarantine, "".join(json.dumps(r) + "\n" for r in staged.rejects))
    ids = [int(r["id"]) for r in staged.rows]
    return Summary(
        records_in=staged.lines,
        records_out=len(staged.rows),
        records_rejected=len(staged.rejects),
        records_skipped={"empty": staged.empty, "superseded": staged.superseded},
        extra={
            "csv": str(out),
            "id_range": [min(ids), max(ids)] if ids else [],
            "quarantine": str(settings.quarantine),
        },
    )


def sample_partition(folder: Path, orders: int, seed: int) -> Path:
    """A raw partition as api_fetcher writes it: two runs' files, changed orders in the second,
    with blank and broken lines spread through."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    folder.mkdir(parents=True, exist_ok=True)
    for run, ids in enumerate(
        (range(1, orders + 1), rng.sample(range(1, orders + 1), orders // 10))
    ):
        lines = []
        for i in ids:
            roll = rng.random()
            if roll < 0.01:
                lines.append("")
            elif roll < 0.02:
                lines.append('{"id": "broken')
            lines.append(json.dumps({
                "id": i, "updated_at": f"2024-01-01T{i % 24:02d}:{i % 60:02d}:00Z",
                "customer": f"customer-{i % 97:02d}", "email": f"buyer{i}@example.com",
                "amount": round(rng.uniform(0, 1000), 2), "status": "paid", "version": run,
            }))  # fmt: skip
        (folder / f"part-2024010{run + 1}T000000-{run:05d}.jsonl").write_text(
            "\n".join(lines) + "\n"
        )
    return folder


def demo(settings: AirflowDagsSettings, folder: Path) -> Summary:
    """Generate a raw orders partition in `folder`, then stage it as daily_batch does."""
    settings = with_overrides(settings, quarantine=folder / "rejects.jsonl")
    partition = sample_partition(folder / "raw" / "date=2024-01-01", 2_000, seed=7)
    return stage(settings, [str(partition)], folder / "staged" / "orders.csv")
