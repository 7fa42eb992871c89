"""A tiny project CLI built only from de_common, exercised by the tests as a real process."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import click
from pydantic import Field, SecretStr

from de_common.cli import json_option, make_cli, pass_run
from de_common.config import Settings, settings_config
from de_common.errors import JobError, UserError
from de_common.faults import fault_point
from de_common.flags import setting_flags
from de_common.inputs import expand_inputs, open_input
from de_common.run import JobFailed, Run, Summary, emit_state

log = logging.getLogger("demo_app")


class DemoSettings(Settings):
    model_config = settings_config(env_prefix="DEMO_")

    batch_size: int = Field(default=100, ge=1, description="Rows per batch.")
    name: str = "default"
    mode: Literal["append", "upsert"] = Field(default="append", description="How rows land.")
    strict: bool = Field(default=False, description="Fail on the first bad row.")
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels.")
    sinks: list[Literal["parquet", "postgres"]] = Field(default=["parquet"], description="Sinks.")
    out: Path | None = Field(default=None, description="Where to write.")
    password: SecretStr = SecretStr("")


cli = make_cli("demo_app", DemoSettings, help="Demo app.")


@cli.command()
@setting_flags(DemoSettings, "batch_size", "mode", "strict", "labels", "sinks", "out")
@click.option("--unbalanced", is_flag=True, help="Report a summary that does not add up.")
@json_option
@pass_run
def job(run: Run[DemoSettings], unbalanced: bool, as_json: bool) -> None:
    """Log a few lines (one holding the password) and account for three records."""
    s = run.settings

    def work() -> Summary:
        log.info("connecting with password=%s", s.password.get_secret_value())
        logging.getLogger("pika.connection").warning(
            "auth failed for %s", s.password.get_secret_value()
        )
        log.info("done", extra={"rows": s.batch_size, "api_key": "abc123xyz"})
        fault_point("demo.after_log")
        out = 3 if unbalanced else 1
        return Summary(
            records_in=3,
            records_out=out,
            records_rejected=1,
            records_skipped={"duplicate": 1},
            extra={
                "batch_size": s.batch_size,
                "mode": s.mode,
                "strict": s.strict,
                "labels": s.labels,
                "sinks": s.sinks,
                "pattern": "^[a-z][a-z0-9_.]{0,63}$",
            },
        )

    run.execute(work, as_json)


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@json_option
@pass_run
def count(run: Run[DemoSettings], inputs: tuple[str, ...], as_json: bool) -> None:
    """Count lines in paths, globs, '-' and compressed files."""

    def work() -> Summary:
        lines = 0
        for item in expand_inputs(inputs):
            with open_input(item) as fh:
                lines += sum(1 for _ in fh)
        return Summary(records_in=lines, records_out=lines)

    run.execute(work, as_json)


@cli.command()
@click.argument("kind")
@json_option
@pass_run
def fail(run: Run[DemoSettings], kind: str, as_json: bool) -> None:
    """Fail in the way asked, to check exit codes, one-line errors and failed summaries."""
    secret = run.settings.password.get_secret_value()

    def work() -> Summary:
        if kind == "user":
            raise UserError("no such file: in.csv")
        if kind == "job":
            raise JobError("reject rate 0.5 above --max-reject-rate 0.1")
        if kind == "partial":
            raise JobFailed("2 of 4 rejected, above 0.1", Summary(4, 2, 2))
        raise RuntimeError(f"connection string postgresql://app:{secret}@db/x refused")

    run.execute(work, as_json)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@pass_run
def state(run: Run[DemoSettings], as_json: bool) -> None:
    """A state command: its own JSON, no job keys."""
    emit_state({"name": run.settings.name, "lag": 0}, as_json)


if __name__ == "__main__":
    cli()
