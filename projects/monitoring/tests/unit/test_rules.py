"""Alert rules unit-tested with promtool, and the generated Prometheus configs checked by promtool."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
RULES = REPO / "infra" / "prometheus" / "rules"
TESTS = Path(__file__).resolve().parents[1] / "rules"


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is missing: apt-get install prometheus")
    return subprocess.run(
        [tool, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def test_rule_files_are_valid() -> None:
    res = promtool("check", "rules", *sorted(str(p) for p in RULES.glob("*.yml")))
    assert res.returncode == 0, res.stdout + res.stderr


def test_promtool_rule_unit_tests_pass() -> None:
    res = promtool("test", "rules", "pipeline_health_test.yml", cwd=TESTS)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout


def test_a_broken_rule_fails_its_unit_test(tmp_path: Path) -> None:
    """The unit tests do bite: an SLA comparison turned the wrong way fails them."""
    broken = tmp_path / "rules"
    broken.mkdir()
    text = (RULES / "pipeline_health.yml").read_text()
    assert "> on (check, kind, target) pipeline_data_freshness_sla_seconds" in text
    text = text.replace(
        "> on (check, kind, target) pipeline_data_freshness_sla_seconds",
        "< on (check, kind, target) pipeline_data_freshness_sla_seconds",
    )
    (broken / "pipeline_health.yml").write_text(text)
    tests = (TESTS / "pipeline_health_test.yml").read_text()
    tests = tests.replace(
        "../../../../infra/prometheus/rules/pipeline_health.yml",
        str(broken / "pipeline_health.yml"),
    )
    (tmp_path / "t.yml").write_text(tests)
    res = promtool("test", "rules", "t.yml", cwd=tmp_path)
    assert res.returncode != 0
    assert "PipelineDataStale" in res.stdout + res.stderr


def test_the_launchers_generated_config_passes_promtool(tmp_path: Path) -> None:
    from de_services.catalog import prometheus
    from de_services.runtime import runtime

    config = prometheus.config(runtime(prometheus.SERVICE))
    assert any(str(RULES) in rule for rule in config["rule_files"]), config["rule_files"]  # type: ignore[union-attr]
    path = tmp_path / "prometheus.yml"
    path.write_text(json.dumps(config))
    res = promtool("check", "config", str(path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "pipeline_health.yml" in res.stdout + res.stderr


def test_the_compose_config_passes_promtool() -> None:
    res = promtool(
        "check", "config", "--syntax-only", str(REPO / "infra" / "prometheus" / "prometheus.yml")
    )
    assert res.returncode == 0, res.stdout + res.stderr
