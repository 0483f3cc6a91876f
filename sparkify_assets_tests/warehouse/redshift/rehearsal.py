"""The Redshift path rehearsed on DuckDB: the production Redshift engine whose connection EXECUTES.

`RehearsalRedshiftWarehouse` is `RecordingRedshiftWarehouse` (the production `RedshiftWarehouse` with
`open_connection` replaced) whose connection, instead of answering from canned rows, runs every statement
as it is sent on a DuckDB database, and records it in the run's `StatementLog`. So the run's own logic
(the table layout check, pg_last_copy_count against the rows landed, the load errors, the counts in the
metadata, the asset checks) sees real answers, and the log is the run's real sequence of statements.

How a statement runs (`RehearsalConnection.run`); every rule is here and nowhere else:
1. Translation: sqlglot reads the statement as Redshift and writes it as DuckDB, with unsupported syntax
   an error. What sqlglot cannot translate fails the run with `NotRehearsable`, naming the statement; what
   DuckDB refuses fails it with the server's error class (`redshift_connector.ProgrammingError`), naming
   the statement and its translation.
2. Table attributes that only place rows on a cluster (DISTSTYLE, DISTKEY, SORTKEY, ENCODE) are dropped:
   they change where rows are stored, never which rows
   (https://docs.aws.amazon.com/redshift/latest/dg/r_CREATE_TABLE_NEW.html).
3. ``OCTET_LENGTH(text)`` counts the text's UTF-8 bytes on Redshift
   (https://docs.aws.amazon.com/redshift/latest/dg/r_OCTET_LENGTH.html); DuckDB's counts a BLOB's only, so
   the text is encoded first (``OCTET_LENGTH(ENCODE(text))``); sqlglot leaves the call as it is.
4. ``SET search_path TO s``: the schema is created first when DuckDB lacks it (Redshift's ``public`` always
   exists; https://docs.aws.amazon.com/redshift/latest/dg/r_search_path.html).
5. ``CREATE [OR REPLACE] FUNCTION f(...) ... AS $$ SELECT expr $$ LANGUAGE sql``, a scalar SQL UDF whose
   body is one SELECT without FROM with arguments $1...$n
   (https://docs.aws.amazon.com/redshift/latest/dg/udf-creating-a-scalar-sql-udf.html), becomes
   ``CREATE OR REPLACE MACRO f(a1, ..., an) AS expr``, the body translated by rule 1.
6. ``LOCK t, ...`` is a no-op: it serializes concurrent writers on Redshift
   (https://docs.aws.amazon.com/redshift/latest/dg/r_LOCK.html); the rehearsal has one.
7. ``COPY ... FROM 's3://...' ... FORMAT AS JSON`` is emulated (`CopyEmulation`, its own rules below): the
   rows it would load go into the target table, the lines it would reject into the emulated system tables.
8. ``pg_last_copy_count()`` and ``pg_last_copy_id()`` are session macros that each COPY redefines
   (https://docs.aws.amazon.com/redshift/latest/dg/PG_LAST_COPY_COUNT.html,
   https://docs.aws.amazon.com/redshift/latest/dg/PG_LAST_COPY_ID.html): -1 before any COPY, as documented.
9. ``stl_load_errors`` (provisioned; https://docs.aws.amazon.com/redshift/latest/dg/r_STL_LOAD_ERRORS.html)
   and ``sys_load_error_detail`` (Serverless and provisioned;
   https://docs.aws.amazon.com/redshift/latest/dg/SYS_LOAD_ERROR_DETAIL.html) are session temp tables with
   the documented columns, one row per rejected line of every COPY of the session (query / query_id =
   that COPY's pg_last_copy_id()).

COPY's rules (`CopyEmulation`), as far as SPEC.md's figures and the project's COPY statements need them;
an option or a form not listed fails the run with `NotRehearsable`:
- FROM reads every object whose key starts with the given key, in key order
  (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-source-s3.html); REGION must be the
  bucket's region, otherwise COPY fails with S3's redirect error (same page, "REGION").
- FORMAT AS JSON 'jsonpaths_file': the JSONPaths document is read from S3 and its expressions map each
  record's values to the listed columns in order; a path that selects nothing is NULL. 'auto' matches
  top-level keys to column names, 'auto ignorecase' ignoring case
  (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-format.html#copy-json,
  https://docs.aws.amazon.com/redshift/latest/dg/copy-usage_notes-copy-from-json.html).
- A file holds JSON objects separated by white space; one may span lines, and its line_number is that of
  its last line (SYS_LOAD_ERROR_DETAIL). A text that does not parse is rejected up to the end of its line
  (code 1216, input line not valid), and reading goes on with the next line.
- Values by target column type (the DDL the connection saw create the table, widths included): JSON null
  or a missing path is NULL; VARCHAR(n) takes a string, or a number's / boolean's JSON text, and rejects
  text longer than n bytes (1204) unless TRUNCATECOLUMNS cuts it to n bytes
  (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-conversion.html#copy-truncatecolumns);
  SMALLINT / INTEGER / BIGINT take an integral number or its digits as a string, reject anything else (1207)
  or out of range (1222); DOUBLE PRECISION / REAL take a number or numeric text (NaN and Infinity
  included), reject anything else (1208); TIMESTAMP with TIMEFORMAT 'epochmillisecs' or 'epochsecs' takes
  a number (1206 otherwise). Error codes: https://docs.aws.amazon.com/redshift/latest/dg/r_Load_Error_Reference.html.
- Text that is not UTF-8 is rejected (1220) unless ACCEPTINVCHARS replaces each invalid byte with its
  character, '?' by default (copy-parameters-data-conversion.html#acceptinvchars).
- MAXERROR n: "If the load returns the error_count number of errors or greater, the load fails"
  (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-load.html#copy-maxerror): n rejected
  lines or more (with n = 0, any) fail the COPY ("Load into table ... failed"); the lines stay in the
  system tables, as they do on Redshift, unless the transaction that ran the COPY rolls back (DuckDB's
  temp tables are transactional, Redshift's system tables are not).
- IAM_ROLE, COMPUPDATE and STATUPDATE do not change the rows: accepted and ignored (the rehearsal reads S3
  with the test's own credentials).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import duckdb
import pyarrow
import redshift_connector
import sqlglot
from sqlglot import exp

from sparkify_assets.warehouse.recording import Rows, StatementLog
from sparkify_assets.warehouse.redshift.recording import RecordingCursor, RecordingRedshiftWarehouse

_STRING = re.compile(r"'(?:[^']|'')*'")
#: Rule 2: table attributes that place rows on a cluster.
_PLACEMENT = (exp.DistStyleProperty, exp.DistKeyProperty, exp.SortKeyProperty)


class NotRehearsable(AssertionError):
    """A statement the rehearsal cannot run: no rule covers it. The message names the statement."""


def _shown(statement: str) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= 300 else f"{text[:300]}..."


# -- the emulated system tables and functions (rules 8 and 9) -------------------------------------------
_SYSTEM_TABLES = (
    # STL_LOAD_ERRORS, the documented columns (character(n) as VARCHAR).
    """CREATE TEMPORARY TABLE stl_load_errors (
        userid INTEGER, slice INTEGER, tbl INTEGER, starttime TIMESTAMP, session INTEGER, query INTEGER,
        filename VARCHAR, line_number BIGINT, colname VARCHAR, type VARCHAR, col_length VARCHAR,
        position INTEGER, raw_line VARCHAR, raw_field_value VARCHAR, err_code INTEGER, err_reason VARCHAR,
        is_partial INTEGER, start_offset BIGINT)""",
    # SYS_LOAD_ERROR_DETAIL, the documented columns: no raw line.
    """CREATE TEMPORARY TABLE sys_load_error_detail (
        user_id INTEGER, query_id BIGINT, transaction_id BIGINT, session_id INTEGER, database_name VARCHAR,
        table_id INTEGER, start_time TIMESTAMP, file_name VARCHAR, line_number BIGINT, column_name VARCHAR,
        column_type VARCHAR, column_length VARCHAR, position INTEGER, error_code INTEGER,
        error_message VARCHAR)""",
)
_LAST_COPY = "CREATE OR REPLACE TEMPORARY MACRO pg_last_copy_{what}() AS CAST({value} AS BIGINT)"


@dataclass(frozen=True)
class LoadError:
    """One line COPY rejected, as the system tables keep it."""

    file_name: str
    line_number: int
    column_name: str
    column_type: str
    column_length: str
    raw_line: str
    raw_field_value: str
    error_code: int
    error_message: str


# -- the connection -------------------------------------------------------------------------------------
class RehearsalCursor(RecordingCursor):
    """The recording cursor (`recording.py`: the same checks, fetches and log), executing on the rehearsal's
    DuckDB instead of answering from the recording."""

    def __init__(self, connection: RehearsalConnection) -> None:
        super().__init__(connection.log)
        self._connection = connection

    def execute(self, operation: str, args: Any = None) -> RehearsalCursor:
        if args is not None:
            raise redshift_connector.InterfaceError("the engine binds no driver parameters; the text is the statement")
        if ";" in _STRING.sub("''", operation).strip().rstrip(";"):
            raise redshift_connector.ProgrammingError("cannot insert multiple commands into a prepared statement")
        self._connection.log.record(operation)
        self._rows = self._connection.run(operation)
        return self


class RehearsalConnection:
    """The subset of `redshift_connector.Connection` the engine uses; each statement runs on DuckDB."""

    def __init__(self, database: str, log: StatementLog) -> None:
        self.log = log
        self.autocommit = False
        self.closed = False
        self.duckdb = duckdb.connect(database)
        self.copies = CopyEmulation(self)
        #: Every table's columns as its CREATE statement typed them (DuckDB keeps no VARCHAR width).
        self.ddl: dict[str, dict[str, ColumnType]] = {}
        for statement in _SYSTEM_TABLES:
            self.duckdb.execute(statement)
        for what in ("count", "id"):
            self.duckdb.execute(_LAST_COPY.format(what=what, value=-1))

    def cursor(self) -> RehearsalCursor:
        if self.closed:
            raise redshift_connector.InterfaceError("connection is closed")
        return RehearsalCursor(self)

    def commit(self) -> None:
        self.log.record("COMMIT")
        self.duckdb.commit()

    def rollback(self) -> None:
        self.log.record("ROLLBACK")
        self.duckdb.rollback()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.duckdb.close()

    # -- the rules --------------------------------------------------------------------------------------
    def run(self, statement: str) -> Rows | None:
        """Run one Redshift statement on DuckDB by the module's rules; its rows if it returns any."""
        plan = _plan(statement)
        expression = plan.expression
        if isinstance(expression, exp.Copy):
            self.copies.run(expression, statement)  # rule 7
            return None
        if isinstance(expression, exp.Set):
            self._create_search_path_schema(expression)  # rule 4
        if isinstance(expression, exp.Create) and expression.kind == "TABLE":
            self._note_ddl(expression)
        return None if plan.duckdb is None else self._execute(plan.duckdb, statement)

    def _execute(self, translated: str, statement: str) -> Rows | None:
        try:
            cursor = self.duckdb.execute(translated)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else None
        except duckdb.Error as exc:
            raise redshift_connector.ProgrammingError(
                f"the rehearsal's DuckDB refused {_shown(statement)!r} (translated: {_shown(translated)!r}): {exc}"
            ) from exc

    def _create_search_path_schema(self, expression: exp.Set) -> None:
        for item in expression.find_all(exp.SetItem):
            assignment = item.this
            if isinstance(assignment, exp.EQ) and assignment.this.name.lower() == "search_path":
                schema = assignment.expression.name
                self.duckdb.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')

    def _note_ddl(self, create: exp.Create) -> None:
        schema = create.this
        if isinstance(schema, exp.Schema):
            self.ddl[schema.this.name.lower()] = {
                column.name.lower(): ColumnType.of(column.args["kind"])
                for column in schema.expressions
                if isinstance(column, exp.ColumnDef) and column.args.get("kind") is not None
            }


@dataclass(frozen=True)
class _Plan:
    """What to do with one statement: its parse as Redshift (never changed after), and its DuckDB text
    (None: nothing to run on DuckDB, rules 6 and 7)."""

    expression: exp.Expression
    duckdb: str | None


@functools.cache
def _plan(statement: str) -> _Plan:
    """The rules that depend on the statement's text alone (a run sends the same DDL from every step)."""
    try:
        (expression,) = sqlglot.parse(statement, read="redshift", error_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as exc:
        raise NotRehearsable(f"sqlglot cannot read this Redshift statement: {exc}\n{_shown(statement)}") from exc
    if isinstance(expression, exp.Command) and expression.name.upper() == "LOCK":
        return _Plan(expression, None)  # rule 6
    if isinstance(expression, exp.Copy):
        return _Plan(expression, None)  # rule 7
    if isinstance(expression, exp.Create) and expression.kind == "FUNCTION":
        return _Plan(expression, _udf_as_macro(expression, statement))  # rule 5
    duck = expression.copy()
    for placement in list(duck.find_all(*_PLACEMENT)):
        placement.pop()  # rule 2
    for constraint in list(duck.find_all(exp.ColumnConstraint)):
        if isinstance(constraint.kind, exp.EncodeColumnConstraint):
            constraint.pop()  # rule 2
    for call in list(duck.find_all(exp.Anonymous)):
        if call.name.upper() == "OCTET_LENGTH" and len(call.expressions) == 1:  # rule 3
            (text,) = call.expressions
            call.set("expressions", [exp.Anonymous(this="ENCODE", expressions=[exp.cast(text.copy(), "VARCHAR")])])
    return _Plan(expression, _translated(duck, statement))


def _translated(expression: exp.Expression, statement: str) -> str:
    """Rule 1: the statement as DuckDB SQL, or `NotRehearsable` naming it."""
    if isinstance(expression, exp.Command):
        raise NotRehearsable(f"sqlglot keeps this statement only as an opaque command: {_shown(statement)}")
    try:
        return expression.sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as exc:
        raise NotRehearsable(f"sqlglot cannot write this statement for DuckDB: {exc}\n{_shown(statement)}") from exc


def _udf_as_macro(create: exp.Create, statement: str) -> str:
    """Rule 5: a scalar SQL UDF as a DuckDB macro."""
    signature, body = create.this, create.expression
    if not isinstance(signature, exp.UserDefinedFunction) or not isinstance(body, exp.Heredoc):
        raise NotRehearsable(f"not a scalar SQL UDF with a $$ body: {_shown(statement)}")
    arguments = [f"a{index}" for index in range(1, len(signature.expressions) + 1)]
    text = re.sub(r"\$(\d+)\b", lambda match: f"a{match.group(1)}", body.name)
    select = sqlglot.parse_one(text, read="redshift")
    if not isinstance(select, exp.Select) or select.args.get("from") or len(select.expressions) != 1:
        raise NotRehearsable(f"a SQL UDF's body is one SELECT of one expression, without FROM: {_shown(statement)}")
    # IMMUTABLE / STABLE and RETURNS have no macro counterpart (a macro is an expression); the language must be SQL.
    for language in create.find_all(exp.LanguageProperty):
        if language.name.lower() != "sql":
            raise NotRehearsable(f"only LANGUAGE sql functions are rehearsed: {_shown(statement)}")
    (value,) = select.expressions
    name = signature.this.name
    return f"CREATE OR REPLACE MACRO {name}({', '.join(arguments)}) AS {_translated(value, statement)}"


# -- COPY (rule 7) --------------------------------------------------------------------------------------
#: COPY options that change nothing the rehearsal can observe.
_IGNORED_OPTIONS = frozenset({"COMPUPDATE", "STATUPDATE"})
_FLAG_OPTIONS = frozenset({"TRUNCATECOLUMNS", "ACCEPTINVCHARS"})
_INTEGER_RANGES = {
    exp.DataType.Type.SMALLINT: (-(2**15), 2**15 - 1),
    exp.DataType.Type.INT: (-(2**31), 2**31 - 1),
    exp.DataType.Type.BIGINT: (-(2**63), 2**63 - 1),
}
_FLOATS = frozenset({exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT})
_TEXTS = frozenset({exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.TEXT})
_NUMERIC_TEXT = re.compile(r"\s*[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf|infinity)\s*", re.I)
_JSONPATH_STEP = re.compile(r"\[\s*'((?:[^'\\]|\\.)*)'\s*\]|\[\s*\"((?:[^\"\\]|\\.)*)\"\s*\]|\[\s*(\d+)\s*\]|\.(\w+)")


#: The S3 objects the emulation has read, by bucket, key and ETag (the content's digest for a simple upload).
_READ: dict[tuple[str, str, str], bytes] = {}


class _Rejected(Exception):
    """A value COPY would not load: the error code, message and field."""

    def __init__(self, code: int, message: str, column: str = "", column_type: str = "", raw: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.column, self.column_type, self.raw = code, message, column, column_type, raw


@dataclass
class CopyOptions:
    """What one COPY statement asks for."""

    table: str
    columns: list[str]
    source: str
    json: str
    region: str | None = None
    max_errors: int = 0
    time_format: str | None = None
    truncate_columns: bool = False
    invalid_char: str | None = None  #: ACCEPTINVCHARS's replacement, None without it

    @classmethod
    def of(cls, copy: exp.Copy, statement: str) -> CopyOptions:
        target = copy.this
        if not isinstance(target, exp.Schema) or not target.expressions:
            raise NotRehearsable(f"COPY without a column list is not rehearsed: {_shown(statement)}")
        sources = [file.name for file in copy.args.get("files") or []]
        if len(sources) != 1:
            raise NotRehearsable(f"COPY FROM one S3 key prefix is emulated, not {sources}: {_shown(statement)}")
        (source,) = sources
        credentials = copy.args.get("credentials")
        region = credentials.args.get("region") if credentials is not None else None
        options: dict[str, exp.Expression | None] = {}
        for parameter in copy.args.get("params") or []:
            name = " ".join(parameter.this.name.upper().replace("FORMAT", "").replace(" AS ", " ").split())
            value = parameter.expression
            # sqlglot reads a flag followed by another flag as the first one's argument.
            if isinstance(value, exp.Var) and value.name.upper() in _FLAG_OPTIONS:
                options[value.name.upper()] = None
                value = None
            options[name.removeprefix("AS ").strip()] = value
        found = cls(
            table=target.this.name.lower(),
            columns=[column.name.lower() for column in target.expressions],
            source=source,
            json="",
            region=region.name if region is not None else None,
        )
        for name, value in options.items():
            if name == "JSON" and value is not None:
                found.json = value.name
            elif name == "MAXERROR" and value is not None:
                found.max_errors = int(value.name)
            elif name == "TIMEFORMAT" and value is not None:
                found.time_format = value.name.lower()
            elif name == "TRUNCATECOLUMNS":
                found.truncate_columns = True
            elif name == "ACCEPTINVCHARS":
                found.invalid_char = value.name if value is not None else "?"
            elif name not in _IGNORED_OPTIONS:
                raise NotRehearsable(f"COPY option {name} is not emulated: {_shown(statement)}")
        if not source.startswith("s3://") or not found.json:
            raise NotRehearsable(f"only COPY FROM 's3://...' FORMAT AS JSON is emulated: {_shown(statement)}")
        return found


class CopyEmulation:
    """COPY FROM S3 FORMAT AS JSON on the rehearsal's DuckDB (the module docstring's rules)."""

    def __init__(self, connection: RehearsalConnection) -> None:
        self._connection = connection
        self._s3 = boto3.client("s3")
        self._ids = itertools.count(1001)

    def run(self, copy: exp.Copy, statement: str) -> None:
        options = CopyOptions.of(copy, statement)
        types = self._connection.ddl.get(options.table)
        if types is None:
            raise NotRehearsable(f"COPY into {options.table}, a table the rehearsal did not see created")
        bucket, prefix = _s3_parts(options.source)
        self._check_region(bucket, options.region)
        paths = self._paths(options)
        rows: list[list[Any]] = []
        errors: list[LoadError] = []
        for key, body in self._objects(bucket, prefix):
            file_name = f"s3://{bucket}/{key}"
            for line_number, raw, record in _records(body, options.invalid_char):
                try:
                    if isinstance(record, _Rejected):
                        raise record
                    rows.append(
                        [
                            _value(_select(record, path), column, types[column], options)
                            for column, path in zip(options.columns, paths, strict=True)
                        ]
                    )
                except _Rejected as rejected:
                    length = types[rejected.column].width if rejected.column else None
                    errors.append(
                        LoadError(
                            file_name,
                            line_number,
                            rejected.column,
                            rejected.column_type,
                            str(length) if length is not None else "",
                            raw[:1024],
                            rejected.raw[:1024],
                            rejected.code,
                            rejected.message,
                        )
                    )
        query_id = next(self._ids)
        self._keep_errors(query_id, errors)
        if errors and len(errors) >= options.max_errors:
            raise redshift_connector.ProgrammingError(
                f"Load into table '{options.table}' failed. Check 'stl_load_errors' system table for details. "
                f"({len(errors)} errors, MAXERROR {options.max_errors}; first: {errors[0].error_message})"
            )
        if rows:
            # One INSERT from an Arrow table: DuckDB's executemany costs milliseconds a row.
            loaded = pyarrow.table(
                {
                    column: pyarrow.array(values)
                    for column, values in zip(options.columns, zip(*rows, strict=True), strict=True)
                }
            )
            columns = ", ".join(f'"{column}"' for column in options.columns)
            self._connection.duckdb.register("copy_rows", loaded)
            try:
                self._connection.duckdb.execute(
                    f'INSERT INTO "{options.table}" ({columns}) SELECT {columns} FROM copy_rows'
                )
            finally:
                self._connection.duckdb.unregister("copy_rows")
        self._connection.duckdb.execute(_LAST_COPY.format(what="count", value=len(rows)))
        self._connection.duckdb.execute(_LAST_COPY.format(what="id", value=query_id))

    def _check_region(self, bucket: str, region: str | None) -> None:
        if region is None:
            return
        location = self._s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
        if location != region:
            raise redshift_connector.ProgrammingError(
                f"S3ServiceException:The bucket you are attempting to access must be addressed using the specified "
                f"endpoint (bucket {bucket} is in {location}, COPY said REGION '{region}'),Status 301"
            )

    def _objects(self, bucket: str, prefix: str) -> Iterator[tuple[str, bytes]]:
        objects = {
            item["Key"]: item["ETag"]
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        }
        if not objects:
            raise redshift_connector.ProgrammingError(
                f"The specified S3 prefix '{prefix}' does not exist (bucket {bucket}), Status 404"
            )
        for key, etag in sorted(objects.items()):
            # Each run COPYs all of song_data/ again: an object already read, with the same ETag, is not.
            body = _READ.get((bucket, key, etag))
            if body is None:
                body = _READ[(bucket, key, etag)] = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            yield key, body

    def _paths(self, options: CopyOptions) -> list[list[str | int] | AutoKey]:
        """Per column: the JSONPaths file's steps (in the file's order), or the key 'auto' matches."""
        if options.json.lower() in {"auto", "auto ignorecase"}:
            return [AutoKey(column, options.json.lower() == "auto ignorecase") for column in options.columns]
        bucket, key = _s3_parts(options.json)
        document = json.loads(self._s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        expressions = document["jsonpaths"]
        if len(expressions) != len(options.columns):
            raise redshift_connector.ProgrammingError(
                f"Number of jsonpaths and the number of columns should match. JSONPath size: {len(expressions)}, "
                f"Number of columns in table or column list: {len(options.columns)}"
            )
        return [_jsonpath(expression) for expression in expressions]

    def _keep_errors(self, query_id: int, errors: list[LoadError]) -> None:
        if not errors:
            return
        now = datetime.now(UTC).replace(tzinfo=None)
        # The columns both tables have, in their order; STL adds the raw text (which SYS does not keep).
        where = [
            (query_id, now, e.file_name, e.line_number, e.column_name, e.column_type, e.column_length) for e in errors
        ]
        self._connection.duckdb.executemany(
            "INSERT INTO stl_load_errors (query, starttime, filename, line_number, colname, type, col_length, "
            "raw_line, raw_field_value, err_code, err_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (*at, e.raw_line, e.raw_field_value, e.error_code, e.error_message)
                for at, e in zip(where, errors, strict=True)
            ],
        )
        self._connection.duckdb.executemany(
            "INSERT INTO sys_load_error_detail (query_id, start_time, file_name, line_number, column_name, "
            "column_type, column_length, error_code, error_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*at, e.error_code, e.error_message) for at, e in zip(where, errors, strict=True)],
        )


def _s3_parts(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _jsonpath(expression: str) -> list[str | int]:
    """A JSONPaths expression (bracket or dot notation, array indexes) as its steps."""
    if not expression.startswith("$"):
        raise redshift_connector.ProgrammingError(f"Invalid JSONPath format: {expression}")
    steps: list[str | int] = []
    position = 1
    for match in _JSONPATH_STEP.finditer(expression, 1):
        if match.start() != position:
            break
        quoted, double_quoted, index, name = match.groups()
        steps.append(int(index) if index is not None else quoted or double_quoted or name or "")
        position = match.end()
    if position != len(expression) or not steps:
        raise redshift_connector.ProgrammingError(f"Invalid JSONPath format: {expression}")
    return steps


@dataclass(frozen=True)
class AutoKey:
    """FORMAT AS JSON 'auto' / 'auto ignorecase': the top-level key named as the column."""

    column: str
    ignore_case: bool


def _select(record: Any, path: list[str | int] | AutoKey) -> Any:
    """The value ``path`` selects in ``record``; None when it selects nothing."""
    if isinstance(path, AutoKey):
        if not isinstance(record, dict):
            return None
        if path.ignore_case:
            return next((value for key, value in record.items() if key.lower() == path.column), None)
        return record.get(path.column)
    value = record
    for step in path:
        if (
            isinstance(step, int)
            and isinstance(value, list)
            and step < len(value)
            or isinstance(step, str)
            and isinstance(value, dict)
            and step in value
        ):
            value = value[step]
        else:
            return None
    return value


def _records(body: bytes, invalid_char: str | None) -> Iterator[tuple[int, str, Any]]:
    """(last line number, raw text, parsed value or `_Rejected`) for each JSON text of a file."""
    text = body.decode("utf-8", errors="surrogateescape")
    decoder = json.JSONDecoder()
    position, length = 0, len(text)
    while True:
        while position < length and text[position] in " \t\r\n":
            position += 1
        if position >= length:
            return
        try:
            record, end = decoder.raw_decode(text, position)
            raw = text[position:end]
            line_number = text.count("\n", 0, end) + 1
        except json.JSONDecodeError as exc:
            end = text.find("\n", position)
            end = length if end < 0 else end
            raw = text[position:end]
            line_number = text.count("\n", 0, position) + 1
            yield line_number, raw, _Rejected(1216, f"Invalid JSON object: {exc.msg}")
            position = end
            continue
        position = end
        invalid = re.search(r"[\udc80-\udcff]", raw)
        if invalid and invalid_char is None:
            yield line_number, raw, _Rejected(1220, "String contains invalid or unsupported UTF8 codepoints.")
            continue
        if invalid:
            record = json.loads(re.sub(r"[\udc80-\udcff]", invalid_char, raw))
        yield line_number, raw, record


@dataclass(frozen=True)
class ColumnType:
    """A column's type as its CREATE statement wrote it (DuckDB's catalogue keeps no VARCHAR width)."""

    kind: exp.DataType.Type
    name: str  #: as Redshift spells it, for the load errors
    width: int | None  #: a VARCHAR's width in bytes

    @classmethod
    def of(cls, kind: exp.DataType) -> ColumnType:
        width = int(kind.expressions[0].name) if kind.this in _TEXTS and kind.expressions else None
        return cls(kind.this, kind.sql(dialect="redshift"), width)


def _value(value: Any, column: str, kind: ColumnType, options: CopyOptions) -> Any:
    """A JSON value as COPY stores it in a column of type ``kind``; `_Rejected` when it would not load."""
    if value is None:
        return None
    type_name = kind.name
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if kind.kind in _TEXTS:
        width = kind.width
        encoded = text.encode("utf-8", errors="surrogateescape")
        if width is not None and len(encoded) > width:
            if not options.truncate_columns:
                raise _Rejected(1204, "String length exceeds DDL length", column, type_name, text)
            text = encoded[:width].decode("utf-8", errors="ignore")
        return text
    if kind.kind in _INTEGER_RANGES:
        if isinstance(value, bool | float) or not re.fullmatch(r"\s*[-+]?\d+\s*", text):
            raise _Rejected(1207, f"Invalid digit, Value '{text[:20]}', Type: {type_name}", column, type_name, text)
        number = int(text)
        low, high = _INTEGER_RANGES[kind.kind]
        if not low <= number <= high:
            raise _Rejected(1222, f"Overflow, Value '{text[:20]}', Type: {type_name}", column, type_name, text)
        return number
    if kind.kind in _FLOATS:
        if isinstance(value, bool) or not isinstance(value, int | float | str) or not _NUMERIC_TEXT.fullmatch(text):
            raise _Rejected(1208, f"Invalid float value '{text[:20]}'", column, type_name, text)
        return float(text)
    if kind.kind == exp.DataType.Type.TIMESTAMP and options.time_format in {"epochmillisecs", "epochsecs"}:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Rejected(1206, f"Invalid timestamp format '{text[:20]}'", column, type_name, text)
        scale = 1000 if options.time_format == "epochmillisecs" else 1
        return datetime(1970, 1, 1) + timedelta(milliseconds=value * 1000 / scale)
    raise NotRehearsable(f"COPY into a {type_name} column ({column}) is not emulated")


# -- the warehouse ---------------------------------------------------------------------------------------
class RehearsalRedshiftWarehouse(RecordingRedshiftWarehouse):
    """The Redshift engine whose connection runs each statement on the DuckDB file ``rehearsal_database``."""

    rehearsal_database: str

    def open_connection(self) -> Any:
        return RehearsalConnection(self.rehearsal_database, self.recorder)
