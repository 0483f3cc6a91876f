"""The sample-data generator writes SPEC.md's source layout ("Sources") with the real data's quirks.

Every expected figure is computed here from the written files with an independent, tolerant reader;
the only fixed numbers are those implied by the generator's arguments (files per day, events per day...).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from sparkify_assets_tests.conftest import real_sample_dir
from sparkify_cli.main import main
from sparkify_sample.catalogue import SONG_FIELDS
from sparkify_sample.events import EVENT_FIELDS
from sparkify_sample.generator import SampleSummary, generate_sample

# SPEC.md: the real sample (SPARKIFY_SAMPLE_DIR or ../shared/data/udacity-sample; tests may read it).
REAL_SAMPLE = real_sample_dir()

SAMPLE_ARGS = {
    "songs": 60,
    "days": 4,
    "events_per_day": 700,
    "users": 60,
    "seed": 7,
    "start": date(2018, 11, 29),
}  # crosses a month boundary
MALFORMED_ARGS = {"songs": 20, "days": 3, "events_per_day": 200, "users": 20, "seed": 3, "malformed_per_day": 4}
MATCH_TOLERANCE_S = 2.0  # SPEC.md's song match, spelled here as the oracle's own (not rules.py's)
ALL_PAGES = {
    "NextSong",
    "Home",
    "Login",
    "Logout",
    "Settings",
    "Upgrade",
    "Downgrade",
    "Help",
    "About",
    "Save Settings",
    "Submit Upgrade",
    "Submit Downgrade",
    "Error",
}


# --- an independent, tolerant reader -------------------------------------------------------------------


@dataclass
class DayFile:
    """What a tolerant reader finds in one file: records, blank lines, pretty-printed objects, bad lines."""

    path: Path
    records: list[dict] = field(default_factory=list)
    raw_records: list[str] = field(default_factory=list)  # the single-line records, as written
    blank_lines: int = 0
    multi_line_objects: int = 0
    bad_lines: list[tuple[str, str]] = field(default_factory=list)  # (reason, line)


def reject_reason(value: object) -> str | None:
    """SPEC.md "Bad records" for events: why this parsed value must be rejected, or None."""
    if not isinstance(value, dict):
        return "not an object"
    if "ts" not in value:
        return "missing ts"
    if type(value["ts"]) is not int:
        return "ts of the wrong type"
    user_id = value.get("userId")
    if user_id not in (None, "") and not (isinstance(user_id, str) and user_id.isdigit()):
        return "userId not an integer"
    return None


def read_day_file(path: Path) -> DayFile:
    scan = DayFile(path)
    lines = path.read_bytes().decode("utf-8").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            scan.blank_lines += 1
            index += 1
            continue
        if line.strip() == "{":  # a pretty-printed object: read up to its closing brace
            end = lines.index("}", index)
            value, raw, multi_line = json.loads("\n".join(lines[index : end + 1])), None, True
            index = end + 1
        else:
            index += 1
            try:
                value, raw, multi_line = json.loads(line), line, False
            except ValueError:
                scan.bad_lines.append(("not valid JSON", line))
                continue
        reason = reject_reason(value)
        if reason:
            scan.bad_lines.append((reason, line))
            continue
        scan.records.append(value)
        scan.multi_line_objects += multi_line
        if raw is not None:
            scan.raw_records.append(raw)
    return scan


@dataclass
class Sample:
    root: Path
    summary: SampleSummary
    days: list[DayFile]
    songs: list[tuple[Path, dict, str]]  # (path, record, raw text)

    @property
    def events(self) -> list[dict]:
        return [record for day in self.days for record in day.records]

    @property
    def plays(self) -> list[dict]:
        return [event for event in self.events if event["page"] == "NextSong"]


def day_path(root: Path, day: date) -> Path:
    return root / "log_data" / f"{day:%Y}" / f"{day:%m}" / f"{day:%Y-%m-%d}-events.json"


def load(root: Path, summary: SampleSummary) -> Sample:
    days = [read_day_file(path) for path in sorted((root / "log_data").rglob("*.json"))]
    songs = []
    for path in sorted((root / "song_data").rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        songs.append((path, json.loads(text), text))
    return Sample(root, summary, days, songs)


def all_files(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    root = tmp_path_factory.mktemp("sample") / "out"
    return load(root, generate_sample(root, **SAMPLE_ARGS))


@pytest.fixture(scope="module")
def malformed_sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    root = tmp_path_factory.mktemp("malformed") / "out"
    return load(root, generate_sample(root, **MALFORMED_ARGS))


# --- determinism and layout ------------------------------------------------------------------------------


def test_same_arguments_give_byte_identical_files(sample: Sample, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_sample(again, **SAMPLE_ARGS)
    assert all_files(again) == all_files(sample.root)
    other_seed = tmp_path / "other-seed"
    generate_sample(other_seed, **{**SAMPLE_ARGS, "seed": SAMPLE_ARGS["seed"] + 1})
    assert all_files(other_seed) != all_files(sample.root)


def test_layout_one_file_per_day_and_per_song(sample: Sample) -> None:
    """SPEC.md "Sources": song_data/A/B/C/TR....json and log_data/YYYY/MM/YYYY-MM-DD-events.json."""
    start, days = SAMPLE_ARGS["start"], SAMPLE_ARGS["days"]
    expected_days = [day_path(sample.root, start + timedelta(days=n)) for n in range(days)]
    assert [day.path for day in sample.days] == expected_days
    assert {path.parent.name for path in expected_days} == {"11", "12"}
    assert len(sample.songs) == SAMPLE_ARGS["songs"]
    for path, record, _ in sample.songs:
        track_id = path.stem
        assert re.fullmatch(r"TR[A-Z0-9]{16}", track_id)
        folders = path.relative_to(sample.root / "song_data").parts[:3]
        assert folders == (track_id[2], track_id[3], track_id[4])
        assert re.fullmatch(r"SO[A-Z0-9]{16}", record["song_id"])
        assert re.fullmatch(r"AR[A-Z0-9]{16}", record["artist_id"])
    assert len({record["song_id"] for _, record, _ in sample.songs}) == len(sample.songs)
    summary = sample.summary
    assert (summary.song_files, summary.event_files) == (len(sample.songs), days)
    assert summary.events_written == len(sample.events) == days * SAMPLE_ARGS["events_per_day"]
    assert summary.bytes_written == sum(len(data) for data in all_files(sample.root).values())


def test_jsonpaths_file_lists_the_event_columns_in_order(sample: Sample) -> None:
    text = (sample.root / "log_json_path.json").read_text()
    assert json.loads(text) == {"jsonpaths": [f"$['{name}']" for name in EVENT_FIELDS]}
    if REAL_SAMPLE is not None:
        assert text == (REAL_SAMPLE / "log_json_path.json").read_text()


@pytest.mark.skipif(REAL_SAMPLE is None, reason="the real Udacity sample is not available")
def test_keys_and_formatting_match_the_real_sample(sample: Sample) -> None:
    real_song_path = next(iter(sorted((REAL_SAMPLE / "song_data").rglob("*.json"))))
    real_song = json.loads(real_song_path.read_text())
    real_day = next(iter(sorted((REAL_SAMPLE / "log_data").rglob("*.json"))))
    real_event = json.loads(real_day.read_text().split("\n")[0])
    assert list(real_song) == list(SONG_FIELDS)
    assert list(real_event) == list(EVENT_FIELDS)
    for _, record, raw in sample.songs:
        assert list(record) == list(real_song)
        if "\n" not in raw:  # same separators as the real files: `{"num_songs": 1, "artist_id": ...}`
            assert raw == json.dumps(record)
    for event in sample.events:
        assert list(event) == list(real_event)


# --- events: format, timestamps, quirks -------------------------------------------------------------------


def test_event_lines_are_compact_with_escaped_slashes(sample: Sample) -> None:
    raw_lines = [raw for day in sample.days for raw in day.raw_records]
    assert raw_lines
    for raw in raw_lines:
        assert raw == json.dumps(json.loads(raw), separators=(",", ":")).replace("/", "\\/")
    agents = [event["userAgent"] for event in sample.events if event["userAgent"]]
    quoted = [agent for agent in agents if agent.startswith('"') and agent.endswith('"')]
    assert 0 < len(quoted) < len(agents), "user agents are sometimes wrapped in literal quotes"
    assert any("\\/" in raw and '"userAgent":"\\"' in raw for raw in raw_lines)


def test_event_field_types(sample: Sample) -> None:
    for event in sample.events:
        assert type(event["ts"]) is int
        assert isinstance(event["userId"], str)
        assert all(type(event[key]) is int for key in ("sessionId", "itemInSession", "status"))
        assert event["registration"] is None or type(event["registration"]) is float
        assert event["length"] is None or type(event["length"]) is float
        assert event["level"] in {"free", "paid"}


def test_ts_is_within_the_partition_day_and_ascending(sample: Sample) -> None:
    """SPEC.md "Partitions": the file of a day holds exactly the events whose ts falls on that UTC day."""
    for day in sample.days:
        partition = date.fromisoformat(day.path.name[:10])
        start = int(datetime(partition.year, partition.month, partition.day, tzinfo=UTC).timestamp() * 1000)
        stamps = [event["ts"] for event in day.records]
        assert stamps == sorted(stamps)
        assert start <= stamps[0] and stamps[-1] < start + 86_400_000


def test_sessions_number_their_items_in_order(sample: Sample) -> None:
    items: dict[int, list[int]] = defaultdict(list)
    for event in sample.events:
        items[event["sessionId"]].append(event["itemInSession"])
    assert len(items) > 1
    for numbers in items.values():
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_blank_lines_and_multi_line_objects_occur(sample: Sample) -> None:
    """SPEC.md "Sources": blank lines and multi-line objects occur in the event files and song files."""
    assert sum(day.blank_lines for day in sample.days) > 0
    assert sum(day.multi_line_objects for day in sample.days) > 0
    assert sum(len(day.bad_lines) for day in sample.days) == 0, "no broken lines unless asked"
    pretty_songs = [raw for _, _, raw in sample.songs if "\n" in raw]
    assert 0 < len(pretty_songs) < len(sample.songs)


def test_logged_out_events_have_an_empty_user_id_and_null_user_fields(sample: Sample) -> None:
    logged_out = [event for event in sample.events if event["auth"] == "Logged Out"]
    assert 0 < len(logged_out) < len(sample.events) * 0.15
    for event in logged_out:
        assert event["userId"] == ""
        assert all(
            event[key] is None
            for key in (
                "firstName",
                "lastName",
                "gender",
                "location",
                "userAgent",
                "registration",
                "artist",
                "song",
                "length",
            )
        )
        assert event["page"] in {"Home", "Login", "About", "Help"}
    assert {event["page"] for event in logged_out} >= {"Home", "Login"}
    for event in sample.events:
        if event["auth"] == "Logged In":
            assert event["userId"].isdigit() and event["firstName"] and event["registration"]


def test_pages_are_mostly_next_song_and_only_plays_have_a_song(sample: Sample) -> None:
    pages = Counter(event["page"] for event in sample.events)
    assert set(pages) == ALL_PAGES
    assert 0.78 <= pages["NextSong"] / len(sample.events) <= 0.88
    for event in sample.events:
        song_fields = (event["artist"], event["song"], event["length"])
        if event["page"] == "NextSong":
            assert all(value is not None for value in song_fields)
        else:
            assert song_fields == (None, None, None)


def test_some_users_change_level_both_ways(sample: Sample) -> None:
    """SPEC.md: users.level is the latest event's level, so the first and the latest must sometimes differ."""
    levels: dict[str, list[str]] = defaultdict(list)
    for event in sorted(sample.events, key=lambda event: event["ts"]):
        if event["userId"]:
            levels[event["userId"]].append(event["level"])
    changes = Counter((seen[0], seen[-1]) for seen in levels.values() if seen[0] != seen[-1])
    assert changes[("free", "paid")] > 0
    assert changes[("paid", "free")] > 0
    assert changes[("free", "paid")] + changes[("paid", "free")] < len(levels) / 2
    submits = {event["page"] for event in sample.events if event["page"].startswith("Submit")}
    assert submits == {"Submit Upgrade", "Submit Downgrade"}


# --- songs and the song match -------------------------------------------------------------------------------


def test_song_file_quirks(sample: Sample) -> None:
    """SPEC.md: year 0 means unknown, blank strings become NULL, one artist_id may have several spellings."""
    records = [record for _, record, _ in sample.songs]
    unknown_year = sum(record["year"] == 0 for record in records)
    assert 0.2 * len(records) <= unknown_year <= 0.8 * len(records)
    assert any(record["artist_location"] == "" for record in records)
    assert any(record["artist_latitude"] is None and record["artist_longitude"] is None for record in records)
    assert any(isinstance(record["artist_latitude"], float) for record in records)
    assert all(record["num_songs"] == 1 and record["duration"] > 0 for record in records)
    spellings: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for record in records:
        spellings[record["artist_id"]].add((record["artist_name"], record["artist_location"]))
    assert any(len(variants) > 1 for variants in spellings.values())
    assert len(spellings) < len(records), "several songs share an artist_id"


@dataclass
class PlayMatch:
    """A NextSong event against the songs, by SPEC.md's rule (trim, ignore case, duration within 2.0 s)."""

    known_pair: bool  # some song has this title+artist (after trim/ignoring case)
    candidates: list[tuple[float, str, dict]]  # (|duration - length|, song_id, song) within tolerance
    exact_names: bool  # the event's strings equal the matched song's as written


def match_plays(sample: Sample) -> list[PlayMatch]:
    by_pair: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for _, record, _ in sample.songs:
        by_pair[(record["title"].strip(" ").lower(), record["artist_name"].strip(" ").lower())].append(record)
    matches = []
    for play in sample.plays:
        songs = by_pair.get((play["song"].strip(" ").lower(), play["artist"].strip(" ").lower()), [])
        candidates = sorted(
            (abs(song["duration"] - play["length"]), song["song_id"], song)
            for song in songs
            if abs(song["duration"] - play["length"]) <= MATCH_TOLERANCE_S
        )
        exact = bool(candidates) and (play["song"], play["artist"]) == (
            candidates[0][2]["title"],
            candidates[0][2]["artist_name"],
        )
        matches.append(PlayMatch(bool(songs), candidates, exact))
    return matches


def test_plays_match_known_songs_with_every_kind_of_near_miss(sample: Sample) -> None:
    """SPEC.md songplays: title/artist equal after trim and ignoring case, duration within 2.0 s."""
    matches = match_plays(sample)
    matched = [match for match in matches if match.candidates]
    assert 0.3 <= len(matched) / len(matches) <= 0.6
    assert any(match.exact_names for match in matched)
    assert any(not match.exact_names for match in matched), "a match only after trimming/ignoring case"
    assert any(match.candidates[0][0] > 0 for match in matched), "a match with an inexact length"
    assert any(match.candidates[0][0] == 0 for match in matched)
    assert any(match.known_pair and not match.candidates for match in matches), "length more than 2.0 s away"
    assert any(not match.known_pair for match in matches), "a play of an unknown song"
    assert any(len(match.candidates) > 1 for match in matched), "two songs within 2.0 s: the closest wins"


def test_duplicate_title_and_artist_pairs_have_different_durations(sample: Sample) -> None:
    durations: dict[tuple[str, str], set[float]] = defaultdict(set)
    for _, record, _ in sample.songs:
        durations[(record["title"], record["artist_name"])].add(record["duration"])
    assert any(len(values) > 1 for values in durations.values())


# --- bad records, empty partitions, arguments -------------------------------------------------------------


def test_malformed_lines_are_added_only_when_asked(malformed_sample: Sample) -> None:
    """SPEC.md "Bad records": invalid JSON, missing or mistyped ts, a userId that is not an integer."""
    per_day, events_per_day = MALFORMED_ARGS["malformed_per_day"], MALFORMED_ARGS["events_per_day"]
    for day in malformed_sample.days:
        assert len(day.bad_lines) == per_day
        assert len(day.records) == events_per_day
    reasons = Counter(reason for day in malformed_sample.days for reason, _ in day.bad_lines)
    assert set(reasons) == {"not valid JSON", "missing ts", "ts of the wrong type", "userId not an integer"}
    assert malformed_sample.summary.malformed_lines == per_day * MALFORMED_ARGS["days"]
    assert malformed_sample.summary.events_written == events_per_day * MALFORMED_ARGS["days"]


def test_zero_events_per_day_writes_empty_partitions(tmp_path: Path) -> None:
    """SPEC.md: an empty file is an empty partition."""
    summary = generate_sample(tmp_path / "empty", songs=3, days=2, events_per_day=0, users=2)
    files = sorted((tmp_path / "empty" / "log_data").rglob("*.json"))
    assert [path.name for path in files] == ["2018-11-01-events.json", "2018-11-02-events.json"]
    assert all(path.stat().st_size == 0 for path in files)
    assert (summary.event_files, summary.events_written) == (2, 0)


def test_an_existing_sample_is_replaced_only_when_asked(tmp_path: Path) -> None:
    root = tmp_path / "out"
    generate_sample(root, songs=5, days=2, events_per_day=10, users=3)
    with pytest.raises(FileExistsError):
        generate_sample(root, songs=5, days=1, events_per_day=10, users=3)
    generate_sample(root, songs=4, days=1, events_per_day=10, users=3, overwrite=True)
    assert len(list((root / "log_data").rglob("*.json"))) == 1
    assert len(list((root / "song_data").rglob("*.json"))) == 4


@pytest.mark.parametrize("argument", ["songs", "days", "events_per_day", "users", "malformed_per_day"])
def test_negative_counts_are_refused(tmp_path: Path, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        generate_sample(tmp_path / "x", **{argument: -1})


def test_cli_writes_the_same_files_as_the_function(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    options = [
        "--songs",
        "8",
        "--days",
        "2",
        "--events-per-day",
        "40",
        "--start",
        "2018-11-05",
        "--seed",
        "9",
        "--users",
        "6",
        "--malformed-per-day",
        "1",
    ]
    assert main(["sample", "--out", str(tmp_path / "cli"), *options]) == 0
    summary_line = capsys.readouterr().out.strip()
    assert "80 events" in summary_line and "2 malformed lines" in summary_line and "MB" in summary_line
    generate_sample(
        tmp_path / "direct",
        songs=8,
        days=2,
        events_per_day=40,
        start=date(2018, 11, 5),
        seed=9,
        users=6,
        malformed_per_day=1,
    )
    assert all_files(tmp_path / "cli") == all_files(tmp_path / "direct")
    assert main(["sample", "--out", str(tmp_path / "cli"), *options]) == 2, "refuses to overwrite"
    assert "already exists" in capsys.readouterr().err
    assert main(["sample", "--out", str(tmp_path / "cli"), "--days", "1", "--overwrite"]) == 0
    assert len(list((tmp_path / "cli" / "log_data").rglob("*.json"))) == 1


def test_cli_rejects_bad_options(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["sample", "--out", str(tmp_path), "--start", "2018-13-01"])
    with pytest.raises(SystemExit):
        main(["sample", "--out", str(tmp_path), "--days", "-1"])
    with pytest.raises(SystemExit):
        main(["sample", "--days", "1"])  # --out is required
