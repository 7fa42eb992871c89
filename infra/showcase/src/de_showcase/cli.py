"""`de-showcase`: what `nox -s demo` (and later `nox -s bench`) run."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from de_showcase import benchtable, page, terminal
from de_showcase.demo import Context, run_demo
from de_showcase.projects import discover, repository_root, select


@click.group()
def cli() -> None:
    """The showcase: every project's demo, its summary table and HTML page."""


@cli.command()
@click.argument("names", nargs=-1)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".demo"),
    show_default=True,
    help="Where the page, the logs and each demo's files go (relative to the repository root).",
)
@click.option("--timeout", type=float, default=1200.0, show_default=True, help="Seconds per demo.")
def demo(names: tuple[str, ...], out: Path, timeout: float) -> None:
    """Run each project's demo on its bundled sample data; end with the table and the page."""
    root = repository_root()
    try:
        chosen = select(discover(root), list(names))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    out = out if out.is_absolute() else root / out
    launcher = ("uv", "run", "--locked", "--quiet", "--project", str(root / "infra" / "services"))
    ctx = Context(root=root, out=out, launcher=(*launcher, "de-services"), timeout_s=timeout)
    outcomes = []
    for index, project in enumerate(chosen, 1):
        live = sys.stdout.isatty()  # a log file gets one finished line per project, not two
        if live:
            click.echo(f"[{index}/{len(chosen)}] {project.name} ...", nl=False)
        outcome = run_demo(ctx, project)
        outcomes.append(outcome)
        click.echo(("\r" if live else "") + terminal.progress_line(index, len(chosen), outcome))
    click.echo("")
    click.echo(terminal.table(outcomes))
    written = page.write(outcomes, out)
    (out / "summary.json").write_text(
        json.dumps([_plain(o) for o in outcomes], indent=2, default=str) + "\n"
    )
    click.echo(f"\npage: {written}\nlogs: {out / 'logs'}")
    if not all(o.ok for o in outcomes):
        sys.exit(1)


@cli.command("bench-table")
@click.option("--check", is_flag=True, help="Exit 1 if BENCHMARKS.md or the README is out of date.")
def bench_table(check: bool) -> None:
    """Write BENCHMARKS.md and the README's status column from every bench/results.json."""
    root = repository_root()
    verdicts = benchtable.load(root)
    wanted = {
        root / "BENCHMARKS.md": benchtable.markdown(verdicts),
        root / "README.md": benchtable.update_readme((root / "README.md").read_text(), verdicts),
    }
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
    if check:
        for path in stale:
            click.echo(
                f"{path.name} is out of date: run `nox -s bench` or `de-showcase bench-table`"
            )
        sys.exit(1 if stale else 0)
    for path in stale:
        path.write_text(wanted[path])
    met = sum(v.met for v in verdicts)
    total = sum(len(v.comparisons) for v in verdicts)
    click.echo(
        f"{len(verdicts)} projects, {met} of {total} targets met; wrote {', '.join(p.name for p in stale) or 'nothing new'}"
    )


def _plain(outcome: object) -> dict[str, object]:
    data = dataclasses.asdict(outcome)  # type: ignore[call-overload]
    assert isinstance(data, dict)
    return data


def main() -> None:
    cli()
