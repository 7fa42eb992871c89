"""The jobs: each takes its settings and returns a Summary for the run contract; `serve` runs on."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from dataclasses import asdict
from types import FrameType
from typing import Any

from de_common.durable import write_atomically
from de_common.errors import UserError
from de_common.run import JobFailed, Summary
from monitoring import checkfile, coverage, dashboards, exporter
from monitoring.checks import Check
from monitoring.config import MonitoringSettings
from monitoring.discovery import Metric
from monitoring.poller import Outcome, Poller

log = logging.getLogger(__name__)


def outcome_state(outcome: Outcome) -> dict[str, Any]:
    """What `probe` prints per check: up, reason, duration and its samples by series."""
    samples = [
        {"series": s.series.name, "labels": dict(zip(s.series.labels, s.labels, strict=True)), "value": s.value}
        for s in outcome.samples
    ]  # fmt: skip
    return {
        "kind": outcome.kind,
        "up": outcome.up,
        "reason": outcome.reason,
        "duration_s": round(outcome.duration_s, 4),
        "samples": samples,
    }


def probe_checks(checks: list[Check]) -> Summary:
    """One round over the checks: each target checked is in; up is out, down is skipped."""
    poller = Poller(checks)
    try:
        outcomes = poller.run_round()
    finally:
        poller.close()
    down = sum(1 for o in outcomes.values() if not o.up)
    return Summary(
        records_in=len(outcomes),
        records_out=len(outcomes) - down,
        records_skipped={"down": down},
        extra={"down": {n: o.reason for n, o in sorted(outcomes.items()) if not o.up}},
        # Every sample of every check: with --json only, too long for a person's table.
        details={"checks": {n: outcome_state(o) for n, o in sorted(outcomes.items())}},
    )


def probe(settings: MonitoringSettings) -> Summary:
    """Run every check of the checks file once and report what each found."""
    return probe_checks(checkfile.build(checkfile.load(settings.checks)))


def serve(settings: MonitoringSettings, stop: threading.Event | None = None) -> None:
    """The exporter: rounds every interval_s, /metrics served until SIGTERM or SIGINT."""
    parsed = checkfile.load(settings.checks)
    poller = Poller(checkfile.build(parsed))
    stop = stop or threading.Event()

    def finish(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    exposition = exporter.start(
        poller, parsed.job_success_sla_s, settings.listen_addr, settings.port
    )
    try:
        exporter.loop(poller, exposition, settings.interval_s, stop)
    finally:
        poller.close()


def check_coverage(settings: MonitoringSettings) -> Summary:
    """Every metric the repository exports against the panels and rules; uncovered ones rejected."""
    root = settings.root.resolve()
    report = coverage.check(root)
    rejects = [
        {**asdict(m), "reason": "no dashboard panel or alert rule reads it and it is not listed in "
         f"{coverage.EXCLUSIONS}"}
        for m in report.uncovered
    ] + [
        {**asdict(d), "reason": "metric name is not a literal: list the file under dynamic: in "
         f"{coverage.EXCLUSIONS}"}
        for d in report.unlisted_dynamic
    ]  # fmt: skip
    write_atomically(settings.quarantine, "".join(json.dumps(r) + "\n" for r in rejects).encode())
    by_owner: dict[str, list[str]] = {}
    for metric in [*report.covered, *report.excluded, *report.uncovered]:
        by_owner.setdefault(metric.owner, []).append(metric.name)
    summary = Summary(
        records_in=len(report.covered) + len(report.excluded) + len(rejects),
        records_out=len(report.covered),
        records_rejected=len(rejects),
        records_skipped={"excluded": len(report.excluded)},
        extra={
            "quarantine": str(settings.quarantine),
            "uncovered": [f"{m.owner}: {m.name} ({m.origin})" for m in report.uncovered],
            "stale_exclusions": report.stale_exclusions,
            "metrics_by_project": {k: sorted(v) for k, v in sorted(by_owner.items())},
        },
    )
    if rejects:
        names = ", ".join(f"{r.get('name', r['origin'])}" for r in rejects)
        raise JobFailed(f"{len(rejects)} metric(s) without a panel or alert: {names}", summary)
    return summary


def write_dashboards(settings: MonitoringSettings, projects: list[str], force: bool) -> Summary:
    """Write the overview and each project's dashboard; existing files are kept unless force."""
    root = settings.root.resolve()
    found, _ = coverage.metrics(root)
    owners = sorted(
        {m.owner for m in found} | {p.name for p in (root / "projects").iterdir() if p.is_dir()}
    )
    wanted = projects or [o for o in owners if o != "de_common"]
    docs: dict[str, dict[str, Any]] = {"overview.json": dashboards.overview()}
    for project in wanted:
        own: list[Metric] = [m for m in found if m.owner == project]
        if project == "monitoring":
            doc = dashboards.render(
                "de-project-monitoring", "de-showcase: monitoring (pipeline health)",
                dashboards.job_panels("monitoring") + dashboards.health_panels(), ["monitoring"],
            )  # fmt: skip
        else:
            doc = dashboards.project_dashboard(project, own)
        docs[f"project-{project}.json"] = doc
    folder = root / coverage.DASHBOARDS
    written = kept = 0
    for name, doc in docs.items():
        path = folder / name
        if path.exists() and not force:
            kept += 1
            continue
        write_atomically(path, (json.dumps(doc, indent=2) + "\n").encode())
        written += 1
    return Summary(
        records_in=len(docs),
        records_out=written,
        records_skipped={"exists": kept},
        extra={"folder": str(folder), "dashboards": sorted(docs)},
    )


def demo(settings: MonitoringSettings) -> Summary:
    """Seed the demo scenario in each service configured, then probe it once from outside."""
    from monitoring import demo as scenario  # the seeding clients load only for the demo

    checks: list[Check] = []
    if settings.demo_postgres_url is not None:
        checks.append(scenario.postgres(settings.demo_postgres_url.get_secret_value()))
    if settings.demo_kafka_bootstrap:
        checks.append(scenario.kafka(settings.demo_kafka_bootstrap))
    if settings.demo_rabbitmq_management_url:
        checks.append(scenario.rabbitmq(settings.demo_rabbitmq_management_url))
    if settings.demo_s3_endpoint:
        checks.append(scenario.s3(settings.demo_s3_endpoint))
    if settings.demo_hdfs_url:
        checks.append(scenario.hdfs(settings.demo_hdfs_url))
    if not checks:
        raise UserError("the demo needs at least one MONITORING_DEMO_* service URL (see --help)")
    summary = probe_checks(checks)
    summary.extra["figure"] = _demo_figure(summary.details["checks"])
    return summary


def _demo_figure(states: dict[str, Any]) -> dict[str, Any]:
    """For the showcase page: what the exporter measured, lag per partition and age per target."""
    now = time.time()
    bars: dict[str, float] = {}
    for state in states.values():
        for sample in state.get("samples", []):
            labels = sample["labels"]
            if sample["series"] == "pipeline_kafka_consumer_lag":
                bars[f"kafka lag, partition {labels['partition']}"] = sample["value"]
            elif sample["series"] == "pipeline_data_last_update_timestamp_seconds":
                name = labels["target"].rstrip("/").rsplit("/", 1)[-1]
                bars[f"age of {name}"] = round((now - sample["value"]) / 60, 1)
    return {
        "title": "what the exporter measured (lag in messages, age in minutes)",
        "unit": "",
        "bars": bars,
    }
