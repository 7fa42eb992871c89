"""Each project's Dockerfile, checked for its structure (no Docker engine runs here to build it):
multi-stage with uv in the build stage only, a slim base, the project and de-common alone, the lock
installed without dev tools, a non-root user, the project's own console script as entry point."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "noxfile.py").exists())
PROJECTS = sorted(p.parent for p in ROOT.glob("projects/*/pyproject.toml"))
# The orchestrator's image also holds the runtime venvs of the projects its local runner starts,
# and runs Airflow itself; every other image holds one project.
ORCHESTRATOR = "airflow_dags"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, op: str) -> list[str]:
        return [a for o, a in self.instructions if o == op]


def stages(text: str) -> list[Stage]:
    """The Dockerfile's stages, each with its instructions (continuation lines joined)."""
    joined = re.sub(r"\\\n", " ", text)
    found: list[Stage] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        op, _, arg = line.partition(" ")
        op, arg = op.upper(), arg.strip()
        if op == "FROM":
            base, _, name = re.sub(r"\s+as\s+", " AS ", arg, flags=re.I).partition(" AS ")
            found.append(Stage(base.strip(), name.strip() or None))
        else:
            assert found, f"{op} before any FROM"
            found[-1].instructions.append((op, arg))
    return found


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_dockerfile_is_multi_stage_slim_non_root_and_holds_only_its_project(project: Path) -> None:
    name = project.name
    build, *_, final = stages((project / "Dockerfile").read_text())
    assert build is not final, "one stage builds, another runs"
    for stage in (build, final):
        assert re.fullmatch(r"python:3\.\d+-slim(-[a-z]+)?", stage.base), stage.base
    # uv and the sources stay in the build stage.
    assert any("pip install --no-cache-dir uv==" in a for a in build.args("RUN"))
    assert not any("uv" in a.split() for a in final.args("RUN"))
    copied = [a.split()[0] for a in build.args("COPY")]
    others = sorted(c for c in copied if c not in ("shared/", f"projects/{name}/"))
    assert {"shared/", f"projects/{name}/"} <= set(copied), copied
    if name == ORCHESTRATOR:
        assert all((ROOT / c / "pyproject.toml").exists() for c in others), others
    else:
        assert not others, copied
    assert any(
        f"uv sync --locked --no-dev --no-editable --no-cache --project /app/projects/{name}" in a
        for a in build.args("RUN")
    )
    venvs = [f"--from={build.name} /opt/venv /opt/venv"]
    if name == ORCHESTRATOR:
        venvs.append(f"--from={build.name} /opt/venvs /opt/venvs")
    assert final.args("COPY") == venvs
    # A non-root user, set before the entry point.
    users = final.args("USER")
    assert users and users[-1] not in ("root", "0"), users
    ops = [o for o, _ in final.instructions]
    assert ops.index("USER") < ops.index("ENTRYPOINT")
    # The entry point is the project's own console script.
    scripts = tomllib.loads((project / "pyproject.toml").read_text())["project"]["scripts"]
    if name == ORCHESTRATOR:
        scripts = {**scripts, "airflow": "apache-airflow's own"}
    (entry,) = final.args("ENTRYPOINT")
    assert entry.startswith('["') and entry.strip('[]"') in scripts, entry


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_project_depends_on_de_common_and_never_on_another_project(project: Path) -> None:
    meta = tomllib.loads((project / "pyproject.toml").read_text())
    sources = meta["tool"]["uv"]["sources"]
    runtime = {re.split(r"[<>=\[; ]", d)[0] for d in meta["project"]["dependencies"]}
    assert "de-common" in runtime
    assert sources["de-common"]["path"] == "../../shared"
    others = {p.name.replace("_", "-") for p in PROJECTS} - {project.name.replace("_", "-")}
    assert not runtime & others
    assert not {s for s, spec in sources.items() if "projects" in str(spec.get("path", ""))}


def test_the_parser_sees_a_single_stage_root_image_as_such() -> None:
    single = 'FROM python:3.11\nRUN pip install x \\\n  && true\nENTRYPOINT ["x"]\n'
    (only,) = stages(single)
    assert only.base == "python:3.11" and only.args("USER") == []
    assert only.args("RUN") == ["pip install x    && true"]
