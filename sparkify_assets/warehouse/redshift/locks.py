"""Which tables a Redshift transaction locks, in the one order every transaction uses.

Two runs may write the same tables at once (`dagster asset materialize` does not go through the instance's
run queue): under Redshift's serializable isolation one of them then fails with error 1023. AWS's advice
(https://repost.aws/knowledge-center/redshift-serializable-isolation) is to LOCK, at the start of the
transaction, every table it uses, those it only reads included, in the same order in every transaction: the
second transaction then waits for the first instead of failing, and two transactions can never each hold a
table the other waits for. The engine sends `lock_statement` as the first statement of every writing
transaction, and retries what still fails with 1023 (`engine.py`).

The tables a transaction uses are read off its SQL: every word of it (comments and string literals left
out) that names one of the warehouse's permanent tables, and for each view it names, the tables the view
reads, found the same way in the view's definition. A word that merely looks like a table name (``time`` in
``AT TIME ZONE``) locks a table the transaction did not need: harmless, it only waits. Session temp tables
and system views are not the warehouse's tables and are never locked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from sparkify_assets.warehouse.engine import SHARED_SQL, STG_VIEWS_SQL
from sparkify_assets.warehouse.layout import expected_tables
from sparkify_assets.warehouse.sql import Identifier, literal, read_sql, statements

SQL = Path(__file__).parent / "sql"
#: The files that define the views the warehouse's SQL reads.
VIEW_FILES = (STG_VIEWS_SQL, SHARED_SQL / "create_star_views.sql")

_COMMENT = re.compile(r"--[^\n]*")
_STRING = re.compile(r"'(?:[^']|'')*'")
_WORD = re.compile(r"[a-z_][a-z0-9_]*")
_VIEW = re.compile(r"CREATE\s+OR\s+REPLACE\s+VIEW\s+([a-z_][a-z0-9_]*)\s+AS\b(.*)", re.IGNORECASE | re.DOTALL)
_CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+([a-z_][a-z0-9_]*)\b", re.IGNORECASE)


def lock_statement(tables: Iterable[str]) -> str | None:
    """``LOCK a, b, ...`` over ``tables`` in the one fixed order (alphabetical), or None for no table.

    https://docs.aws.amazon.com/redshift/latest/dg/r_LOCK.html: an exclusive lock until the transaction ends.
    """
    ordered = sorted(set(tables))
    if not ordered:
        return None
    return "LOCK " + ", ".join(literal(Identifier(table)) for table in ordered)


def tables_used(sql: Iterable[str], also: Iterable[str] = ()) -> list[str]:
    """The warehouse tables that the statements or scripts ``sql`` read or write, views resolved to the tables
    behind them, in lock order. ``also``: tables the transaction's own scripts create (an analytics table)."""
    known = warehouse_tables() | set(also)
    views = view_tables()
    found: set[str] = set()
    for text in sql:
        for word in _words(text):
            if word in known:
                found.add(word)
            found.update(views.get(word, ()))
    return sorted(found)


def created_tables(sql: Iterable[str]) -> list[str]:
    """The tables that ``CREATE TABLE IF NOT EXISTS`` statements among ``sql`` create."""
    return [match.group(1).lower() for text in sql if (match := _CREATE_TABLE.match(text.strip()))]


@cache
def warehouse_tables() -> frozenset[str]:
    """The permanent tables create_tables.sql makes, which exist before any other transaction runs."""
    return frozenset(table.name for table in expected_tables(SQL / "create_tables.sql"))


@cache
def view_tables() -> Mapping[str, frozenset[str]]:
    """Each view of the warehouse and the tables it reads, through any view it reads."""
    bodies = {
        match.group(1).lower(): match.group(2)
        for path in VIEW_FILES
        for statement in statements(read_sql(path))
        if (match := _VIEW.match(statement))
    }
    tables = warehouse_tables()

    def resolve(view: str, seen: frozenset[str]) -> frozenset[str]:
        words = _words(bodies[view])
        inner = [resolve(word, seen | {view}) for word in words if word in bodies and word not in seen | {view}]
        return frozenset(words & tables).union(*inner)

    return {view: resolve(view, frozenset()) for view in bodies}


def _words(sql: str) -> set[str]:
    return set(_WORD.findall(_STRING.sub("''", _COMMENT.sub("", sql)).lower()))
