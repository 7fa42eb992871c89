"""The demo's world: the bundled API started on a free port, a source file pointing at it, its
credentials as secrets; then the data changes so the second run shows incremental fetching."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TypeVar

from api_fetcher.demo_api import CREDENTIALS, DemoApi, DemoConfig

T = TypeVar("T")


def demo_config() -> DemoConfig:
    """1,000 orders, one in 97 invalid, two records repeated across pages, 5% of pages failing
    once with 429 (Retry-After) or 500."""
    return DemoConfig(
        records=1_000, invalid_every=97, overlap=2, fault_rate=0.05, retry_after_s=0.2
    )


def write_sources(folder: Path, base_url: str) -> Path:
    """The bundled source file with the API's address filled in."""
    template = resources.files("api_fetcher").joinpath("data/demo_sources.yaml").read_text("utf-8")
    path = folder / "sources.yaml"
    path.write_text(template.replace("__BASE_URL__", base_url), encoding="utf-8")
    return path


@contextmanager
def demo_sources(folder: Path) -> Iterator[tuple[Path, DemoApi, dict[str, str]]]:
    with DemoApi(demo_config()) as api:
        yield write_sources(folder, api.url), api, dict(CREDENTIALS)


def grow_and_run(api: DemoApi, again: Callable[[], T]) -> T:
    """50 new orders and 10 changed ones, then the same fetch again."""
    api.orders.grow(new=50, changed=10)
    return again()
