"""Click plumbing every CLI shares: common options, the config command, exit codes, progress."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from de_common import logging as de_logging
from de_common.config import Settings, load_settings, masked, secret_values
from de_common.errors import JobError, UserError
from de_common.flags import given_settings
from de_common.metrics import job_metrics
from de_common.profiling import ProfileOptions
from de_common.run import Run

S = TypeVar("S", bound=Settings)
F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger(__name__)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("auto", "json", "console")


@dataclass
class _State:
    project: str
    settings_cls: type[Settings]
    config: Path | None
    log_level: str
    log_format: str
    profile: ProfileOptions = field(default_factory=ProfileOptions)
    run: Run[Any] | None = None

    def start(self, flags: dict[str, Any]) -> Run[Any]:
        """Logging configured, settings from every source with the command's flags on top."""
        if self.run is None:
            run_id = de_logging.configure(self.project, self.log_level, self.log_format)
            settings = load_settings(self.settings_cls, self.config, flags)
            for value in secret_values(settings):
                de_logging.add_secret(value)
            self.run = Run(self.project, settings, run_id, job_metrics(self.project))
            self.run.profile = self.profile
        return self.run


@contextmanager
def guard(debug: bool = False) -> Iterator[None]:
    """Turn any failure into one line on stderr and the exit code it deserves."""
    try:
        yield
    except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
        raise
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except (UserError, JobError) as exc:
        _fail(exc, exc.exit_code, debug)
    except Exception as exc:
        _fail(exc, 1, debug, prefix=f"{type(exc).__name__}: ")


def _fail(exc: BaseException, code: int, debug: bool, prefix: str = "") -> None:
    if debug:
        log.exception("command failed")
    message = " ".join(str(exc).split()) or type(exc).__name__
    click.echo(f"error: {de_logging.redact(prefix + message)}", err=True)
    sys.exit(code)


def make_cli(project: str, settings_cls: type[Settings], help: str) -> click.Group:
    """A click group with --config/--log-level/--log-format and a `config` command."""

    @click.group(help=help, context_settings={"help_option_names": ["-h", "--help"]})
    @click.option(
        "--config",
        type=click.Path(path_type=Path, dir_okay=False),
        help="TOML file with settings (below .env and the environment in precedence).",
    )
    @click.option(
        "--log-level",
        type=click.Choice(LOG_LEVELS, case_sensitive=False),
        default="INFO",
        show_default=True,
    )
    @click.option(
        "--log-format",
        type=click.Choice(LOG_FORMATS),
        default="auto",
        show_default=True,
        help="auto = JSON lines unless stderr is a terminal.",
    )
    @click.option(
        "--profile",
        "profile_to",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Run the job under cProfile and save the stats here (top functions to the log).",
    )
    @click.option(
        "--trace-memory",
        is_flag=True,
        help="Trace Python allocations (tracemalloc): peak and largest sites to the log.",
    )
    @click.pass_context
    def group(
        ctx: click.Context,
        config: Path | None,
        log_level: str,
        log_format: str,
        profile_to: Path | None,
        trace_memory: bool,
    ) -> None:
        profile = ProfileOptions(profile_to, trace_memory)
        ctx.obj = _State(project, settings_cls, config, log_level.upper(), log_format, profile)

    @group.command("config")
    @pass_run
    def show_config(run: Run[Any]) -> None:
        """Print the effective settings, secrets masked."""
        click.echo(json.dumps(masked(run.settings), indent=2, default=str))

    return group


def pass_run(fn: F) -> F:
    """Give a command its Run (settings with its setting flags applied, logging configured) and
    one-line error handling; the flags from `setting_flags` never reach the command itself."""

    @functools.wraps(fn)
    @click.pass_context
    def wrapper(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        state = ctx.find_object(_State)
        if state is None:
            raise RuntimeError("pass_run used outside a make_cli group")
        flags = given_settings(ctx, kwargs)
        with guard(debug=state.log_level == "DEBUG"):
            return fn(state.start(flags), *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def json_option(fn: F) -> F:
    """Add --json: print one JSON summary object on stdout."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON summary object on stdout."
    )(fn)


class _RateColumn(ProgressColumn):
    """Records per second, the figure people compare loaders by."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f}/s")


class Bar:
    """A progress handle whose advance() is a no-op when nobody is watching."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress = progress
        self._task = task

    def advance(self, n: float = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, n)


@contextmanager
def progress(total: float | None, description: str) -> Iterator[Bar]:
    """A rich progress bar on a terminal (stderr), silent when piped or in CI."""
    if not sys.stderr.isatty():
        yield Bar(None, None)
        return
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        yield Bar(bar, bar.add_task(description, total=total))
