"""A tiny project CLI built only from de_common, exercised by the tests as a real process."""

from __future__ import annotations

import logging

import click
from pydantic import SecretStr

from de_common.cli import Run, Summary, emit_summary, json_option, make_cli, pass_run
from de_common.config import Settings, settings_config
from de_common.errors import JobError, UserError

log = logging.getLogger("demo_app")


class DemoSettings(Settings):
    model_config = settings_config(env_prefix="DEMO_")

    batch_size: int = 100
    name: str = "default"
    region: str = "eu"
    mode: str = "append"
    color: str = "blue"
    password: SecretStr = SecretStr("")


cli = make_cli("demo_app", DemoSettings, help="Demo app.")


@cli.command()
@click.option("--batch-size", type=int)
@json_option
@pass_run
def job(run: Run[DemoSettings], batch_size: int | None, as_json: bool) -> None:
    """Log a few lines (one holding the password) and print a summary."""
    settings = run.with_overrides(batch_size=batch_size)
    log.info("connecting with password=%s", settings.password.get_secret_value())
    logging.getLogger("pika.connection").warning(
        "auth failed for %s", settings.password.get_secret_value()
    )
    log.info("done", extra={"rows": settings.batch_size, "api_key": "abc123xyz"})
    emit_summary(Summary(3, 2, 1, run.elapsed(), {"batch_size": settings.batch_size}), as_json)


@cli.command()
@click.argument("kind")
@pass_run
def fail(run: Run[DemoSettings], kind: str) -> None:
    """Fail in the way asked, to check exit codes and one-line errors."""
    secret = run.settings.password.get_secret_value()
    if kind == "user":
        raise UserError("no such file: in.csv")
    if kind == "job":
        raise JobError("reject rate 0.5 above --max-reject-rate 0.1")
    raise RuntimeError(f"connection string postgresql://app:{secret}@db/x refused")


if __name__ == "__main__":
    cli()
