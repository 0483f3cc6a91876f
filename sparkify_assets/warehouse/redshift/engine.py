"""The production warehouse: Amazon Redshift, loaded by COPY straight from S3 (docs/redshift.md).

Staging never passes rows through Python. Each day's event file, and all of ``song_data/`` at once, is
COPYed into a session temp table; SQL then applies SPEC.md's record rules, moves the good records into
staging and the bad ones (with the lines COPY skipped) into ``staging_rejects`` (``sql/``). Every load and
every transform is one transaction, with BEGIN and COMMIT sent as statements so that the statements are
the whole story: one statement per ``cursor.execute`` (redshift-connector takes one at a time), and never
TRUNCATE, which would commit the transaction half-way on Redshift.

Every writing transaction starts by locking the tables it uses, in one fixed order (`locks.py`), so that two
runs on the same tables wait for each other instead of failing with error 1023; what still fails with 1023 is
a `SerializationConflict`, which the assets retry.

A run uses one connection (opened on first use, closed when the run's resources are torn down); the
SQL depends on what a query answered in one place only (whether the views exist and are current,
`Warehouse.create_tables`), so `sparkify sql` can print the statements of a run from a recording stand-in
(`recording.py`) that says which warehouse it stands for. The settings and their checks are in `settings.py`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import redshift_connector
from botocore.exceptions import BotoCoreError, ClientError
from dagster import InitResourceContext
from pydantic import PrivateAttr

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.errors import SourceError, SourceObjectMissing
from sparkify_assets.sources.layout import JSONPATHS_KEY, SONG_PREFIX, event_key
from sparkify_assets.sources.records import JSON_TEXT_HEAD_BYTES, require_json_text
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.engine import (
    RECORD_VIEW_DEFINITIONS_SQL,
    SHARED_SQL,
    VIEW_DEFINITIONS_SQL,
    Cursor,
    FileLoad,
    Log,
    TooManyRejects,
    TransientWarehouseError,
    read_values,
    run_file,
)
from sparkify_assets.warehouse.layout import column_widths
from sparkify_assets.warehouse.redshift.locks import created_tables, lock_statement, tables_used
from sparkify_assets.warehouse.redshift.settings import SETTINGS, RedshiftSettings
from sparkify_assets.warehouse.sql import Identifier, SqlValue, read_sql, statements

SQL = Path(__file__).parent / "sql"

_SET_SEARCH_PATH = "SET search_path TO :schema"
_CREATE_SCHEMA = "CREATE SCHEMA IF NOT EXISTS :schema"
_COLUMNS = """
SELECT column_name, data_type
FROM information_schema.columns
WHERE table_schema = :schema AND table_name = :table
ORDER BY ordinal_position
"""
_LAST_COPY_COUNT = "SELECT pg_last_copy_count()"
_COUNT_COPIED = """
SELECT
    (SELECT COUNT(*) FROM :copy_table),
    (SELECT COUNT(reason) FROM :copy_table),
    (SELECT COUNT(*) FROM load_errors)
"""


#: What Redshift answers when COPY cannot read the source for good: the IAM role cannot be assumed, or S3
#: refuses the role (403) or has no such bucket (404). Running the step again cannot help.
_SOURCE_REFUSED = re.compile(
    r"not authorized to (?:get credentials of role|assume IAM Role)"
    r"|S3ServiceException:.*Status 40[34]"
    r"|\b(?:AccessDenied|NoSuchBucket|InvalidAccessKeyId)\b",
    re.IGNORECASE,
)
#: What Redshift answers when COPY's REGION is not the bucket's: S3's 301 PermanentRedirect. Permanent: the
#: setting (or the bucket) must change (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-source-s3.html#copy-region).
_WRONG_REGION = re.compile(r"Status 301\b|\bPermanentRedirect\b", re.IGNORECASE)
#: Redshift's serializable isolation violation, ERROR 1023 (redshift-connector puts the code in the message
#: field 'M'): https://docs.aws.amazon.com/redshift/latest/dg/c_serial_isolation-serializable-isolation-troubleshooting.html
#: What COPY answers when it meets MAXERROR bad lines: the load fails (and its transaction with it). Permanent:
#: the file stays as bad on the next try (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-load.html#copy-maxerror).
_TOO_MANY_LOAD_ERRORS = re.compile(r"Load into table '[^']*' failed", re.IGNORECASE)
_SERIALIZATION_CONFLICT = re.compile(r"Serializable isolation violation|\bERROR:\s*1023\b|'M':\s*'1023'", re.IGNORECASE)


class CopyMismatch(RuntimeError):
    """COPY reported a row count that is not what landed in its table."""


class SerializationConflict(TransientWarehouseError):
    """Redshift aborted the transaction with error 1023: a concurrent transaction used the same tables in an
    order that cannot be serialized. AWS's first advice is to run the transaction again."""


@dataclass(frozen=True)
class _Copy:
    """How one kind of source is staged: its COPY into a session temp table (`table`), then the record rules
    applied there, which move the good records into staging (`rules`)."""

    sql: Path
    rules: Path
    table: Identifier
    staged: str  #: the staging table the good records go to


_EVENTS = _Copy(SQL / "copy_events.sql", SQL / "stage_events.sql", Identifier("staging_events_copy"), "staging_events")
_SONGS = _Copy(SQL / "copy_songs.sql", SQL / "stage_songs.sql", Identifier("staging_songs_copy"), "staging_songs")
#: The lines COPY skipped, read from SYS on every deployment; their raw text, added from STL where it is known.
_LOAD_ERRORS_SQL = (SQL / "load_errors.sql", SQL / "load_errors_raw_lines.sql")
#: What a load of event days runs around its COPYs (`Warehouse.start_event_window`, `finish_event_window`).
_EVENT_WINDOW_SQL = (SHARED_SQL / "note_users_to_refresh.sql", SHARED_SQL / "clear_event_window.sql")


def varchar_widths(table: str) -> dict[str, SqlValue]:
    """``:<column>_width`` of each VARCHAR column of a staging table, as create_tables.sql declares it: the
    record rules (stage_*.sql) reject a longer value, which the wide copy table let through."""
    return {f"{column}_width": width for column, width in column_widths(SQL / "create_tables.sql", table).items()}


class RedshiftWarehouse(RedshiftSettings):
    """Amazon Redshift (provisioned or Serverless) through redshift-connector; SPARKIFY_WAREHOUSE=redshift.

    Login by password (host, user, password), or by IAM: a cluster identifier plus a database user, or a
    Serverless workgroup, with AWS credentials from the usual boto3 chain. Every setting is checked when
    the resource is set up, before any step runs (`validate`).
    """

    _connection: Any = PrivateAttr(default=None)
    #: COPY's REGION when REDSHIFT_COPY_REGION is not set: the bucket's, asked of S3 once a run.
    _bucket_region: str | None = PrivateAttr(default=None)
    #: Whether load errors get their raw lines from STL: decided once a run (`single_az_cluster`).
    _raw_lines: bool | None = PrivateAttr(default=None)

    # -- the run's resource -----------------------------------------------------------------------------
    def setup_for_execution(self, context: InitResourceContext) -> None:
        self.validate()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.close()

    # -- connection -------------------------------------------------------------------------------------
    def open_connection(self) -> Any:
        """A new redshift-connector connection, logged in; the connect timeout does not bound queries."""
        connection = redshift_connector.connect(**self.connect_options())
        # redshift-connector applies `timeout` to the socket for good; a COPY may take far longer.
        sock = getattr(connection, "_usock", None)
        if sock is not None:
            sock.settimeout(None)
        return connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            _quietly(connection.close)

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor on the run's connection, opened on first use with the schema as search_path."""
        if self._connection is None:
            self._connection = self._start_session()
        cursor = self._connection.cursor()
        try:
            yield cursor
        except (redshift_connector.InterfaceError, redshift_connector.OperationalError):
            # The connection itself failed: a retry of the step starts from a new one.
            self.close()
            raise
        finally:
            _quietly(cursor.close)

    def _start_session(self) -> Any:
        connection = self.open_connection()
        try:
            # BEGIN and COMMIT are sent as statements (see `transaction`), never implied by the driver.
            connection.autocommit = True
            cursor = connection.cursor()
            self._execute(cursor, _SET_SEARCH_PATH, {"schema": self.schema})
            cursor.close()
        except BaseException:
            _quietly(connection.close)
            raise
        return connection

    @contextmanager
    def transaction(self, locks: Sequence[str] = ()) -> Iterator[Any]:
        """A cursor inside one transaction: COMMIT on success, ROLLBACK on any error.

        ``locks``: the tables the transaction uses, locked by its first statement (`locks.py`). Error 1023
        (serializable isolation violation), from any statement or the COMMIT, becomes SerializationConflict.
        """
        with self.cursor() as cursor:
            cursor.execute("BEGIN")
            try:
                lock = lock_statement(locks)
                if lock is not None:
                    cursor.execute(lock)
                yield cursor
            except BaseException as exc:
                try:
                    cursor.execute("ROLLBACK")
                except Exception:
                    self.close()  # the server rolls back a transaction whose session ends
                _raise_if_conflict(exc, locks)
                raise
            try:
                cursor.execute("COMMIT")
            except redshift_connector.Error as exc:
                _raise_if_conflict(exc, locks)
                raise

    # -- Warehouse ---------------------------------------------------------------------------------------
    @property
    def engine_name(self) -> str:
        return "redshift"

    @property
    def table_schema(self) -> str:
        return self.schema_name

    @property
    def engine_sql(self) -> Path:
        return SQL

    @property
    def session(self) -> Any:
        """The run's connection: the layout is verified once per connection, that is per run (a retry after
        a dropped connection verifies again)."""
        return self._connection

    def create_schema(self, cursor: Cursor) -> None:
        if self.schema_name != "public":
            self._execute(cursor, _CREATE_SCHEMA, {"schema": self.schema})

    def create_tables_and_views(self) -> None:
        """In two transactions (`Warehouse.create_tables` runs this once a run): the missing tables first, which
        locks nothing (LOCK can only name tables that exist, and on existing tables the statements do
        nothing), then the layout check and the views when missing or changed, which locks
        `view_definitions`: two runs starting together create them one after the other."""
        with self.transaction() as cursor:
            self.create_missing_tables(cursor)
        view_definitions = tables_used(map(read_sql, (VIEW_DEFINITIONS_SQL, RECORD_VIEW_DEFINITIONS_SQL)))
        with self.transaction(locks=view_definitions) as cursor:
            self.create_views(cursor)

    def run_script(
        self,
        sql: str,
        params: Mapping[str, SqlValue],
        read_first: Mapping[str, str] | None = None,
        slices: Sequence[Mapping[str, SqlValue]] = ({},),
    ) -> None:
        """Every statement of ``sql``, once per mapping of ``slices``, in one transaction that first locks the
        tables they use. A script that starts by creating its own table (``CREATE TABLE IF NOT EXISTS``, the
        analytics tables) creates it in a transaction before, so that the table exists to be locked.
        ``read_first``: parameters read after the lock (`read_values`); the tables to lock do not depend on
        them or on the slice, so the script names its tables before."""
        read_first = read_first or {}
        script = statements(sql, {**params, **slices[0], **dict.fromkeys(read_first)})
        first_other = next((i for i, statement in enumerate(script) if not created_tables([statement])), len(script))
        creating = script[:first_other]
        if creating:
            with self.transaction() as cursor:
                for statement in creating:
                    cursor.execute(statement)
        locks = tables_used([*script[first_other:], *read_first.values()], also=created_tables(creating))
        with self.transaction(locks=locks) as cursor:
            read = read_values(cursor, read_first)
            for slice_params in slices:
                for statement in statements(sql, {**params, **slice_params, **read})[first_other:]:
                    cursor.execute(statement)

    def query(self, sql: str, params: Mapping[str, SqlValue] | None = None) -> list[tuple[Any, ...]]:
        with self.cursor() as cursor:
            return self._fetch(cursor, sql, params or {})

    def columns(self, table: str) -> Sequence[tuple[str, str]]:
        rows = self.query(_COLUMNS, {"schema": self.schema_name, "table": table})
        return [(str(name), str(kind)) for name, kind in rows]

    def load_staging_events(self, source: SparkifySource, window: DayWindow, log: Log) -> list[FileLoad]:
        _require_s3(source)
        keys = {event_key(day): day for day in window.days}
        for key in keys:
            _require_only_object(source, key)
            # COPY reads the file itself: its start says whether it is JSON text at all (gzip, UTF-16, an
            # array...), which fails the partition naming the file, as on DuckDB (which also scans it all).
            require_json_text(key, source.read_head(key, JSON_TEXT_HEAD_BYTES))
        loads: list[FileLoad] = []
        copy_params = self._copy_params(source, log)
        with self.transaction(locks=self._load_tables(_EVENTS, _EVENT_WINDOW_SQL)) as cursor:
            self.start_event_window(cursor, window)
            for key, day in keys.items():
                started = time.perf_counter()
                params = {
                    **copy_params,
                    "object_uri": source.location(key),
                    "jsonpaths_uri": source.location(JSONPATHS_KEY),
                    "source_key": key,
                    "partition_day": day,
                }
                load = self._copy(cursor, _EVENTS, params, source)
                loads.append(load)
                log(
                    f"{source.location(key)}: {load.records} records, {load.loaded} loaded, "
                    f"{load.rejected} rejected (COPY in {time.perf_counter() - started:.2f} s)"
                )
            self.finish_event_window(cursor, window, loads)
        return loads

    def load_staging_songs(self, source: SparkifySource, log: Log) -> list[FileLoad]:
        _require_s3(source)
        started = time.perf_counter()
        params = {
            **self._copy_params(source, log),
            "prefix_uri": source.location(SONG_PREFIX),
            "source_key": SONG_PREFIX,
            "partition_day": None,
        }
        with self.transaction(locks=self._load_tables(_SONGS, (SHARED_SQL / "clear_songs.sql",))) as cursor:
            run_file(cursor, SHARED_SQL / "clear_songs.sql")
            load = self._copy(cursor, _SONGS, params, source)
            self.require_few_rejects([load], catalogue=source.location(SONG_PREFIX))
        log(
            f"{source.location(SONG_PREFIX)}: one COPY, {load.records} records, {load.loaded} loaded, "
            f"{load.rejected} rejected in {time.perf_counter() - started:.2f} s"
        )
        return [load]

    # -- internals ---------------------------------------------------------------------------------------
    def _copy_params(self, source: SparkifySource, log: Log) -> dict[str, SqlValue]:
        self.validate_sql_settings()
        return {
            "iam_role_arn": self.iam_role_arn,
            "copy_region": self.source_region(source, log),
            "max_errors": self.copy_maxerror,
        }

    def source_region(self, source: SparkifySource, log: Log) -> str:
        """COPY's REGION: REDSHIFT_COPY_REGION, else the source bucket's region, asked of S3 once a run (COPY
        assumes the cluster's own region otherwise, and S3 answers 301 for a bucket elsewhere)."""
        if self.copy_region:
            return self.copy_region
        if self._bucket_region is None:
            self._bucket_region = source.bucket_region()
            log(f"s3://{source.bucket} is in {self._bucket_region} (asked S3: REDSHIFT_COPY_REGION is not set)")
        return self._bucket_region

    def single_az_cluster(self) -> bool:
        """Whether the warehouse is positively known to be a single-AZ provisioned cluster, the one kind whose
        STL_LOAD_ERRORS holds the raw text of the lines COPY skipped: a cluster named by
        REDSHIFT_CLUSTER_IDENTIFIER whose DescribeClusters answer says MultiAZ is off. Anything else (Serverless,
        a Multi-AZ cluster, a host alone, an answer that cannot be had) reads SYS_LOAD_ERROR_DETAIL only
        (Multi-AZ is monitored through SYS views:
        https://docs.aws.amazon.com/redshift/latest/mgmt/monitoring-multi-az-query.html)."""
        if self.is_serverless or not self.cluster_identifier:
            return False
        try:
            client = boto3.client("redshift", region_name=self.aws_region)
            (cluster,) = client.describe_clusters(ClusterIdentifier=self.cluster_identifier)["Clusters"]
        except (BotoCoreError, ClientError, ValueError):
            return False
        return says_single_az(cluster)

    def _load_tables(self, copy: _Copy, around: Sequence[Path]) -> list[str]:
        """The tables a staging load uses: those its SQL files name (`locks.py`)."""
        files = (*around, copy.sql, copy.rules, *_LOAD_ERRORS_SQL, SQL / "record_load.sql", SQL / "drop_copied.sql")
        return tables_used([*(read_sql(path) for path in files), _COUNT_COPIED])

    def _copy(self, cursor: Any, copy: _Copy, params: Mapping[str, SqlValue], source: SparkifySource) -> FileLoad:
        """COPY one source into staging (and its bad records into staging_rejects), inside the open transaction."""
        params = {**params, "copy_table": copy.table}
        try:
            run_file(cursor, copy.sql, params)
        except redshift_connector.ProgrammingError as exc:
            if _WRONG_REGION.search(str(exc)):
                raise SourceError(self._wrong_region(source, params, exc)) from exc
            if _SOURCE_REFUSED.search(str(exc)):
                location = params.get("object_uri") or params.get("prefix_uri")
                raise SourceError(f"COPY cannot read {location} with {self.iam_role_arn}: {exc}") from exc
            if _TOO_MANY_LOAD_ERRORS.search(str(exc)):
                raise TooManyRejects(
                    f"COPY of {params.get('object_uri') or params.get('prefix_uri')} met more than "
                    f"{SETTINGS['max_errors']}={self.max_errors} bad lines: the partition keeps its rows (their "
                    f"reasons are in sys_load_error_detail). Fix the file, or raise {SETTINGS['max_errors']}. "
                    f"Redshift said: {exc}"
                ) from exc
            raise
        ((copy_count,),) = self._fetch(cursor, _LAST_COPY_COUNT, {})
        load_errors, raw_lines = _LOAD_ERRORS_SQL
        run_file(cursor, load_errors)
        if self._raw_lines is None:
            self._raw_lines = self.single_az_cluster()
        if self._raw_lines:
            run_file(cursor, raw_lines)
        run_file(cursor, copy.rules, {**params, **varchar_widths(copy.staged)})
        run_file(cursor, SQL / "record_load.sql", params)
        ((landed, rejected_by_rules, skipped_by_copy),) = self._fetch(cursor, _COUNT_COPIED, params)
        run_file(cursor, SQL / "drop_copied.sql", params)
        copied, rejected_by_rules, skipped_by_copy = int(landed), int(rejected_by_rules), int(skipped_by_copy)
        if int(copy_count) != copied:
            raise CopyMismatch(
                f"COPY of {params.get('object_uri') or params.get('prefix_uri')} reported {copy_count} rows "
                f"(pg_last_copy_count) but {copied} landed"
            )
        return FileLoad(
            source_key=str(params["source_key"]),
            partition_day=params.get("partition_day"),  # type: ignore[arg-type]
            records=copied + skipped_by_copy,
            loaded=copied - rejected_by_rules,
            rejected=skipped_by_copy + rejected_by_rules,
        )

    def _wrong_region(self, source: SparkifySource, params: Mapping[str, SqlValue], exc: Exception) -> str:
        """The message for S3's 301 to COPY: the region COPY was sent, where it came from, and the bucket's."""
        try:
            actual = f"is in {source.bucket_region()}"
        except SourceError as lookup:
            actual = f"is in a region S3 would not tell ({lookup})"
        sent = params.get("copy_region")
        given = f"{SETTINGS['copy_region']}={sent}" if self.copy_region else f"{sent}, asked of S3"
        return (
            f"COPY cannot read {params.get('object_uri') or params.get('prefix_uri')}: S3 answered 301 "
            f"PermanentRedirect, the bucket is not in COPY's REGION ({given}); bucket {source.bucket} {actual}. "
            f"Set {SETTINGS['copy_region']} to the bucket's region, or unset it to have it asked of S3. "
            f"Redshift said: {exc}"
        )

    def _execute(self, cursor: Any, sql: str, params: Mapping[str, SqlValue]) -> None:
        (statement,) = statements(sql, params)
        cursor.execute(statement)

    def _fetch(self, cursor: Any, sql: str, params: Mapping[str, SqlValue]) -> list[tuple[Any, ...]]:
        self._execute(cursor, sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def says_single_az(cluster: Mapping[str, Any]) -> bool:
    """Whether a DescribeClusters cluster says it is in one Availability Zone: MultiAZ "Disabled" (or false). No
    MultiAZ answer says nothing (https://docs.aws.amazon.com/redshift/latest/APIReference/API_Cluster.html)."""
    return str(cluster.get("MultiAZ", "")).strip().lower() in {"disabled", "false"}


def _raise_if_conflict(exc: BaseException, locks: Sequence[str]) -> None:
    """Raise SerializationConflict in place of Redshift's error 1023."""
    if isinstance(exc, redshift_connector.Error) and _SERIALIZATION_CONFLICT.search(str(exc)):
        tables = ", ".join(locks) or "no table locked"
        raise SerializationConflict(
            f"Redshift aborted the transaction (locked: {tables}) with a serializable isolation violation, "
            f"error 1023: another transaction used the same tables at the same time. Retried. Redshift said: {exc}"
        ) from exc


def _quietly(close: Callable[[], Any]) -> None:
    """Release a connection or cursor that may already be broken: there is nothing left to do if it fails."""
    with suppress(Exception):
        close()


def _require_s3(source: SparkifySource) -> None:
    if not source.is_s3:
        raise SourceError(
            f"SPARKIFY_SOURCE={source.uri!r}: the Redshift warehouse loads with COPY from S3, "
            "so the source must be an s3://bucket[/prefix] URI"
        )


def _require_only_object(source: SparkifySource, key: str) -> None:
    """COPY reads every object whose key starts with the key it is given: make sure that is one object.

    A missing day file is an error naming it (SPEC.md); an object that shares the prefix (a
    ``...-events.json.bak``) would be loaded too, so it stops the load before anything is written.
    """
    found = source.list_keys(key)
    if key not in found:
        raise SourceObjectMissing(source.location(key))
    others = sorted(set(found) - {key})
    if others:
        shown = ", ".join(source.location(other) for other in others[:3])
        raise SourceError(
            f"{source.location(key)}: COPY would also load {shown}"
            f"{' and more' if len(others) > 3 else ''} (same key prefix); move them out of log_data/"
        )
