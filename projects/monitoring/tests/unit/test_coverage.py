"""Metric discovery by reading source, and the coverage verdict over panels, rules and exclusions."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from monitoring import coverage, discovery

REPO = Path(__file__).resolve().parents[4]

TELEMETRY = """
from collections import Counter as Tally
import prometheus_client
from prometheus_client import Counter, Histogram as H
from prometheus_client.core import GaugeMetricFamily

requests = Counter("shop_requests_total", "help", ["status"])
latency = H(name="shop_latency_seconds", documentation="help")
inflight = prometheus_client.Gauge("shop_inflight", "help")
family = GaugeMetricFamily(NAME, "built from a variable")
words = Tally("not a metric")
"""


def make_repo(root: Path, panels: list[str], rules: list[str], excluded: dict[str, str]) -> Path:
    (root / "shared" / "src" / "de_common").mkdir(parents=True)
    src = root / "projects" / "shop" / "src" / "shop"
    src.mkdir(parents=True)
    (src / "telemetry.py").write_text(TELEMETRY)
    boards = root / "infra" / "grafana" / "dashboards"
    boards.mkdir(parents=True)
    doc = {
        "panels": [
            {"title": "row", "panels": [{"title": e, "targets": [{"expr": e}]} for e in panels]}
        ]
    }
    (boards / "shop.json").write_text(json.dumps(doc))
    rules_dir = root / "infra" / "prometheus" / "rules"
    rules_dir.mkdir(parents=True)
    group = {
        "groups": [
            {"name": "g", "rules": [{"alert": f"A{i}", "expr": e} for i, e in enumerate(rules)]}
        ]
    }
    (rules_dir / "shop.yml").write_text(json.dumps(group))
    exclusions = {"metrics": excluded, "dynamic": {}}
    (root / "infra" / "grafana" / "unused-metrics.yml").write_text(json.dumps(exclusions))
    return root


def test_discovery_reads_every_import_style_and_ignores_collections_counter(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, [], [], {})
    found, dynamic = discovery.scan(repo)
    by_name = {m.name: m for m in found}
    assert set(by_name) == {"shop_requests_total", "shop_latency_seconds", "shop_inflight"}
    assert by_name["shop_requests_total"].samples == ("shop_requests_total",)
    assert by_name["shop_latency_seconds"].samples == (
        "shop_latency_seconds_bucket", "shop_latency_seconds_sum", "shop_latency_seconds_count",
    )  # fmt: skip
    assert [d.origin for d in dynamic] == ["projects/shop/src/shop/telemetry.py:10"]


def test_a_panel_a_rule_or_an_exclusion_covers_a_metric_and_nothing_else_does(
    tmp_path: Path,
) -> None:
    repo = make_repo(
        tmp_path,
        panels=["histogram_quantile(0.9, sum by (le) (rate(shop_latency_seconds_bucket[5m])))"],
        rules=["shop_inflight > 10"],
        # shop_requests_total is not excluded: only a look-alike name is, which must not count.
        excluded={"shop_requests": "a look-alike", "gone_metric": "removed long ago"},
    )
    report = coverage.check(repo)
    assert {m.name for m in report.covered} == {"shop_latency_seconds", "shop_inflight"}
    assert [m.name for m in report.uncovered] == ["shop_requests_total"]
    assert report.stale_exclusions == ["gone_metric", "shop_requests"]
    assert len(report.unlisted_dynamic) == 1


def test_a_prefix_of_a_metric_name_in_a_query_does_not_cover_it() -> None:
    metric = discovery.Metric("de_records", "Counter", "de_common", "x")
    assert coverage.uses("sum(rate(de_records_total[5m]))", metric)
    assert not coverage.uses("sum(rate(de_records_total_bytes[5m]))", metric)
    assert not coverage.uses("my_de_records_total", metric)


def test_the_coverage_command_fails_and_quarantines_the_uncovered(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", [], [], {})
    quarantine = tmp_path / "uncovered.jsonl"
    res = subprocess.run(
        [sys.executable, "-m", "monitoring", "coverage", "--root", str(repo), "--quarantine", str(quarantine), "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert res.returncode == 1, res.stderr
    summary = json.loads(res.stdout)
    assert summary["status"] == "failed"
    assert summary["records_rejected"] == 4  # three metrics and one non-literal name
    rejected = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert {r.get("name") for r in rejected} == {
        "shop_requests_total", "shop_latency_seconds", "shop_inflight", None,
    }  # fmt: skip
    assert all(r["reason"] for r in rejected)


def test_every_metric_the_repository_exports_has_a_panel_an_alert_or_a_listed_reason() -> None:
    """Fails when a project (including ones added later) exports a metric nobody looks at."""
    report = coverage.check(REPO)
    seen: dict[str, list[str]] = {}
    for metric in [*report.covered, *report.excluded, *report.uncovered]:
        seen.setdefault(metric.owner, []).append(metric.name)
    print("metrics per project:", json.dumps(seen, indent=1, sort_keys=True))
    assert {"de_records", "de_job_duration_seconds", "de_job_runs"} <= set(seen["de_common"])
    assert "de_job_last_success_timestamp_seconds" in seen["de_common"]
    uncovered = [f"{m.owner}: {m.name} ({m.origin})" for m in report.uncovered]
    hint = f"add a panel (monitoring dashboards --project P --force) or list it in {coverage.EXCLUSIONS}"
    assert not uncovered, f"{hint}: {uncovered}"
    assert not report.unlisted_dynamic, report.unlisted_dynamic
    assert not report.stale_exclusions, report.stale_exclusions


def test_the_checked_in_dashboards_are_valid_and_every_panel_has_a_query() -> None:
    files = coverage.dashboard_files(REPO)
    names = {f.name for f in files}
    assert "overview.json" in names
    projects = [p.name for p in (REPO / "projects").iterdir() if (p / "pyproject.toml").exists()]
    missing = [p for p in projects if f"project-{p}.json" not in names]
    assert not missing, f"no dashboard for {missing}: run `monitoring dashboards --root .`"
    uids = [json.loads(f.read_text())["uid"] for f in files]
    assert len(uids) == len(set(uids))
    for query in coverage.all_panel_queries(REPO):
        assert query.expr.strip(), query.where


def test_dashboards_are_provisioned_by_the_compose_file() -> None:
    compose = (REPO / "infra" / "compose.yaml").read_text()
    assert "./grafana/dashboards:/var/lib/grafana/dashboards" in compose
    provider = (
        REPO / "infra" / "grafana" / "provisioning" / "dashboards" / "de-showcase.yml"
    ).read_text()
    assert "/var/lib/grafana/dashboards" in provider
    assert textwrap.dedent(provider)
