"""The four dashboard tables on the real sample, against figures computed here from the raw log files.

The expected figures come from an independent pure-Python reading of the events (the plays are the
NextSong events, SPEC.md "Tables"; the day is the UTC day of ts, SPEC.md "Partitions"); the song match
comes from `oracle.py`, which shares no code with the package either.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from dagster import AssetKey
from dagster_aws.s3 import S3Resource

from sparkify_assets.analytics.assets import DASHBOARD_TABLES, SQL
from sparkify_assets.partitions import DayWindow
from sparkify_assets.warehouse.recording import StatementLog
from sparkify_assets.warehouse.redshift.recording import RecordingRedshiftWarehouse
from sparkify_assets.warehouse.sql import render, statements
from sparkify_assets_tests.conftest import duckdb_warehouse, resources_for, run_graph
from sparkify_assets_tests.oracle import expected_warehouse
from sparkify_cli.sql_plan import PlannedSource

ANALYTICS = [table.name for table in DASHBOARD_TABLES]


@dataclass
class Play:
    ts: int
    user: int
    session: int
    item: int
    level: str
    artist: str | None

    @property
    def day(self) -> date:
        return datetime.fromtimestamp(self.ts / 1000, UTC).date()

    @property
    def second_of_day(self) -> int:
        return (self.ts // 1000) % 86400


@dataclass
class Dashboards:
    """What each dashboard table must say, per day, computed from the raw files."""

    user_activity: dict[date, dict[str, int]] = field(default_factory=dict)
    catalogue: dict[date, dict[str, Any]] = field(default_factory=dict)
    artist_plays: dict[tuple[date, str], tuple[int, int]] = field(default_factory=dict)
    top_artists: dict[date, list[str]] = field(default_factory=dict)
    engagement: dict[date, dict[str, Any]] = field(default_factory=dict)


def read_plays(sample: Path) -> list[Play]:
    plays = []
    for path in sorted((sample / "log_data").rglob("*-events.json")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            event = json.loads(line)
            if event["page"] != "NextSong":
                continue
            artist = (event.get("artist") or "").strip() or None
            plays.append(
                Play(
                    event["ts"],
                    int(event["userId"]),
                    event["sessionId"],
                    event["itemInSession"],
                    event["level"],
                    artist,
                )
            )
    return sorted(plays, key=lambda play: (play.ts, play.session, play.item, play.user))


def expected_dashboards(sample: Path) -> Dashboards:
    plays = read_plays(sample)
    expected = Dashboards()
    by_day: dict[date, list[Play]] = defaultdict(list)
    for play in plays:
        by_day[play.day].append(play)

    # Acquiring and retaining users.
    first_day: dict[int, date] = {}
    previous_level: dict[int, str] = {}
    converted: dict[date, set[int]] = defaultdict(set)
    downgraded: dict[date, set[int]] = defaultdict(set)
    for play in plays:
        first_day.setdefault(play.user, play.day)
        before = previous_level.get(play.user)
        if (before, play.level) == ("free", "paid"):
            converted[play.day].add(play.user)
        if (before, play.level) == ("paid", "free"):
            downgraded[play.day].add(play.user)
        previous_level[play.user] = play.level
    for day, day_plays in by_day.items():
        last_level = {play.user: play.level for play in day_plays}  # plays are in time order
        expected.user_activity[day] = {
            "active_users": len(last_level),
            "new_users": sum(1 for user in last_level if first_day[user] == day),
            "returning_users": sum(1 for user in last_level if first_day[user] < day),
            "paid_users": sum(1 for level in last_level.values() if level == "paid"),
            "free_users": sum(1 for level in last_level.values() if level == "free"),
            "conversions_to_paid": len(converted[day]),
            "downgrades_to_free": len(downgraded[day]),
        }

    # Growing the song catalogue: the song match is oracle.py's.
    oracle = expected_warehouse(sample)
    matched_by_day: dict[date, list[str]] = defaultdict(list)
    for (ts, _user, song_id), count in oracle.matched_plays.items():
        matched_by_day[datetime.fromtimestamp(ts / 1000, UTC).date()] += [song_id] * count
    for day, day_plays in by_day.items():
        matched = matched_by_day[day]
        expected.catalogue[day] = {
            "plays": len(day_plays),
            "matched_plays": len(matched),
            "match_share": round(len(matched) / len(day_plays), 4),
            "songs_played": len(set(matched)),
            "songs_known": oracle.songs,
            "artists_known": oracle.artists,
        }

    # Artists: plays and listeners per artist name (trimmed, ignoring case), ranked.
    for day, day_plays in by_day.items():
        listeners: dict[str, set[int]] = defaultdict(set)
        counts: dict[str, int] = defaultdict(int)
        for play in day_plays:
            if play.artist is not None:
                counts[play.artist.lower()] += 1
                listeners[play.artist.lower()].add(play.user)
        for key, count in counts.items():
            expected.artist_plays[(day, key)] = (count, len(listeners[key]))
        ranked = sorted(counts, key=lambda key: (-counts[key], -len(listeners[key]), key))
        expected.top_artists[day] = ranked[:10]

    # Daily engagement: sessions are (user, sessionId) within the day, lengths in whole seconds.
    for day, day_plays in by_day.items():
        sessions: dict[tuple[int, int], list[int]] = defaultdict(list)
        per_user: dict[int, int] = defaultdict(int)
        for play in day_plays:
            sessions[(play.user, play.session)].append(play.second_of_day)
            per_user[play.user] += 1
        lengths = [max(seconds) - min(seconds) for seconds in sessions.values()]
        expected.engagement[day] = {
            "plays": len(day_plays),
            "active_users": len(per_user),
            "plays_per_user": round(len(day_plays) / len(per_user), 4),
            "max_plays_by_one_user": max(per_user.values()),
            "sessions": len(sessions),
            "plays_per_session": round(len(day_plays) / len(sessions), 4),
            "avg_session_minutes": round(sum(lengths) / len(lengths) / 60, 4),
            "longest_session_minutes": round(max(lengths) / 60, 4),
        }
    return expected


@pytest.fixture(scope="module")
def real_dashboards(real_sample: Path, tmp_path_factory: pytest.TempPathFactory):
    database = tmp_path_factory.mktemp("analytics") / "warehouse.duckdb"
    result = run_graph(resources_for(real_sample, database), partition_range=("2018-11-01", "2018-11-30"))
    assert result.success
    return duckdb_warehouse(database), result, expected_dashboards(real_sample)


def partition_metadata(result, asset: str) -> dict[date, dict[str, Any]]:
    """Each partition's materialization metadata, as plain values."""
    return {
        date.fromisoformat(event.partition): {key: value.value for key, value in event.metadata.items()}
        for event in result.asset_materializations_for_node(asset)
    }


def test_the_sample_has_plays_every_day(real_dashboards) -> None:
    _, _, expected = real_dashboards
    assert len(expected.user_activity) == 30
    assert sum(day["plays"] for day in expected.engagement.values()) == 6820  # SPEC.md's songplays


def test_user_activity_matches_the_events(real_dashboards) -> None:
    warehouse, result, expected = real_dashboards
    rows = warehouse.query(
        "SELECT partition_day, active_users, new_users, returning_users, paid_users, free_users, "
        "conversions_to_paid, downgrades_to_free FROM daily_user_activity ORDER BY partition_day"
    )
    figures = list(expected.user_activity[date(2018, 11, 1)])
    assert {row[0]: dict(zip(figures, row[1:], strict=True)) for row in rows} == expected.user_activity
    # Every user with a play is new exactly once.
    (listeners,) = warehouse.query("SELECT COUNT(DISTINCT user_id) FROM songplays")[0]
    assert sum(row[2] for row in rows) == listeners
    metadata = partition_metadata(result, "daily_user_activity")
    for day, day_figures in expected.user_activity.items():
        assert {key: metadata[day][key] for key in day_figures} == day_figures, day


def test_catalogue_coverage_matches_the_song_match(real_dashboards) -> None:
    warehouse, result, expected = real_dashboards
    rows = warehouse.query(
        "SELECT partition_day, plays, matched_plays, match_share, songs_played, songs_known, artists_known "
        "FROM daily_catalogue_coverage ORDER BY partition_day"
    )
    actual = {
        row[0]: {
            "plays": row[1],
            "matched_plays": row[2],
            "match_share": round(row[3], 4),
            "songs_played": row[4],
            "songs_known": row[5],
            "artists_known": row[6],
        }
        for row in rows
    }
    assert actual == expected.catalogue
    # SPEC.md: the one matched play is on 2018-11-21; 71 songs, 69 artists.
    assert [day for day, figures in actual.items() if figures["matched_plays"]] == [date(2018, 11, 21)]
    assert actual[date(2018, 11, 21)]["songs_known"] == 71 and actual[date(2018, 11, 21)]["artists_known"] == 69
    metadata = partition_metadata(result, "daily_catalogue_coverage")
    for day, day_figures in expected.catalogue.items():
        assert {key: metadata[day][key] for key in day_figures} == day_figures, day


def test_artist_plays_match_the_events(real_dashboards) -> None:
    warehouse, result, expected = real_dashboards
    rows = warehouse.query("SELECT partition_day, artist_name, plays, listeners, rank_in_day FROM daily_artist_plays")
    assert {(day, name.lower()): (plays, listeners) for day, name, plays, listeners, _ in rows} == expected.artist_plays
    top = defaultdict(list)
    for day, name, _, _, rank in sorted(rows, key=lambda row: (row[0], row[4])):
        if rank <= 10:
            top[day].append(name.lower())
    assert dict(top) == expected.top_artists
    metadata = partition_metadata(result, "daily_artist_plays")
    for day, names in expected.top_artists.items():
        assert metadata[day]["top_artist"].lower() == names[0]
        assert metadata[day]["top_artist_plays"] == expected.artist_plays[(day, names[0])][0]
        assert metadata[day]["artists_played"] == sum(1 for key in expected.artist_plays if key[0] == day)


def test_artist_ids_link_names_the_catalogue_knows(real_dashboards) -> None:
    warehouse, _, _ = real_dashboards
    linked = warehouse.query(
        "SELECT DISTINCT LOWER(p.artist_name), p.artist_id FROM daily_artist_plays AS p WHERE p.artist_id IS NOT NULL"
    )
    catalogue = warehouse.query("SELECT LOWER(TRIM(name)), MIN(artist_id) FROM artists GROUP BY LOWER(TRIM(name))")
    played = {name for (name,) in warehouse.query("SELECT DISTINCT LOWER(artist_name) FROM daily_artist_plays")}
    assert linked
    assert set(linked) == {(name, artist_id) for name, artist_id in catalogue if name in played}


def test_engagement_matches_the_events(real_dashboards) -> None:
    warehouse, result, expected = real_dashboards
    names = list(expected.engagement[date(2018, 11, 1)])
    rows = warehouse.query(f"SELECT partition_day, {', '.join(names)} FROM daily_engagement ORDER BY partition_day")
    actual = {
        row[0]: {
            name: round(value, 4) if isinstance(value, float) else value
            for name, value in zip(names, row[1:], strict=True)
        }
        for row in rows
    }
    assert actual == expected.engagement
    metadata = partition_metadata(result, "daily_engagement")
    for day, day_figures in expected.engagement.items():
        assert {key: metadata[day][key] for key in day_figures} == day_figures, day


def test_each_table_has_a_markdown_preview_and_its_window(real_dashboards) -> None:
    """Each partition has its own day's rows; what the run's partitions share is named as the run's."""
    warehouse, result, expected = real_dashboards
    for name in ANALYTICS:
        metadata = partition_metadata(result, name)
        assert len(metadata) == 30
        day = metadata[date(2018, 11, 5)]
        assert day["run_window_preview"].startswith("| ") and "|---|" in day["run_window_preview"]
        assert day["run_window"] == "2018-11-01...2018-11-30"
        assert day["dagster/table_name"] == f"main.{name}"
        rows = dict(warehouse.query(f"SELECT partition_day, COUNT(*) FROM {name} GROUP BY partition_day"))
        assert {day: figures["dagster/row_count"] for day, figures in metadata.items()} == rows, name
    month: dict[str, int] = defaultdict(int)
    for (_, key), (plays, _) in expected.artist_plays.items():
        month[key] += plays
    top = sorted(month, key=lambda key: (-month[key], key))[:10]
    preview = partition_metadata(result, "daily_artist_plays")[date(2018, 11, 5)]["run_window_preview"]
    assert [line.split(" | ")[0][2:].lower() for line in preview.splitlines()[2:]] == top


def test_rerunning_a_day_replaces_exactly_that_day(real_dashboards, real_sample: Path) -> None:
    warehouse, _, _ = real_dashboards
    before = {name: warehouse.query(f"SELECT * FROM {name} ORDER BY ALL") for name in ANALYTICS}
    database = Path(warehouse.path)
    rerun = run_graph(resources_for(real_sample, database), partition="2018-11-05", selection=ANALYTICS)
    assert rerun.success
    assert {name: warehouse.query(f"SELECT * FROM {name} ORDER BY ALL") for name in ANALYTICS} == before


def test_summary_lists_the_dashboard_tables(
    real_dashboards, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sparkify summary` (the end of `make run`) shows each dashboard table's rows."""
    from sparkify_cli import summary

    warehouse, _, _ = real_dashboards
    monkeypatch.delenv("SPARKIFY_WAREHOUSE", raising=False)
    monkeypatch.setenv("SPARKIFY_DUCKDB_PATH", warehouse.path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text("")
    summary.run(argparse.Namespace(run_id=None))
    printed = capsys.readouterr().out
    for name in ANALYTICS:
        (rows,) = warehouse.query(f"SELECT COUNT(*) FROM {name}")[0]
        assert re.search(rf"^  {name} +{rows:,}$", printed, re.MULTILINE), printed


def test_summary_says_when_a_dashboard_table_is_not_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sparkify_cli import summary

    warehouse = duckdb_warehouse(tmp_path / "star-only.duckdb")
    warehouse.create_tables()
    monkeypatch.delenv("SPARKIFY_WAREHOUSE", raising=False)
    monkeypatch.setenv("SPARKIFY_DUCKDB_PATH", warehouse.path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text("")
    summary.run(argparse.Namespace(run_id=None))
    printed = capsys.readouterr().out
    assert re.search(r"^  daily_engagement +not built$", printed, re.MULTILINE), printed


def test_analytics_sql_parses_as_redshift() -> None:
    """The SQL is engine-neutral: every statement also parses in sqlglot's Redshift dialect."""
    params = {"start_day": date(2018, 11, 1), "end_day": date(2018, 11, 2), "after_end_day": date(2018, 11, 3)}
    files = sorted(SQL.glob("*.sql"))
    assert len(files) == 9
    for path in files:
        for statement in statements(path.read_text(encoding="utf-8"), params):
            sqlglot.parse_one(statement, read="redshift")
        assert "::" not in render(path.read_text(encoding="utf-8"), params), path.name


def test_analytics_assets_are_daily_and_downstream_of_the_star_schema() -> None:
    from sparkify_assets import defs

    graph = defs.resolve_asset_graph()
    for name in ANALYTICS:
        node = graph.get(AssetKey(name))
        assert node.group_name == "analytics"
        assert node.partitions_def is not None and node.backfill_policy is not None
        assert {key.to_user_string() for key in node.parent_keys} & {"songplays", "artists"}


ARTIST_PLAYS_DAY_FILTER = "AND partition_day BETWEEN :start_day AND :end_day"


@pytest.mark.parametrize("window", [("2018-11-05", "2018-11-05"), ("2018-11-01", "2018-11-30")], ids=["day", "month"])
def test_artist_plays_read_staging_by_partition_day_and_get_the_same_rows(
    real_dashboards, window: tuple[str, str]
) -> None:
    """Issue 13: daily_artist_plays filters stg_events on partition_day (staging_events' sort key) as well as on
    start_time, computed from ts, which alone scans every day. On the real sample, the query gives the same
    rows with the filter as without it (SPEC.md, "Partitions": a day's file holds the events of its UTC day)."""
    warehouse, _, _ = real_dashboards
    sql = (SQL / "daily_artist_plays.sql").read_text(encoding="utf-8")
    assert sql.count(ARTIST_PLAYS_DAY_FILTER) == 1
    params = DayWindow(date.fromisoformat(window[0]), date.fromisoformat(window[1])).sql_params
    (insert,) = [s for s in statements(sql, params) if s.startswith("INSERT")]
    (query_without,) = [
        s for s in statements(sql.replace(ARTIST_PLAYS_DAY_FILTER, ""), params) if s.startswith("INSERT")
    ]

    def rows(statement: str) -> list[tuple[Any, ...]]:
        query = statement[statement.index("WITH played AS") :]
        return sorted(warehouse.query(query))

    with_filter = rows(insert)
    assert with_filter and with_filter == rows(query_without)


def test_artist_plays_filter_staging_on_partition_day_in_what_redshift_is_sent(tmp_path: Path) -> None:
    log = StatementLog()
    warehouse = RecordingRedshiftWarehouse(iam_role_arn="arn:aws:iam::123456789012:role/x", recorder=log)
    source = PlannedSource(uri="s3://udacity-dend", s3=S3Resource())
    assert run_graph(
        {"warehouse": warehouse, "source": source}, partition="2018-11-05", selection=["daily_artist_plays"]
    ).success
    (insert,) = [s.sql for s in log.statements if s.sql.startswith("INSERT INTO daily_artist_plays")]
    assert "AND partition_day BETWEEN DATE '2018-11-05' AND DATE '2018-11-05'" in re.sub(r"\s+", " ", insert)
