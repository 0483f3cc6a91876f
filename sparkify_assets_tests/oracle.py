"""An independent, pure-Python reading of SPEC.md's rules, used to compute what the warehouse must hold.

It shares no code with the package (its reading of a file's records is `tables_oracle.records`, the other
oracle's): if both agree on messy data, the rules are implemented twice, the same way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sparkify_assets_tests.tables_oracle import records, staged_event, staged_song


def _objects(data: bytes) -> tuple[list[dict[str, Any]], int]:
    """Every JSON object of a file (one per line, or spread over lines) and how many records were bad."""
    found = records(data)
    objects = [record for _, record in found if record is not None]
    return objects, len(found) - len(objects)


def _blank(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _norm(value: Any) -> str | None:
    value = _blank(value)
    return value.strip().lower() if isinstance(value, str) else None


def _valid_event(event: dict[str, Any], day: str) -> bool:
    return staged_event(event, "", date.fromisoformat(day)) is not None


def _user_id(event: dict[str, Any]) -> int | None:
    user = event.get("userId")
    if isinstance(user, int):
        return user
    return int(user) if isinstance(user, str) and user.strip() else None


@dataclass
class Expected:
    staging_events: int = 0
    staging_songs: int = 0
    rejects: int = 0
    songplays: int = 0
    matched_plays: Counter = field(default_factory=Counter)  # (ts, user_id, song_id) -> plays
    users: dict[int, str | None] = field(default_factory=dict)  # user_id -> latest level
    songs: int = 0
    songs_unknown_year: int = 0
    artists: int = 0
    time: int = 0
    per_day_events: dict[str, int] = field(default_factory=dict)


def expected_warehouse(root: Path, days: list[str] | None = None) -> Expected:
    """What SPEC.md says the warehouse holds after loading ``days`` (default: every day file) of ``root``."""
    expected = Expected()
    songs: dict[str, dict[str, Any]] = {}
    for path in sorted((root / "song_data").rglob("*.json")):
        objects, bad = _objects(path.read_bytes())
        expected.rejects += bad
        for song in objects:
            if staged_song(song, "") is not None:
                expected.staging_songs += 1
                songs.setdefault(song["song_id"], song)
            else:
                expected.rejects += 1
    expected.songs = len(songs)
    expected.songs_unknown_year = sum(1 for s in songs.values() if not s.get("year"))
    expected.artists = len({_blank(s.get("artist_id")) for s in songs.values()} - {None})

    latest: dict[int, tuple[int, str | None]] = {}
    play_times: set[int] = set()
    for path in sorted((root / "log_data").rglob("*-events.json")):
        day = path.name[:10]
        if days is not None and day not in days:
            continue
        objects, bad = _objects(path.read_bytes())
        expected.rejects += bad
        valid = [event for event in objects if _valid_event(event, day)]
        expected.rejects += len(objects) - len(valid)
        expected.staging_events += len(valid)
        expected.per_day_events[day] = len(valid)
        for event in valid:
            user = _user_id(event)
            if user is not None and (user not in latest or event["ts"] > latest[user][0]):
                latest[user] = (event["ts"], _blank(event.get("level")))
            if _norm(event.get("page")) != "nextsong":
                continue
            expected.songplays += 1
            play_times.add(event["ts"])
            song_id = _match(event, songs)
            if song_id is not None:
                expected.matched_plays[(event["ts"], user, song_id)] += 1
    expected.users = {user: level for user, (_, level) in latest.items()}
    expected.time = len(play_times)
    return expected


def _match(event: dict[str, Any], songs: dict[str, dict[str, Any]]) -> str | None:
    title, artist, length = _norm(event.get("song")), _norm(event.get("artist")), event.get("length")
    if title is None or artist is None or not isinstance(length, int | float):
        return None
    candidates = [
        (abs(song["duration"] - length), song_id)
        for song_id, song in songs.items()
        if _norm(song.get("title")) == title
        and _norm(song.get("artist_name")) == artist
        and isinstance(song.get("duration"), int | float)
        and abs(song["duration"] - length) <= 2.0
    ]
    return min(candidates)[1] if candidates else None
