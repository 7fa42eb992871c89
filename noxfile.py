"""One noxfile drives every package: shared/, infra/ and each folder under projects/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PROJECTS = sorted(p.parent.name for p in ROOT.glob("projects/*/pyproject.toml"))
PYTHON = os.environ.get("DE_PYTHON", "3.11")
TOOLS = ("ruff==0.14.5", "mypy==1.18.2", "pytest==8.4.2", "pytest-timeout==2.4.0")

nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["shared", "infra", *PROJECTS]


def _check(session: nox.Session, path: str, *, install: tuple[str, ...]) -> None:
    """Lint, type-check and test one package: the same steps for shared and every project."""
    session.install(*TOOLS, *install)
    session.run("ruff", "check", path)
    session.run("ruff", "format", "--check", path)
    session.run("mypy", f"{path}/src")
    session.run("pytest", f"{path}/tests/unit", *session.posargs)
    session.run("pytest", f"{path}/tests/integration", "-m", "integration", *session.posargs)


@nox.session(python=PYTHON)
def shared(session: nox.Session) -> None:
    """Check the de-common library."""
    _check(session, "shared", install=("-e", "shared[testing,dev]"))


@nox.session(python=PYTHON)
def infra(session: nox.Session) -> None:
    """Start every local service, round-trip a real client through each, stop it cleanly."""
    session.install(*TOOLS, "-e", "shared[testing,clients]")
    session.run("ruff", "check", "infra")
    session.run("ruff", "format", "--check", "infra")
    session.run("pytest", "infra/local/tests", "-m", "integration", *session.posargs)


def _project_session(name: str) -> None:
    @nox.session(name=name, python=PYTHON)
    def check(session: nox.Session) -> None:
        _check(
            session,
            f"projects/{name}",
            install=("-e", "shared[testing]", "-e", f"projects/{name}[test]"),
        )

    check.__doc__ = f"Lint, type-check and test projects/{name} against real services."


for _name in PROJECTS:
    _project_session(_name)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff over the whole repository."""
    session.install("ruff==0.14.5")
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
    """The showcase: each project's job end to end on its bundled sample data."""
    for name in _split(session)[0]:
        session.install("-e", "shared[testing]", "-e", f"projects/{name}")
        session.log(f"--- demo: {name}")
        session.run("python", "-m", name, "demo", "--json")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks against each project's anchor tool, printed as ratios."""
    chosen, extra = _split(session)
    for name in chosen:
        script = ROOT / "projects" / name / "bench" / "run.py"
        if not script.exists():
            session.log(f"{name}: no bench/run.py")
            continue
        session.install("-e", "shared[testing]", "-e", f"projects/{name}[test,bench]")
        session.run("python", str(script), *extra)


@nox.session(python=PYTHON)
def services(session: nox.Session) -> None:
    """Local services: nox -s services -- up|down|status [name...]."""
    session.install("-e", "shared[services]")
    session.run("python", "-m", "de_common.services", *(session.posargs or ["status"]))


# What a fork of one project carries besides the project itself: the library, the service launcher,
# the tooling and the CI wiring. The fork keeps the monorepo's shape, so this noxfile works there too.
FORK_COMMON = ("shared", "infra", ".ci", "noxfile.py", "pyproject.toml", ".gitignore", "LICENSE")


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
    for wf in ("_project.yml", "ci-shared.yml", "ci-infra.yml", f"ci-{name}.yml"):
        shutil.copy2(ROOT / ".github" / "workflows" / wf, workflows / wf)
    shutil.copy2(ROOT / "projects" / name / "README.md", dest / "README.md")
    session.run("git", "init", "-q", "-b", "main", str(dest), external=True)
    session.log(f"forked {name} into {dest}: cd there and run `uvx nox`")
