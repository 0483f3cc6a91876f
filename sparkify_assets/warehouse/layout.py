"""Whether the warehouse's tables are laid out as the code creates them, checked before anything is loaded.

Tables are created with ``CREATE TABLE IF NOT EXISTS``, so a table an older version of the project (or a
DBA) left with other columns is kept as it is: columns in another order, one more or one less, another
type. Every INSERT names its columns, but a load into such a table would still fail with the engine's own
words, or load values the table does not type as the code does. ``create_tables`` (`engine.py`) therefore
compares the tables with what the catalogue says (``sql/table_layout.sql``, one query for all tables)
and raises `TableLayoutMismatch`, naming each table and column at fault and the statements that rebuild
the table, before it writes anything. Nothing is migrated automatically.

The expected layout has one home: the engine's ``create_tables.sql``, whose CREATE TABLE statements are
parsed here. Types are compared after normalizing each engine's spelling (DuckDB's catalogue says
``VARCHAR``/``DOUBLE``/``TIMESTAMP``, Redshift's ``character varying``/``double precision``/``timestamp
without time zone``). A VARCHAR's width is compared where both the DDL and the catalogue give one (on
Redshift, where a value longer than its column is rejected, so the width decides what loads); DuckDB has
no widths. Nullability is not compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sparkify_assets.warehouse.sql import read_sql, statements

#: The query of the catalogue: ``(table_name, column_name, data_type, character_maximum_length)`` rows.
LAYOUT_SQL = Path(__file__).parent / "sql" / "table_layout.sql"

_CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s*\(", re.IGNORECASE)
#: What may follow a column's type in its definition (constraints, defaults, Redshift's column attributes).
_AFTER_TYPE = re.compile(
    r"\s+(?:NOT\s+NULL|NULL|DEFAULT|ENCODE|DISTKEY|SORTKEY|IDENTITY|GENERATED|PRIMARY|UNIQUE|REFERENCES|CHECK|COLLATE)\b",
    re.IGNORECASE,
)
#: A definition in the column list that is a table constraint, not a column.
_TABLE_CONSTRAINT = re.compile(r"(?:PRIMARY|UNIQUE|FOREIGN|CONSTRAINT|CHECK)\b", re.IGNORECASE)
_WIDTH = re.compile(r"(.+?)\s*\(\s*(\d+)\s*\)")
#: Each engine's spellings of one type, by the name they are compared under. A spelling not listed here
#: is compared as it is written, lower-cased (``decimal(18,2)``).
_CANONICAL = {
    spelling: canonical
    for canonical, spellings in {
        "varchar": ("varchar", "character varying", "text", "string"),
        "integer": ("integer", "int", "int4"),
        "bigint": ("bigint", "int8"),
        "smallint": ("smallint", "int2"),
        "double": ("double", "double precision", "float8"),
        "real": ("real", "float4"),
        "boolean": ("boolean", "bool"),
        "date": ("date",),
        "timestamp": ("timestamp", "timestamp without time zone"),
        "timestamptz": ("timestamptz", "timestamp with time zone"),
    }.items()
    for spelling in spellings
}


@dataclass(frozen=True)
class Column:
    """A column as the DDL or the catalogue spells it, and its type as it is compared."""

    name: str
    type: str  #: as written (DDL) or as the catalogue says it, for messages
    kind: str  #: the canonical type name (`_CANONICAL`)
    width: int | None = None  #: a VARCHAR's width, where known

    @classmethod
    def from_ddl(cls, name: str, type_text: str) -> Column:
        spelled = " ".join(type_text.split())
        match = _WIDTH.fullmatch(spelled)
        if match and _kind(match.group(1)) == "varchar":
            return cls(name, spelled, "varchar", int(match.group(2)))
        return cls(name, spelled, _kind(spelled))

    @classmethod
    def from_catalogue(cls, name: str, data_type: str, max_length: int | None) -> Column:
        kind = _kind(data_type)
        width = int(max_length) if max_length is not None and kind == "varchar" else None
        return cls(name, data_type if width is None else f"{data_type}({width})", kind, width)

    def same_type(self, other: Column) -> bool:
        widths_known = self.width is not None and other.width is not None
        return self.kind == other.kind and (not widths_known or self.width == other.width)


def _kind(spelled: str) -> str:
    text = " ".join(spelled.lower().split())
    return _CANONICAL.get(text, text)


@dataclass(frozen=True)
class TableDefinition:
    """One CREATE TABLE statement of a ``create_tables.sql``."""

    name: str
    columns: tuple[Column, ...]
    ddl: str  #: the statement as written (comments left out)


def column_widths(create_tables_sql: Path, table: str) -> dict[str, int]:
    """Each VARCHAR column of ``table`` and its width, as ``create_tables.sql`` declares them: what the staging
    rules of both engines hold a value to, in UTF-8 bytes (docs/redshift.md, "VARCHAR widths")."""
    (definition,) = [t for t in expected_tables(create_tables_sql) if t.name == table]
    return {column.name: column.width for column in definition.columns if column.width is not None}


@cache
def expected_tables(create_tables_sql: Path) -> tuple[TableDefinition, ...]:
    """The tables an engine's ``create_tables.sql`` creates, with their columns in order."""
    tables = []
    for statement in statements(read_sql(create_tables_sql)):
        match = _CREATE_TABLE.match(statement)
        if match is None:
            raise ValueError(f"{create_tables_sql}: not a CREATE TABLE statement: {statement[:80]!r}")
        body = _parenthesized(statement, match.end() - 1)
        columns = [_column(definition, create_tables_sql) for definition in _top_level_items(body)]
        tables.append(TableDefinition(match.group(1), tuple(c for c in columns if c is not None), statement))
    return tuple(tables)


def _parenthesized(text: str, opening: int) -> str:
    """What is between the parenthesis at ``opening`` and the one that closes it."""
    depth = 0
    for index in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return text[opening + 1 : index]
    raise ValueError(f"unbalanced parentheses in {text[:80]!r}")


def _top_level_items(body: str) -> list[str]:
    """``body`` split at its commas outside parentheses (``DECIMAL(18, 2)`` stays whole)."""
    items, depth, start = [], 0, 0
    for index, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(body[start:index])
            start = index + 1
    items.append(body[start:])
    return [item.strip() for item in items if item.strip()]


def _column(definition: str, source: Path) -> Column | None:
    if _TABLE_CONSTRAINT.match(definition):
        return None
    name, _, rest = definition.partition(" ")
    type_text = _AFTER_TYPE.split(" " + rest.strip(), maxsplit=1)[0].strip()
    if not re.fullmatch(r"\w+", name) or not type_text:
        raise ValueError(f"{source}: cannot read the column definition {definition!r}")
    return Column.from_ddl(name.lower(), type_text)


def layout_query(schema: str) -> str:
    """The catalogue query of ``schema`` as it is sent (``sql/table_layout.sql``, rendered)."""
    (statement,) = statements(read_sql(LAYOUT_SQL), {"schema": schema})
    return statement


@dataclass(frozen=True)
class TableMismatch:
    """One table that is not laid out as its CREATE TABLE says: what differs, and how to rebuild it."""

    table: str
    problems: tuple[str, ...]
    rebuild: tuple[str, ...]  #: statements that rebuild the table in the expected layout, keeping its rows


class TableLayoutMismatch(RuntimeError):
    """A warehouse table is not laid out as the engine's create_tables.sql makes it; nothing was written."""

    def __init__(self, schema: str, create_tables_sql: Path, mismatches: Sequence[TableMismatch]) -> None:
        self.mismatches = tuple(mismatches)
        lines = []
        for mismatch in self.mismatches:
            lines.append(f"table {schema}.{mismatch.table} is not laid out as {_shown(create_tables_sql)} creates it:")
            lines += [f"  - {problem}" for problem in mismatch.problems]
        lines.append(
            "Nothing was written. CREATE TABLE IF NOT EXISTS keeps a table an older version of the project or a "
            "manual change left, and loading it would put values in the wrong columns or fail half-way. To "
            "rebuild a table in the expected layout and keep its rows, run in one transaction (the copy goes "
            "by column name: columns the old table lacks stay NULL, its extra columns are dropped, values of a "
            "changed type are cast; the next run recreates the views over the table):"
        )
        for mismatch in self.mismatches:
            lines += ["", *(f"{statement};" for statement in mismatch.rebuild)]
        lines += ["", "or drop the table (DROP TABLE <table> CASCADE) and materialize again what fills it."]
        super().__init__("\n".join(lines))


def verify_layout(schema: str, create_tables_sql: Path, catalogue: Iterable[Sequence[Any]]) -> None:
    """Raise `TableLayoutMismatch` unless every table of ``create_tables_sql`` has exactly its columns, in
    order and of its types, in ``catalogue`` (the rows of `layout_query`). Other tables and views are ignored."""
    found: dict[str, list[Column]] = {}
    for table_name, column_name, data_type, max_length in catalogue:
        found.setdefault(str(table_name), []).append(
            Column.from_catalogue(str(column_name), str(data_type), max_length)
        )
    mismatches = []
    for table in expected_tables(create_tables_sql):
        problems = _problems(table.columns, found.get(table.name, []))
        if problems:
            mismatches.append(TableMismatch(table.name, problems, _rebuild(table, found.get(table.name, []))))
    if mismatches:
        raise TableLayoutMismatch(schema, create_tables_sql, mismatches)


def _problems(expected: Sequence[Column], found: Sequence[Column]) -> tuple[str, ...]:
    if not found:
        return ("the catalogue (information_schema.columns) shows no column of it: is it a table of this schema?",)
    found_by_name = {column.name: column for column in found}
    expected_names = {column.name for column in expected}
    problems = [
        f"missing column {column.name} {column.type} (expected as column {position})"
        for position, column in enumerate(expected, 1)
        if column.name not in found_by_name
    ]
    problems += [
        f"extra column {column.name} {column.type} (column {position}), which the code does not create"
        for position, column in enumerate(found, 1)
        if column.name not in expected_names
    ]
    problems += [
        f"column {column.name} is {found_by_name[column.name].type}, expected {column.type}"
        for column in expected
        if column.name in found_by_name and not column.same_type(found_by_name[column.name])
    ]
    # Order: the columns both have, in the table's order against the expected order.
    found_position = {column.name: position for position, column in enumerate(found, 1)}
    expected_position = {column.name: position for position, column in enumerate(expected, 1)}
    shared_expected = [column.name for column in expected if column.name in found_position]
    shared_found = [column.name for column in found if column.name in expected_position]
    misplaced = [
        f"{name} is column {found_position[name]}, expected {expected_position[name]}"
        for name, other in zip(shared_expected, shared_found, strict=True)
        if name != other
    ]
    if misplaced:
        problems.append(f"columns in another order: {'; '.join(misplaced)}")
    return tuple(problems)


def _rebuild(table: TableDefinition, found: Sequence[Column]) -> tuple[str, ...]:
    """Rename the table aside, create it as the DDL says, copy the rows of the columns both have (by name).
    Nothing to rebuild when the catalogue shows no column of the table."""
    if not found:
        return ()
    kept = ", ".join(column.name for column in table.columns if column.name in {c.name for c in found})
    old = f"{table.name}_old"
    copy = (f"INSERT INTO {table.name} ({kept}) SELECT {kept} FROM {old}",) if kept else ()
    return (
        f"ALTER TABLE {table.name} RENAME TO {old}",
        table.ddl,
        *copy,
        f"DROP TABLE {old} CASCADE",
    )


def _shown(path: Path) -> str:
    """``path`` from the package's parent folder (``sparkify_assets/warehouse/...``), as a reader finds it."""
    package_parent = Path(__file__).resolve().parents[2]
    try:
        return str(path.resolve().relative_to(package_parent))
    except ValueError:
        return str(path)
