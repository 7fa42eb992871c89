"""What the repository holds: its projects and the services each one's demo needs."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Project:
    """One folder under projects/: its name, one-line pitch and demo wiring."""

    name: str
    path: Path
    description: str
    # Env var -> launcher service whose URL it receives (`[tool.de-showcase.demo-env]`).
    demo_env: dict[str, str] = field(default_factory=dict)

    @property
    def services(self) -> list[str]:
        return sorted(set(self.demo_env.values()))


def repository_root(start: Path | None = None) -> Path:
    """The checkout holding noxfile.py, from `start` (default: the working folder) upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "noxfile.py").exists() and (folder / "projects").is_dir():
            return folder
    raise FileNotFoundError(f"no repository (noxfile.py + projects/) at or above {here}")


def discover(root: Path) -> list[Project]:
    """Every project, in name order."""
    found = []
    for pyproject in sorted(root.glob("projects/*/pyproject.toml")):
        meta = tomllib.loads(pyproject.read_text())
        demo_env = meta.get("tool", {}).get("de-showcase", {}).get("demo-env", {})
        found.append(
            Project(
                name=pyproject.parent.name,
                path=pyproject.parent,
                description=meta.get("project", {}).get("description", ""),
                demo_env=dict(demo_env),
            )
        )
    return found


def select(projects: list[Project], names: list[str]) -> list[Project]:
    """The named projects (all when none named); an unknown name is a ValueError listing the known."""
    if not names:
        return projects
    known = {p.name: p for p in projects}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown project(s) {', '.join(unknown)}; have: {', '.join(known)}")
    return [known[n] for n in names]
