"""Reading the project's `.sql` files and binding their `:name` parameters.

Parameters are bound as strictly typed SQL literals rather than driver placeholders so that the very
text that runs is the text `sparkify sql` prints (the way `dbt compile` shows what will run). Only
values of the types below are accepted, and strings only after validation by whoever passes them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

_PARAMETER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)\b")
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,126}")
_LITERAL = re.compile(r"[A-Za-z0-9 _./:=,+@*\-\[\]$'()]{0,2048}")


@dataclass(frozen=True)
class Identifier:
    """A table, column or schema name: lower-case letters, digits and underscores, rendered quoted."""

    name: str

    def __post_init__(self) -> None:
        if not _IDENTIFIER.fullmatch(self.name):
            raise ValueError(f"{self.name!r} is not a valid identifier (lower-case letters, digits, _)")


SqlValue = date | datetime | int | float | str | Identifier | None


@cache
def read_sql(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def literal(value: SqlValue) -> str:
    """One value as a SQL literal. Strings must pass a strict allow-list; quotes are doubled."""
    if value is None:
        return "NULL"
    if isinstance(value, Identifier):
        return f'"{value.name}"'
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.replace(tzinfo=None).isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):  # repr would give nan or inf: a column name, not a number
            raise ValueError(f"refusing to put {value!r} into SQL: not a finite number")
        return repr(float(value))
    if isinstance(value, str):
        if not _LITERAL.fullmatch(value):
            raise ValueError(f"refusing to put {value[:80]!r} into SQL: unexpected characters")
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot bind {type(value).__name__} into SQL")


def render(sql: str, params: Mapping[str, SqlValue]) -> str:
    """Replace every ``:name`` in ``sql`` by the literal of ``params[name]``; a missing name is an error."""

    def bind(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise KeyError(f"SQL parameter :{name} has no value")
        return literal(params[name])

    return _PARAMETER.sub(bind, _without_comments(sql))


def statements(sql: str, params: Mapping[str, SqlValue] | None = None) -> list[str]:
    """The statements of a script, rendered, one per item (drivers like redshift-connector take one at a time).

    Statements are separated by a ``;`` at the end of a line; the project's SQL never has one elsewhere.
    """
    text = render(sql, params or {})
    parts = re.split(r";[ \t]*(?:\n|$)", text)
    return [part.strip() for part in parts if part.strip()]


def _without_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
