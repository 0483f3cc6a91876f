"""DuckDB's memory_limit: the sizes SPARKIFY_DUCKDB_MEMORY_LIMIT may hold, and how many staged events one
statement that builds plays may sort within it (and the query that counts them per day). No Dagster import:
the benchmark's reference build (`bench/reference.py`) loads this file to slice its build as the warehouse does."""

from __future__ import annotations

import re

#: A number and a unit DuckDB reads the same way (no bare number, no "G" or "%").
_SIZE = re.compile(r"(\d+(?:\.\d+)?|\.\d+) ?([KMGT]i?B)", re.IGNORECASE)
_UNITS = {f"{p}{i}B": base**n for n, p in enumerate("KMGT", 1) for i, base in (("", 1000), ("i", 1024))}
#: Below this DuckDB cannot even create the tables; above, it refuses the value itself.
_RANGE = (16 * 1000**2, 1000 * 1000**4)
MEMORY_LIMIT_FORM = (
    "a size from 16MB to 1000TB: a number and a unit, KB, MB, GB, TB or KiB, MiB, GiB, TiB (e.g. 512MB, 1.5GB, 2GiB)"
)

#: The memory_limit one staged event may take in a statement that builds plays: the songplay_id sorts a
#: statement's plays, and past its memory_limit DuckDB moves the sort to disk. At 512MB, over the bench's 10M
#: month (8M plays, no song catalogue), one statement took 31.6 s; slices of 1 day 12.7 s, of 2 to 3 days (0.67
#: to 1 million events) 11 to 12 s, of 5 days 13.6 s, of 10 days 24 s; the whole month with a 4GB memory_limit
#: 11.5 s. At 1M a month in one statement took 1.0 s, in daily slices 1.75 s (each statement's own cost).
EVENT_SORT_BYTES = 512
#: Per day of a window: the events staged, which the days are weighed by against `events_per_statement`.
STAGED_EVENTS_PER_DAY = """
SELECT partition_day, COUNT(*)
FROM staging_events
WHERE partition_day BETWEEN :start_day AND :end_day
GROUP BY partition_day
"""


def _parsed(value: str) -> tuple[str, str, int]:
    """The number, unit and bytes of a memory_limit; ValueError naming SPARKIFY_DUCKDB_MEMORY_LIMIT when DuckDB
    would not read it as meant (DuckDB itself takes ``-1GB`` or ``80%`` as "80% of RAM") or refuses it."""
    match = _SIZE.fullmatch(value.strip()) if len(value) < 40 else None
    unit = next((u for u in _UNITS if match and u.lower() == match.group(2).lower()), None)
    size = int(float(match.group(1)) * _UNITS[unit]) if match and unit else 0
    if match is None or unit is None or not _RANGE[0] <= size <= _RANGE[1]:
        raise ValueError(f"SPARKIFY_DUCKDB_MEMORY_LIMIT={value[:40]!r} is not {MEMORY_LIMIT_FORM}")
    return match.group(1), unit, size


def normalized(value: str) -> str:
    """A memory_limit as ``<number><unit>``."""
    number, unit, _ = _parsed(value)
    return f"{number}{unit}"


def size_bytes(value: str) -> int:
    """The bytes a memory_limit stands for."""
    return _parsed(value)[2]


def events_per_statement(memory_limit: str) -> int:
    """The staged events a statement that builds plays may read under ``memory_limit`` (`EVENT_SORT_BYTES`)."""
    return size_bytes(memory_limit) // EVENT_SORT_BYTES
