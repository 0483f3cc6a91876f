"""The app's events: listeners and their sessions, one UTC day at a time, in ``ts`` order.

A fixed pool of concurrent sessions is kept; each event goes to a random session of the pool, which therefore
sees its own events in time order with increasing ``itemInSession``. Sessions end (after a Logout or
silently) and are replaced by new ones, possibly of the same listener, and carry over midnight. Some free
listeners upgrade and some paid ones downgrade during the period; new sessions sometimes browse logged out
first. Plays name a song of the catalogue (exactly, with a length near its duration, with names that only
match after trimming and ignoring case, or with a length too far to match) or a song without a file.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, fields

from sparkify_assets.rules import MATCH_TOLERANCE_S
from sparkify_sample.catalogue import Catalogue, match_key
from sparkify_sample.vocabulary import FIRST_NAMES_F, FIRST_NAMES_M, LAST_NAMES, USER_AGENTS, USER_LOCATIONS

DAY_MS = 86_400_000

P_KNOWN_SONG = 0.5  # a NextSong event plays a song of the catalogue (else a song without a file)
# Of the plays of a catalogue song (cumulative thresholds): exact length; length near the duration; names
# only equal after trimming/ignoring case; the rest has a length beyond the match tolerance (must not match).
P_PLAY_EXACT = 0.55
P_PLAY_NEAR = 0.75
P_PLAY_MESSY_NAMES = 0.90
NEAR_PLAY_S = 1.9  # a near play's length is within this many seconds of the duration: under the tolerance
MESSY_PLAY_S = 1.5  # the same for a play with messy names
P_START_LOGGED_OUT = 0.15  # a new session browses logged out, then logs in
P_CONTINUE_AFTER_LOGOUT = 0.4  # after Logout the session goes on logged out (else it ends)
P_SESSION_END = 0.02  # a session ends silently after an event
P_UPGRADE = 0.25  # share of initially free listeners who upgrade during the period
P_DOWNGRADE = 0.15  # share of initially paid listeners who downgrade
P_PAID = 0.25  # initial level

# Logged-in pages other than the forced Submit Upgrade/Downgrade, with cumulative thresholds.
# "Upgrade" is shown to free listeners and "Downgrade" to paid ones (as in the real data).
_LOGGED_IN_PAGES: tuple[tuple[float, str], ...] = (
    (0.840, "NextSong"),
    (0.905, "Home"),
    (0.917, "Settings"),
    (0.921, "Save Settings"),
    (0.931, "Help"),
    (0.937, "About"),
    (0.957, "Upgrade"),
    (0.960, "Error"),
    (1.000, "Logout"),
)
_LOGGED_OUT_PAGES: tuple[tuple[float, str], ...] = ((0.75, "Home"), (0.90, "About"), (1.0, "Help"))
_PAGE_METHOD_STATUS: dict[str, tuple[str, int]] = {
    "NextSong": ("PUT", 200),
    "Home": ("GET", 200),
    "Settings": ("GET", 200),
    "Save Settings": ("PUT", 307),
    "Help": ("GET", 200),
    "About": ("GET", 200),
    "Upgrade": ("GET", 200),
    "Downgrade": ("GET", 200),
    "Submit Upgrade": ("PUT", 307),
    "Submit Downgrade": ("PUT", 307),
    "Error": ("GET", 404),
    "Logout": ("PUT", 307),
    "Login": ("PUT", 307),
}

_NEVER = 1 << 62


@dataclass
class Event:
    """One event of a day file; the fields are the file's keys, in the file's order (``vars(event)`` is the
    record to write)."""

    artist: str | None
    auth: str
    firstName: str | None
    gender: str | None
    itemInSession: int
    lastName: str | None
    length: float | None
    level: str
    location: str | None
    method: str
    page: str
    registration: float | None
    sessionId: int
    song: str | None
    status: int
    ts: int
    userAgent: str | None
    userId: str


EVENT_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(Event))
"""Keys of an event, in the order of the source files and of the JSONPaths file."""


@dataclass(slots=True)
class _Listener:
    user_id: int
    first_name: str
    gender: str
    last_name: str
    location: str
    registration: float
    user_agent: str
    level: str
    level_changes_at: int = _NEVER  # ts of the listener's upgrade or downgrade, if any


@dataclass(slots=True)
class _Session:
    session_id: int
    listener: _Listener
    item: int = 0
    # 0: logged in; 1: the next event is the Login; n > 1: n - 1 logged-out pages, then the Login.
    logged_out_pages: int = 0


class EventSimulation:
    """The listeners and their sessions over a period; `day_events` gives one day's events at a time."""

    def __init__(
        self, rng: random.Random, catalogue: Catalogue, *, users: int, period_start_ms: int, period_ms: int
    ) -> None:
        self._rng = rng
        self._catalogue = catalogue
        self._listeners = self._new_listeners(users, period_start_ms)
        self._plan_level_changes(period_start_ms, period_ms)
        self._next_session_id = 1
        pool = max(1, min(64, users // 4))
        self._sessions = [self._new_session() for _ in range(pool if users else 0)]

    def day_events(self, day_start_ms: int, count: int) -> Iterator[Event]:
        """`count` events with `ts` ascending within [day_start_ms, day_start_ms + 1 day)."""
        rng_random = self._rng.random
        step = DAY_MS / count if count else 0.0
        slots = len(self._sessions)
        for index in range(count):
            # One event in each of `count` equal slices of the day: ascending and inside the day.
            ts = day_start_ms + int((index + rng_random()) * step)
            yield self._event(int(rng_random() * slots), ts)

    def sample_event(self, rng: random.Random, ts: int) -> Event:
        """A valid NextSong event of a random listener, outside any session (the raw material of broken
        lines); drawn from ``rng``, so the simulation's own events do not change."""
        listener = self._listeners[rng.randrange(len(self._listeners))]
        song = self._catalogue.unknown[rng.randrange(len(self._catalogue.unknown))]
        return _logged_in_event(
            listener, self._next_session_id, 0, listener.level, "NextSong", ts, (song.artist, song.title, song.length)
        )

    def _new_listeners(self, users: int, period_start_ms: int) -> list[_Listener]:
        rng = self._rng
        ids = list(range(1, users + 1))
        rng.shuffle(ids)
        listeners = []
        for user_id in ids:
            female = rng.random() < 0.5
            first_name = rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
            registration = float(period_start_ms - rng.randrange(3_600_000, 90 * DAY_MS))
            agent = rng.choice(USER_AGENTS)
            if "," in agent:  # the real export wraps user agents holding a comma in literal quotes
                agent = f'"{agent}"'
            last_name = rng.choice(LAST_NAMES)
            location = rng.choice(USER_LOCATIONS)
            level = "paid" if rng.random() < P_PAID else "free"
            gender = "F" if female else "M"
            listeners.append(_Listener(user_id, first_name, gender, last_name, location, registration, agent, level))
        return listeners

    def _plan_level_changes(self, period_start_ms: int, period_ms: int) -> None:
        """Some free listeners upgrade and a few paid ones downgrade, at a random time of the period."""
        rng = self._rng
        for level, share in (("free", P_UPGRADE), ("paid", P_DOWNGRADE)):
            candidates = [listener for listener in self._listeners if listener.level == level]
            count = min(len(candidates), max(1, round(share * len(candidates)))) if candidates else 0
            for listener in rng.sample(candidates, count):
                listener.level_changes_at = period_start_ms + int(rng.random() * period_ms)

    def _new_session(self) -> _Session:
        rng = self._rng
        session_id = self._next_session_id
        self._next_session_id += 1
        listener = self._listeners[int(len(self._listeners) * rng.random() ** 1.5)]
        logged_out_pages = 1 + rng.randrange(3) if rng.random() < P_START_LOGGED_OUT else 0
        return _Session(session_id, listener, logged_out_pages=logged_out_pages)

    def _event(self, slot: int, ts: int) -> Event:
        session = self._sessions[slot]
        item = session.item
        session.item += 1
        if session.logged_out_pages:
            return self._logged_out_event(session, item, ts)
        listener = session.listener
        level = listener.level
        if ts >= listener.level_changes_at:
            listener.level_changes_at = _NEVER
            listener.level = "paid" if level == "free" else "free"
            page = "Submit Upgrade" if level == "free" else "Submit Downgrade"
        else:
            page = _pick(_LOGGED_IN_PAGES, self._rng.random())
            if page == "Upgrade" and level == "paid":
                page = "Downgrade"
        play = None
        if page == "NextSong":
            play = self._play()
        elif page == "Logout":
            if self._rng.random() < P_CONTINUE_AFTER_LOGOUT:
                session.logged_out_pages = 2 + self._rng.randrange(2)
            else:
                self._sessions[slot] = self._new_session()
        elif self._rng.random() < P_SESSION_END:
            self._sessions[slot] = self._new_session()
        return _logged_in_event(listener, session.session_id, item, level, page, ts, play)

    def _logged_out_event(self, session: _Session, item: int, ts: int) -> Event:
        pages = session.logged_out_pages
        page = "Login" if pages == 1 else _pick(_LOGGED_OUT_PAGES, self._rng.random())
        session.logged_out_pages = pages - 1
        method, status = _PAGE_METHOD_STATUS[page]
        return Event(
            artist=None, auth="Logged Out", firstName=None, gender=None, itemInSession=item, lastName=None,
            length=None, level=session.listener.level, location=None, method=method, page=page, registration=None,
            sessionId=session.session_id, song=None, status=status, ts=ts, userAgent=None, userId="",
        )  # fmt: skip

    def _play(self) -> tuple[str, str, float]:
        """(artist, song, length) of a NextSong event."""
        rng = self._rng
        songs, unknown = self._catalogue.songs, self._catalogue.unknown
        if not songs or rng.random() >= P_KNOWN_SONG:
            other = unknown[int(len(unknown) * rng.random() ** 1.5)]
            return other.artist, other.title, other.length
        song = songs[int(len(songs) * rng.random() ** 2)]
        artist, duration = song.artist.name, song.duration
        kind = rng.random()
        if kind < P_PLAY_EXACT:
            return artist, song.title, duration
        if kind < P_PLAY_NEAR:
            return artist, song.title, _near(rng, duration, NEAR_PLAY_S)
        if kind < P_PLAY_MESSY_NAMES:
            title, artist = _messy_names(rng, song.title, artist)
            return artist, title, duration if rng.random() < 0.5 else _near(rng, duration, MESSY_PLAY_S)
        offset = MATCH_TOLERANCE_S + 0.5 + rng.random() * 60.0
        far = duration - offset if duration - offset > 10.0 and rng.random() < 0.5 else duration + offset
        return artist, song.title, round(far, 5)


def _logged_in_event(
    listener: _Listener, session_id: int, item: int, level: str, page: str, ts: int, play: tuple[str, str, float] | None
) -> Event:
    artist, song, length = play or (None, None, None)
    method, status = _PAGE_METHOD_STATUS[page]
    return Event(
        artist=artist, auth="Logged In", firstName=listener.first_name, gender=listener.gender, itemInSession=item,
        lastName=listener.last_name, length=length, level=level, location=listener.location, method=method,
        page=page, registration=listener.registration, sessionId=session_id, song=song, status=status, ts=ts,
        userAgent=listener.user_agent, userId=str(listener.user_id),
    )  # fmt: skip


def _near(rng: random.Random, duration: float, within: float) -> float:
    """A play length within `within` seconds of `duration`."""
    return round(duration + (rng.random() * 2.0 - 1.0) * within, 5)


def _messy_names(rng: random.Random, title: str, artist: str) -> tuple[str, str]:
    """Title and artist as a play may report them: equal to the song's only after trim and lower-casing."""
    kind = rng.randrange(4)
    if kind == 0:
        messy = (f" {title.lower()}  ", artist.upper())
    elif kind == 1:
        messy = (title.upper(), f"  {artist}")
    elif kind == 2:
        messy = (f"{title} ", artist.lower())
    else:
        messy = (f"  {title}", f" {artist.upper()} ")
    if match_key(*messy) != match_key(title, artist):  # a case mapping that does not round-trip
        messy = (f" {title} ", f"{artist}  ")
    return messy


def _pick(thresholds: tuple[tuple[float, str], ...], draw: float) -> str:
    for threshold, page in thresholds:
        if draw < threshold:
            return page
    return thresholds[-1][1]
