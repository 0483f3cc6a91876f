"""An independent, pure-Python reading of SPEC.md that computes every warehouse table, row by row.

`oracle.py` counts; this module builds the rows themselves, from file contents held in memory, so a test
can ask "what must each table hold now?" after any sequence of operations (the stateful test in
`sparkify_assets_tests/sequences/`). It shares no code with the package: Python's `json` decides what a
record is, and the SPEC rules are written out again here, plainly, in Python.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

DAY_MS = 86_400_000
EPOCH = date(1970, 1, 1)

EVENT_COLUMNS = (
    "artist", "auth", "first_name", "gender", "item_in_session", "last_name", "length", "level", "location",
    "method", "page", "registration", "session_id", "song", "status", "ts", "user_agent", "user_id",
    "source_key", "partition_day",
)  # fmt: skip
SONG_COLUMNS = (
    "num_songs", "artist_id", "artist_latitude", "artist_longitude", "artist_location", "artist_name",
    "song_id", "title", "duration", "year", "source_key",
)  # fmt: skip

#: (source field, staging column, kind) of the event fields in source order; kinds: text, int32, int64, number.
EVENT_FIELDS = (
    ("artist", "artist", "text"), ("auth", "auth", "text"), ("firstName", "first_name", "text"),
    ("gender", "gender", "text"), ("itemInSession", "item_in_session", "int32"),
    ("lastName", "last_name", "text"), ("length", "length", "number"), ("level", "level", "text"),
    ("location", "location", "text"), ("method", "method", "text"), ("page", "page", "text"),
    ("registration", "registration", "number"), ("sessionId", "session_id", "int64"),
    ("song", "song", "text"), ("status", "status", "int32"), ("userAgent", "user_agent", "text"),
)  # fmt: skip
SONG_FIELDS = (
    ("num_songs", "num_songs", "int32"), ("artist_id", "artist_id", "text"),
    ("artist_latitude", "artist_latitude", "number"), ("artist_longitude", "artist_longitude", "number"),
    ("artist_location", "artist_location", "text"), ("artist_name", "artist_name", "text"),
    ("title", "title", "text"), ("duration", "duration", "number"), ("year", "year", "int32"),
)  # fmt: skip

_INTEGER_TEXT = re.compile(r"-?[0-9]{1,19}")
_NUMBER_TEXT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_USER_ID = re.compile(r"-?[0-9]{1,10}")
_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class _NotJsonNumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotJsonNumber(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJsonNumber(text)
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


# -- records ------------------------------------------------------------------------------------------------
def records(data: bytes) -> list[tuple[int, dict[str, Any] | None]]:
    """Every record of a file, ``(first line number, object or None when it is not a valid JSON object)``.

    Records are JSON objects one after another, separated by whitespace (one a line, or spread over several
    lines); where no object can be read, the rest of that line is one bad record.
    """
    text = data.decode("utf-8-sig")
    found: list[tuple[int, dict[str, Any] | None]] = []
    position, line = 0, 1
    while position < len(text):
        while position < len(text) and text[position] in " \t\r\n":
            line += text[position] == "\n"
            position += 1
        if position >= len(text):
            break
        line_end = text.find("\n", position)
        line_end = len(text) if line_end < 0 else line_end
        try:
            value, end = _DECODER.raw_decode(text, position)
            after = text.find("\n", end)
            if not isinstance(value, dict) or text[end : len(text) if after < 0 else after].strip():
                raise ValueError("not one object on its lines")
            found.append((line, value))
            line += text.count("\n", position, end)
            position = end
        except (ValueError, RecursionError):
            found.append((line, None))
            position = line_end
    return found


def _typed(value: Any, kind: str) -> tuple[bool, Any]:
    """``(ok, stored value)`` of an optional field, as SPEC.md's type rule and COPY's conversions say."""
    if value is None:
        return True, None
    if kind == "text":
        return True, value if isinstance(value, str) else json.dumps(value)
    if isinstance(value, bool | dict | list):
        return False, None
    if kind in _RANGES:
        if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
            value = int(value)
        if not isinstance(value, int):
            return False, None
        low, high = _RANGES[kind]
        return (True, value) if low <= value <= high else (False, None)
    if isinstance(value, str):
        if not _NUMBER_TEXT.fullmatch(value):
            return False, None
        value = float(value)
    try:
        number = float(value)
    except OverflowError:
        return False, None
    return (True, number) if math.isfinite(number) else (False, None)


def staged_event(event: dict[str, Any], key: str, day: date) -> tuple[Any, ...] | None:
    """The staging_events row of a valid event, or None when SPEC.md rejects it."""
    ts = event.get("ts")
    if not isinstance(ts, int) or isinstance(ts, bool):
        return None
    start = (day - EPOCH).days * DAY_MS
    if not start <= ts < start + DAY_MS:
        return None
    user = event.get("userId")
    if isinstance(user, bool) or not (user is None or isinstance(user, int | str)):
        return None
    user_text = None if user is None else str(user).strip(" ") if isinstance(user, str) else str(user)
    if user_text and not (_USER_ID.fullmatch(user_text) and -(2**31) <= int(user_text) < 2**31):
        return None
    values: dict[str, Any] = {}
    for field, column, kind in EVENT_FIELDS:
        ok, values[column] = _typed(event.get(field), kind)
        if not ok:
            return None
    values.update(ts=ts, user_id=user_text, source_key=key, partition_day=day)
    return tuple(values[column] for column in EVENT_COLUMNS)


def staged_song(song: dict[str, Any], key: str) -> tuple[Any, ...] | None:
    song_id = song.get("song_id")
    if not isinstance(song_id, str) or not song_id.strip(" "):
        return None
    values: dict[str, Any] = {"song_id": song_id, "source_key": key}
    for field, column, kind in SONG_FIELDS:
        ok, values[column] = _typed(song.get(field), kind)
        if not ok:
            return None
    return tuple(values[column] for column in SONG_COLUMNS)


@dataclass(frozen=True)
class Staged:
    """What staging holds for some files: rows and the (source key, line number) of every reject."""

    rows: tuple[tuple[Any, ...], ...]
    rejects: tuple[tuple[str, int], ...]

    @property
    def records(self) -> int:
        return len(self.rows) + len(self.rejects)


def stage_day(key: str, day: date, data: bytes) -> Staged:
    rows, rejects = [], []
    for line, record in records(data):
        row = staged_event(record, key, day) if record is not None else None
        (rows.append(row) if row is not None else rejects.append((key, line)))
    return Staged(tuple(rows), tuple(rejects))


def stage_songs(files: Mapping[str, bytes]) -> Staged:
    rows, rejects = [], []
    for key in sorted(files):
        for line, record in records(files[key]):
            row = staged_song(record, key) if record is not None else None
            (rows.append(row) if row is not None else rejects.append((key, line)))
    return Staged(tuple(rows), tuple(rejects))


# -- the cleaned views ----------------------------------------------------------------------------------------
def _clean(value: Any) -> Any:
    """Blank strings become NULL (SQL's TRIM removes spaces)."""
    if isinstance(value, str):
        value = value.strip(" ")
        return value or None
    return value


def clean_event(row: tuple[Any, ...]) -> dict[str, Any]:
    event = dict(zip(EVENT_COLUMNS, row, strict=True))
    cleaned = {column: _clean(value) for column, value in event.items()}
    cleaned["user_id"] = int(cleaned["user_id"]) if cleaned["user_id"] is not None else None
    cleaned["start_time"] = datetime(1970, 1, 1) + timedelta(milliseconds=event["ts"])
    return cleaned


def clean_song(row: tuple[Any, ...]) -> dict[str, Any]:
    song = {column: _clean(value) for column, value in zip(SONG_COLUMNS, row, strict=True)}
    song["year"] = None if song["year"] == 0 else song["year"]
    return song


# -- ordering helpers: SQL's NULLS LAST in both directions ------------------------------------------------------
def _asc(value: Any) -> tuple[int, Any]:
    return (1, 0) if value is None else (0, value)


class _Desc:
    """Sorts descending, NULLs last."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        if self.value is None or other.value is None:
            return self.value is not None and other.value is None
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value


# -- the star schema --------------------------------------------------------------------------------------------
def song_choice(staged_songs: Iterable[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    """One record per song_id: the first by source key, then by its other columns (NULLs last)."""
    chosen: dict[str, dict[str, Any]] = {}
    order = ("source_key", "title", "artist_id", "artist_name", "year", "duration")
    for song in sorted((clean_song(row) for row in staged_songs), key=lambda s: [_asc(s[c]) for c in order]):
        chosen.setdefault(song["song_id"], song)
    return chosen


def songs_table(staged_songs: Iterable[tuple[Any, ...]]) -> Counter:
    return Counter(
        (s["song_id"], s["title"], s["artist_id"], s["year"], s["duration"]) for s in song_choice(staged_songs).values()
    )


def artists_table(staged_songs: Iterable[tuple[Any, ...]]) -> Counter:
    """Per artist_id, the song record that knows most about the artist, then the smallest song_id, ..."""
    best: dict[str, tuple[Any, dict[str, Any]]] = {}
    for song in (clean_song(row) for row in staged_songs):
        if song["artist_id"] is None:
            continue
        facts = ("artist_name", "artist_location", "artist_latitude", "artist_longitude")
        rank = (
            sum(song[f] is None for f in facts),
            song["song_id"],
            song["source_key"],
            *(_asc(song[f]) for f in facts),
        )
        if song["artist_id"] not in best or rank < best[song["artist_id"]][0]:
            best[song["artist_id"]] = (rank, song)
    return Counter(
        (artist_id, s["artist_name"], s["artist_location"], s["artist_latitude"], s["artist_longitude"])
        for artist_id, (_, s) in best.items()
    )


def match(play: dict[str, Any], catalogue: Mapping[str, dict[str, Any]]) -> tuple[str | None, str | None]:
    """SPEC.md's song match against the songs the catalogue holds: ``(song_id, artist_id)`` or NULLs."""
    title, artist, length = play["song"], play["artist"], play["length"]
    if title is None or artist is None or length is None:
        return None, None
    candidates = [
        (abs(song["duration"] - length), song_id)
        for song_id, song in catalogue.items()
        if song["title"] is not None
        and song["artist_name"] is not None
        and song["duration"] is not None
        and song["title"].lower() == title.lower()
        and song["artist_name"].lower() == artist.lower()
        and abs(song["duration"] - length) <= 2.0
    ]
    if not candidates:
        return None, None
    song_id = min(candidates)[1]
    return song_id, catalogue[song_id]["artist_id"]


def plays_of_day(day_rows: Iterable[tuple[Any, ...]], catalogue: Mapping[str, dict[str, Any]]) -> dict[int, tuple]:
    """songplays of one day, by songplay_id: days since 1970 * 10^9 + rank of the play by all its columns."""
    plays = [event for event in map(clean_event, day_rows) if event["page"] == "NextSong"]
    order = ("ts", "session_id", "item_in_session", "user_id", "song", "artist", "length", "level", "location")
    plays.sort(key=lambda p: [_asc(p[c]) for c in (*order, "user_agent")])
    rows: dict[int, tuple] = {}
    for rank, play in enumerate(plays, start=1):
        songplay_id = (play["partition_day"] - EPOCH).days * 1_000_000_000 + rank
        song_id, artist_id = match(play, catalogue)
        rows[songplay_id] = (
            songplay_id, play["start_time"], play["user_id"], play["level"], song_id, artist_id,
            play["session_id"], play["location"], play["user_agent"],
        )  # fmt: skip
    return rows


def time_of_day(day_rows: Iterable[tuple[Any, ...]]) -> set[tuple]:
    times = {event["start_time"] for event in map(clean_event, day_rows) if event["page"] == "NextSong"}
    return {(t, t.hour, t.day, t.isocalendar()[1], t.month, t.year, (t.weekday() + 1) % 7) for t in times}


def users_table(staged_events: Iterable[tuple[Any, ...]]) -> Counter:
    """Each user's columns from the latest event by ts (ties: the SQL's documented order)."""
    latest: dict[int, tuple[Any, dict[str, Any]]] = {}
    for event in map(clean_event, staged_events):
        if event["user_id"] is None:
            continue
        order = ("ts", "session_id", "item_in_session", "level", "first_name", "last_name", "gender")
        rank = [_Desc(event[c]) for c in order]
        if event["user_id"] not in latest or rank < latest[event["user_id"]][0]:
            latest[event["user_id"]] = (rank, event)
    return Counter((user, e["first_name"], e["last_name"], e["gender"], e["level"]) for user, (_, e) in latest.items())
