"""What may reach HiveQL as an identifier or a partition value: checked here, refused otherwise.

Values travel as PyHive parameters (escaped by the driver); identifiers cannot be parameters, so
they must match a strict pattern and are then backquoted. Nothing a user types is pasted in raw.
"""

from __future__ import annotations

import re
from datetime import date

from de_common.errors import UserError

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
PARTITION_DIR = re.compile(r"dt=(\d{4}-\d{2}-\d{2})")


def identifier(name: str, what: str = "identifier") -> str:
    """The name backquoted for HiveQL, or UserError when it is not a plain identifier."""
    if not IDENTIFIER.fullmatch(name):
        raise UserError(
            f"invalid {what} {name!r}: letters, digits and _ only, not starting with a digit"
        )
    return f"`{name.lower()}`"


def table_name(database: str, table: str) -> str:
    """`db`.`table`, both validated."""
    return f"{identifier(database, 'database')}.{identifier(table, 'table')}"


def partition_date(value: str) -> date:
    """A dt value (YYYY-MM-DD) as a date, or UserError."""
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.isoformat() != value:
        raise UserError(f"invalid partition date {value!r}: expected YYYY-MM-DD")
    return parsed


def dt_of(folder_name: str) -> str | None:
    """The dt value of a folder named dt=YYYY-MM-DD (a real date), else None."""
    match = PARTITION_DIR.fullmatch(folder_name)
    if not match:
        return None
    try:
        partition_date(match.group(1))
    except UserError:
        return None
    return match.group(1)
