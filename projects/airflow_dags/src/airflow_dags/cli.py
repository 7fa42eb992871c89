"""airflow-dags: stage, demo, dags-folder (and config from de_common).

The DAGs themselves live in `airflow_dags/dags/` (Airflow's dags_folder); this CLI holds the one
transform the DAGs run in Airflow's own environment, and the demo.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from airflow_dags import jobs
from airflow_dags.config import AirflowDagsSettings
from de_common.cli import json_option, make_cli, pass_run
from de_common.flags import setting_flags
from de_common.run import Run

cli = make_cli(
    "airflow_dags",
    AirflowDagsSettings,
    help="Airflow 3 DAGs orchestrating the pipelines end to end: each task runs a project's CLI "
    "in its own virtualenv",
)


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The CSV to write.")
@setting_flags(AirflowDagsSettings, "quarantine")
@json_option
@pass_run
def stage(run: Run[AirflowDagsSettings], inputs: tuple[str, ...], out: Path, as_json: bool) -> None:
    """Raw JSONL orders of one partition -> one CSV of each order's last version."""
    run.execute(lambda: jobs.stage(run.settings, list(inputs), out), as_json)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), help="Folder (default: a temp folder).")
@json_option
@pass_run
def demo(run: Run[AirflowDagsSettings], out: Path | None, as_json: bool) -> None:
    """Generate a raw orders partition (two runs, changes, broken lines), then stage it."""
    folder = out or Path(tempfile.mkdtemp(prefix="airflow_dags-demo-"))
    run.execute(lambda: jobs.demo(run.settings, folder), as_json)


@cli.command("dags-folder")
def dags_folder() -> None:
    """Print the folder to set as Airflow's dags_folder."""
    click.echo(Path(__file__).parent / "dags")


def main() -> None:
    """Console script entry point."""
    cli()
