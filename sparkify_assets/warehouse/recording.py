"""A log of the statements an engine sends, for stand-ins that take the place of a real connection.

`sparkify sql` runs the real assets with a recording connection and prints this log; the engine tests read
it. Each statement is kept with the Dagster step (op) that sent it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dagster import DagsterInvariantViolationError, OpExecutionContext

Rows = list[tuple[Any, ...]]
#: A test's answer to a query: rows, or None for the default answer.
Answer = Callable[[str], Rows | None]
#: What the server raises for a statement (any statement, not only queries), or None: it runs.
ServerError = Callable[[str], BaseException | None]

_STRING = re.compile(r"'(?:[^']|'')*'")
_TOKEN = re.compile(r"\b(?:SELECT|FROM)\b|[(),]", re.IGNORECASE)
_ROW_SET = re.compile(r"\b(?:GROUP\s+BY|ORDER\s+BY|LIMIT)\b", re.IGNORECASE)
_QUERY = re.compile(r"\s*(?:SELECT|WITH)\b", re.IGNORECASE)


@dataclass(frozen=True)
class RecordedStatement:
    """One statement as sent (``kind="sql"``), or a note on something that is not SQL (``kind="note"``)."""

    sql: str
    step: str | None
    kind: str = "sql"


@dataclass
class StatementLog:
    """Statements in the order they were sent, and the answers given to queries.

    By default a query is answered as an empty warehouse would answer it: a query that returns a set of
    rows (grouped, ordered or limited at the top level) returns none; any other one is an aggregate and
    returns one row of zeros, as wide as its select list (every count is 0, every check passes). A stand-in
    may know better for some queries (``known``: the Redshift one answers the catalogue query with the
    tables as create_tables.sql makes them, and by default the views as an earlier run left them).
    ``answer`` overrides both per query. The statements depend on the answers in one place only: whether the
    views exist and are current (`Warehouse.create_tables`); otherwise only metadata does (and a table layout
    check, which passes or fails the run).
    """

    answer: Answer | None = None
    statements: list[RecordedStatement] = field(default_factory=list)
    fail: ServerError | None = None

    def raise_for(self, sql: str) -> None:
        """Raise what ``fail`` says the server answers to ``sql`` (after it was recorded as sent)."""
        error = self.fail(sql) if self.fail is not None else None
        if error is not None:
            raise error

    def record(self, sql: str, kind: str = "sql") -> None:
        self.statements.append(RecordedStatement(sql, _current_step(), kind))

    def rows_for(self, sql: str, known: Answer | None = None) -> Rows:
        for answer in (self.answer, known):
            rows = answer(sql) if answer is not None else None
            if rows is not None:
                return rows
        if returns_row_set(sql):
            return []
        return [(0,) * select_width(sql)]

    @property
    def sql(self) -> list[str]:
        """The SQL statements only, in order."""
        return [statement.sql for statement in self.statements if statement.kind == "sql"]


def is_query(sql: str) -> bool:
    return bool(_QUERY.match(sql))


def returns_row_set(sql: str) -> bool:
    """Whether the outermost query is grouped, ordered or limited (ignoring what is in parentheses)."""
    return bool(_ROW_SET.search(_top_level(sql)))


def _top_level(sql: str) -> str:
    """``sql`` without string literals and without whatever is inside parentheses."""
    text, depth, kept = _STRING.sub("''", sql), 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0:
            kept.append(char)
    return "".join(kept)


def select_width(sql: str) -> int:
    """How many columns the outermost SELECT of ``sql`` returns (its top-level commas before FROM, plus one)."""
    depth, width = 0, 0
    for match in _TOKEN.finditer(_STRING.sub("''", sql)):
        token = match.group(0).upper()
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0 and token == "SELECT":
            width = 1
        elif depth == 0 and token == "FROM" and width:
            break
        elif depth == 0 and token == "," and width:
            width += 1
    return max(width, 1)


def _current_step() -> str | None:
    """The asset the current Dagster step materializes, or ``checks of <asset>`` for a step of asset checks."""
    try:
        context = OpExecutionContext.get()
    except DagsterInvariantViolationError:
        return None
    if context.selected_asset_keys:
        return ", ".join(sorted(key.to_user_string() for key in context.selected_asset_keys))
    checked = sorted({key.asset_key.to_user_string() for key in context.selected_asset_check_keys})
    return f"checks of {', '.join(checked)}" if checked else context.op.name
