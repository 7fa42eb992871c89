"""The jobs: each takes its settings (and inputs) and returns a Summary for the run contract."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cloud_pipeline import api_source, lake
from cloud_pipeline.clients import AwsTarget, aws_errors, client
from cloud_pipeline.config import CloudPipelineSettings
from cloud_pipeline.handler import handle
from cloud_pipeline.producer import MAX_RECORD_BYTES, Batching, Entry, Producer
from cloud_pipeline.records import jsonl_gz, problem
from cloud_pipeline.storage import ObjectStore, StoreOptions, open_store
from cloud_pipeline.stream_reader import StreamReader
from de_common.errors import UserError
from de_common.faults import fault_point
from de_common.inputs import expand_inputs, open_input
from de_common.run import JobFailed, Summary

log = logging.getLogger("cloud_pipeline")
MIB = 1024 * 1024


def store_options(settings: CloudPipelineSettings) -> StoreOptions:
    extra: dict[str, str] = {}
    if settings.azure_connection_string is not None:
        extra["azure_connection_string"] = settings.azure_connection_string.get_secret_value()
    if settings.gcs_endpoint_url:
        extra["gcs_endpoint_url"] = settings.gcs_endpoint_url
    return StoreOptions(
        region=settings.region,
        endpoint_url=settings.endpoint_url,
        sse=settings.sse,
        kms_key_id=settings.kms_key_id,
        checksum=settings.checksum,
        multipart_threshold=settings.multipart_threshold_mb * MIB,
        part_size=settings.part_size_mb * MIB,
        concurrency=settings.concurrency,
        extra=extra,
    )


def target(settings: CloudPipelineSettings) -> AwsTarget:
    return AwsTarget(settings.region, settings.endpoint_url)


# --- batch: API -> raw -> curated ----------------------------------------------------------------


@dataclass
class Parsed:
    """A day's pages taken apart: valid rows, rejects with the reason, unusable pages."""

    rows: list[dict[str, Any]]
    rejects: list[dict[str, Any]]
    records_in: int


def parse(pages: list[api_source.Page]) -> Parsed:
    """Every item checked; a page that is not a usable payload counts as one rejected record."""
    parsed = Parsed([], [], 0)
    for page in pages:
        items = page.items()
        if isinstance(items, str):
            parsed.records_in += 1
            parsed.rejects.append({"page": page.number, "reason": items, "payload": page.body})
            continue
        for position, item in enumerate(items):
            parsed.records_in += 1
            reason = problem(item)
            if reason:
                parsed.rejects.append(
                    {"page": page.number, "position": position, "reason": reason, "record": item}
                )
            else:
                assert isinstance(item, dict)
                parsed.rows.append(item)
    return parsed


def ingest(settings: CloudPipelineSettings, day: date) -> Summary:
    """Fetch the day from the API, land it raw, quarantine bad payloads, write it curated."""
    # pyarrow only here: `upload` and `produce` start half a second sooner without it.
    from cloud_pipeline.curated import latest_by_id, write_parquet

    store = open_store(settings.lake_url, store_options(settings))
    source, run = settings.source, lake.run_id(settings.source, day)
    pages = api_source.fetch_day(settings.source_url, day, settings.timeout_s)
    parsed = parse(pages)
    curated, duplicates = latest_by_id(parsed.rows)
    with tempfile.TemporaryDirectory(prefix="cloud_pipeline-") as tmp:
        raw_file = Path(tmp) / "raw.jsonl.gz"
        envelopes = [
            {"page": p.number, "url": p.url, "status": p.status, "body": p.body} for p in pages
        ]
        raw_file.write_bytes(jsonl_gz(envelopes))
        store.put_file(lake.raw_key(source, day), raw_file, meta(run, len(pages), "pages"))
        fault_point("ingest.after_raw")
        # Written even when empty: a rerun without rejects must replace the old run's list.
        store.put_bytes(
            lake.errors_key(source, day), jsonl_gz(parsed.rejects), meta(run, len(parsed.rejects))
        )
        parquet = Path(tmp) / "curated.parquet"
        write_parquet(curated, parquet)
        store.put_file(lake.curated_key(source, day), parquet, meta(run, len(curated)))
    return Summary(
        records_in=parsed.records_in,
        records_out=len(curated),
        records_rejected=len(parsed.rejects),
        records_skipped={"duplicate": duplicates},
        extra={
            "run_id": run,
            "pages": len(pages),
            "raw": f"{settings.lake_url.rstrip('/')}/{lake.raw_key(source, day)}",
            "curated": f"{settings.lake_url.rstrip('/')}/{lake.curated_key(source, day)}",
            "errors": f"{settings.lake_url.rstrip('/')}/{lake.errors_key(source, day)}",
        },
    )


def meta(run: str, rows: int, unit: str = "rows") -> dict[str, str]:
    return {"run-id": run, unit: str(rows)}


# --- upload: local files -> the lake -------------------------------------------------------------


def upload_plan(specs: list[str]) -> list[tuple[Path, str]]:
    """(file, key relative to the prefix): a folder's files by their path inside it, others by name."""
    plan: list[tuple[Path, str]] = []
    for spec in specs:
        folder = Path(spec)
        if folder.is_dir():
            files = sorted(p for p in folder.rglob("*") if p.is_file())
            if not files:
                raise UserError(f"{spec}: an empty folder")
            plan.extend((p, p.relative_to(folder).as_posix()) for p in files)
        else:
            plan.extend((Path(i.path), Path(i.path).name) for i in expand_inputs([spec]))
    return plan


def upload(settings: CloudPipelineSettings, specs: list[str], prefix: str) -> Summary:
    """Upload files under `prefix`; the same files again overwrite the same keys."""
    store = open_store(settings.lake_url, store_options(settings))
    plan = upload_plan(specs)
    base = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def one(item: tuple[Path, str]) -> int:
        path, key = item
        store.put_file(base + key, path, {"source-file": path.name})
        return path.stat().st_size

    # Small files in parallel; a large one is parallel inside (its parts), so one worker suffices.
    workers = 1 if len(plan) == 1 else settings.concurrency
    with ThreadPoolExecutor(max_workers=workers) as pool:
        sizes = list(pool.map(one, plan))
    return Summary(
        records_in=len(plan),
        records_out=len(plan),
        extra={"bytes": sum(sizes), "prefix": f"{settings.lake_url.rstrip('/')}/{base}"},
    )


# --- streaming: files -> Kinesis -> handler -> the lake ------------------------------------------


def entries(
    settings: CloudPipelineSettings, specs: list[str]
) -> tuple[list[Entry], list[dict[str, Any]]]:
    """Each JSON line an entry keyed by its partition-key field; lines that cannot be sent rejected."""
    good: list[Entry] = []
    bad: list[dict[str, Any]] = []
    index = 0
    for item in expand_inputs(specs):
        with open_input(item) as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                index += 1
                where = {"input": item.path, "line": number}
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    bad.append(
                        {
                            **where,
                            "reason": f"not JSON: {exc}",
                            "record": line.decode("utf-8", "replace"),
                        }
                    )
                    continue
                key = str(row.get(settings.partition_key, "")) if isinstance(row, dict) else ""
                data = line.rstrip(b"\r\n")
                entry = Entry(index, data, key or "-")
                if entry.size > MAX_RECORD_BYTES:
                    bad.append({**where, "reason": "over Kinesis' 1 MiB record limit"})
                    continue
                good.append(entry)
    return good, bad


def inputs_id(specs: list[str]) -> str:
    """Names the quarantine of one set of inputs: the same files again overwrite it, other files
    never do (so two runs on one day keep both lists)."""
    digest = hashlib.sha256()
    for item in expand_inputs(specs):
        stat = Path(item.path).stat() if item.path != "-" else None
        digest.update(
            f"{item.path}\0{stat.st_size if stat else ''}\0{stat.st_mtime_ns if stat else ''}\n".encode()
        )
    return f"{date.today():%Y-%m-%d}-{digest.hexdigest()[:16]}"


def produce(settings: CloudPipelineSettings, specs: list[str]) -> Summary:
    """Send JSON lines to the stream in PutRecords batches; undeliverable ones quarantined."""
    good, bad = entries(settings, specs)
    aws = target(settings)
    kinesis = client("kinesis", aws)
    limits = Batching(
        settings.batch_max_records,
        settings.batch_max_bytes,
        settings.max_attempts,
        settings.backoff_s,
    )
    report = Producer(kinesis, settings.stream, aws, limits).put(good)
    undelivered = [
        {
            "index": e.index,
            "reason": f"{code} after {settings.max_attempts} attempts",
            "record": e.data.decode("utf-8", "replace"),
        }
        for e, code in report.failed
    ]
    rejects = bad + undelivered
    extra: dict[str, Any] = {
        "stream": settings.stream,
        "calls": report.calls,
        "retried": report.retried,
        "errors": dict(report.errors),
    }
    if rejects:
        store = open_store(settings.lake_url, store_options(settings))
        key = f"{lake.ERRORS}/produce/{settings.stream}/{inputs_id(specs)}.jsonl.gz"
        store.put_bytes(key, jsonl_gz(rejects), {"rows": str(len(rejects))})
        extra["quarantine"] = f"{settings.lake_url.rstrip('/')}/{key}"
    summary = Summary(
        records_in=len(good) + len(bad),
        records_out=report.sent,
        records_rejected=len(rejects),
        extra=extra,
    )
    if undelivered:
        raise JobFailed(f"{len(undelivered)} records not delivered to {settings.stream}", summary)
    return summary


def drain(settings: CloudPipelineSettings, micro_batch: int, limit: int) -> Summary:
    """Read every shard from its checkpoint and pass each batch to the handler, as Lambda would."""
    store = open_store(settings.lake_url, store_options(settings))
    aws = target(settings)
    with aws_errors("kinesis", aws):
        reader = StreamReader(client("kinesis", aws), settings.stream, settings.region, store)
        totals = {"records": 0, "written": 0, "rejected": 0, "retries": 0}
        for shard, batch_event in reader.events(limit):
            result = drain_batch(batch_event, store, micro_batch, totals)
            reader.checkpoint(shard, result)
    summary = Summary(
        records_in=totals["records"],
        records_out=totals["written"],
        records_rejected=totals["rejected"],
        extra={"stream": settings.stream, "handler_retries": totals["retries"]},
    )
    return summary


def drain_batch(
    event: dict[str, Any], store: ObjectStore, micro_batch: int, totals: dict[str, int]
) -> str:
    """Invoke the handler, retrying from the first reported failure (three tries, as configured
    on an event source mapping); the last sequence number handled."""
    records = event["Records"]
    for attempt in range(3):
        result = handle({"Records": records}, store, micro_batch)
        counts = result["counts"]
        totals["written"] += counts["written"]
        totals["rejected"] += counts["rejected"]
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        if not failed:
            totals["records"] += len(event["Records"])
            return str(event["Records"][-1]["kinesis"]["sequenceNumber"])
        totals["retries"] += 1
        records = [r for r in records if r["kinesis"]["sequenceNumber"] in failed]
        log.warning("handler reported %d failures (try %d)", len(failed), attempt + 1)
    done = len(event["Records"]) - len(records)
    summary = Summary(
        records_in=totals["records"] + done,
        records_out=totals["written"],
        records_rejected=totals["rejected"],
    )
    raise JobFailed(f"{len(records)} records still failing after 3 tries", summary)


# --- demo ----------------------------------------------------------------------------------------


def local_demo_credentials(settings: CloudPipelineSettings) -> None:
    """The demo against a local endpoint (moto, MinIO) with no credentials in the chain: moto takes
    any, so the demo's process gets placeholders. Never for AWS itself (no endpoint_url)."""
    import boto3

    host = urlsplit(settings.endpoint_url or "").hostname
    if host in ("127.0.0.1", "localhost") and boto3.Session().get_credentials() is None:
        os.environ["AWS_ACCESS_KEY_ID"] = "demo"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "demo-secret"  # noqa: S105 - a local test server's


def demo(settings: CloudPipelineSettings, day: date) -> Summary:
    """The bundled API on a free port, a bucket made if missing, then one ingest of the day."""
    from cloud_pipeline.demo_api import DemoApi, DemoConfig
    from cloud_pipeline.storage import split_url
    from de_common.config import with_overrides

    scheme, bucket, _ = split_url(settings.lake_url)
    if scheme == "s3":
        local_demo_credentials(settings)
        s3 = client("s3", target(settings))
        with aws_errors("s3", target(settings)):
            existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
            if bucket not in existing:
                s3.create_bucket(Bucket=bucket)
    with DemoApi(DemoConfig(records=1_000, page_size=100, broken_page=4)) as api:
        summary = ingest(with_overrides(settings, source_url=api.url), day)
    # For the showcase page: where the lake is, and what each layer holds.
    summary.extra["output"] = summary.extra["curated"]
    summary.extra["figure"] = {
        "title": "the day in the lake, by layer",
        "unit": "records",
        "bars": {
            "raw pages (as received)": summary.extra["pages"],
            "curated rows": summary.records_out,
            "errors/ (with the reason)": summary.records_rejected,
            "duplicates (latest update kept)": summary.records_skipped.get("duplicate", 0),
        },
    }
    return summary
