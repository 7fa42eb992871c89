from __future__ import annotations

import urllib.request

import pytest

from de_common.metrics import job_metrics, push
from de_common.testing import unique_name

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


def test_run_push_metrics_overwrites_the_job_group(pushgateway_url: str) -> None:
    from de_common.cli import Run

    project = unique_name("proj")
    for n in (3, 5):
        run = Run(project, settings=None, run_id=unique_name("run"), metrics=job_metrics(project))
        run.metrics.count("ok", n)
        run.push_metrics(pushgateway_url)
    run.push_metrics(None)  # not configured: nothing is sent

    ours = [
        line
        for line in gateway_metrics(pushgateway_url).splitlines()
        if line.startswith("de_records_total") and f'job="{project}"' in line
    ]
    assert len(ours) == 1 and ours[0].endswith(" 5")  # one group per job, the last run wins
