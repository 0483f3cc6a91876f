"""The production warehouse: Amazon Redshift, loaded by COPY straight from S3 (docs/redshift.md).

Staging never passes rows through Python. Each day's event file, and all of ``song_data/`` at once, is
COPYed into a session temp table; SQL then applies SPEC.md's record rules, moves the good records into
staging and the bad ones (with the lines COPY skipped) into ``staging_rejects`` (``sql/``). Every load and
every transform is one transaction, with BEGIN and COMMIT sent as statements so that the statements are
the whole story: one statement per ``cursor.execute`` (redshift-connector takes one at a time), and never
TRUNCATE, which would commit the transaction half-way on Redshift.

A run uses one connection (opened on first use, closed when the run's resources are torn down); the
SQL never depends on what a query answered, so `sparkify sql` can print the statements of a run from a
recording stand-in (`recording.py`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NoReturn

import redshift_connector
from dagster import InitResourceContext
from pydantic import Field, PrivateAttr

from sparkify_assets.partitions import DayWindow
from sparkify_assets.sources.errors import SourceError, SourceObjectMissing
from sparkify_assets.sources.layout import JSONPATHS_KEY, SONG_PREFIX, event_key
from sparkify_assets.sources.records import JSON_TEXT_HEAD_BYTES, require_json_text
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.engine import SHARED_SQL, FileLoad, Log, Warehouse
from sparkify_assets.warehouse.layout import LAYOUT_SQL, verify_layout
from sparkify_assets.warehouse.sql import Identifier, SqlValue, read_sql, statements

SQL = Path(__file__).parent / "sql"

#: Each setting of the resource and the environment variable `resources.py` binds it to. Errors name
#: the variable, since that is what an operator sets.
SETTINGS: Mapping[str, str] = {
    "host": "REDSHIFT_HOST",
    "port": "REDSHIFT_PORT",
    "database": "REDSHIFT_DB",
    "user": "REDSHIFT_USER",
    "password": "REDSHIFT_PASSWORD",
    "cluster_identifier": "REDSHIFT_CLUSTER_IDENTIFIER",
    "workgroup": "REDSHIFT_WORKGROUP",
    "aws_region": "REDSHIFT_REGION",
    "sslmode": "REDSHIFT_SSLMODE",
    "connect_timeout": "REDSHIFT_CONNECT_TIMEOUT",
    "schema_name": "REDSHIFT_SCHEMA",
    "iam_role_arn": "REDSHIFT_IAM_ROLE_ARN",
    "copy_region": "REDSHIFT_COPY_REGION",
    "max_errors": "REDSHIFT_MAXERROR",
}
#: Settings that are whole numbers (bound with `EnvVar.int`).
INTEGER_SETTINGS = frozenset({"port", "connect_timeout", "max_errors"})
#: On/off settings (read with `settings.flag`).
FLAG_SETTINGS: Mapping[str, str] = {
    "ssl": "REDSHIFT_SSL",
    "tcp_keepalive": "REDSHIFT_TCP_KEEPALIVE",
    "serverless": "REDSHIFT_SERVERLESS",
}

_ROLE_ARN = re.compile(r"arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}")
_NAME = re.compile(r"[A-Za-z0-9_.@+=-]{1,127}")
_SSLMODES = ("verify-ca", "verify-full")
_SERVERLESS_HOST = ".redshift-serverless.amazonaws.com"
#: COPY's MAXERROR accepts at most this many.
MAX_ERRORS_LIMIT = 100_000

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


class RedshiftSettingError(ValueError):
    """A Redshift setting is missing or malformed; the message names the environment variable."""


class CopyMismatch(RuntimeError):
    """COPY reported a row count that is not what landed in its table."""


class RedshiftWarehouse(Warehouse):
    """Amazon Redshift (provisioned or Serverless) through redshift-connector; SPARKIFY_WAREHOUSE=redshift.

    Login by password (host, user, password), or by IAM: a cluster identifier plus a database user, or a
    Serverless workgroup, with AWS credentials from the usual boto3 chain. Every setting is checked when
    the resource is set up, before any step runs (`validate`).
    """

    host: str | None = Field(default=None, description="Cluster or workgroup endpoint (REDSHIFT_HOST).")
    port: int = Field(default=5439, description="Port (REDSHIFT_PORT).")
    database: str = Field(default="dev", description="Database (REDSHIFT_DB).")
    user: str | None = Field(
        default=None, description="Database user (REDSHIFT_USER); with IAM on a cluster, the db_user."
    )
    password: str | None = Field(
        default=None,
        repr=False,
        description="Password login (REDSHIFT_PASSWORD). Bound as an EnvVar, never logged.",
    )
    cluster_identifier: str | None = Field(
        default=None, description="IAM login to a provisioned cluster (REDSHIFT_CLUSTER_IDENTIFIER)."
    )
    workgroup: str | None = Field(default=None, description="IAM login to a Serverless workgroup (REDSHIFT_WORKGROUP).")
    aws_region: str | None = Field(
        default=None, description="Region of the cluster or workgroup, for IAM login (REDSHIFT_REGION)."
    )
    serverless: bool | None = Field(
        default=None,
        description="Redshift Serverless (REDSHIFT_SERVERLESS); default: yes with a workgroup or a "
        "*.redshift-serverless.amazonaws.com host. Decides where load errors are read.",
    )
    ssl: bool = Field(default=True, description="TLS to the warehouse (REDSHIFT_SSL, on by default).")
    sslmode: str = Field(default="verify-ca", description="verify-ca or verify-full (REDSHIFT_SSLMODE).")
    connect_timeout: int = Field(
        default=30, description="Seconds to wait for the connection and login (REDSHIFT_CONNECT_TIMEOUT)."
    )
    tcp_keepalive: bool = Field(
        default=True, description="TCP keepalive, so a long COPY survives idle NAT timeouts (REDSHIFT_TCP_KEEPALIVE)."
    )
    schema_name: str = Field(default="public", description="Schema of every table and view (REDSHIFT_SCHEMA).")
    iam_role_arn: str | None = Field(
        default=None, description="IAM role Redshift assumes to read the source bucket in COPY (REDSHIFT_IAM_ROLE_ARN)."
    )
    copy_region: str = Field(
        default="us-west-2", description="Region of the source bucket, for COPY (REDSHIFT_COPY_REGION)."
    )
    max_errors: int = Field(
        default=1000,
        description="COPY MAXERROR (REDSHIFT_MAXERROR): bad lines a COPY skips into staging_rejects before "
        "it fails the load. 0 makes any bad line fail the partition.",
    )

    _connection: Any = PrivateAttr(default=None)
    #: The connection on which create_tables verified the table layout (one catalogue query a run).
    _layout_verified_for: Any = PrivateAttr(default=None)

    # -- settings ---------------------------------------------------------------------------------------
    def setup_for_execution(self, context: InitResourceContext) -> None:
        self.validate()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.close()

    def validate(self) -> None:
        """Check every setting, naming the one at fault: before any work starts."""
        self.validate_sql_settings()
        self.connect_options()

    def validate_sql_settings(self) -> None:
        """The settings that shape the SQL: schema, COPY's IAM role, region and MAXERROR."""
        try:
            Identifier(self.schema_name)
        except ValueError:
            _fail("schema_name", f"={self.schema_name!r} is not a schema name (lower-case letters, digits, _)")
        if not self.iam_role_arn:
            _fail("iam_role_arn", " is not set: COPY needs the IAM role Redshift assumes to read the source bucket")
        if not _ROLE_ARN.fullmatch(self.iam_role_arn):
            _fail("iam_role_arn", f"={self.iam_role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
        if not _REGION.fullmatch(self.copy_region):
            _fail("copy_region", f"={self.copy_region!r} is not an AWS region (like us-west-2)")
        if not 0 <= self.max_errors <= MAX_ERRORS_LIMIT:
            _fail("max_errors", f"={self.max_errors} is not between 0 and {MAX_ERRORS_LIMIT} (COPY's limit)")

    def connect_options(self) -> dict[str, Any]:
        """The keyword arguments of `redshift_connector.connect`, checked; holds the password, never log it."""
        iam = bool(self.cluster_identifier or self.workgroup)
        if iam and self.password:
            _fail(
                "password",
                " is set together with REDSHIFT_CLUSTER_IDENTIFIER or REDSHIFT_WORKGROUP: choose password or IAM login",
            )
        if self.cluster_identifier and self.workgroup:
            _fail("workgroup", " is set together with REDSHIFT_CLUSTER_IDENTIFIER: choose a cluster or a workgroup")
        if self.host is not None and not _HOST.fullmatch(self.host):
            _fail("host", f"={self.host!r} is not a host name")
        if not iam and not self.host:
            _fail("host", " is not set (the cluster endpoint; or log in by IAM with REDSHIFT_CLUSTER_IDENTIFIER)")
        if not 1 <= self.port <= 65535:
            _fail("port", f"={self.port} is not a port number")
        if not _NAME.fullmatch(self.database):
            _fail("database", f"={self.database!r} is not a database name")
        if not self.workgroup and not self.user:
            _fail("user", " is not set (the database user)")
        if self.user is not None and not _NAME.fullmatch(self.user):
            _fail("user", f"={self.user!r} is not a database user name")
        if not iam and not self.password:
            _fail("password", " is not set (password login; or log in by IAM with REDSHIFT_CLUSTER_IDENTIFIER)")
        if iam and not self.aws_region:
            _fail("aws_region", " is not set: IAM login asks the warehouse's region for credentials")
        if self.aws_region is not None and not _REGION.fullmatch(self.aws_region):
            _fail("aws_region", f"={self.aws_region!r} is not an AWS region (like us-west-2)")
        if self.sslmode not in _SSLMODES:
            _fail("sslmode", f"={self.sslmode!r} is not one of {', '.join(_SSLMODES)}")
        if not 1 <= self.connect_timeout <= 600:
            _fail("connect_timeout", f"={self.connect_timeout} is not between 1 and 600 seconds")
        options: dict[str, Any] = {
            "database": self.database,
            "port": self.port,
            "ssl": self.ssl,
            "sslmode": self.sslmode,
            "timeout": self.connect_timeout,
            "tcp_keepalive": self.tcp_keepalive,
            "application_name": "sparkify",
        }
        if self.host:
            options["host"] = self.host
        if not iam:
            options.update(user=self.user, password=self.password)
        elif self.cluster_identifier:
            options.update(iam=True, cluster_identifier=self.cluster_identifier, db_user=self.user)
            options["region"] = self.aws_region
        else:
            options.update(iam=True, is_serverless=True, serverless_work_group=self.workgroup, region=self.aws_region)
            if self.user:
                options["db_user"] = self.user
        return options

    @property
    def is_serverless(self) -> bool:
        if self.serverless is not None:
            return self.serverless
        return bool(self.workgroup) or (self.host or "").lower().endswith(_SERVERLESS_HOST)

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
    def transaction(self) -> Iterator[Any]:
        """A cursor inside one transaction: COMMIT on success, ROLLBACK on any error."""
        with self.cursor() as cursor:
            cursor.execute("BEGIN")
            try:
                yield cursor
            except BaseException:
                try:
                    cursor.execute("ROLLBACK")
                except Exception:
                    self.close()  # the server rolls back a transaction whose session ends
                raise
            cursor.execute("COMMIT")

    @property
    def schema(self) -> Identifier:
        return Identifier(self.schema_name)

    # -- Warehouse ---------------------------------------------------------------------------------------
    @property
    def engine_name(self) -> str:
        return "redshift"

    def qualified_name(self, table: str) -> str:
        return f"{self.schema_name}.{table}"

    def create_tables(self) -> None:
        with self.transaction() as cursor:
            if self.schema_name != "public":
                self._execute(cursor, _CREATE_SCHEMA, {"schema": self.schema})
            self._run_file(cursor, SQL / "create_tables.sql", {})
            # Once per connection, that is per run (a retry after a dropped connection verifies again); before
            # the views, which would otherwise fail on a missing column in Redshift's own words.
            if self._layout_verified_for is not self._connection:
                catalogue = self._fetch(cursor, read_sql(LAYOUT_SQL), {"schema": self.schema_name})
                verify_layout(self.schema_name, SQL / "create_tables.sql", catalogue)
            for path in (SQL / "create_views.sql", SHARED_SQL / "create_star_views.sql"):
                self._run_file(cursor, path, {})
        self._layout_verified_for = self._connection

    def run_script(self, sql: str, params: Mapping[str, SqlValue]) -> None:
        with self.transaction() as cursor:
            for statement in statements(sql, params):
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
        with self.transaction() as cursor:
            self._run_file(cursor, SHARED_SQL / "note_users_to_refresh.sql", {**window.sql_params, "since_day": None})
            self._run_file(cursor, SHARED_SQL / "clear_event_window.sql", window.sql_params)
            for key, day in keys.items():
                started = time.perf_counter()
                params = {
                    **self._copy_params(),
                    "object_uri": source.location(key),
                    "jsonpaths_uri": source.location(JSONPATHS_KEY),
                    "source_key": key,
                    "partition_day": day,
                }
                load = self._copy(cursor, "events", params)
                loads.append(load)
                log(
                    f"{source.location(key)}: {load.records} records, {load.loaded} loaded, "
                    f"{load.rejected} rejected (COPY in {time.perf_counter() - started:.2f} s)"
                )
            self.require_few_rejects(loads)
            since_window = {**window.sql_params, "since_day": window.start_day}
            self._run_file(cursor, SHARED_SQL / "note_users_to_refresh.sql", since_window)
        return loads

    def load_staging_songs(self, source: SparkifySource, log: Log) -> list[FileLoad]:
        _require_s3(source)
        started = time.perf_counter()
        params = {
            **self._copy_params(),
            "prefix_uri": source.location(SONG_PREFIX),
            "source_key": SONG_PREFIX,
            "partition_day": None,
        }
        with self.transaction() as cursor:
            self._run_file(cursor, SHARED_SQL / "clear_songs.sql", {})
            load = self._copy(cursor, "songs", params)
            self.require_few_rejects([load], catalogue=source.location(SONG_PREFIX))
        log(
            f"{source.location(SONG_PREFIX)}: one COPY, {load.records} records, {load.loaded} loaded, "
            f"{load.rejected} rejected in {time.perf_counter() - started:.2f} s"
        )
        return [load]

    # -- internals ---------------------------------------------------------------------------------------
    def _copy_params(self) -> dict[str, SqlValue]:
        self.validate_sql_settings()
        return {"iam_role_arn": self.iam_role_arn, "copy_region": self.copy_region, "max_errors": self.max_errors}

    def _copy(self, cursor: Any, kind: str, params: Mapping[str, SqlValue]) -> FileLoad:
        """COPY one source into staging (and its bad records into staging_rejects), inside the open transaction."""
        params = {**params, "copy_table": Identifier(f"staging_{kind}_copy")}
        try:
            self._run_file(cursor, SQL / f"copy_{kind}.sql", params)
        except redshift_connector.ProgrammingError as exc:
            if _SOURCE_REFUSED.search(str(exc)):
                source = params.get("object_uri") or params.get("prefix_uri")
                raise SourceError(f"COPY cannot read {source} with {self.iam_role_arn}: {exc}") from exc
            raise
        ((copy_count,),) = self._fetch(cursor, _LAST_COPY_COUNT, {})
        self._run_file(cursor, SQL / f"load_errors_{'serverless' if self.is_serverless else 'provisioned'}.sql", {})
        self._run_file(cursor, SQL / f"stage_{kind}.sql", params)
        self._run_file(cursor, SQL / "record_load.sql", params)
        ((landed, rejected_by_rules, skipped_by_copy),) = self._fetch(cursor, _COUNT_COPIED, params)
        self._run_file(cursor, SQL / "drop_copied.sql", params)
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

    def _run_file(self, cursor: Any, path: Path, params: Mapping[str, SqlValue]) -> None:
        for statement in statements(read_sql(path), params):
            cursor.execute(statement)

    def _execute(self, cursor: Any, sql: str, params: Mapping[str, SqlValue]) -> None:
        (statement,) = statements(sql, params)
        cursor.execute(statement)

    def _fetch(self, cursor: Any, sql: str, params: Mapping[str, SqlValue]) -> list[tuple[Any, ...]]:
        self._execute(cursor, sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def _quietly(close: Callable[[], Any]) -> None:
    """Release a connection or cursor that may already be broken: there is nothing left to do if it fails."""
    with suppress(Exception):
        close()


def _fail(setting: str, problem: str) -> NoReturn:
    raise RedshiftSettingError(f"{SETTINGS.get(setting) or FLAG_SETTINGS.get(setting, setting)}{problem}")


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
