from __future__ import annotations

import urllib.request

import pytest

from de_common.config import Settings
from de_common.errors import JobError
from de_common.metrics import job_metrics, push
from de_common.run import Run, Summary
from de_services.testing import unique_name

pytestmark = pytest.mark.integration


def gateway_metrics(url: str) -> str:
    return urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()


def test_pushadd_keeps_other_instances(pushgateway_url: str) -> None:
    job = unique_name("pushjob")
    first, second = job_metrics("p"), job_metrics("p")
    first.count("ok", 4)
    second.count("rejected", 2)

    push(pushgateway_url, job, first.registry, grouping_key={"instance": "a"})
    push(pushgateway_url, job, second.registry, grouping_key={"instance": "b"})

    body = gateway_metrics(pushgateway_url)
    ours = [
        line for line in body.splitlines() if f'job="{job}"' in line and "de_records_total" in line
    ]
    assert any(
        'instance="a"' in line and 'outcome="ok"' in line and line.endswith(" 4") for line in ours
    )
    assert any(
        'instance="b"' in line and 'outcome="rejected"' in line and line.endswith(" 2")
        for line in ours
    )


def _run(project: str, gateway: str) -> Run[Settings]:
    settings = Settings(pushgateway_url=gateway)
    return Run(project, settings, run_id=unique_name("run"), metrics=job_metrics(project))


def _series(gateway: str, project: str, name: str) -> list[str]:
    return [
        line
        for line in gateway_metrics(gateway).splitlines()
        if line.startswith(name) and f'job="{project}"' in line
    ]


def test_execute_pushes_one_group_per_job_and_the_last_run_wins(pushgateway_url: str) -> None:
    project = unique_name("proj")
    for n in (3, 5):
        _run(project, pushgateway_url).execute(lambda n=n: Summary(n, n), as_json=True)

    ours = [line for line in _series(pushgateway_url, project, "de_records_total") if "ok" in line]
    assert len(ours) == 1 and ours[0].endswith(" 5")  # one group per job, the last run wins
    assert len(_series(pushgateway_url, project, "de_job_last_success_timestamp_seconds")) == 1


def test_a_failed_run_keeps_the_last_success(pushgateway_url: str) -> None:
    project = unique_name("proj")
    _run(project, pushgateway_url).execute(lambda: Summary(1, 1), as_json=True)
    (before,) = _series(pushgateway_url, project, "de_job_last_success_timestamp_seconds")

    def broken() -> Summary:
        raise JobError("sink refused the batch")

    with pytest.raises(JobError):
        _run(project, pushgateway_url).execute(broken, as_json=True)

    (after,) = _series(pushgateway_url, project, "de_job_last_success_timestamp_seconds")
    assert after == before  # pushadd: the failed run had no last_success to overwrite it with
    failed = _series(pushgateway_url, project, "de_job_runs_total")
    assert any('status="failed"' in line and float(line.rsplit(" ", 1)[1]) == 1 for line in failed)
