"""The project's own Prometheus series on top of de_common's job metrics."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter

from de_common.metrics import JobMetrics


@dataclass
class LoaderMetrics:
    """Bytes uploaded and files by outcome."""

    job: JobMetrics
    upload_bytes: Counter
    files: Counter

    def file(self, outcome: str, size: int) -> None:
        """One file uploaded, unchanged or rejected; bytes counted when uploaded."""
        self.files.labels(outcome=outcome).inc()
        if outcome == "uploaded":
            self.upload_bytes.inc(size)


def loader_metrics(job: JobMetrics) -> LoaderMetrics:
    """Register the loader's series on the job's registry."""
    return LoaderMetrics(
        job=job,
        upload_bytes=Counter(
            "hdfs_hive_upload_bytes", "Bytes uploaded to HDFS and verified.", registry=job.registry
        ),
        files=Counter(
            "hdfs_hive_files",
            "Files by outcome (uploaded, unchanged, rejected).",
            ["outcome"],
            registry=job.registry,
        ),
    )
