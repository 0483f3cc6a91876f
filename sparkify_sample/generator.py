"""`generate_sample`: a deterministic Udacity-format Sparkify sample data set.

It writes the layout of the Udacity course bucket (SPEC.md, "Sources"; the keys of `sources/layout.py`):

- ``song_data/A/B/C/TR................json``: one song per file, Million Song Dataset style (`catalogue.py`);
- ``log_data/YYYY/MM/YYYY-MM-DD-events.json``: one UTC day of app events (`events.py`), one compact JSON
  object per line (`day_files.py`);
- ``log_json_path.json``: the Redshift JSONPaths file for the events.

Same arguments give byte-identical files: every random draw comes from ``random.Random`` instances seeded
from ``seed`` (one stream for the song catalogue, one for the users and events, so the catalogue does not
change when only ``days`` or ``events_per_day`` do); nothing reads the clock or the global ``random``.
Events are produced one at a time, in ``ts`` order, and written in chunks, so the memory used does not grow
with the number of events.

The quirks of the real data that the warehouse must cope with are reproduced at fixed, documented rates
(the ``P_*`` constants of each module): blank lines and pretty-printed objects, logged-out events, unknown
years, empty locations, level changes, song/artist names that only match after trimming and ignoring case,
play lengths near (or too far from) the song duration, duplicate title+artist pairs, artists whose name or
location differs between songs, and optionally malformed lines.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sparkify_assets.sources.layout import JSONPATHS_KEY, LOG_PREFIX, SONG_PREFIX, event_key
from sparkify_sample.catalogue import build_catalogue, write_song_files
from sparkify_sample.day_files import jsonpaths_text, malformed_lines, write_day_file
from sparkify_sample.events import DAY_MS, EventSimulation

DEFAULT_SONGS = 200
DEFAULT_DAYS = 30
DEFAULT_EVENTS_PER_DAY = 300
DEFAULT_START = date(2018, 11, 1)
DEFAULT_SEED = 42
DEFAULT_USERS = 100
DEFAULT_MALFORMED_PER_DAY = 0


@dataclass(frozen=True)
class SampleSummary:
    """What one `generate_sample` call wrote."""

    out_dir: Path
    song_files: int
    event_files: int
    events_written: int
    """Valid events (each one record; blank and malformed lines are not counted)."""
    malformed_lines: int
    bytes_written: int


def generate_sample(
    out_dir: Path,
    *,
    songs: int = DEFAULT_SONGS,
    days: int = DEFAULT_DAYS,
    events_per_day: int = DEFAULT_EVENTS_PER_DAY,
    start: date = DEFAULT_START,
    seed: int = DEFAULT_SEED,
    users: int = DEFAULT_USERS,
    malformed_per_day: int = DEFAULT_MALFORMED_PER_DAY,
    overwrite: bool = False,
) -> SampleSummary:
    """Write a deterministic Udacity-format sample under `out_dir` and say what was written.

    `days` day files starting at `start` (UTC), each with `events_per_day` events (0 gives an empty file,
    an empty partition) plus `malformed_per_day` broken lines; `songs` song files; `users` listeners.
    A previous sample in `out_dir` (its `song_data`, `log_data` or JSONPaths file) is an error unless
    `overwrite`, which removes exactly those first: stale files of a run with other arguments must not
    mix with the new ones.
    """
    _check_arguments(
        songs=songs, days=days, events_per_day=events_per_day, users=users, malformed_per_day=malformed_per_day
    )
    out_dir = Path(out_dir)
    _prepare_out_dir(out_dir, overwrite=overwrite)
    catalogue = build_catalogue(random.Random(f"sparkify-songs:{seed}"), songs)
    song_bytes = write_song_files(out_dir, catalogue, random.Random(f"sparkify-song-format:{seed}"))
    jsonpaths = jsonpaths_text().encode("ascii")
    (out_dir / JSONPATHS_KEY).write_bytes(jsonpaths)
    period_start_ms = _epoch_ms(start)
    simulation = EventSimulation(
        random.Random(f"sparkify-events:{seed}"),
        catalogue,
        users=users,
        period_start_ms=period_start_ms,
        period_ms=days * DAY_MS,
    )
    layout_rng = random.Random(f"sparkify-event-format:{seed}")
    events_bytes = malformed = 0
    for day_index in range(days):
        day_start_ms = period_start_ms + day_index * DAY_MS
        events = simulation.day_events(day_start_ms, events_per_day)
        bad = malformed_lines(
            simulation,
            layout_rng,
            day_index=day_index,
            day_start_ms=day_start_ms,
            events=events_per_day,
            count=malformed_per_day,
        )
        day = start + timedelta(days=day_index)
        events_bytes += write_day_file(out_dir / event_key(day), events, bad, layout_rng)
        malformed += len(bad)
    return SampleSummary(
        out_dir=out_dir,
        song_files=len(catalogue.songs),
        event_files=days,
        events_written=days * events_per_day,
        malformed_lines=malformed,
        bytes_written=song_bytes + len(jsonpaths) + events_bytes,
    )


def _check_arguments(**counts: int) -> None:
    for name, value in counts.items():
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if counts["users"] < 1:
        raise ValueError("users must be at least 1")


def _prepare_out_dir(out_dir: Path, *, overwrite: bool) -> None:
    existing = [out_dir / name for name in (SONG_PREFIX, LOG_PREFIX, JSONPATHS_KEY) if (out_dir / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} already exists (overwrite=True / --overwrite replaces it)")
    for path in existing:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def _epoch_ms(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp()) * 1000
