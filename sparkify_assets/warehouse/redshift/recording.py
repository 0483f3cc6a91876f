"""A recording stand-in for a redshift-connector connection, and the Redshift engine that uses it.

`RecordingRedshiftWarehouse` is `RedshiftWarehouse` with one method replaced: `open_connection` returns
a `RecordingConnection` instead of logging in. Everything else (settings, SQL, transactions, the order of
statements) is the production code, which is what makes `sparkify sql --engine redshift` and the engine
tests say what a real run sends. The stand-in checks what redshift-connector and the server would refuse
(several statements in one execute, fetching from a statement that returns no rows) and answers queries
from a `StatementLog`. Unless the log answers it, the catalogue query of the table layout check
(`warehouse/layout.py`) gets the tables as create_tables.sql makes them, spelled as Redshift's catalogue
spells them: the stand-in is a warehouse in the expected layout.
"""

import functools
import re
from collections.abc import Iterable
from typing import Any

import redshift_connector
from dagster import ResourceDependency
from pydantic import Field

from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.engine import VIEW_DEFINITIONS_SQL, Log
from sparkify_assets.warehouse.layout import expected_tables, layout_query
from sparkify_assets.warehouse.recording import Answer, Rows, StatementLog, is_query
from sparkify_assets.warehouse.redshift.engine import SQL, RedshiftWarehouse
from sparkify_assets.warehouse.redshift.settings import SETTINGS
from sparkify_assets.warehouse.sql import read_sql, statements

_STRING = re.compile(r"'(?:[^']|'')*'")
_LAYOUT_SCHEMA = re.compile(r"\btable_schema = '([a-z_][a-z0-9_]*)'")
#: The least or greatest value of a column of a whole table (`star/assets.PLAY_DAYS`): none in a table as created.
_EXTREME_OF_A_TABLE = re.compile(r"SELECT (?:MIN|MAX)\([^()]*(?:\([^()]*\))?[^()]*\) FROM [a-z_]+")
#: How Redshift's information_schema.columns spells the types create_tables.sql uses (by canonical name).
_CATALOGUE_TYPES = {
    "varchar": "character varying",
    "integer": "integer",
    "bigint": "bigint",
    "double": "double precision",
    "date": "date",
    "timestamp": "timestamp without time zone",
}


def catalogue_as_created(views: Iterable[str] = ()) -> Rows:
    """What `layout_query` answers on a Redshift whose tables are as create_tables.sql makes them, with
    ``views``. Only a view's name is read (engine.py, create_tables), so each is listed with one column whose
    name and type say it stands for the view's columns."""
    tables = sorted(expected_tables(SQL / "create_tables.sql"), key=lambda table: table.name)
    rows: Rows = [
        (table.name, column.name, _CATALOGUE_TYPES[column.kind], column.width)
        for table in tables
        for column in table.columns
    ]
    return rows + [(view, "(the view's columns)", "view", None) for view in sorted(views)]


def answer_as_created(sql: str, warehouse: RedshiftWarehouse | None = None) -> Rows | None:
    """`catalogue_as_created` for the layout query of any schema, and with a ``warehouse`` its views and the
    SHA-256 of their SQL, as an earlier run of the same code left them; NULL for the least or greatest value of
    a whole table's column, the tables being empty; None (no opinion) for any other query."""
    schema = _LAYOUT_SCHEMA.search(sql)
    if schema and sql == layout_query(schema.group(1)):
        return catalogue_as_created(warehouse.view_names() if warehouse is not None else ())
    if warehouse is not None and [sql] == statements(read_sql(VIEW_DEFINITIONS_SQL)):
        return [(warehouse.views_sha256(),)]
    if _EXTREME_OF_A_TABLE.fullmatch(sql):  # the tables as created are empty
        return [(None,)]
    return None


class RecordingCursor:
    """The subset of `redshift_connector.Cursor` the engine uses."""

    def __init__(self, log: StatementLog, known: Answer = answer_as_created) -> None:
        self._log = log
        self._known = known
        self._rows: Rows | None = None
        self.rowcount = -1

    def execute(self, operation: str, args: Any = None) -> "RecordingCursor":
        if args is not None:
            raise redshift_connector.InterfaceError("the engine binds no driver parameters; the text is the statement")
        if ";" in _STRING.sub("''", operation).strip().rstrip(";"):
            # What the server answers to a string of several statements.
            raise redshift_connector.ProgrammingError("cannot insert multiple commands into a prepared statement")
        self._log.record(operation)
        self._log.raise_for(operation)
        self._rows = self._log.rows_for(operation, self._known) if is_query(operation) else None
        return self

    def fetchall(self) -> Rows:
        if self._rows is None:
            raise redshift_connector.ProgrammingError("no result set")
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        rows = self.fetchall()
        if rows[1:]:
            self._rows = rows[1:]
        return rows[0] if rows else None

    def close(self) -> None:
        self._rows = None


class RecordingConnection:
    """The subset of `redshift_connector.Connection` the engine uses; every statement goes to the log."""

    def __init__(self, log: StatementLog, known: Answer = answer_as_created) -> None:
        self._log = log
        self._known = known
        self.autocommit = False
        self.closed = False

    def cursor(self) -> RecordingCursor:
        if self.closed:
            raise redshift_connector.InterfaceError("connection is closed")
        return RecordingCursor(self._log, self._known)

    def commit(self) -> None:
        self._log.record("COMMIT")

    def rollback(self) -> None:
        self._log.record("ROLLBACK")

    def close(self) -> None:
        self.closed = True


class RecordingRedshiftWarehouse(RedshiftWarehouse):
    """The Redshift engine against a recording connection: it never logs in, so needs no login settings."""

    recorder: ResourceDependency[StatementLog]
    #: What DescribeClusters would say of the cluster (`single_az_cluster`): nothing is asked of AWS here.
    known_single_az_cluster: bool = False
    views_exist: bool = Field(
        default=True,
        description="The warehouse holds the views an earlier run of this code created (a daily run); False: a "
        "new warehouse, whose first run creates them.",
    )

    def validate(self) -> None:
        self.validate_sql_settings()

    def single_az_cluster(self) -> bool:
        return self.known_single_az_cluster

    def source_region(self, source: SparkifySource, log: Log) -> str:
        """The real answer (S3 is asked when REDSHIFT_COPY_REGION is not set), with a note saying where it came
        from: a plan (`PlannedSource`) asks nothing and names the lookup instead of a region."""
        region = super().source_region(source, log)
        where = (
            f"{SETTINGS['copy_region']}={region}"
            if self.copy_region
            else f"{SETTINGS['copy_region']} is not set: the region of bucket {source.bucket}, asked of S3 "
            f"(GetBucketLocation) once a run: {region}"
        )
        self.recorder.record(f"COPY REGION: {where}", kind="note")
        return region

    def open_connection(self) -> Any:
        known = functools.partial(answer_as_created, warehouse=self) if self.views_exist else answer_as_created
        return RecordingConnection(self.recorder, known)
