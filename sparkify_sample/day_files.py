"""Day files: one UTC day's events as the app's export writes them, and the JSONPaths file that reads them.

A day file is one compact JSON object per line, ASCII with forward slashes escaped as ``\\/``, lines separated
by ``"\\n"`` with no final newline. Blank lines and pretty-printed objects are sprinkled in at fixed rates,
and, when asked, broken lines (SPEC.md, "Bad records"), which the warehouse must reject with a reason.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from sparkify_sample.events import DAY_MS, EVENT_FIELDS, Event, EventSimulation

P_BLANK_LINE = 0.01  # a blank line before an event
P_MULTI_LINE = 0.005  # an event pretty-printed over several lines

MALFORMED_KINDS: tuple[str, ...] = ("truncated", "garbage", "missing_ts", "ts_string", "user_id_abc")
"""Kinds of broken lines, used in turn (the n-th malformed line of a run is of kind n % 5)."""

_GARBAGE_LINES = (
    "<html><body>503 Service Unavailable</body></html>",
    "}{ this is not json",
    "artist,auth,firstName,gender,itemInSession",
    "\\x00\\x00 corrupted block",
)  # fmt: skip

_CHUNK_LINES = 4096
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def jsonpaths_text() -> str:
    """The Redshift JSONPaths file for the events: one ``$['key']`` per column, in column order."""
    return json.dumps({"jsonpaths": [f"$['{name}']" for name in EVENT_FIELDS]}, indent=4)


def write_day_file(path: Path, events: Iterator[Event], malformed: list[tuple[int, str]], rng: random.Random) -> int:
    """Write one day file, in chunks; the bytes written.

    `malformed` holds (position, line) pairs, sorted, a position being the number of valid events written
    before the broken line.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    parts: list[str] = []
    pending = iter(malformed)
    next_bad = next(pending, None)
    with path.open("wb") as out:
        for position, event in enumerate(events):
            while next_bad is not None and next_bad[0] == position:
                parts.append(next_bad[1])
                next_bad = next(pending, None)
            record = vars(event)
            draw = rng.random()
            # A file never starts with a blank line: there, that draw pretty-prints the event instead.
            if draw < P_BLANK_LINE and (parts or written):
                parts.extend(("", _compact(record)))
            elif draw < P_BLANK_LINE + P_MULTI_LINE:
                parts.append(_pretty(record))
            else:
                parts.append(_compact(record))
            if len(parts) >= _CHUNK_LINES:
                written += _flush(out, parts, first=written == 0)
        while next_bad is not None:
            parts.append(next_bad[1])
            next_bad = next(pending, None)
        written += _flush(out, parts, first=written == 0)
    return written


def malformed_lines(
    simulation: EventSimulation, rng: random.Random, *, day_index: int, day_start_ms: int, events: int, count: int
) -> list[tuple[int, str]]:
    """`count` broken lines for one day, each with the position where it goes (see `write_day_file`).

    A broken record's `ts` (when it has one) lies near the valid events around it.
    """
    lines = []
    for number in range(count):
        kind = MALFORMED_KINDS[(day_index * count + number) % len(MALFORMED_KINDS)]
        ts = day_start_ms + rng.randrange(DAY_MS)
        position = (ts - day_start_ms) * events // DAY_MS
        lines.append((position, _malformed_line(kind, vars(simulation.sample_event(rng, ts)), rng)))
    return sorted(lines, key=lambda pair: pair[0])


def _malformed_line(kind: str, record: dict[str, Any], rng: random.Random) -> str:
    if kind == "truncated":
        line = _compact(record)
        return line[: len(line) * 2 // 3]
    if kind == "garbage":
        return rng.choice(_GARBAGE_LINES)
    if kind == "missing_ts":
        return _compact({key: value for key, value in record.items() if key != "ts"})
    if kind == "ts_string":
        return _compact({**record, "ts": str(record["ts"])})
    return _compact({**record, "userId": "abc"})


def _compact(record: dict[str, Any]) -> str:
    """One line, as the export spells JSON: no spaces, ASCII, forward slashes escaped as ``\\/``."""
    return _COMPACT.encode(record).replace("/", "\\/")


def _pretty(record: dict[str, Any]) -> str:
    """A pretty-printed object over several lines (two-space indent), slashes escaped as in a compact line."""
    return json.dumps(record, indent=2).replace("/", "\\/")


def _flush(out: BinaryIO, parts: list[str], *, first: bool) -> int:
    if not parts:
        return 0
    data = ("" if first else "\n") + "\n".join(parts)
    parts.clear()
    return out.write(data.encode("ascii"))
