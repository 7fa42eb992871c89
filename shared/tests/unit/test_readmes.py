"""Every project README follows one template, so a reader finds the same things in the same place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "noxfile.py").exists())
PROJECTS = sorted(p.parent for p in ROOT.glob("projects/*/pyproject.toml"))
SECTIONS = [
    "What it shows",
    "Architecture",
    "Run it",
    "Configure it",
    "Guarantees and failure modes",
    "Benchmarks",
    "Fork it",
]


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_readme_has_the_template_sections_in_order(project: Path) -> None:
    text = (project / "README.md").read_text()
    headings = re.findall(r"^## (.+?)\s*$", text, flags=re.M)
    present = [h for h in headings if h in SECTIONS]
    assert present == SECTIONS, f"sections found in order: {present}"
    architecture = text.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    assert "```mermaid" in architecture


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_readme_links_resolve(project: Path) -> None:
    text = (project / "README.md").read_text()
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://", "#", "mailto:")):
            continue
        if not (project / target.split("#", 1)[0]).exists():
            broken.append(target)
    assert broken == []
