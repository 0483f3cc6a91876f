"""SPEC.md, "The invariant": after any sequence of materializations, every table equals a from-scratch build
of the source as it is now, or the run that could not get there fails.

A hypothesis state machine changes a small source (day files written, corrected, removed or broken; song
files added, changed, removed, one song_id in two files) and materializes random selections of the real
asset graph over random partition ranges, in random order, through Dagster as `dagster asset materialize`
does. A model follows what each run did (which steps it materialized) and, with the independent oracle
(`tables_oracle.py`), says what every table must hold; after every run the warehouse is compared with it,
table by table and row by row, and a run may fail only where the model says it must (a missing or broken
day file, a blocking check whose violation the model sees too). Every sequence ends with a full run that
must succeed and equal a from-scratch build of the source as it is then.

`make test` runs a few sequences; `pytest -m sequences --hypothesis-profile=long` runs 500.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sparkify_assets.checks.definitions import PARTITIONED_ASSETS
from sparkify_assets.warehouse.duckdb import memory
from sparkify_assets_tests import tables_oracle as oracle
from sparkify_assets_tests.conftest import duckdb_warehouse, resources_for, run_graph

pytestmark = [pytest.mark.sequences, pytest.mark.slow]

DAYS = [date(2018, 11, 1) + timedelta(days=n) for n in range(4)]
DAY_START_MS = {day: (day - oracle.EPOCH).days * oracle.DAY_MS for day in DAYS}
SONG_FILES = 6
MAX_REJECT_PERCENT = 50

#: Selections a user makes (`--select`), by the name the model knows them by.
SELECTIONS: dict[str, list[str]] = {
    "everything": ["staging_events", "staging_songs", "artists", "songs", "users", "time", "songplays"],
    "the day's events and what follows": ["staging_events", "users", "time", "songplays"],
    "the song catalogue reload": ["staging_songs", "artists", "songs"],
    "staging_events only": ["staging_events"],
    "staging_songs only": ["staging_songs"],
    "the song catalogue (artists and songs, one step)": ["artists", "songs"],
    "users only": ["users"],
    "time only": ["time"],
    "songplays only": ["songplays"],
    "the star schema": ["artists", "songs", "users", "time", "songplays"],
}
PARTITIONED = PARTITIONED_ASSETS
#: What each asset reads (its deps in the asset graph), and an order of the steps that respects it.
DEPENDENCIES: dict[str, set[str]] = {
    "staging_events": set(),
    "staging_songs": set(),
    "artists": {"staging_songs"},
    "songs": {"staging_songs"},
    "users": {"staging_events"},
    "time": {"staging_events"},
    "songplays": {"staging_events", "artists", "songs", "users", "time"},
}
STEP_ORDER = ["staging_events", "staging_songs", "artists", "songs", "users", "time", "songplays"]

# -- data ------------------------------------------------------------------------------------------------------
#: (song_id, title, artist_id, artist_name, duration): a small catalogue, so plays match often.
CATALOGUE = [
    ("SOAAA", "Hello", "ARX", "Adele", 295.5),
    ("SOBBB", "Hello", "ARY", "Lionel Richie", 250.0),
    ("SOCCC", "Halo", "ARZ", "Beyonce", 261.6),
    ("SODDD", "Yellow", "ARW", "Coldplay", 266.8),
    ("SOEEE", "Yellow", "ARW", "Coldplay", 268.0),
]
USERS = [(1, "Ann", "Lee", "F"), (2, "Bo", "Kim", "M"), (3, "Cy", "Ray", "M"), (4, "Di", "Fox", "F")]


@st.composite
def song_records(draw: st.DrawFn) -> dict[str, Any]:
    song_id, title, artist_id, artist_name, duration = draw(st.sampled_from(CATALOGUE))
    if draw(st.integers(0, 5)) == 0:  # the same song_id with another song's title and artist (issue class 4)
        _, title, artist_id, artist_name, duration = draw(st.sampled_from(CATALOGUE))
    return {
        "num_songs": 1,
        "artist_id": artist_id,
        "artist_latitude": draw(st.sampled_from([None, 51.5, -33.9])),
        "artist_longitude": draw(st.sampled_from([None, -0.12, 18.4])),
        "artist_location": draw(st.sampled_from(["", "London", "Cape Town"])),
        "artist_name": artist_name,
        "song_id": song_id,
        "title": title,
        "duration": duration,
        "year": draw(st.sampled_from([0, 1999, 2011])),
    }


@st.composite
def events(draw: st.DrawFn, day: date) -> dict[str, Any]:
    logged_in = draw(st.integers(0, 5)) > 0
    user_id, first, last, gender = draw(st.sampled_from(USERS))
    event: dict[str, Any] = {
        "artist": None, "auth": "Logged In" if logged_in else "Logged Out",
        "firstName": first if logged_in else None, "gender": gender if logged_in else None,
        "itemInSession": draw(st.integers(0, 3)), "lastName": last if logged_in else None, "length": None,
        "level": draw(st.sampled_from(["free", "paid"])), "location": draw(st.sampled_from(["Here, CA", ""])),
        "method": "PUT", "page": "Home", "registration": 1540919166796.0, "sessionId": draw(st.integers(1, 4)),
        "song": None, "status": 200,
        # Few distinct times, so equal ts (ties in users and songplays) occur.
        "ts": DAY_START_MS[day] + draw(st.integers(0, 12)) * 3_600_000 + draw(st.sampled_from([0, 1, 796])),
        "userAgent": "Mozilla/5.0", "userId": str(user_id) if logged_in else "",
    }  # fmt: skip
    if draw(st.integers(0, 3)) > 0:
        _, title, _, artist, duration = draw(st.sampled_from(CATALOGUE))
        title = draw(st.sampled_from([title, title.upper(), f" {title} "]))
        event.update(page="NextSong", song=title, artist=artist, length=duration + draw(st.sampled_from([0, 1.5, -3])))
    wrong = draw(st.integers(0, 14))  # now and then an optional field of the wrong type (issue class 5, 6)
    if wrong == 0:
        event["sessionId"] = draw(st.sampled_from([5.7, True, "7", "x"]))
    elif wrong == 1:
        event["length"] = draw(st.sampled_from(["NaN", "Infinity", "1.5", 2]))
    return event


@st.composite
def day_files(draw: st.DrawFn, day: date) -> bytes:
    lines: list[str] = []
    for event in draw(st.lists(events(day), max_size=8)):
        layout = draw(st.integers(0, 9))
        lines.append(json.dumps(event, indent=2) if layout == 0 else json.dumps(event))
        if layout == 1:
            lines.append("")
    if draw(st.integers(0, 4)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["not json", '{"ts": "x"}', "{"])))
    return ("\n".join(lines) + ("\n" if lines else "")).encode()


BROKEN_EXPORTS = ("gzip", "utf-16", "json array", "mostly bad")


def broken(kind: str, good: bytes) -> bytes:
    """A broken export of a day file (issue class 7): the step must fail and the day keep its rows."""
    if kind == "gzip":
        return gzip.compress(good or b"{}\n")
    if kind == "utf-16":
        return (good or b'{"ts": 1}\n').decode().encode("utf-16")
    if kind == "json array":
        return b"[" + b",".join(line for line in good.splitlines() if line.startswith(b"{")) + b"]\n"
    return b"not json\nnor this\n{\n" + b'{"ts": 1}\n'


def event_key(day: date) -> str:
    return f"log_data/{day:%Y}/{day:%m}/{day:%Y-%m-%d}-events.json"


def song_key(index: int) -> str:
    return f"song_data/A/B/C/TRAAA{index:04d}.json"


# -- the machine -----------------------------------------------------------------------------------------------
class WarehouseSequences(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="sparkify-sequence-"))
        self.source = self.root / "source"
        self.database = self.root / "warehouse.duckdb"
        self.source.mkdir()
        self.resources = resources_for(self.source, self.database, max_reject_percent=MAX_REJECT_PERCENT)
        self.files: dict[str, bytes] = {}
        self.broken_days: set[date] = set()
        # The model: what each table holds, given what the runs so far did.
        self.staged_days: dict[date, oracle.Staged] = {}
        self.staged_songs = oracle.Staged((), ())
        self.catalogue: dict[str, dict[str, Any]] = {}
        self.songs: Counter = Counter()
        self.artists: Counter = Counter()
        self.users: Counter = Counter()
        self.time: dict[date, set[tuple]] = {}
        self.songplays: dict[int, tuple] = {}
        self.runs = 0

    def teardown(self) -> None:
        try:
            if self.runs:
                self.catch_up()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- changes to the source ------------------------------------------------------------------------------
    def _write(self, key: str, data: bytes | None) -> None:
        path = self.source / key
        if data is None:
            self.files.pop(key, None)
            path.unlink(missing_ok=True)
            return
        self.files[key] = data
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    @rule(data=st.data(), day=st.sampled_from(DAYS))
    def write_day_file(self, data: st.DataObject, day: date) -> None:
        """A new day file, or a corrected one (issue class 1)."""
        self._write(event_key(day), data.draw(day_files(day)))
        self.broken_days.discard(day)

    @rule(day=st.sampled_from(DAYS))
    def remove_day_file(self, day: date) -> None:
        self._write(event_key(day), None)
        self.broken_days.discard(day)

    @rule(day=st.sampled_from(DAYS), kind=st.sampled_from(BROKEN_EXPORTS))
    def break_day_file(self, day: date, kind: str) -> None:
        good = b"" if day in self.broken_days else self.files.get(event_key(day), b"")
        self._write(event_key(day), broken(kind, good))
        self.broken_days.add(day)

    @rule(index=st.integers(0, SONG_FILES - 1), song=song_records(), pretty=st.booleans())
    def write_song_file(self, index: int, song: dict[str, Any], pretty: bool) -> None:
        self._write(song_key(index), json.dumps(song, indent=4 if pretty else None).encode())

    @rule(index=st.integers(0, SONG_FILES - 1))
    def remove_song_file(self, index: int) -> None:
        """Issue class 2: a song that plays were matched to leaves the catalogue."""
        self._write(song_key(index), None)

    # -- runs ------------------------------------------------------------------------------------------------
    @rule(
        name=st.sampled_from(sorted(SELECTIONS)),
        first=st.integers(0, len(DAYS) - 1),
        span=st.integers(1, 3),
        day_by_day=st.booleans(),
    )
    def materialize(self, name: str, first: int, span: int, day_by_day: bool) -> None:
        """``day_by_day``: the warehouse builds songplays one day per statement, as it does when a window's
        events exceed what a statement may sort in memory (`DuckDBWarehouse.statement_windows`)."""
        window = DAYS[first : first + span]
        self.run(SELECTIONS[name], window, day_by_day)

    def run(self, selection: list[str], window: list[date], day_by_day: bool = False) -> None:
        self.runs += 1
        ranged = PARTITIONED & set(selection)
        # A statement may sort a single event: every day of the window is a statement of its own.
        sort_bytes = (
            memory.size_bytes(duckdb_warehouse(self.database).memory_limit) if day_by_day else memory.EVENT_SORT_BYTES
        )
        with patch.object(memory, "EVENT_SORT_BYTES", sort_bytes):
            result = run_graph(
                self.resources,
                selection=selection,
                partition_range=(window[0].isoformat(), window[-1].isoformat()) if ranged else None,
                raise_on_error=False,
            )
        materialized = {event.asset_key.path[-1] for event in result.get_asset_materialization_events()}
        failed_checks = {e.check_name for e in result.get_asset_check_evaluations() if not e.passed and e.blocking}
        expected = self.expected_steps(selection, window)
        assert materialized == expected, f"materialized {sorted(materialized)}, the model expected {sorted(expected)}"
        self.follow(materialized, window)
        expected_failures = self.failing_checks(materialized, window)
        assert failed_checks == expected_failures, f"failed checks {failed_checks}, expected {expected_failures}"
        should_succeed = expected == set(selection) and not expected_failures
        assert result.success == should_succeed, f"run success {result.success}, the model expected {should_succeed}"

    def expected_steps(self, selection: list[str], window: list[date]) -> set[str]:
        """The assets the run materializes: a staging step fails on a missing, broken or mostly bad file,
        a step whose upstream step in the run did not materialize does not run, and artists and songs are
        one step (the song catalogue)."""
        fails = {
            "staging_events": any(not self._day_loads(day) for day in window),
            "staging_songs": not self._songs_load(),
        }
        steps = set(selection) | ({"artists", "songs"} if {"artists", "songs"} & set(selection) else set())
        done: set[str] = set()
        for asset in STEP_ORDER:
            upstream_in_run = DEPENDENCIES[asset] & steps
            if asset in steps and not fails.get(asset, False) and upstream_in_run <= done:
                done.add(asset)
        return done

    def _day_loads(self, day: date) -> bool:
        data = self.files.get(event_key(day))
        if data is None or day in self.broken_days:
            return False
        return self._few_rejects(oracle.stage_day(event_key(day), day, data))

    def _songs_load(self) -> bool:
        return self._few_rejects(oracle.stage_songs(self._song_files()))

    def _song_files(self) -> dict[str, bytes]:
        return {key: data for key, data in self.files.items() if key.startswith("song_data/")}

    @staticmethod
    def _few_rejects(staged: oracle.Staged) -> bool:
        return len(staged.rejects) * 100 <= MAX_REJECT_PERCENT * staged.records

    def follow(self, materialized: set[str], window: list[date]) -> None:
        """Update the model as the materialized steps did, in the graph's order."""
        if "staging_events" in materialized:
            for day in window:
                self.staged_days[day] = oracle.stage_day(event_key(day), day, self.files[event_key(day)])
        if "staging_songs" in materialized:
            self.staged_songs = oracle.stage_songs(self._song_files())
        if "songs" in materialized:
            self.catalogue = oracle.song_choice(self.staged_songs.rows)
            self.songs = oracle.songs_table(self.staged_songs.rows)
            self.artists = oracle.artists_table(self.staged_songs.rows)
            self.rematch()
        if "users" in materialized:
            self.users = oracle.users_table(row for staged in self.staged_days.values() for row in staged.rows)
        if "time" in materialized:
            for day in window:
                self.time[day] = oracle.time_of_day(self._staged_rows(day))
        if "songplays" in materialized:
            for day in window:
                self.songplays = {i: row for i, row in self.songplays.items() if row[1].date() != day}
                self.songplays.update(oracle.plays_of_day(self._staged_rows(day), self.catalogue))

    def _staged_rows(self, day: date) -> tuple[tuple[Any, ...], ...]:
        return self.staged_days[day].rows if day in self.staged_days else ()

    def rematch(self) -> None:
        """A catalogue reload re-matches every play built (star/sql/song_catalogue.sql): the play with the
        same songplay_id among the staged events takes its match in the new catalogue; a match left that
        names no song of it (or another artist) is cleared."""
        staged_plays: dict[int, tuple] = {}
        for day in self.staged_days:
            staged_plays.update(oracle.plays_of_day(self._staged_rows(day), self.catalogue))
        for songplay_id, row in list(self.songplays.items()):
            if songplay_id in staged_plays:
                row = (*row[:4], *staged_plays[songplay_id][4:6], *row[6:])
            song = self.catalogue.get(row[4]) if row[4] is not None else None
            if row[4] is not None and (song is None or song["artist_id"] != row[5]):
                row = (*row[:4], None, None, *row[6:])
            self.songplays[songplay_id] = row

    def failing_checks(self, materialized: set[str], window: list[date]) -> set[str]:
        """The blocking checks that must fail after the run: plays of the window naming a user or a time that
        the (stale) dimensions do not hold."""
        if "songplays" not in materialized:
            return set()
        plays = [row for row in self.songplays.values() if row[1].date() in window]
        times = {row[0] for rows in self.time.values() for row in rows}
        users = {row[0] for row in self.users}
        failing = set()
        if any(row[1] not in times for row in plays):
            failing.add("songplays_start_time_orphans")
        if any(row[2] is not None and row[2] not in users for row in plays):
            failing.add("songplays_user_id_orphans")
        return failing

    # -- the comparison --------------------------------------------------------------------------------------
    @invariant()
    def warehouse_equals_the_model(self) -> None:
        if not self.runs:
            return
        expected = {
            "staging_events": Counter(row for staged in self.staged_days.values() for row in staged.rows),
            "staging_songs": Counter(self.staged_songs.rows),
            "staging_rejects": Counter(
                reject for staged in [*self.staged_days.values(), self.staged_songs] for reject in staged.rejects
            ),
            "songs": self.songs,
            "artists": self.artists,
            "users": self.users,
            "time": Counter(row for rows in self.time.values() for row in rows),
            "songplays": Counter(self.songplays.values()),
        }
        actual = warehouse_tables(self.database)
        for table, rows in expected.items():
            missing, extra = rows - actual[table], actual[table] - rows
            assert not missing and not extra, f"{table}: missing {list(missing)[:3]}, unexpected {list(extra)[:3]}"

    def catch_up(self) -> None:
        """The end of every sequence: a good file for every day and a full run, which must succeed and equal a
        from-scratch build of the source as it is now."""
        for day in DAYS:
            if day in self.broken_days or event_key(day) not in self.files or not self._day_loads(day):
                self._write(event_key(day), b"")
                self.broken_days.discard(day)
        if not self._songs_load():
            for key in list(self._song_files()):
                self._write(key, None)
        # Built a day per statement, compared with the model, then with a build of the days at once.
        self.run(SELECTIONS["everything"], DAYS, day_by_day=True)
        self.warehouse_equals_the_model()
        fresh = self.root / "from-scratch.duckdb"
        run_graph(resources_for(self.source, fresh), partition_range=(DAYS[0].isoformat(), DAYS[-1].isoformat()))
        assert warehouse_tables(self.database) == warehouse_tables(fresh)


def warehouse_tables(database: Path) -> dict[str, Counter]:
    queries = {
        "staging_events": f"SELECT {', '.join(oracle.EVENT_COLUMNS)} FROM staging_events",
        "staging_songs": f"SELECT {', '.join(oracle.SONG_COLUMNS)} FROM staging_songs",
        "staging_rejects": "SELECT source_key, line_number FROM staging_rejects",
        "songs": "SELECT song_id, title, artist_id, year, duration FROM songs",
        "artists": "SELECT artist_id, name, location, latitude, longitude FROM artists",
        "users": "SELECT user_id, first_name, last_name, gender, level FROM users",
        "time": "SELECT start_time, hour, day, week, month, year, weekday FROM time",
        "songplays": "SELECT songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, "
        "user_agent FROM songplays",
    }
    with duckdb_warehouse(database).connect(read_only=True) as connection:
        tables = {name for (name,) in connection.execute("SHOW TABLES").fetchall()}
        return {
            table: Counter(map(tuple, connection.execute(sql).fetchall())) if table in tables else Counter()
            for table, sql in queries.items()
        }


TestWarehouseSequences = WarehouseSequences.TestCase
TestWarehouseSequences.settings = settings(
    max_examples=500 if settings.get_current_profile_name() == "long" else 4,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
