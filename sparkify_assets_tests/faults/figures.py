"""The figures the faults suite reports at the end of a session (see `conftest.pytest_terminal_summary`).

Tests add to them as they go; the summary prints whatever was counted, so a run of part of the suite
prints the figures of that part.
"""

from __future__ import annotations

from collections import Counter

#: Name -> count. The four of the issue's acceptance come first in the summary.
FIGURES: Counter[str] = Counter()

HEADLINE = (
    "kill points tried",
    "fuzz cases tried",
    "valid rows lost",
    "partial partitions found",
)


def add(name: str, count: int = 1) -> None:
    FIGURES[name] += count
