"""The ordinary sequences that used to leave the warehouse silently wrong (issue "No sequence of ordinary
operations leaves the warehouse silently wrong"), one named test each. Each ends with the warehouse right,
or with the run failed and saying why; `test_invariant.py` tries random sequences of the same operations.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from dagster import DagsterInvalidDefinitionError, DagsterInvalidSubsetError

from sparkify_assets_tests.conftest import duckdb_warehouse, resources_for, run_graph, step_events

D1, D2 = "2018-11-04", "2018-11-05"
DAY_MS = {D1: 1541289600000, D2: 1541376000000}
SPEC_ASSETS = ["staging_events", "staging_songs", "artists", "songs", "users", "time", "songplays"]


def play(day: str, user: int, *, minute: int, level: str = "free", song: str = "Halo", **changes: object) -> dict:
    return {
        "artist": "Beyonce", "auth": "Logged In", "firstName": f"First{user}", "gender": "F", "itemInSession": 0,
        "lastName": f"Last{user}", "length": 261.0, "level": level, "location": "Here, CA", "method": "PUT",
        "page": "NextSong", "registration": 1540919166796.0, "sessionId": 7, "song": song, "status": 200,
        "ts": DAY_MS[day] + minute * 60_000, "userAgent": "Mozilla/5.0", "userId": str(user), **changes,
    }  # fmt: skip


def song(song_id: str, title: str, artist_id: str, artist_name: str, duration: float, **changes: object) -> dict:
    return {
        "num_songs": 1, "artist_id": artist_id, "artist_latitude": None, "artist_longitude": None,
        "artist_location": "", "artist_name": artist_name, "song_id": song_id, "title": title,
        "duration": duration, "year": 2008, **changes,
    }  # fmt: skip


class Source:
    """A source folder a test edits as an operator's upstream would."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def day(self, day: str, records: list[dict] | bytes) -> None:
        path = self.root / "log_data" / day[:4] / day[5:7] / f"{day}-events.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = records if isinstance(records, bytes) else "".join(json.dumps(r) + "\n" for r in records).encode()
        path.write_bytes(data)

    def song(self, name: str, record: dict | None) -> None:
        path = self.root / "song_data" / "A" / "B" / "C" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        if record is None:
            path.unlink()
        else:
            path.write_text(json.dumps(record, indent=2))


@pytest.fixture
def source(tmp_path: Path) -> Source:
    source = Source(tmp_path / "source")
    source.song("TRHALO", song("SOHALO", "Halo", "ARBEY", "Beyonce", 261.6))
    source.song("TRHELLO", song("SOHELLO", "Hello", "ARADE", "Adele", 295.5))
    return source


def materialize(source: Source, database: Path, days: tuple[str, str], selection: list[str] = SPEC_ASSETS):
    return run_graph(
        resources_for(source.root, database), partition_range=days, selection=selection, raise_on_error=False
    )


def rows(database: Path, sql: str) -> list[tuple]:
    return duckdb_warehouse(database).query(sql)


def test_a_corrected_day_file_leaves_no_stale_user(source: Source, tmp_path: Path) -> None:
    """SPEC.md: every users column is the value of the user's latest event among the events staged now; a user
    with no staged event left is no longer a user."""
    database = tmp_path / "w.duckdb"
    source.day(D1, [play(D1, 1, minute=5, level="free"), play(D1, 2, minute=6, level="free")])
    source.day(D2, [play(D2, 1, minute=5, level="paid"), play(D2, 3, minute=9, level="paid")])
    assert materialize(source, database, (D1, D2)).success
    assert rows(database, "SELECT user_id, level FROM users ORDER BY 1") == [(1, "paid"), (2, "free"), (3, "paid")]
    # Day D2 is corrected: user 1's event was user 2's, and user 3 never existed.
    source.day(D2, [play(D2, 2, minute=5, level="paid")])
    assert materialize(source, database, (D2, D2)).success
    assert rows(database, "SELECT user_id, level FROM users ORDER BY 1") == [(1, "free"), (2, "paid")]


def test_a_corrected_day_reaches_users_through_the_next_users_step_of_any_day(source: Source, tmp_path: Path) -> None:
    """The staging load notes the users it touches: a later users step of another day rebuilds them."""
    database = tmp_path / "w.duckdb"
    source.day(D1, [play(D1, 1, minute=5)])
    source.day(D2, [play(D2, 3, minute=9)])
    assert materialize(source, database, (D1, D2)).success
    source.day(D2, [])
    assert materialize(source, database, (D2, D2), ["staging_events"]).success
    assert materialize(source, database, (D1, D1), ["users"]).success
    assert rows(database, "SELECT user_id FROM users") == [(1,)]


def test_a_catalogue_reload_rematches_the_plays_it_affects(source: Source, tmp_path: Path) -> None:
    """SPEC.md: a matched play names a row of songs and that row's own artist_id, now and after the song
    catalogue is reloaded. Reloading only `staging_songs, artists, songs` re-matches every play built."""
    database = tmp_path / "w.duckdb"
    source.day(D1, [play(D1, 1, minute=5), play(D1, 2, minute=6, song="Hello", artist="Adele", length=295.0)])
    assert materialize(source, database, (D1, D1)).success
    matched = "SELECT song_id, artist_id FROM songplays ORDER BY songplay_id"
    assert rows(database, matched) == [("SOHALO", "ARBEY"), ("SOHELLO", "ARADE")]
    source.song("TRHALO", None)  # the song of the first play leaves the catalogue
    result = materialize(source, database, (D1, D1), ["staging_songs", "artists", "songs"])
    assert result.success
    assert rows(database, matched) == [(None, None), ("SOHELLO", "ARADE")]
    source.song("TRHALO2", song("SOHALO2", "HALO", "ARBEY2", "beyonce", 262.0))  # and comes back as another
    assert materialize(source, database, (D1, D1), ["staging_songs", "artists", "songs"]).success
    assert rows(database, matched) == [("SOHALO2", "ARBEY2"), ("SOHELLO", "ARADE")]
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["songplays_name_their_song"]


def test_one_song_id_in_two_files_gives_the_play_the_catalogue_s_song_and_artist(
    source: Source, tmp_path: Path
) -> None:
    """SPEC.md: songs keeps one record per song_id (the first by source key); a play matched to that song_id
    names that record's artist, never the other file's."""
    database = tmp_path / "w.duckdb"
    # Same song_id, another title and artist, in a file that sorts after TRHALO: songs keeps Halo/Beyonce.
    source.song("TRZZZ", song("SOHALO", "Umbrella", "ARRIH", "Rihanna", 275.0))
    source.day(D1, [play(D1, 1, minute=5, song="Umbrella", artist="Rihanna", length=275.0), play(D1, 2, minute=6)])
    assert materialize(source, database, (D1, D1)).success
    assert rows(database, "SELECT song_id, title, artist_id FROM songs WHERE song_id = 'SOHALO'") == [
        ("SOHALO", "Halo", "ARBEY")
    ]
    assert rows(database, "SELECT song_id, artist_id FROM songplays ORDER BY songplay_id") == [
        (None, None),  # Umbrella is not in the catalogue the dimensions keep
        ("SOHALO", "ARBEY"),
    ]


def test_selecting_part_of_the_song_catalogue_says_to_select_both(source: Source, tmp_path: Path) -> None:
    """artists and songs are one step (they are built together with the plays' re-match): selecting one of
    them alone is refused before anything runs, naming the other."""
    with pytest.raises(DagsterInvalidDefinitionError) as refused:
        run_graph(resources_for(source.root, tmp_path / "w.duckdb"), selection=["songs"])
    assert isinstance(refused.value.__cause__, DagsterInvalidSubsetError)
    assert "AssetKey(['artists']), AssetKey(['songs'])" in str(refused.value.__cause__)
    assert not (tmp_path / "w.duckdb").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("sessionId", 5.7), ("sessionId", 2.5), ("sessionId", -0.5), ("itemInSession", True), ("status", "200x"),
     ("sessionId", 2**63), ("itemInSession", 2**31)],
)  # fmt: skip
def test_a_wrong_typed_optional_field_rejects_the_record(
    source: Source, tmp_path: Path, field: str, value: object
) -> None:
    """SPEC.md: an optional field of the wrong type is never turned into another value; as COPY does, the
    record is rejected with a reason (valid records of the file still load)."""
    database = tmp_path / "w.duckdb"
    source.day(D1, [play(D1, 1, minute=5, **{field: value}), play(D1, 2, minute=6), play(D1, 3, minute=7)])
    assert materialize(source, database, (D1, D1), ["staging_events"]).success
    assert rows(database, "SELECT user_id FROM staging_events ORDER BY 1") == [("2",), ("3",)]
    ((line, reason),) = rows(database, "SELECT line_number, reason FROM staging_rejects")
    assert line == 1 and reason.startswith(f"{field} must be an integer, got ")


def test_a_quoted_integer_loads_as_that_integer(source: Source, tmp_path: Path) -> None:
    """COPY converts a string holding an integer into an INTEGER column; DuckDB does the same, no other value."""
    database = tmp_path / "w.duckdb"
    source.day(D1, [play(D1, 1, minute=5, sessionId="818", itemInSession="3")])
    assert materialize(source, database, (D1, D1), ["staging_events"]).success
    assert rows(database, "SELECT session_id, item_in_session FROM staging_events") == [(818, 3)]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999", "nan"])
def test_a_non_finite_number_is_never_stored(source: Source, tmp_path: Path, value: str) -> None:
    """SPEC.md: NaN or Infinity, bare or quoted, is never stored: the record is rejected, on events and songs."""
    database = tmp_path / "w.duckdb"
    source.day(D1, [play(D1, 1, minute=5, length=value), play(D1, 2, minute=6), play(D1, 3, minute=7)])
    source.song("TRBAD", song("SOBAD", "Bad", "ARBAD", "Bad", 1.0, artist_latitude=value))
    assert materialize(source, database, (D1, D1), ["staging_events", "staging_songs"]).success
    assert rows(database, "SELECT COUNT(*) FROM staging_events WHERE NOT isfinite(length)") == [(0,)]
    assert rows(database, "SELECT COUNT(*) FROM staging_songs WHERE song_id = 'SOBAD'") == [(0,)]
    reasons = sorted(reason for (reason,) in rows(database, "SELECT reason FROM staging_rejects"))
    assert reasons[0].startswith("artist_latitude must be a finite number")
    assert reasons[1].startswith("length must be a finite number")


@pytest.mark.parametrize("year", [1999.6, "1999.6", True])
def test_a_fractional_year_is_rejected_not_rounded(source: Source, tmp_path: Path, year: object) -> None:
    database = tmp_path / "w.duckdb"
    source.song("TRBAD", song("SOBAD", "Bad", "ARBAD", "Bad", 1.0, year=year))
    assert materialize(source, database, (D1, D1), ["staging_songs"]).success
    assert rows(database, "SELECT song_id FROM staging_songs ORDER BY 1") == [("SOHALO",), ("SOHELLO",)]
    assert rows(database, "SELECT reason FROM staging_rejects")[0][0].startswith("year must be an integer")


GOOD_DAY = [play(D2, n, minute=n) for n in range(1, 5)]


@pytest.mark.parametrize(
    ("export", "named"),
    [
        (gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in GOOD_DAY)), "gzip"),
        ("".join(json.dumps(r) + "\n" for r in GOOD_DAY).encode("utf-16"), "UTF-16"),
        ("\r".join(json.dumps(r) for r in GOOD_DAY).encode(), "CR"),
        (("[" + ",\n".join(json.dumps(r) for r in GOOD_DAY) + "]\n").encode(), "JSON array"),
        (b"".join(json.dumps(r).encode() + b"\x00\n" for r in GOOD_DAY), "NUL"),
        (b"no\nnot this\n" + json.dumps(GOOD_DAY[0]).encode() + b"\nnor this\n", "SPARKIFY_MAX_REJECT_PERCENT"),
    ],
    ids=["gzip", "utf-16", "cr-only", "json-array", "nul", "mostly-bad"],
)
def test_a_broken_export_fails_and_keeps_the_days_rows(
    source: Source, tmp_path: Path, export: bytes, named: str
) -> None:
    """SPEC.md: a file that is not UTF-8 JSON text, or of whose records more than a configurable share is
    rejected, fails its partition with an error naming the file, and the partition keeps its previous rows."""
    database = tmp_path / "w.duckdb"
    source.day(D2, GOOD_DAY)
    assert materialize(source, database, (D2, D2)).success
    before = {table: rows(database, f"SELECT * FROM {table} ORDER BY ALL") for table in ("staging_events", "songplays")}
    source.day(D2, export)
    result = materialize(source, database, (D2, D2))
    assert not result.success
    (failure,) = step_events(result, "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    assert "2018-11-05-events.json" in message and named.lower() in message.lower()
    assert not step_events(result, "STEP_UP_FOR_RETRY")
    after = {table: rows(database, f"SELECT * FROM {table} ORDER BY ALL") for table in ("staging_events", "songplays")}
    assert after == before
    assert len(before["songplays"]) == len(GOOD_DAY)


def test_a_symlink_out_of_the_source_is_not_read(source: Source, tmp_path: Path) -> None:
    """SPEC.md: nothing outside the source root is read; a song file linked to a file elsewhere fails the
    catalogue load naming the link, and its text never reaches staging_rejects."""
    database = tmp_path / "w.duckdb"
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = do-not-load\n")
    (source.root / "song_data" / "A" / "B" / "C" / "TRLINK.json").symlink_to(secret)
    result = materialize(source, database, (D1, D1), ["staging_songs"])
    assert not result.success
    (failure,) = step_events(result, "STEP_FAILURE")
    assert "TRLINK.json" in failure.event_specific_data.error.message
    assert rows(database, "SELECT COUNT(*) FROM staging_rejects WHERE raw_text LIKE '%do-not-load%'") == [(0,)]
