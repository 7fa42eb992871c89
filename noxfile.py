"""One noxfile drives every package: shared/, infra/ and each folder under projects/."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import nox
from packaging.markers import Marker

ROOT = Path(__file__).parent
PROJECTS = sorted(p.parent.name for p in ROOT.glob("projects/*/pyproject.toml"))
PYTHON = os.environ.get("DE_PYTHON", "3.11")
# Every installable unit has its own uv.lock beside its pyproject.toml (the root's holds nox and uv).
UNITS = {
    "shared": "shared",
    "infra": "infra/services",
    "showcase": "infra/showcase",
    **{name: f"projects/{name}" for name in PROJECTS},
}

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
# A fork (`nox -s fork`) checks its own code by default: the library it carries and its project; the
# launcher's and the showcase's own checks stay available by name.
FORKED = (ROOT / ".fork.toml").exists()
nox.options.sessions = ["shared", *PROJECTS] if FORKED else [*UNITS]


def _sync(session: nox.Session, unit: str, *groups: str) -> None:
    """Install exactly what `<unit>/uv.lock` pins (the unit itself editable) into the session's venv.

    `--locked` refuses a lock that no longer matches its pyproject instead of resolving anew, so
    nothing is resolved at run time; `nox -s lock` refreshes the locks.
    """
    args = ["uv", "sync", "--locked", "--project", unit, "--no-default-groups"]
    for group in groups:
        args += ["--group", group]
    env = {"UV_PROJECT_ENVIRONMENT": session.virtualenv.location, "UV_PYTHON_DOWNLOADS": "never"}
    session.run_install(*args, env=env, silent=True)


def _checks(session: nox.Session, path: str) -> None:
    """Lint, type-check and test one package: the same steps for shared and every project."""
    session.run("ruff", "check", path)
    session.run("ruff", "format", "--check", path)
    session.run("mypy", f"{path}/src")
    session.run("pytest", f"{path}/tests/unit", *session.posargs)
    session.run("pytest", f"{path}/tests/integration", "-m", "integration", *session.posargs)


@nox.session(python=PYTHON)
def shared(session: nox.Session) -> None:
    """Check the de-common library."""
    _sync(session, "shared", "dev")
    _checks(session, "shared")


@nox.session(python=PYTHON)
def infra(session: nox.Session) -> None:
    """Check the service launcher: start every local service, round-trip a real client, stop it."""
    _sync(session, "infra/services", "dev")
    _checks(session, "infra/services")


@nox.session(python=PYTHON)
def showcase(session: nox.Session) -> None:
    """Check the showcase runner: its table and page, rendered in headless chromium."""
    _sync(session, "infra/showcase", "dev")
    _checks(session, "infra/showcase")


# airflow_dags runs these projects' CLIs, each in its own runtime virtualenv, as deployed.
ORCHESTRATED = (
    "api_fetcher",
    "cloud_pipeline",
    "csv_to_postgres",
    "log_analyzer",
    "kafka_ingest",
    "monitoring",
    "hdfs_hive",
    "spark_etl",
)


def _orchestrated_venvs(session: nox.Session) -> None:
    """Create (or update) one runtime venv per orchestrated project; tell the DAGs where they are."""
    root = Path(session.virtualenv.location).parent / "airflow_dags-venvs"
    venvs = {}
    for project in ORCHESTRATED:
        venv = root / project
        args = ["uv", "sync", "--locked", "--project", f"projects/{project}", "--no-default-groups"]
        env = {"UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
        session.run_install(*args, "--python", PYTHON, env=env, silent=True)
        venvs[project] = str(venv)
    session.env["AIRFLOW_DAGS_VENVS"] = json.dumps(venvs)


def _project_session(name: str) -> None:
    @nox.session(name=name, python=PYTHON)
    def check(session: nox.Session) -> None:
        _sync(session, f"projects/{name}", "dev")
        if name == "airflow_dags":
            _orchestrated_venvs(session)
        _checks(session, f"projects/{name}")

    check.__doc__ = f"Lint, type-check and test projects/{name} against real services."


for _name in PROJECTS:
    _project_session(_name)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff over the whole repository."""
    _sync(session, ".", "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


def _split(session: nox.Session) -> tuple[list[str], list[str]]:
    """Leading posargs that name projects, then everything else for the project's own script."""
    args = list(session.posargs)
    chosen: list[str] = []
    while args and not args[0].startswith("-"):
        name = args.pop(0)
        if name not in PROJECTS:
            session.error(f"unknown project {name!r}; have: {', '.join(PROJECTS)}")
        chosen.append(name)
    return chosen or PROJECTS, args


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The showcase: every project's demo end to end, a summary table and .demo/index.html."""
    _sync(session, "infra/showcase")
    session.run("de-showcase", "demo", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks against each project's anchor tool; then BENCHMARKS.md and the README's status."""
    chosen, extra = _split(session)
    for name in chosen:
        script = ROOT / "projects" / name / "bench" / "run.py"
        if not script.exists():
            session.log(f"{name}: no bench/run.py")
            continue
        _sync(session, f"projects/{name}", "dev", "bench")
        # Each run.py ends by saving its verdicts in bench/results.json (de_common.benchmarks).
        session.run("python", str(script), *extra)
    showcase = ("uv", "run", "--locked", "--quiet", "--project", "infra/showcase", "de-showcase")
    session.run(*showcase, "bench-table", external=True)


@nox.session(python=PYTHON)
def lambda_zip(session: nox.Session) -> None:
    """cloud_pipeline's Lambda deployment zip: nox -s lambda_zip [-- OUT.zip]."""
    _sync(session, "projects/cloud_pipeline")
    out = session.posargs[0] if session.posargs else "projects/cloud_pipeline/dist/lambda.zip"
    session.run("python", "-m", "cloud_pipeline.packaging", out)


@nox.session(python=PYTHON)
def services(session: nox.Session) -> None:
    """Local services: nox -s services -- up|down|status [name...]."""
    _sync(session, "infra/services")
    session.run("de-services", *(session.posargs or ["status"]))


# Tool virtualenvs the launcher creates (moto, the Spark Thrift Server): compiled like the units.
TOOL_LOCKS = ROOT / "infra" / "services" / "src" / "de_services" / "toolvenvs"


@nox.session(python=False)
def lock(session: nox.Session) -> None:
    """Refresh every uv.lock and tool lock: nox -s lock [-- --upgrade | --upgrade-package NAME]."""
    for unit in (".", *UNITS.values()):
        session.run("uv", "lock", "--project", unit, *session.posargs, external=True)
    # Tool venvs (the launcher's; a benchmark's anchor that must not share the project's lock),
    # compiled where they sit: their `-e` lines are relative to their own folder.
    for spec in sorted([*TOOL_LOCKS.glob("*.in"), *ROOT.glob("projects/*/bench/*.in")]):
        with session.chdir(spec.parent):
            session.run(
                "uv", "pip", "compile", "-q", "--universal", "--python-version", "3.11",
                "--no-header", "--no-annotate", *session.posargs, spec.name,
                "-o", spec.with_suffix(".txt").name, external=True,
            )  # fmt: skip


def _locked_versions(session: nox.Session, path: str) -> dict[str, str]:
    """Name -> version the lock installs on this session's interpreter (markers evaluated)."""
    out = session.run(
        "uv", "export", "--frozen", "--project", path, "--no-hashes", "--group", "dev",
        "--no-emit-project", "--no-header", "--no-annotate", silent=True, external=True,
    )  # fmt: skip
    probe = "import platform, sys; print(platform.python_version(), sys.platform)"
    full, platform = str(session.run("python", "-c", probe, silent=True)).split()
    env = {"python_full_version": full, "python_version": ".".join(full.split(".")[:2])}
    env["sys_platform"] = platform
    locked: dict[str, str] = {}
    for line in str(out).splitlines():
        pin, _, marker = line.partition(";")
        if "==" in pin and (not marker.strip() or Marker(marker.strip()).evaluate(env)):
            name, version = pin.strip().split("==", 1)
            locked[name] = version
    return locked


@nox.session(python=PYTHON)
@nox.parametrize("unit", list(UNITS), ids=list(UNITS))
def latest(session: nox.Session, unit: str) -> None:
    """The unit's checks on the newest versions its pyproject allows: drift is a report, not a red main."""
    path = UNITS[unit]
    # Resolved now, on purpose: the point is to see what the next `nox -s lock --upgrade` brings.
    # The dev group names the path packages it needs; `-e` says where they are.
    group = f"{path}/pyproject.toml:dev"
    local = ("-e", "shared", "-e", "infra/services")
    session.install("--upgrade", *local, "-e", path, "--group", group)
    locked = _locked_versions(session, path)
    frozen = str(session.run("uv", "pip", "freeze", silent=True))
    moved = []
    for line in frozen.splitlines():
        name, sep, version = line.partition("==")
        key = name.lower().replace("_", "-")
        if sep and key in locked and locked[key] != version:
            moved.append(f"{key} {locked[key]} -> {version}")
    session.log(
        f"{unit}: {len(moved)} packages differ from the lock" + "".join(f"\n  {m}" for m in moved)
    )
    _checks(session, path)


TEMPLATE = ROOT / "infra" / "template"


def _render(text: str, name: str, description: str) -> str:
    words = {
        "{{name}}": name,
        "{{dashed}}": name.replace("_", "-"),
        "{{NAME}}": name.upper(),
        "{{Name}}": "".join(part.title() for part in name.split("_")),
        "{{description}}": description,
    }
    for token, value in words.items():
        text = text.replace(token, value)
    return text


@nox.session(python=False)
def new(session: nox.Session) -> None:
    """Start an eleventh project in the shape: nox -s new -- <name> ["one-line description"]."""
    if not 1 <= len(session.posargs) <= 2:
        session.error('usage: nox -s new -- <name> ["one-line description"]')
    name = session.posargs[0]
    description = session.posargs[1] if len(session.posargs) == 2 else f"The {name} project."
    if not re.fullmatch(r"[a-z][a-z0-9_]*[a-z0-9]", name) or name in UNITS:
        session.error(f"{name!r}: a new lowercase snake_case name, not one of {', '.join(UNITS)}")
    dest = ROOT / "projects" / name
    if dest.exists():
        session.error(f"{dest} exists")
    for src in sorted((TEMPLATE / "project").rglob("*")):
        if src.is_file():
            target = dest / str(src.relative_to(TEMPLATE / "project")).replace("__name__", name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_render(src.read_text(), name, description))
    workflow = ROOT / ".github" / "workflows" / f"ci-{name}.yml"
    workflow.write_text(_render((TEMPLATE / "workflow" / "ci.yml").read_text(), name, description))
    session.run("uv", "lock", "--quiet", "--project", f"projects/{name}", external=True)
    # Import order and line breaks depend on the name: let ruff place them.
    ruff = ("uv", "run", "--locked", "--quiet", "--only-group", "lint", "ruff")
    session.run(
        *ruff, "check", "--quiet", "--fix", "--select", "I", f"projects/{name}", external=True
    )
    session.run(*ruff, "format", "--quiet", f"projects/{name}", external=True)
    session.log(f"projects/{name} written with its workflow and uv.lock: run `nox -s {name}`")


# What a fork of one project carries besides the project itself: the library, the service launcher,
# the tooling and the CI wiring. The fork keeps the monorepo's shape, so this noxfile works there too.
FORK_COMMON = (
    "shared", "infra", ".ci", "noxfile.py", "pyproject.toml", "uv.lock", ".gitignore", "LICENSE",
)  # fmt: skip


@nox.session(python=False)
def fork(session: nox.Session) -> None:
    """Write a standalone repository of one project: nox -s fork -- <project> <dest>."""
    if len(session.posargs) != 2:
        session.error("usage: nox -s fork -- <project> <dest>")
    name, dest_arg = session.posargs
    if name not in PROJECTS:
        session.error(f"unknown project {name!r}; have: {', '.join(PROJECTS)}")
    dest = Path(dest_arg).resolve()
    if dest.exists() and any(dest.iterdir()):
        session.error(f"{dest} exists and is not empty")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache", ".state")
    for item in (*FORK_COMMON, f"projects/{name}"):
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=ignore)
        elif src.exists():
            (dest / item).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / item)
    workflows = dest / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for wf in (
        "_project.yml",
        "ci-shared.yml",
        "ci-infra.yml",
        "ci-showcase.yml",
        f"ci-{name}.yml",
    ):
        shutil.copy2(ROOT / ".github" / "workflows" / wf, workflows / wf)
    shutil.copy2(ROOT / "projects" / name / "README.md", dest / "README.md")
    # A fork of a fork (or of a checkout without commits) has no HEAD to name.
    head = session.run(
        "git", "rev-parse", "--verify", "-q", "HEAD", silent=True, external=True, success_codes=[0, 1]
    )  # fmt: skip
    origin = str(head or "").strip() or "uncommitted"
    (dest / ".fork.toml").write_text(
        f'# Forked from the data-engineering showcase monorepo.\nproject = "{name}"\n'
        f'origin_commit = "{origin}"\n'
    )
    session.run("git", "init", "-q", "-b", "main", str(dest), external=True)
    session.log(f"forked {name} into {dest}: cd there and run `uvx nox`")


@nox.session(python=False)
def forks(session: nox.Session) -> None:
    """Fork each project (all when none named) into a temporary folder and run the fork's own nox."""
    chosen = _split(session)[0]
    results = []
    with tempfile.TemporaryDirectory(prefix="de-forks-") as tmp:
        for name in chosen:
            dest = Path(tmp) / name
            session.run("nox", "-s", "fork", "--", name, str(dest), external=True, silent=True)
            started = time.monotonic()
            try:
                with session.chdir(dest):
                    session.run("nox", external=True)
                ok = True
            except nox.command.CommandFailed:
                ok = False
            results.append((name, ok, time.monotonic() - started))
    for name, ok, seconds in results:
        session.log(
            f"fork of {name:<16} {'passed' if ok else 'FAILED'} its own nox in {seconds:.0f}s"
        )
    if not all(ok for _, ok, _ in results):
        session.error("a fork failed its own nox")
