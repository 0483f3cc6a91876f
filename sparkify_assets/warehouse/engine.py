"""What the assets and checks need from a warehouse, whichever engine holds it.

Each engine (``warehouse/duckdb``, ``warehouse/redshift``) is a Dagster resource implementing this class;
`definitions.py` picks one per deployment. Everything engine-neutral (the star-schema SQL, the checks)
runs through `run_script` and `query`. What is the same on every engine is written here once: creating the
tables, and the views when they are missing or changed, once a run (`create_tables`), and running a script in
one transaction (`run_script`), over the cursor each engine's `transaction` yields.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.errors import SourceError
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.layout import layout_query, verify_layout
from sparkify_assets.warehouse.sql import SqlValue, read_sql, statements

#: Engine-neutral SQL shared by every engine.
SHARED_SQL = Path(__file__).parent / "sql"
#: The cleaning views stg_events and stg_songs (SPEC.md's cleaning rules), engine-neutral, kept with the
#: staging assets whose tables they clean.
STG_VIEWS_SQL = Path(__file__).parents[1] / "staging" / "sql" / "create_stg_views.sql"
#: The SHA-256 of the SQL the views were last created from, and how it is recorded (`create_tables`).
VIEW_DEFINITIONS_SQL = SHARED_SQL / "view_definitions.sql"
RECORD_VIEW_DEFINITIONS_SQL = SHARED_SQL / "record_view_definitions.sql"

_CREATE_VIEW = re.compile(r"^CREATE\s+OR\s+REPLACE\s+VIEW\s+(\w+)", re.IGNORECASE | re.MULTILINE)

Log = Callable[[str], None]


class Cursor(Protocol):
    """What `create_tables` and `run_script` need of what an engine's `transaction` yields (a DuckDB
    connection, a redshift-connector cursor): one statement per ``execute``, whose result can be fetched."""

    def execute(self, sql: str) -> Any: ...


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def run_file(cursor: Cursor, path: Path, params: Mapping[str, SqlValue] | None = None) -> None:
    """Run every statement of a ``.sql`` file, one ``execute`` each, on an open cursor."""
    for statement in statements(read_sql(path), params or {}):
        cursor.execute(statement)


def read_values(cursor: Cursor, queries: Mapping[str, str]) -> dict[str, SqlValue]:
    """The one value of each query, by name: parameters a script reads in its own transaction, so that they
    are what its statements see (on Redshift, after the transaction's lock)."""
    return {name: cursor.execute(query).fetchone()[0] for name, query in queries.items()}


@dataclass(frozen=True)
class FileLoad:
    """What loading one source file into staging did."""

    source_key: str
    partition_day: date | None
    records: int
    loaded: int
    rejected: int


class TransientWarehouseError(RuntimeError):
    """The warehouse aborted a transaction for a reason of the moment (Redshift's serializable isolation
    violation, a concurrent run's doing): running the step again may succeed. The assets retry it."""


class TooManyRejects(SourceError):
    """More of a file's records were rejected than SPARKIFY_MAX_REJECT_PERCENT allows: it looks broken."""


class Warehouse(ConfigurableResource):
    """Base class of the warehouse engines."""

    max_reject_percent: int = Field(
        default=50,
        ge=0,
        le=100,
        description="SPARKIFY_MAX_REJECT_PERCENT: when more than this share of a day file's records (or of "
        "the song files' records, together) is rejected, the load fails and the partition keeps its "
        "previous rows: a file that is mostly bad is a broken export, not bad records.",
    )

    #: The session on which create_tables last ran and verified the table layout (it does its work once a run).
    _layout_verified_for: Any = PrivateAttr(default=None)

    def start_event_window(self, cursor: Cursor, window: DayWindow) -> None:
        """The start of a staging load of the window's day files, in its transaction: note the users of the
        rows about to go (all their events are read again: one may have vanished from a corrected file), then
        remove the days' rows, rejects and file counts."""
        run_file(cursor, SHARED_SQL / "note_users_to_refresh.sql", {**window.sql_params, "since_day": None})
        run_file(cursor, SHARED_SQL / "clear_event_window.sql", window.sql_params)

    def finish_event_window(self, cursor: Cursor, window: DayWindow, loads: Sequence[FileLoad]) -> None:
        """The end of that load, before it commits: fail it if a file is mostly bad, else note the users of the
        new rows (read from the window's first day on)."""
        self.require_few_rejects(loads)
        since_window = {**window.sql_params, "since_day": window.start_day}
        run_file(cursor, SHARED_SQL / "note_users_to_refresh.sql", since_window)

    def require_few_rejects(self, loads: Sequence[FileLoad], catalogue: str | None = None) -> None:
        """Fail the load (before it commits) when a day file, or the song ``catalogue`` as a whole, has
        more rejects than ``max_reject_percent`` of its records."""
        if catalogue is not None:
            totals = [(catalogue, sum(load.records for load in loads), sum(load.rejected for load in loads))]
        else:
            totals = [(load.source_key, load.records, load.rejected) for load in loads]
        for name, records, rejected in totals:
            if records and rejected * 100 > self.max_reject_percent * records:
                raise TooManyRejects(
                    f"{name}: {rejected:,} of {records:,} records rejected ({rejected / records:.0%}), more than "
                    f"SPARKIFY_MAX_REJECT_PERCENT={self.max_reject_percent}: the file looks broken, so nothing "
                    "was loaded and the partition keeps its previous rows. Fix the file, or raise the setting "
                    "to load its valid records and keep the others in staging_rejects."
                )

    # -- what each engine supplies ----------------------------------------------------------------------
    @property
    def engine_name(self) -> str:
        raise NotImplementedError

    @property
    def table_schema(self) -> str:
        """The schema of every table and view."""
        raise NotImplementedError

    @property
    def engine_sql(self) -> Path:
        """The engine's own SQL folder: its tables (``create_tables.sql``, the expected layout too) and its
        one function, epoch milliseconds to a timestamp (``create_functions.sql``), among the rest."""
        raise NotImplementedError

    @property
    def session(self) -> Any:
        """The connection the current run holds, or None (outside a run on DuckDB)."""
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[Cursor]:
        """A cursor inside one transaction: committed on success, rolled back on any error."""
        raise NotImplementedError

    def create_schema(self, cursor: Cursor) -> None:
        """Create `table_schema` where it may not exist yet, before the tables; nothing by default."""

    # -- the same on every engine ------------------------------------------------------------------------
    def qualified_name(self, table: str) -> str:
        """``schema.table`` as the engine names it (``dagster/table_name``)."""
        return f"{self.table_schema}.{table}"

    def view_files(self) -> tuple[Path, ...]:
        """The SQL that creates the engine's functions and the views that call them, in the order it runs."""
        return (self.engine_sql / "create_functions.sql", STG_VIEWS_SQL, SHARED_SQL / "create_star_views.sql")

    def views_sha256(self) -> str:
        """The SHA-256 of the statements of `view_files` (comments left out: editing one recreates nothing)."""
        text = "\n;\n".join(statement for path in self.view_files() for statement in statements(read_sql(path)))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def view_names(self) -> frozenset[str]:
        """The views `view_files` create."""
        return frozenset(name for path in self.view_files() for name in _CREATE_VIEW.findall(read_sql(path)))

    def create_tables(self) -> None:
        """Create every table that does not exist yet, and the functions and views when they are missing or
        older than the code, in one transaction: once a run (a session), every time outside one.

        The tables' layout is verified before the views, which would otherwise fail on a missing column in
        the engine's own words. The views are not replaced on every step: on Redshift, DDL takes an exclusive
        lock, which waits for every open query on the view (a dashboard's) and then keeps readers out until
        the transaction commits (https://docs.aws.amazon.com/redshift/latest/dg/r_LOCK.html, "Some DDL
        operations ... create exclusive locks"). They are created when the catalogue
        lacks one of them (a new warehouse, or a table dropped with CASCADE) or when `view_definitions` holds
        another SHA-256 of their SQL than `views_sha256` (an upgrade changed them, or a warehouse from before
        this table). A hash recorded beside the views rather than a comparison with the catalogue's view
        text, because each engine gives that text back rewritten in its own form (Redshift's pg_views,
        DuckDB's duckdb_views), not as the code sent it; the same query and table work on both engines.
        """
        if self.session is not None and self._layout_verified_for is self.session:
            return
        self.create_tables_and_views()
        self._layout_verified_for = self.session

    def create_tables_and_views(self) -> None:
        """`create_missing_tables` then `create_views`, in the engine's transactions: here one."""
        with self.transaction() as cursor:
            self.create_missing_tables(cursor)
            self.create_views(cursor)

    def create_missing_tables(self, cursor: Cursor) -> None:
        """The schema and every table that does not exist yet (the first part of `create_tables`)."""
        self.create_schema(cursor)
        run_file(cursor, self.engine_sql / "create_tables.sql")

    def create_views(self, cursor: Cursor) -> None:
        """The tables' layout verified, then the functions and views created if missing or changed, with the
        SHA-256 of their SQL (the rest of `create_tables`)."""
        tables_sql = self.engine_sql / "create_tables.sql"
        catalogue = cursor.execute(layout_query(self.table_schema)).fetchall()
        verify_layout(self.table_schema, tables_sql, catalogue)
        missing = self.view_names() - {str(row[0]) for row in catalogue}  # the catalogue lists views too
        (recorded_sql,) = statements(read_sql(VIEW_DEFINITIONS_SQL))
        recorded = [row[0] for row in cursor.execute(recorded_sql).fetchall()[:1]]
        current = self.views_sha256()
        if missing or recorded != [current]:
            for path in self.view_files():  # the functions first: the views call them
                run_file(cursor, path)
            run_file(cursor, RECORD_VIEW_DEFINITIONS_SQL, {"sha256": current, "created_at": _now()})

    def statement_windows(self, window: DayWindow) -> list[DayWindow]:
        """The windows, in order, whose statements a build of ``window``'s plays runs one after the other in its
        one transaction (`run_script`'s ``slices``): here the window itself, in one go."""
        return [window]

    def run_script(
        self,
        sql: str,
        params: Mapping[str, SqlValue],
        read_first: Mapping[str, str] | None = None,
        slices: Sequence[Mapping[str, SqlValue]] = ({},),
    ) -> None:
        """Run every statement of ``sql`` in one transaction, once per mapping of ``slices`` (each laid over
        ``params``), in order. ``read_first``: more parameters, each the one value of a query run in the same
        transaction before the script (`read_values`)."""
        with self.transaction() as cursor:
            read = read_values(cursor, read_first or {})
            for slice_params in slices:
                for statement in statements(sql, {**params, **slice_params, **read}):
                    cursor.execute(statement)

    # -- loads and queries, per engine -------------------------------------------------------------------
    def load_staging_events(self, source: SparkifySource, window: DayWindow, log: Log) -> list[FileLoad]:
        """Replace the window's days in staging_events (and their rejects), all or nothing."""
        raise NotImplementedError

    def load_staging_songs(self, source: SparkifySource, log: Log) -> list[FileLoad]:
        """Replace staging_songs (and its rejects) with every song file, all or nothing."""
        raise NotImplementedError

    def query(self, sql: str, params: Mapping[str, SqlValue] | None = None) -> list[tuple[Any, ...]]:
        """Rows of one SELECT."""
        raise NotImplementedError

    def columns(self, table: str) -> Sequence[tuple[str, str]]:
        """``(name, type)`` of each column of a table, in order."""
        raise NotImplementedError
