"""The page as a person sees it: a real demo run, then Debian's headless chromium renders the page."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from de_showcase import page
from de_showcase.demo import Outcome
from de_showcase.figures import figure_of
from de_showcase.projects import discover, repository_root

pytestmark = pytest.mark.integration

ROOT = repository_root(Path(__file__).parent)


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail("chromium is not installed (apt-get install chromium)", pytrace=False)
    pytest.skip("chromium is not installed (apt-get install chromium)")


def _render(url: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    # The flags the machine notes require: no sandbox as root, no background network calls.
    argv = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", *extra, url,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def _broken_links(dom: str, page_path: Path) -> list[str]:
    ids = set(re.findall(r'id="([^"]+)"', dom))
    broken = []
    for href in re.findall(r'href="([^"]+)"', dom):
        if href.startswith("#"):
            if href[1:] not in ids:
                broken.append(href)
        elif not (page_path.parent / urllib.parse.unquote(href)).is_file():
            broken.append(href)
    return broken


def _quickest() -> str:
    """log_analyzer (files only) where it is; in a fork of another project, that project."""
    projects = discover(ROOT)
    names = [p.name for p in projects]
    return "log_analyzer" if "log_analyzer" in names else names[0]


def test_demo_of_one_project_writes_a_page_that_renders(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    name = _quickest()
    done = subprocess.run(
        [sys.executable, "-m", "de_showcase", "demo", name, "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"\[1/1\] {name}\s+ok", done.stdout)
    table = done.stdout.split("\n\n")[1]
    summary = json.loads((out / "summary.json").read_text())[0]["summary"]
    assert table.splitlines()[2].split()[:3] == [name, "ok", f"{summary['records_in']:,}"]
    # Logs went to the file, not to the terminal.
    assert "demo --json" in (out / "logs" / f"{name}.log").read_text()
    assert "records_in" not in done.stdout
    rendered = _render((out / "index.html").as_uri(), tmp_path, "--dump-dom")
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    dom = rendered.stdout
    assert dom.count('<section class="card"') == 1
    assert "<svg" in dom
    if name == "log_analyzer":
        assert "report.html" in dom  # its report, copied beside the page and linked
    assert _broken_links(dom, out / "index.html") == []


def test_page_with_every_project_renders_a_row_each_and_no_broken_link(tmp_path: Path) -> None:
    names = [p.name for p in discover(ROOT)]
    (tmp_path / "logs").mkdir()
    outcomes = []
    for i, name in enumerate(names):
        log = tmp_path / "logs" / f"{name}.log"
        log.write_text("a log line\n")
        status = "unavailable" if i == 1 else "ok"
        outcomes.append(
            Outcome(
                name, f"the {name} demo", status, duration_s=1.0 + i, records_in=100, records_out=90,
                records_rejected=10, log=str(log), error="service unavailable: x" if i == 1 else None,
                figure=figure_of({"records_out": 90, "records_rejected": 10}),
            )
        )  # fmt: skip
    written = page.write(outcomes, tmp_path)
    rendered = _render(written.as_uri(), tmp_path, "--dump-dom")
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    rows = re.findall(r'<tr><td><a href="#([^"]+)"', rendered.stdout)
    assert rows == names
    assert _broken_links(rendered.stdout, written) == []
    shot = tmp_path / "page.png"
    shown = _render(written.as_uri(), tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    assert shown.returncode == 0 and shot.stat().st_size > 10_000
