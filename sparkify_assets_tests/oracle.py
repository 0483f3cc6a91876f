"""An independent, pure-Python reading of SPEC.md's rules, used to compute what the warehouse must hold.

It shares no code with the package: if both agree on messy data, the rules are implemented twice, the
same way.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

_DECODER = json.JSONDecoder()
_INTEGER = re.compile(r"-?\d{1,10}")


def _objects(text: str) -> tuple[list[dict[str, Any]], int]:
    """Every JSON object of a file (one per line, or spread over lines) and how many records were bad."""
    objects: list[dict[str, Any]] = []
    bad = 0
    position = 0
    while position < len(text):
        while position < len(text) and text[position] in " \t\r\n\ufeff":
            position += 1
        if position >= len(text):
            break
        line_end = text.find("\n", position)
        line_end = len(text) if line_end < 0 else line_end
        try:
            value, end = _DECODER.raw_decode(text, position)
            rest_of_line = text[end : (text.find("\n", end) if text.find("\n", end) >= 0 else len(text))]
            if not isinstance(value, dict) or rest_of_line.strip():
                raise ValueError("not one object")
            objects.append(value)
            position = end
        except (ValueError, RecursionError):
            bad += 1
            position = line_end + 1
    return objects, bad


def _blank(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _norm(value: Any) -> str | None:
    value = _blank(value)
    return value.strip().lower() if isinstance(value, str) else None


def _valid_event(event: dict[str, Any], day: str) -> bool:
    ts = event.get("ts")
    if not isinstance(ts, int) or isinstance(ts, bool):
        return False
    day_start = (date.fromisoformat(day) - date(1970, 1, 1)).days * 86_400_000
    if not day_start <= ts < day_start + 86_400_000:
        return False
    user = event.get("userId")
    if user is None or (isinstance(user, int) and not isinstance(user, bool)):
        return True
    return isinstance(user, str) and (user.strip() == "" or bool(_INTEGER.fullmatch(user.strip())))


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
        objects, bad = _objects(path.read_text(encoding="utf-8"))
        expected.rejects += bad
        for song in objects:
            if isinstance(song.get("song_id"), str) and song["song_id"].strip():
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
        objects, bad = _objects(path.read_text(encoding="utf-8"))
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
