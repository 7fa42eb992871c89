"""The verdict a threshold check prints, and the settings it needs, without a service."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from monitoring import thresholds
from monitoring.config import MonitoringSettings
from monitoring.thresholds import Verdict

from de_common.errors import UserError


def test_an_ok_verdict_has_no_error_and_keeps_the_measured_keys_last() -> None:
    verdict = Verdict("kafka-lag", 5, {"group": "g"}, 3, {"partitions": [{"lag": 3}]})
    assert list(verdict.state()) == ["check", "status", "value", "threshold", "group", "partitions"]
    assert verdict.state()["status"] == "ok"


def test_a_failed_verdict_carries_its_error_after_the_status() -> None:
    state = Verdict("parking-lot", 0, {"queue": "q"}, error="down").state()
    assert list(state)[:3] == ["check", "status", "error"]
    assert (state["status"], state["error"], state["value"]) == ("failed", "down", None)


@pytest.mark.parametrize(
    ("measure", "variable"),
    [
        (lambda s: thresholds.kafka_lag(s, "g", None, 1), "MONITORING_KAFKA_BOOTSTRAP"),
        (lambda s: thresholds.parking_lot(s, "q", 1), "MONITORING_RABBITMQ_MANAGEMENT_URL"),
    ],
)
def test_a_missing_address_is_a_user_error_naming_the_variable(
    measure: Callable[[MonitoringSettings], Verdict], variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(variable, raising=False)
    settings = MonitoringSettings()
    with pytest.raises(UserError, match=variable):
        measure(settings)
