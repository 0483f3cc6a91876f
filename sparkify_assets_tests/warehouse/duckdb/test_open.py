"""Opening the DuckDB warehouse: what SPARKIFY_DUCKDB_PATH may hold, SPARKIFY_DUCKDB_MEMORY_LIMIT's form, no
extension installed or loaded behind the project's back, and running out of memory (README, "Settings")."""

from __future__ import annotations

import gzip
import json
import sqlite3
import zipfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import build_resources
from pydantic import ValidationError

from sparkify_assets.resources import duckdb_resources
from sparkify_assets.warehouse.duckdb.engine import DuckDBWarehouse, WarehouseOutOfMemory
from sparkify_assets.warehouse.duckdb.memory import MEMORY_LIMIT_FORM
from sparkify_assets.warehouse.duckdb.settings import WarehouseUnavailable, describe_file
from sparkify_assets_tests.conftest import assert_failed_at_once, local_source, run_graph, step_events


def snapshot(folder: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every entry under ``folder``: its bytes (None for a folder) and modification time."""
    return {
        str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


# -- extensions ----------------------------------------------------------------------------------------------
def test_no_extension_is_installed_or_loaded_automatically(warehouse_path: Path) -> None:
    warehouse = DuckDBWarehouse(path=str(warehouse_path))
    with warehouse.connect() as connection:
        settings = dict(
            connection.execute(
                "SELECT name, value FROM duckdb_settings() "
                "WHERE name IN ('autoinstall_known_extensions', 'autoload_known_extensions')"
            ).fetchall()
        )
        assert settings == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
        # A URL needs httpfs: DuckDB names the missing extension instead of downloading it.
        with pytest.raises(duckdb.Error, match="requires the extension httpfs to be loaded"):
            connection.execute("SELECT * FROM read_csv('https://127.0.0.1:9/x.csv')")


def test_json_the_one_extension_the_warehouse_uses_is_built_in(warehouse_path: Path) -> None:
    """With auto-loading off, the staging parse (json_transform, json_type) works because json is linked into
    the duckdb wheel; a wheel without it would fail here first."""
    with DuckDBWarehouse(path=str(warehouse_path)).connect() as connection:
        (mode,) = connection.execute(
            "SELECT install_mode FROM duckdb_extensions() WHERE extension_name = 'json' AND loaded"
        ).fetchone()
        assert mode == "STATICALLY_LINKED"
        parsed = connection.execute("""SELECT json_transform('{"ts": 1}', '{"ts": "BIGINT"}').ts""").fetchone()
        assert parsed == (1,)


# -- SPARKIFY_DUCKDB_PATH: a DuckDB database or nothing yet ----------------------------------------------------
def _sqlite(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE songs (song_id TEXT)")
    connection.close()


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("songs.json", "{}")


NOT_DUCKDB = {
    "a SQLite database": _sqlite,
    "text": lambda path: path.write_text("host=localhost\nport=5432\n"),
    "JSON text": lambda path: path.write_text('{"ts": 1541376000001, "userId": "7"}\n'),
    "gzip data": lambda path: path.write_bytes(gzip.compress(b'{"ts": 1}\n')),
    "a zip archive": _zip,
    "a Parquet file": lambda path: pq.write_table(pa.table({"a": [1]}), path),
    "binary data of an unknown kind": lambda path: path.write_bytes(bytes(range(256)) * 4),
    "an empty file": lambda path: path.touch(),
}


@pytest.mark.parametrize("kind", NOT_DUCKDB)
def test_a_file_that_is_not_a_duckdb_database_is_refused_and_left_untouched(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "warehouse.duckdb"
    NOT_DUCKDB[kind](path)
    before = snapshot(tmp_path)
    with pytest.raises(WarehouseUnavailable) as refused:
        DuckDBWarehouse(path=str(path)).create_tables()
    message = str(refused.value)
    assert message.startswith(f"SPARKIFY_DUCKDB_PATH={path} is {kind}, not a DuckDB database"), message
    assert snapshot(tmp_path) == before  # no byte changed, no .wal or .tmp beside it


def test_a_directory_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    (path / "inside").mkdir(parents=True)
    (path / "inside" / "notes.txt").write_text("keep me")
    before = snapshot(tmp_path)
    with pytest.raises(WarehouseUnavailable, match=f"SPARKIFY_DUCKDB_PATH={path} is a directory, not a DuckDB"):
        DuckDBWarehouse(path=str(path)).create_tables()
    assert snapshot(tmp_path) == before


def test_a_run_against_a_sqlite_file_fails_before_writing_anything(tmp_path: Path) -> None:
    source = tmp_path / "source"
    day_file = source / "log_data/2018/11/2018-11-05-events.json"
    day_file.parent.mkdir(parents=True)
    day_file.write_text(json.dumps({"ts": 1541376000001, "userId": "7", "page": "NextSong"}) + "\n")
    database = tmp_path / "db" / "warehouse.duckdb"
    database.parent.mkdir()
    _sqlite(database)
    before = snapshot(database.parent)
    warehouse = DuckDBWarehouse(path=str(database), threads=2)
    result = run_graph(
        {"source": local_source(source), "warehouse": warehouse},
        partition="2018-11-05",
        selection="staging_events",
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = step_events(result, "RESOURCE_INIT_FAILURE")
    assert f"SPARKIFY_DUCKDB_PATH={database} is a SQLite database" in failure.event_specific_data.error.to_string()
    assert not step_events(result, "ASSET_MATERIALIZATION")
    assert snapshot(database.parent) == before


def test_a_duckdb_database_or_nothing_yet_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "new" / "warehouse.duckdb"
    DuckDBWarehouse(path=str(path)).run_script("CREATE TABLE kept AS SELECT 42 AS answer", {})
    assert describe_file(path.read_bytes()[:4096]) == "a DuckDB database"
    assert DuckDBWarehouse(path=str(path)).query("SELECT answer FROM kept") == [(42,)]


# -- SPARKIFY_DUCKDB_MEMORY_LIMIT -----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["lots", "-1GB", "1XB", "80%", "1000", "1G", "0GB", "8MB", "2000TB", "1e3MB", ""])
def test_a_memory_limit_not_of_the_accepted_form_is_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        DuckDBWarehouse(path="w.duckdb", memory_limit=value)
    assert f"SPARKIFY_DUCKDB_MEMORY_LIMIT={value!r} is not {MEMORY_LIMIT_FORM}" in str(refused.value)


@pytest.mark.parametrize(("value", "kept"), [("1GB", "1GB"), ("512 mb", "512MB"), ("1.5GB", "1.5GB"), ("2GiB", "2GiB")])
def test_a_memory_limit_of_the_accepted_form_reaches_duckdb(warehouse_path: Path, value: str, kept: str) -> None:
    warehouse = DuckDBWarehouse(path=str(warehouse_path), memory_limit=value)
    assert warehouse.memory_limit == kept
    with warehouse.connect() as connection:
        (applied,) = connection.execute("SELECT current_setting('memory_limit')").fetchone()
    with duckdb.connect(config={"memory_limit": kept}) as reference:
        assert applied == reference.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_a_bad_memory_limit_in_the_environment_fails_when_the_resource_starts(
    monkeypatch: pytest.MonkeyPatch, warehouse_path: Path
) -> None:
    """The definitions load (the setting is an EnvVar, read when a run starts); the run's resource does not."""
    monkeypatch.setenv("SPARKIFY_DUCKDB_PATH", str(warehouse_path))
    monkeypatch.setenv("SPARKIFY_DUCKDB_MEMORY_LIMIT", "lots")
    resources = duckdb_resources()
    with pytest.raises(Exception) as refused, build_resources({"warehouse": resources["warehouse"]}):
        pass
    assert f"SPARKIFY_DUCKDB_MEMORY_LIMIT='lots' is not {MEMORY_LIMIT_FORM}" in str(refused.value.__cause__)
    assert not warehouse_path.exists()


# -- running out of memory ------------------------------------------------------------------------------------
def test_running_out_of_memory_names_the_setting(warehouse_path: Path) -> None:
    warehouse = DuckDBWarehouse(path=str(warehouse_path), memory_limit="16MB", threads=1)
    with pytest.raises(WarehouseOutOfMemory) as refused:
        warehouse.run_script("CREATE TABLE big AS SELECT string_agg(repeat('x', 1000000), '') FROM range(100)", {})
    assert str(refused.value).startswith("DuckDB needs more memory than SPARKIFY_DUCKDB_MEMORY_LIMIT=16MB allows")
    assert refused.value.allow_retries is False  # the same data needs the same memory again
    assert warehouse.query("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'big'") == [(0,)]


def test_out_of_memory_hidden_behind_an_aborted_transaction_still_names_the_setting(warehouse_path: Path) -> None:
    """A statement after the one that ran out of memory (an unregister in a `finally`) fails with "transaction
    is aborted", which hides the cause; the hint finds it."""
    warehouse = DuckDBWarehouse(path=str(warehouse_path))
    with pytest.raises(WarehouseOutOfMemory, match="SPARKIFY_DUCKDB_MEMORY_LIMIT=1GB"), warehouse._memory_hint():
        try:
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate data of size 256.0 MiB")
        finally:
            raise duckdb.TransactionException("TransactionContext Error: Current transaction is aborted")
    with pytest.raises(duckdb.TransactionException), warehouse._memory_hint():
        raise duckdb.TransactionException("TransactionContext Error: Conflict on update")


def write_day_of_large_records(source: Path, count: int, size: int) -> None:
    """2018-11-05's day file: ``count`` valid events, each carrying ``size`` characters in a field nothing
    stores (a stored text that long is rejected for its width: docs/redshift.md, "VARCHAR widths")."""
    day_file = source / "log_data/2018/11/2018-11-05-events.json"
    day_file.parent.mkdir(parents=True)
    padding = "a" * size
    with day_file.open("w") as out:
        for n in range(count):
            out.write(f'{{"padding": "{padding}", "page": "NextSong", "ts": {1541376000000 + n}, "userId": "7"}}\n')


@pytest.mark.slow
@pytest.mark.parametrize(
    ("count", "size"), [(300, 1_000_000), (1, 200_000_000)], ids=["300 records of 1 MB", "one record of 200 MB"]
)
def test_large_records_load_under_the_default_memory_limit_or_fail_naming_it(
    tmp_path: Path, count: int, size: int
) -> None:
    """Under the default SPARKIFY_DUCKDB_MEMORY_LIMIT (1GB) a day of large records either loads whole or fails
    at once (no retry) with an error naming the setting, never with DuckDB's own words alone."""
    write_day_of_large_records(tmp_path / "source", count, size)
    warehouse = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"), threads=2)
    assert warehouse.memory_limit == "1GB"
    result = run_graph(
        {"source": local_source(tmp_path / "source"), "warehouse": warehouse},
        partition="2018-11-05",
        selection="staging_events",
        raise_on_error=False,
    )
    if result.success:
        assert warehouse.query("SELECT COUNT(*) FROM staging_events") == [(count,)]
        assert warehouse.query("SELECT COUNT(*) FROM staging_rejects") == [(0,)]
    else:
        assert_failed_at_once(result, "staging_events", "SPARKIFY_DUCKDB_MEMORY_LIMIT=1GB")
