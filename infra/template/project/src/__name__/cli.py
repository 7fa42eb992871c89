"""{{dashed}}: count, demo (and config from de_common)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from de_common.cli import json_option, make_cli, pass_run
from de_common.flags import setting_flags
from de_common.run import Run
from {{name}} import jobs
from {{name}}.config import {{Name}}Settings

cli = make_cli("{{name}}", {{Name}}Settings, help="{{description}}")


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@setting_flags({{Name}}Settings, "quarantine")
@json_option
@pass_run
def count(run: Run[{{Name}}Settings], inputs: tuple[str, ...], as_json: bool) -> None:
    """Count lines of files, globs, folders or '-' (gzip, bz2, zip read as they come)."""
    run.execute(lambda: jobs.count(run.settings, list(inputs)), as_json)


@cli.command()
@click.option("--out", type=click.Path(path_type=Path), help="Folder (default: a temp folder).")
@json_option
@pass_run
def demo(run: Run[{{Name}}Settings], out: Path | None, as_json: bool) -> None:
    """Generate a seeded sample file, then count it."""
    folder = out or Path(tempfile.mkdtemp(prefix="{{name}}-demo-"))
    run.execute(lambda: jobs.demo(run.settings, folder), as_json)


def main() -> None:
    """Console script entry point."""
    cli()
