"""Where each kind of source object lives under the source root (SPEC.md, "Sources")."""

from __future__ import annotations

import re
from datetime import date

SONG_PREFIX = "song_data/"
LOG_PREFIX = "log_data/"
JSONPATHS_KEY = "log_json_path.json"

_EVENT_KEY = re.compile(r"log_data/(\d{4})/(\d{2})/(\d{4}-\d{2}-\d{2})-events\.json")


def event_key(day: date) -> str:
    """The key of one day's event file: the partition ``2018-11-05`` is ``log_data/2018/11/2018-11-05-events.json``."""
    return f"{LOG_PREFIX}{day:%Y}/{day:%m}/{day:%Y-%m-%d}-events.json"


def day_of_event_key(key: str) -> date | None:
    """The partition day an event file belongs to, or ``None`` for a key that is not a day file (``.bak``...)."""
    match = _EVENT_KEY.fullmatch(key)
    if match is None:
        return None
    day = date.fromisoformat(match.group(3))
    return day if (f"{day:%Y}", f"{day:%m}") == match.group(1, 2) else None


def is_song_key(key: str) -> bool:
    return key.startswith(SONG_PREFIX) and key.endswith(".json")
