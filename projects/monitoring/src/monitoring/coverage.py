"""Every exported metric needs a dashboard panel or an alert rule, or a listed reason it has none."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from de_common.errors import UserError
from monitoring import discovery
from monitoring.discovery import Dynamic, Metric
from monitoring.series import ALL

DASHBOARDS = Path("infra/grafana/dashboards")
RULES = Path("infra/prometheus/rules")
# Deliberate exclusions live beside the dashboards, where whoever adds a metric adds its panel.
EXCLUSIONS = Path("infra/grafana/unused-metrics.yml")


@dataclass(frozen=True)
class Query:
    """One PromQL expression and where it is used (dashboard panel or alert rule)."""

    expr: str
    where: str


@dataclass(frozen=True)
class Exclusions:
    """metric name -> reason; source file (of a non-literal name) -> reason."""

    metrics: dict[str, str]
    dynamic: dict[str, str]


@dataclass(frozen=True)
class Report:
    """The verdict per metric."""

    covered: dict[Metric, list[str]]
    excluded: dict[Metric, str]
    uncovered: list[Metric]
    unlisted_dynamic: list[Dynamic]
    stale_exclusions: list[str]


def panel_queries(dashboard: dict[str, Any], file: str) -> Iterator[Query]:
    """Every target expression of every panel, rows' nested panels included."""

    def walk(panels: list[dict[str, Any]]) -> Iterator[Query]:
        for panel in panels:
            for target in panel.get("targets", []):
                if target.get("expr"):
                    yield Query(target["expr"], f"{file}: {panel.get('title', '?')}")
            yield from walk(panel.get("panels", []))

    yield from walk(dashboard.get("panels", []))


def dashboard_files(root: Path) -> list[Path]:
    return sorted((root / DASHBOARDS).glob("*.json"))


def all_panel_queries(root: Path) -> list[Query]:
    queries: list[Query] = []
    for path in dashboard_files(root):
        try:
            dashboard = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UserError(f"dashboard {path}: not JSON: {exc}") from None
        queries += panel_queries(dashboard, path.name)
    return queries


def rule_queries(root: Path) -> list[Query]:
    queries: list[Query] = []
    for path in sorted((root / RULES).glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                name = rule.get("alert") or rule.get("record") or "?"
                queries.append(Query(str(rule.get("expr", "")), f"{path.name}: {name}"))
    return queries


def load_exclusions(root: Path) -> Exclusions:
    path = root / EXCLUSIONS
    if not path.exists():
        return Exclusions({}, {})
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Exclusions(dict(doc.get("metrics") or {}), dict(doc.get("dynamic") or {}))


def metrics(root: Path) -> tuple[list[Metric], list[Dynamic]]:
    """What the code exports, plus the exporter's own series (declared in monitoring.series)."""
    if not (root / "projects").is_dir():
        raise UserError(f"{root} is not the repository root (no projects/ folder)")
    found, dynamic = discovery.scan(root)
    own = [Metric(s.name, "Gauge", "monitoring", "monitoring/series.py") for s in ALL]
    if not (root / "projects" / "monitoring").is_dir():
        own = []  # a fork without this project exports no pipeline_* series
    return sorted({(m.name, m.owner): m for m in found + own}.values(), key=_order), dynamic


def _order(metric: Metric) -> tuple[str, str]:
    return (metric.owner, metric.name)


def uses(expr: str, metric: Metric) -> bool:
    """Does the expression read one of the metric's sample names (as a whole word)?"""
    return any(
        re.search(rf"(?<![A-Za-z0-9_:]){re.escape(s)}(?![A-Za-z0-9_:])", expr)
        for s in metric.samples
    )


def check(root: Path) -> Report:
    """Match every metric against every panel and rule; anything else must be listed."""
    found, dynamic = metrics(root)
    queries = all_panel_queries(root) + rule_queries(root)
    listed = load_exclusions(root)
    covered: dict[Metric, list[str]] = {}
    excluded: dict[Metric, str] = {}
    uncovered: list[Metric] = []
    for metric in found:
        where = [q.where for q in queries if uses(q.expr, metric)]
        if where:
            covered[metric] = where
        elif reason := _listed(metric, listed.metrics):
            excluded[metric] = reason
        else:
            uncovered.append(metric)
    names = {n for m in found for n in (m.name, *m.samples)}
    stale = sorted(n for n in listed.metrics if n not in names)
    unlisted = [d for d in dynamic if d.origin.rsplit(":", 1)[0] not in listed.dynamic]
    return Report(covered, excluded, uncovered, unlisted, stale)


def _listed(metric: Metric, listed: dict[str, str]) -> str | None:
    """The reason it is listed, under its declared or one of its exported names."""
    for name in (metric.name, *metric.samples):
        if name in listed:
            return listed[name] or "listed without a reason"
    return None
