"""Deterministic generator of a Udacity-format Sparkify sample data set.

It writes the layout of the Udacity course bucket (see SPEC.md, "Sources"):

- ``song_data/A/B/C/TR................json``: one song per file, Million Song Dataset style;
- ``log_data/YYYY/MM/YYYY-MM-DD-events.json``: one UTC day of app events, one compact JSON object per line;
- ``log_json_path.json``: the Redshift JSONPaths file for the events.

Same arguments give byte-identical files: every random draw comes from ``random.Random`` instances seeded
from ``seed`` (one stream for the song catalog, one for the users and events, so the catalog does not
change when only ``days`` or ``events_per_day`` do); nothing reads the clock or the global ``random``.

Events are produced one line at a time, in ``ts`` order, and written to disk in chunks, so the memory used
does not grow with the number of events. The per-user and per-song JSON fragments are encoded once and
the event lines are assembled from them.

The quirks of the real data that the warehouse must cope with are reproduced at fixed, documented rates
(the ``P_*`` constants below): blank lines and pretty-printed objects, logged-out events, unknown years,
empty locations, level changes, song/artist names that only match after trimming and ignoring case, play
lengths near (or too far from) the song duration, duplicate title+artist pairs, artists whose name or
location differs between songs, and optionally malformed lines.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import BinaryIO

EVENT_FIELDS: tuple[str, ...] = (
    "artist", "auth", "firstName", "gender", "itemInSession", "lastName", "length", "level", "location",
    "method", "page", "registration", "sessionId", "song", "status", "ts", "userAgent", "userId",
)  # fmt: skip
"""Keys of an event, in the order of the source files and of the JSONPaths file."""

SONG_FIELDS: tuple[str, ...] = (
    "num_songs", "artist_id", "artist_latitude", "artist_longitude", "artist_location", "artist_name",
    "song_id", "title", "duration", "year",
)  # fmt: skip
"""Keys of a song file, in the order of the source files."""

DEFAULT_SONGS = 200
DEFAULT_DAYS = 30
DEFAULT_EVENTS_PER_DAY = 300
DEFAULT_START = date(2018, 11, 1)
DEFAULT_SEED = 42
DEFAULT_USERS = 100
DEFAULT_MALFORMED_PER_DAY = 0

DAY_MS = 86_400_000
MATCH_TOLERANCE_S = 2.0
"""SPEC.md: a play matches a song whose duration is within this many seconds of the play's length."""

# --- song catalog rates -------------------------------------------------------------------------------
P_YEAR_UNKNOWN = 0.45  # year 0 (the real sample: 43 of 71)
P_EMPTY_LOCATION = 0.35  # artist_location ""
P_NO_COORDINATES = 0.55  # artist_latitude/longitude null
P_PRETTY_SONG_FILE = 0.05  # song file pretty-printed over several lines
ARTISTS_PER_SONG = 0.7  # so about a third of the songs share their artist with another song
P_ARTIST_VARIANT = 0.3  # a later song of an artist spells its name or location differently
SONGS_PER_DUPLICATE_PAIR = 40  # one title+artist pair recorded twice (different durations) per this many

# --- event rates ---------------------------------------------------------------------------------------
P_BLANK_LINE = 0.01  # a blank line before an event
P_MULTI_LINE = 0.005  # an event pretty-printed over several lines
P_KNOWN_SONG = 0.5  # a NextSong event plays a song of the catalog (else an unknown song)
# Of the plays of a catalog song (cumulative thresholds): exact length; length within 1.9 s; names only
# equal after trimming/ignoring case; the rest has a length more than 2.0 s away (must not match).
P_PLAY_EXACT = 0.55
P_PLAY_NEAR = 0.75
P_PLAY_MESSY_NAMES = 0.90
P_START_LOGGED_OUT = 0.15  # a new session browses logged out, then logs in
P_CONTINUE_AFTER_LOGOUT = 0.4  # after Logout the session goes on logged out (else it ends)
P_SESSION_END = 0.02  # a session ends silently after an event
P_UPGRADE = 0.25  # share of initially free users who upgrade during the period
P_DOWNGRADE = 0.15  # share of initially paid users who downgrade
P_PAID = 0.25  # initial level

# Logged-in pages other than the forced Submit Upgrade/Downgrade, with cumulative thresholds.
# "Upgrade" is shown to free users and "Downgrade" to paid ones (as in the real data).
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
MALFORMED_KINDS: tuple[str, ...] = ("truncated", "garbage", "missing_ts", "ts_string", "user_id_abc")
"""Kinds of broken lines, used in turn (the n-th malformed line of a run is of kind n % 5)."""

# --- vocabularies (invented; none of it comes from the real sample) ---------------------------------------
_WORDS = (
    "Love", "Night", "Fire", "River", "Heart", "Dream", "Gun", "Loaded", "Like", "A", "Blue", "Summer",
    "Rain", "Shadow", "Light", "Train", "Highway", "Stone", "Golden", "Broken", "Wild", "Silver", "Moon",
    "Sun", "Star", "Road", "Home", "Lonely", "City", "Girl", "Boy", "Dance", "Money", "Time", "Morning",
    "Midnight", "Fever", "Thunder", "Angel", "Devil", "Kiss", "Street", "Ocean", "Wind", "Ghost", "Paper",
    "Glass", "Echo", "Honey", "Whiskey", "Sugar", "Storm", "Tears", "Smile", "Memory", "Letter", "Window",
    "Garden", "Mountain", "Desert", "Winter", "Spring", "Autumn", "Radio", "Rocket", "Velvet", "Neon",
    "Electric", "Crazy", "Sweet", "Little", "Big", "Last", "First", "Forever", "Never", "Tonight", "Again",
    "Down", "Up", "Away", "Back", "Don't", "I'm", "Can't", "You", "Me", "We", "Of", "The", "In", "My",
    "On", "Your", "Our", "Love/Hate", "Café", "Corazón", "Noël", "Señorita", "Über", "Été", "Mañana",
    "Chérie", "Doña", "Niño",
)  # fmt: skip
_TITLE_SUFFIXES = (
    " (Album Version)", " (LP Version)", "  (Remastered LP Version)", " (Live)", " (Remix)",
    " [Explicit]", " (Instrumental Version)", " (Radio Edit)", " (feat. Lil' Sam)",
)  # fmt: skip
_FIRST_NAMES_F = (
    "Anna", "Maria", "Lily", "Chloe", "Emma", "Sophie", "Kate", "Jenna", "Renée", "Zoë", "Ava", "Mia",
    "Harper", "Layla", "Nora", "Elena", "Jade", "Ruby", "Stella", "Alice", "Ivy", "Sara", "Leah", "Piper",
)  # fmt: skip
_FIRST_NAMES_M = (
    "John", "Mike", "Ryan", "Leo", "Sam", "Theo", "Jacob", "Noah", "José", "Björn", "Aiden", "Caleb",
    "Owen", "Luke", "Isaac", "Eli", "Miles", "Oscar", "Hugo", "Felix", "Adam", "Jonah", "Kai", "Seth",
)  # fmt: skip
_LAST_NAMES = (
    "Smith", "Brown", "Davis", "Miller", "Wilson", "Moore", "Taylor", "Anderson", "Thomas", "Jackson",
    "White", "Harris", "Martin", "Garcia", "Martínez", "Robinson", "Clark", "Lewis", "Lee", "Walker",
    "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter",
    "Mitchell", "Pérez", "Roberts", "Turner", "Phillips", "Campbell", "Parker", "Evans", "Edwards",
    "O'Brien", "Müller",
)  # fmt: skip
_ADJECTIVES = (
    "Black", "Velvet", "Silent", "Electric", "Crimson", "Lazy", "Rusty", "Golden", "Hollow", "Neon",
    "Savage", "Gentle", "Frozen", "Burning", "Mighty", "Lost", "Wicked", "Happy", "Atomic", "Lunar",
)  # fmt: skip
_PLURALS = (
    "Wolves", "Rakes", "Strangers", "Kings", "Pilots", "Ramblers", "Shakers", "Saints", "Drifters", "Cats",
    "Brothers", "Sisters", "Horses", "Hearts", "Riders", "Dreamers", "Machines", "Giants", "Robots", "Owls",
)  # fmt: skip
_NOUNS = (
    "Frenzy", "Orbit", "Harbor", "Parade", "Circus", "Engine", "Garden", "Canyon", "Mirror", "Lantern",
    "Project", "Society", "Theory", "Union", "Collective", "Machine", "Republic", "Kingdom", "Station",
)  # fmt: skip
_ARTIST_LOCATIONS = (
    "California - LA", "California - SF", "Memphis, TN", "London, England", "New York, NY",
    "New York, NY [Manhattan]", "Chicago, IL", "Nashville, TN.", "Toronto, Ontario, Canada", "Dubai UAE",
    "Zagreb Croatia", "Denmark", "Panama", "Orlando, FL", "Houston, TX", "Seattle, Washington USA", "Ohio",
    "Utah", "Washington", "Georgia", "Beverly Hills, CA", "Paris, France", "Berlin, Germany", "São Paulo",
    "Montréal, Québec", "Reykjavík", "Austin, TX", "Detroit, MI", "Kingston, Jamaica", "Melbourne",
)  # fmt: skip
_USER_LOCATIONS = (
    "Philadelphia-Camden-Wilmington, PA-NJ-DE-MD", "San Francisco-Oakland-Hayward, CA",
    "New York-Newark-Jersey City, NY-NJ-PA", "Atlanta-Sandy Springs-Roswell, GA", "Lubbock, TX",
    "Chicago-Naperville-Elgin, IL-IN-WI", "Phoenix-Mesa-Scottsdale, AZ", "Saginaw, MI",
    "Lansing-East Lansing, MI", "San Jose-Sunnyvale-Santa Clara, CA", "Waterloo-Cedar Falls, IA",
    "La Crosse-Onalaska, WI-MN", "Houston-The Woodlands-Sugar Land, TX", "Denver-Aurora-Lakewood, CO",
    "Portland-Vancouver-Hillsboro, OR-WA", "Boston-Cambridge-Newton, MA-NH", "Seattle-Tacoma-Bellevue, WA",
    "Miami-Fort Lauderdale-West Palm Beach, FL", "Birmingham-Hoover, AL", "Red Bluff, CA", "Eugene, OR",
    "Tampa-St. Petersburg-Clearwater, FL", "Salt Lake City, UT", "Columbus, OH", "Albany, OR",
    "Santa Maria-Santa Barbara, CA",
)  # fmt: skip
_CHROME = "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.{} Safari/537.36"
_USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) " + _CHROME.format(143),
    "Mozilla/5.0 (Windows NT 6.1; WOW64) " + _CHROME.format(125),
    "Mozilla/5.0 (X11; Linux x86_64) " + _CHROME.format(125),
    "Mozilla/5.0 (Windows NT 6.3; WOW64) " + _CHROME.format(143),
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.78.2 (KHTML, like Gecko) "
    "Version/7.0.6 Safari/537.78.2",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) "
    "Version/7.0 Mobile/11D257 Safari/9537.53",
    "Mozilla/5.0 (Windows NT 5.1; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; WOW64; Trident/6.0)",
)
_GARBAGE_LINES = (
    "<html><body>503 Service Unavailable</body></html>",
    "}{ this is not json",
    "artist,auth,firstName,gender,itemInSession",
    "\\x00\\x00 corrupted block",
)  # fmt: skip


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
    _check_arguments(songs=songs, days=days, events_per_day=events_per_day, users=users,
                     malformed_per_day=malformed_per_day)
    out_dir = Path(out_dir)
    _prepare_out_dir(out_dir, overwrite=overwrite)
    catalog = _build_catalog(random.Random(f"sparkify-songs:{seed}"), songs)
    song_bytes = _write_song_files(out_dir, catalog, random.Random(f"sparkify-song-format:{seed}"))
    jsonpaths_bytes = _write_bytes(out_dir / "log_json_path.json", jsonpaths_text().encode("ascii"))
    period_start_ms = _epoch_ms(start)
    simulation = _EventSimulation(
        random.Random(f"sparkify-events:{seed}"), catalog, users=users,
        period_start_ms=period_start_ms, period_ms=days * DAY_MS,
    )
    layout_rng = random.Random(f"sparkify-event-format:{seed}")
    events_bytes = malformed = 0
    for day_index in range(days):
        day = start + timedelta(days=day_index)
        path = out_dir / "log_data" / f"{day:%Y}" / f"{day:%m}" / f"{day:%Y-%m-%d}-events.json"
        lines = simulation.day_lines(period_start_ms + day_index * DAY_MS, events_per_day)
        bad = _malformed_lines(simulation, layout_rng, day_index=day_index,
                               day_start_ms=period_start_ms + day_index * DAY_MS,
                               events=events_per_day, count=malformed_per_day)
        events_bytes += _write_day_file(path, lines, bad, layout_rng)
        malformed += len(bad)
    return SampleSummary(
        out_dir=out_dir,
        song_files=len(catalog.songs),
        event_files=days,
        events_written=days * events_per_day,
        malformed_lines=malformed,
        bytes_written=song_bytes + jsonpaths_bytes + events_bytes,
    )


def jsonpaths_text() -> str:
    """The Redshift JSONPaths file for the events: one ``$['key']`` per column, in column order."""
    return json.dumps({"jsonpaths": [f"$['{name}']" for name in EVENT_FIELDS]}, indent=4)


def _check_arguments(**counts: int) -> None:
    for name, value in counts.items():
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if counts["users"] < 1:
        raise ValueError("users must be at least 1")


def _prepare_out_dir(out_dir: Path, *, overwrite: bool) -> None:
    existing = [out_dir / name for name in ("song_data", "log_data", "log_json_path.json")
                if (out_dir / name).exists()]
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


def _json(value: str | None) -> str:
    """A JSON string as the event files spell it: ASCII-escaped, forward slashes escaped as ``\\/``."""
    return json.dumps(value).replace("/", "\\/")


def _write_bytes(path: Path, data: bytes) -> int:
    path.write_bytes(data)
    return len(data)


# --- song catalog ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Artist:
    artist_id: str
    name: str
    location: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True, slots=True)
class _Song:
    track_id: str
    song_id: str
    artist: _Artist  # as spelled in this song's file
    title: str
    duration: float
    year: int


@dataclass(frozen=True)
class _Catalog:
    songs: list[_Song]
    """Most played first: the event simulation picks low indexes more often."""
    unknown: list[tuple[str, str, float]]
    """(title, artist, length) of songs that are played but have no song file."""


class _Ids:
    """Unique Million-Song-Dataset-looking ids (18 characters: prefix, 5 letters/digits, a body)."""

    _LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    _ALNUM = _LETTERS + "0123456789"
    _HEX = "0123456789ABCDEF"

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def _unique(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value not in self._seen:
                self._seen.add(value)
                return value

    def _pick(self, alphabet: str, n: int) -> str:
        return "".join(self._rng.choices(alphabet, k=n))

    def track(self) -> str:
        # TRAAAAW128F429D538 / TRABBJE12903CDB442; the third letter (first folder) is A or B as in the subset.
        def make() -> str:
            head = "TR" + self._rng.choice("AB") + self._pick(self._LETTERS, 4)
            if self._rng.random() < 0.7:
                return head + "128F" + self._pick(self._HEX, 7)
            return head + "12903" + self._pick(self._HEX, 6)

        return self._unique(make)

    def song(self) -> str:
        # SOGVQGJ12AB017F169 / SOMZWCG12A8C13C480
        return self._unique(lambda: "SO" + self._pick(self._LETTERS, 5) + self._rng.choice(("12AB0", "12A8C"))
                            + self._pick(self._HEX, 6))

    def artist(self) -> str:
        # AR62SOJ1187FB47BB5 / ARD7TVE1187B99BFB1
        return self._unique(lambda: "AR" + self._pick(self._ALNUM, 5) + "1187" + self._pick(self._HEX, 7))


def _title(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(1 + int(rng.random() ** 1.5 * 4))]
    if rng.random() < 0.03:
        words[-1] = f'"{words[-1]}"'
    title = " ".join(words)
    if rng.random() < 0.15:
        title += rng.choice(_TITLE_SUFFIXES)
    return title


def _artist_name(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.25:
        return f"The {rng.choice(_PLURALS)}"
    if kind < 0.55:
        return f"{rng.choice(_FIRST_NAMES_F + _FIRST_NAMES_M)} {rng.choice(_LAST_NAMES)}"
    if kind < 0.80:
        return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if kind < 0.92:
        return f"{rng.choice(_LAST_NAMES)} & The {rng.choice(_PLURALS)}"
    if kind < 0.97:
        return f"DJ {rng.choice(_FIRST_NAMES_M)}"
    return f"{rng.choice(_ADJECTIVES)}/{rng.choice(_ADJECTIVES)}"


def _new_artist(rng: random.Random, ids: _Ids) -> _Artist:
    location = "" if rng.random() < P_EMPTY_LOCATION else rng.choice(_ARTIST_LOCATIONS)
    if location and rng.random() >= P_NO_COORDINATES:
        lat, lon = round(rng.uniform(-40.0, 65.0), 5), round(rng.uniform(-125.0, 150.0), 5)
    else:
        lat = lon = None
    return _Artist(ids.artist(), _artist_name(rng), location, lat, lon)


def _artist_variant(rng: random.Random, artist: _Artist) -> _Artist:
    """The same artist_id with another spelling of the name, or another location."""
    if rng.random() < 0.6:
        name = artist.name
        if name.startswith("The "):
            name = name[4:]
        elif " & " in name:
            name = name.replace(" & ", " and ")
        elif rng.random() < 0.5:
            name = name.upper() if name.upper() != name else name.lower()
        else:
            name = f"{name} featuring {rng.choice(_FIRST_NAMES_F)} {rng.choice(_LAST_NAMES)}"
        return replace(artist, name=name)
    if artist.location and rng.random() < 0.5:
        return replace(artist, location="", latitude=None, longitude=None)
    location = rng.choice([loc for loc in _ARTIST_LOCATIONS if loc != artist.location])
    return replace(artist, location=location, latitude=None, longitude=None)


def _build_catalog(rng: random.Random, n_songs: int) -> _Catalog:
    ids = _Ids(rng)
    artists = [_new_artist(rng, ids) for _ in range(max(1, round(n_songs * ARTISTS_PER_SONG)))]
    seen_artists: set[str] = set()
    songs: list[_Song] = []
    for index in range(n_songs):
        # Every artist gets a song first; the remaining songs go mostly to the first (popular) artists.
        artist = artists[index] if index < len(artists) else artists[int(len(artists) * rng.random() ** 1.5)]
        if artist.artist_id in seen_artists and rng.random() < P_ARTIST_VARIANT:
            artist = _artist_variant(rng, artist)
        seen_artists.add(artist.artist_id)
        year = 0 if rng.random() < P_YEAR_UNKNOWN else rng.randint(1955, 2010)
        duration = round(min(900.0, max(20.0, rng.gauss(235.0, 80.0))), 5)
        songs.append(_Song(ids.track(), ids.song(), artist, _title(rng), duration, year))
    _add_duplicate_pairs(rng, songs)
    return _Catalog(songs, _unknown_songs(rng, songs))


def _add_duplicate_pairs(rng: random.Random, songs: list[_Song]) -> None:
    """Make song 2k+1 the same title+artist as song 2k with a duration 0.3 to 2.5 s away.

    These sit at the most played indexes, so plays whose length is within 2.0 s of both occur and the
    warehouse's "closest duration wins" rule is exercised.
    """
    pairs = 0 if len(songs) < 2 else max(1, len(songs) // SONGS_PER_DUPLICATE_PAIR)
    for k in range(pairs):
        original = songs[2 * k]
        offset = rng.uniform(0.3, 2.5) * (1 if rng.random() < 0.5 else -1)
        songs[2 * k + 1] = replace(songs[2 * k + 1], artist=original.artist, title=original.title,
                                   duration=round(original.duration + offset, 5))


def _match_key(title: str, artist: str) -> tuple[str, str]:
    return title.strip(" ").lower(), artist.strip(" ").lower()


def _unknown_songs(rng: random.Random, songs: list[_Song]) -> list[tuple[str, str, float]]:
    """Played songs without a song file (no title+artist of the catalog, even ignoring case and spaces)."""
    known = {_match_key(song.title, song.artist.name) for song in songs}
    unknown: list[tuple[str, str, float]] = []
    while len(unknown) < max(100, len(songs)):
        title, artist = _title(rng), _artist_name(rng)
        if _match_key(title, artist) not in known:
            unknown.append((title, artist, round(min(900.0, max(20.0, rng.gauss(235.0, 80.0))), 5)))
    return unknown


def _write_song_files(out_dir: Path, catalog: _Catalog, rng: random.Random) -> int:
    written = 0
    made_dirs: set[str] = set()
    root = os.fspath(out_dir / "song_data")
    # In path order: creating files directory by directory is kinder to the file system.
    for song in sorted(catalog.songs, key=lambda song: song.track_id):
        track_id = song.track_id
        # song_data/A/B/C/TRABC...json: the folders are characters 3 to 5 of the track id. Plain string
        # paths: pathlib's per-call parsing costs more than the write of a small file.
        folder = f"{root}/{track_id[2]}/{track_id[3]}/{track_id[4]}"
        if folder not in made_dirs:
            os.makedirs(folder, exist_ok=True)
            made_dirs.add(folder)
        artist = song.artist
        record = {
            "num_songs": 1, "artist_id": artist.artist_id, "artist_latitude": artist.latitude,
            "artist_longitude": artist.longitude, "artist_location": artist.location,
            "artist_name": artist.name, "song_id": song.song_id, "title": song.title,
            "duration": song.duration, "year": song.year,
        }  # fmt: skip
        text = json.dumps(record, indent=4) if rng.random() < P_PRETTY_SONG_FILE else json.dumps(record)
        with open(f"{folder}/{track_id}.json", "wb") as out:
            written += out.write(text.encode("ascii"))
    return written


# --- events ----------------------------------------------------------------------------------------------

_NEVER = 1 << 62


class _EventSimulation:
    """Listeners and their sessions; produces the event lines of one day at a time, in `ts` order.

    A fixed pool of concurrent sessions is kept; each event goes to a random session of the pool, which
    therefore sees its own events in time order with increasing `itemInSession`. Sessions end (after a
    Logout or silently) and are replaced by new ones, possibly of the same user, and carry over midnight.
    Session state lives in parallel lists rather than one object per session or event, for speed.
    """

    def __init__(self, rng: random.Random, catalog: _Catalog, *, users: int, period_start_ms: int,
                 period_ms: int) -> None:
        self._rng = rng
        self._init_songs(catalog)
        self._init_users(users, period_start_ms, period_ms)
        pool = max(1, min(64, users // 4))
        self._next_session_id = 1
        self._s_id: list[int] = []
        self._s_user: list[int] = []
        self._s_item: list[int] = []
        # 0: logged in; 1: the next event is the Login; n > 1: n - 1 logged-out pages, then the Login.
        self._s_state: list[int] = []
        for _ in range(pool if users else 0):
            self._s_id.append(0)
            self._s_user.append(0)
            self._s_item.append(0)
            self._s_state.append(0)
            self._new_session(len(self._s_id) - 1)

    def _init_songs(self, catalog: _Catalog) -> None:
        songs = catalog.songs
        self._k_title = [song.title for song in songs]
        self._k_artist = [song.artist.name for song in songs]
        self._k_title_js = [_json(title) for title in self._k_title]
        self._k_artist_js = [_json(name) for name in self._k_artist]
        self._k_duration = [song.duration for song in songs]
        self._k_duration_js = [repr(song.duration) for song in songs]
        self._u_title_js = [_json(title) for title, _, _ in catalog.unknown]
        self._u_artist_js = [_json(artist) for _, artist, _ in catalog.unknown]
        self._u_length_js = [repr(length) for _, _, length in catalog.unknown]

    def _init_users(self, users: int, period_start_ms: int, period_ms: int) -> None:
        rng = self._rng
        ids = list(range(1, users + 1))
        rng.shuffle(ids)
        self._u_id = ids
        self._u_level: list[str] = []
        self._u_change_ts: list[int] = []
        # JSON fragments of each user's events (see `_line`).
        self._u_head: list[str] = []
        self._u_mid: list[str] = []
        self._u_loc: list[str] = []
        self._u_reg: list[str] = []
        self._u_tail: list[str] = []
        for user_id in ids:
            female = rng.random() < 0.5
            first = rng.choice(_FIRST_NAMES_F if female else _FIRST_NAMES_M)
            registration = float(period_start_ms - rng.randrange(3_600_000, 90 * DAY_MS))
            agent = rng.choice(_USER_AGENTS)
            if "," in agent:  # the real export wraps user agents holding a comma in literal quotes
                agent = f'"{agent}"'
            self._u_head.append(f',"auth":"Logged In","firstName":{_json(first)},'
                                f'"gender":"{"F" if female else "M"}","itemInSession":')
            self._u_mid.append(f',"lastName":{_json(rng.choice(_LAST_NAMES))},"length":')
            self._u_loc.append(f'","location":{_json(rng.choice(_USER_LOCATIONS))},"method":"')
            self._u_reg.append(repr(registration))
            self._u_tail.append(f',"userAgent":{_json(agent)},"userId":"{user_id}"}}')
            self._u_level.append("paid" if rng.random() < P_PAID else "free")
            self._u_change_ts.append(_NEVER)
        self._plan_level_changes(period_start_ms, period_ms)

    def _plan_level_changes(self, period_start_ms: int, period_ms: int) -> None:
        """Some free users upgrade and a few paid users downgrade, at a random time of the period."""
        rng = self._rng
        for level, share in (("free", P_UPGRADE), ("paid", P_DOWNGRADE)):
            candidates = [i for i, value in enumerate(self._u_level) if value == level]
            count = min(len(candidates), max(1, round(share * len(candidates)))) if candidates else 0
            for index in rng.sample(candidates, count):
                self._u_change_ts[index] = period_start_ms + int(rng.random() * period_ms)

    def _new_session(self, slot: int) -> None:
        rng = self._rng
        self._s_id[slot] = self._next_session_id
        self._next_session_id += 1
        self._s_user[slot] = int(len(self._u_id) * rng.random() ** 1.5)
        self._s_item[slot] = 0
        self._s_state[slot] = 1 + rng.randrange(3) if rng.random() < P_START_LOGGED_OUT else 0

    def day_lines(self, day_start_ms: int, count: int) -> Iterator[str]:
        """`count` compact event lines with `ts` ascending within [day_start_ms, day_start_ms + 1 day)."""
        rng_random = self._rng.random
        step = DAY_MS / count if count else 0.0
        slots = len(self._s_id)
        for index in range(count):
            # One event in each of `count` equal slices of the day: ascending and inside the day.
            ts = day_start_ms + int((index + rng_random()) * step)
            yield self._event(int(rng_random() * slots), ts)

    def _event(self, slot: int, ts: int) -> str:
        user = self._s_user[slot]
        state = self._s_state[slot]
        item = self._s_item[slot]
        session_id = self._s_id[slot]  # read before the session may end below
        self._s_item[slot] = item + 1
        if state:
            return self._logged_out_event(slot, user, state, item, ts)
        level = self._u_level[user]
        if ts >= self._u_change_ts[user]:
            self._u_change_ts[user] = _NEVER
            self._u_level[user] = "paid" if level == "free" else "free"
            page = "Submit Upgrade" if level == "free" else "Submit Downgrade"
        else:
            page = _pick(_LOGGED_IN_PAGES, self._rng.random())
            if page == "Upgrade" and level == "paid":
                page = "Downgrade"
        artist = song = length = "null"
        if page == "NextSong":
            artist, song, length = self._play()
        elif page == "Logout":
            if self._rng.random() < P_CONTINUE_AFTER_LOGOUT:
                self._s_state[slot] = 2 + self._rng.randrange(2)
            else:
                self._new_session(slot)
        elif self._rng.random() < P_SESSION_END:
            self._new_session(slot)
        return self._line(artist, self._u_head[user], item, self._u_mid[user], length, level,
                          self._u_loc[user], page, self._u_reg[user], session_id, song, ts,
                          self._u_tail[user])

    def _logged_out_event(self, slot: int, user: int, state: int, item: int, ts: int) -> str:
        page = "Login" if state == 1 else _pick(_LOGGED_OUT_PAGES, self._rng.random())
        self._s_state[slot] = state - 1
        return self._line("null", _OUT_HEAD, item, _OUT_MID, "null", self._u_level[user], _OUT_LOC, page,
                          "null", self._s_id[slot], "null", ts, _OUT_TAIL)

    @staticmethod
    def _line(artist: str, head: str, item: int, mid: str, length: str, level: str, loc: str, page: str,
              registration: str, session_id: int, song: str, ts: int, tail: str) -> str:
        """One compact event, keys in EVENT_FIELDS order, from pre-encoded JSON fragments."""
        method_page, status = _PAGE_FRAGMENTS[page]
        return (f'{{"artist":{artist}{head}{item}{mid}{length},"level":"{level}{loc}{method_page}'
                f'{registration},"sessionId":{session_id},"song":{song},"status":{status},"ts":{ts}{tail}')

    def sample_line(self, rng: random.Random, ts: int) -> str:
        """A valid NextSong line of a random user, outside any session (the raw material of broken lines)."""
        user = rng.randrange(len(self._u_id))
        index = rng.randrange(len(self._u_title_js))
        return self._line(self._u_artist_js[index], self._u_head[user], 0, self._u_mid[user],
                          self._u_length_js[index], self._u_level[user], self._u_loc[user], "NextSong",
                          self._u_reg[user], self._next_session_id, self._u_title_js[index], ts,
                          self._u_tail[user])

    def _play(self) -> tuple[str, str, str]:
        """JSON (artist, song, length) of a NextSong event."""
        rng = self._rng
        known = len(self._k_title)
        if not known or rng.random() >= P_KNOWN_SONG:
            index = int(len(self._u_title_js) * rng.random() ** 1.5)
            return self._u_artist_js[index], self._u_title_js[index], self._u_length_js[index]
        index = int(known * rng.random() ** 2)
        kind = rng.random()
        duration = self._k_duration[index]
        if kind < P_PLAY_EXACT:
            return self._k_artist_js[index], self._k_title_js[index], self._k_duration_js[index]
        if kind < P_PLAY_NEAR:
            return self._k_artist_js[index], self._k_title_js[index], _near(rng, duration, 1.9)
        if kind < P_PLAY_MESSY_NAMES:
            title, artist = _messy_names(rng, self._k_title[index], self._k_artist[index])
            length = self._k_duration_js[index] if rng.random() < 0.5 else _near(rng, duration, 1.5)
            return _json(artist), _json(title), length
        offset = MATCH_TOLERANCE_S + 0.5 + rng.random() * 60.0
        far = duration - offset if duration - offset > 10.0 and rng.random() < 0.5 else duration + offset
        return self._k_artist_js[index], self._k_title_js[index], repr(round(far, 5))


def _near(rng: random.Random, duration: float, within: float) -> str:
    """A play length within `within` seconds of `duration` (`within` < 2.0: still a match)."""
    return repr(round(duration + (rng.random() * 2.0 - 1.0) * within, 5))


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
    if _match_key(*messy) != _match_key(title, artist):  # a case mapping that does not round-trip
        messy = (f" {title} ", f"{artist}  ")
    return messy


def _pick(thresholds: tuple[tuple[float, str], ...], draw: float) -> str:
    for threshold, page in thresholds:
        if draw < threshold:
            return page
    return thresholds[-1][1]


_PAGE_FRAGMENTS: dict[str, tuple[str, str]] = {
    page: (f'{method}","page":"{page}","registration":', str(status))
    for page, (method, status) in _PAGE_METHOD_STATUS.items()
}
_OUT_HEAD = ',"auth":"Logged Out","firstName":null,"gender":null,"itemInSession":'
_OUT_MID = ',"lastName":null,"length":'
_OUT_LOC = '","location":null,"method":"'
_OUT_TAIL = ',"userAgent":null,"userId":""}'


# --- day files -------------------------------------------------------------------------------------------

_CHUNK_LINES = 4096


def _write_day_file(path: Path, lines: Iterator[str], malformed: list[tuple[int, str]],
                    rng: random.Random) -> int:
    """Write one day: lines separated by "\\n" (no final newline, like the real files), in chunks.

    Blank lines and pretty-printed objects are sprinkled in; `malformed` holds (position, line) pairs,
    sorted, a position being the number of valid events written before the broken line.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    parts: list[str] = []
    pending = iter(malformed)
    next_bad = next(pending, None)
    with path.open("wb") as out:
        for position, line in enumerate(lines):
            while next_bad is not None and next_bad[0] == position:
                parts.append(next_bad[1])
                next_bad = next(pending, None)
            draw = rng.random()
            if draw < P_BLANK_LINE and (parts or written):
                parts.append("")
            elif draw < P_BLANK_LINE + P_MULTI_LINE:
                line = json.dumps(json.loads(line), indent=2).replace("/", "\\/")
            parts.append(line)
            if len(parts) >= _CHUNK_LINES:
                written += _flush(out, parts, first=written == 0)
        while next_bad is not None:
            parts.append(next_bad[1])
            next_bad = next(pending, None)
        written += _flush(out, parts, first=written == 0)
    return written


def _flush(out: BinaryIO, parts: list[str], *, first: bool) -> int:
    if not parts:
        return 0
    data = ("" if first else "\n") + "\n".join(parts)
    parts.clear()
    return out.write(data.encode("ascii"))


def _malformed_lines(simulation: _EventSimulation, rng: random.Random, *, day_index: int, day_start_ms: int,
                     events: int, count: int) -> list[tuple[int, str]]:
    """`count` broken lines for one day, each with the position where it goes (see `_write_day_file`).

    A broken record's `ts` (when it has one) lies near the valid events around it.
    """
    lines = []
    for number in range(count):
        kind = MALFORMED_KINDS[(day_index * count + number) % len(MALFORMED_KINDS)]
        ts = day_start_ms + rng.randrange(DAY_MS)
        position = (ts - day_start_ms) * events // DAY_MS
        lines.append((position, _malformed_line(kind, simulation.sample_line(rng, ts), ts, rng)))
    return sorted(lines, key=lambda pair: pair[0])


def _malformed_line(kind: str, line: str, ts: int, rng: random.Random) -> str:
    if kind == "truncated":
        return line[: len(line) * 2 // 3]
    if kind == "garbage":
        return rng.choice(_GARBAGE_LINES)
    if kind == "missing_ts":
        return line.replace(f',"ts":{ts}', "")
    if kind == "ts_string":
        return line.replace(f'"ts":{ts}', f'"ts":"{ts}"')
    return line[: line.rindex('"userId":')] + '"userId":"abc"}'
