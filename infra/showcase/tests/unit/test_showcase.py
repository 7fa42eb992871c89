"""The table, the figures and the page, from outcomes built here (no project runs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from de_showcase import benchtable, page, roadmap, terminal
from de_showcase.demo import Outcome, parse_summary
from de_showcase.figures import figure_of
from de_showcase.projects import Project, discover, repository_root, select


def _ok(name: str, **kw: object) -> Outcome:
    base: dict[str, object] = {"records_in": 10, "records_out": 7, "records_rejected": 2}
    base["duration_s"] = 1.25
    base.update(kw)
    return Outcome(name, f"{name} demo", "ok", **base)  # type: ignore[arg-type]


def test_figure_given_by_the_demo_wins_and_drops_non_numbers() -> None:
    fig = figure_of(
        {"figure": {"title": "status", "unit": "req", "bars": {"2xx": 5, "x": "n", "b": True}}}
    )
    assert fig is not None
    assert (fig.title, fig.unit, fig.bars) == ("status", "req", [("2xx", 5.0)])


def test_without_a_figure_the_balance_is_shown() -> None:
    fig = figure_of(
        {"records_out": 7, "records_rejected": 2, "records_skipped": {"duplicate": 1, "x": 0}}
    )
    assert fig is not None
    assert fig.bars == [("out", 7.0), ("rejected", 2.0), ("skipped: duplicate", 1.0)]
    assert figure_of({"records_out": 0}) is None


def test_summary_is_found_after_noise_and_must_be_an_object() -> None:
    assert parse_summary('progress...\n{"status": "ok", "records_in": 1}\n') == {
        "status": "ok",
        "records_in": 1,
    }
    with pytest.raises(ValueError):
        parse_summary("no json here")


def test_table_aligns_counts_and_shows_errors_for_failed_rows() -> None:
    rows = [
        _ok("log_analyzer", records_in=60000),
        Outcome("kafka_ingest", "", "unavailable", error="service unavailable: kafka"),
    ]
    text = terminal.table(rows)
    lines = text.splitlines()
    assert lines[0].split() == [
        "project",
        "status",
        "in",
        "out",
        "rejected",
        "time",
        "output",
        "/",
        "error",
    ]
    assert "60,000" in lines[2] and "service unavailable: kafka" in lines[3]
    # The counts column is right-aligned: the header's "in" and the row's count end together.
    assert lines[0].index(" in ") + 3 == lines[2].index("60,000") + len("60,000")
    assert terminal.progress_line(2, 10, rows[1]).startswith("[2/10] kafka_ingest")


def test_page_has_a_row_and_a_card_per_project_and_links_only_to_real_files(tmp_path: Path) -> None:
    report = tmp_path / "log_analyzer" / "report.html"
    report.parent.mkdir()
    report.write_text("<html></html>")
    log = tmp_path / "logs" / "a.log"
    log.parent.mkdir()
    log.write_text("x")
    rows = [
        _ok(
            "log_analyzer",
            output="log_analyzer/report.html",
            log=str(log),
            figure=figure_of({"figure": {"title": "t", "bars": {"<b>": 3}}}),
        ),
        _ok(
            "csv_to_postgres", output="postgresql table flights", log=str(tmp_path / "missing.log")
        ),
        Outcome("kafka_ingest", "streams", "unavailable", error="service unavailable: <kafka>"),
    ]
    html = page.render(rows, tmp_path.resolve())
    assert len(re.findall(r"<tr><td><a href=\"#", html)) == 3
    assert len(re.findall(r'<section class="card" id="', html)) == 3
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert "log_analyzer/report.html" in hrefs and "logs/a.log" in hrefs
    # A missing file is shown as text, never linked; user text is escaped.
    assert not [h for h in hrefs if "missing.log" in h]
    assert "missing.log</code>" in html
    assert "&lt;kafka&gt;" in html and "&lt;b&gt;" in html and "<b>" not in html


def test_projects_are_discovered_with_their_demo_services(tmp_path: Path) -> None:
    for name, env in (("b_proj", 'X_URL = "postgres"\nY = "kafka"'), ("a_proj", "")):
        folder = tmp_path / "projects" / name
        folder.mkdir(parents=True)
        (folder / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\ndescription = "d"\n[tool.de-showcase.demo-env]\n{env}\n'
        )
    found = discover(tmp_path)
    assert [p.name for p in found] == ["a_proj", "b_proj"]
    assert found[1].services == ["kafka", "postgres"]
    assert select(found, ["b_proj"]) == [found[1]]
    with pytest.raises(ValueError, match="unknown project"):
        select(found, ["nope"])
    assert isinstance(found[0], Project)


def _verdicts() -> list[benchtable.Verdicts]:
    comparisons = [
        {"figure": "append", "unit": "rows/s", "ours": 92.0, "anchor": "psql \\copy",
         "anchor_value": 100.0, "target": 0.85, "better": "higher", "note": "", "ratio": 0.92, "met": True},
        {"figure": "changed", "unit": "rows/s", "ours": 32.0, "anchor": "psql \\copy",
         "anchor_value": 100.0, "target": 0.5, "better": "higher", "note": "server ceiling",
         "ratio": 0.32, "met": False},
    ]  # fmt: skip
    results = {"data": "5M rows", "command": "nox -s bench", "machine": {"cpus": 2}}
    return [benchtable.Verdicts("csv_to_postgres", {**results, "comparisons": comparisons})]


def test_bench_table_has_a_row_per_comparison_and_says_met_or_missed() -> None:
    text = benchtable.markdown(_verdicts())
    rows = [line for line in text.splitlines() if line.startswith("| [csv_to_postgres]")]
    assert len(rows) == 2
    assert rows[0].endswith("| 0.92 | >= 0.85 | **met** |")
    assert rows[1].endswith("| 0.32 | >= 0.5 | **missed** |")
    assert "  - changed: server ceiling" in text


def test_readme_status_cell_is_replaced_only_for_benchmarked_projects() -> None:
    readme = (
        "| project | what | services | status |\n|---|---|---|---|\n"
        "| [csv_to_postgres](projects/csv_to_postgres) | CSV -> PG | PostgreSQL | old words |\n"
        "| [kafka_ingest](projects/kafka_ingest) | Kafka | Kafka | untouched |\n"
    )
    updated = benchtable.update_readme(readme, _verdicts()).splitlines()
    assert updated[2].startswith(
        "| [csv_to_postgres](projects/csv_to_postgres) | CSV -> PG | PostgreSQL | "
    )
    assert "| **1 of 2 targets met**; append: 0.92x psql \\copy ([all figures]" in updated[2]
    assert updated[2].endswith("(BENCHMARKS.md#csv_to_postgres)) |")
    assert updated[3].endswith("| untouched |")


def test_the_repository_readme_and_benchmarks_md_match_the_results_files() -> None:
    root = repository_root(Path(__file__).parent)
    verdicts = benchtable.load(root)
    assert (root / "BENCHMARKS.md").read_text() == benchtable.markdown(verdicts)
    readme = (root / "README.md").read_text()
    assert benchtable.update_readme(readme, verdicts) == readme, "run `nox -s bench` (bench-table)"


def test_every_roadmap_link_names_a_symbol_that_exists() -> None:
    root = repository_root(Path(__file__).parent)
    found = roadmap.links((root / "README.md").read_text())
    assert len(found) >= 20
    problems = [p for link in found if (p := roadmap.problem(root, link))]
    assert problems == []


def test_a_roadmap_link_to_a_missing_symbol_or_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(
        "class A:\n    def m(self):\n        pass\n\nLIMIT = 3\n\nasync def run():\n    pass\n"
    )
    readme = (
        "## Roadmap map\n\n| topic | where |\n|---|---|\n"
        "| x | [`mod.A.m`](pkg/mod.py), [`mod.LIMIT`](pkg/mod.py), [`mod.run`](pkg/mod.py) |\n"
        "| y | [`mod.A.gone`](pkg/mod.py); [`mod.B`](pkg/mod.py); [`other.A`](pkg/mod.py) |\n"
        "| z | [`gone.f`](pkg/gone.py) |\n\n## Next\n| q | [`mod.nope`](pkg/mod.py) |\n"
    )
    found = roadmap.links(readme)
    assert [link.symbol for link in found][:3] == ["mod.A.m", "mod.LIMIT", "mod.run"]
    problems = [roadmap.problem(tmp_path, link) for link in found]
    assert problems[:3] == [None, None, None]
    assert problems[3] == "y: pkg/mod.py defines no A.gone"
    assert problems[4] == "y: pkg/mod.py defines no B"
    assert problems[5] == "y: other.A should read mod.<symbol> for pkg/mod.py"
    assert problems[6] == "z: pkg/gone.py does not exist"
    assert len(found) == 7  # the link under the next heading is not the roadmap's


def test_the_roadmap_covers_every_topic_the_repository_promises() -> None:
    root = repository_root(Path(__file__).parent)
    topics = " | ".join({link.topic for link in roadmap.links((root / "README.md").read_text())})
    promised = [
        "generators", "decorators", "context managers", "threading", "multiprocessing",
        "asyncio", "custom exceptions", "JSON", "XML", "YAML", "logging", "packaging",
        "cProfile", "memory profiling", "pandas", "SQLAlchemy", "psycopg2", "requests",
        "confluent-kafka", "pika", "PySpark", "hdfs", "PyHive", "boto3", "prometheus-client",
        "Airflow",
    ]  # fmt: skip
    assert [t for t in promised if t not in topics] == []
