"""The song catalogue: artists, songs (one file each), and the songs that are played but have no file.

Million Song Dataset style, with the quirks of the real song files at fixed rates (the ``P_*`` constants):
unknown years, empty locations, missing coordinates, pretty-printed files, artists whose name or location
differs between their songs, and title+artist pairs recorded twice with different durations.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path

from sparkify_assets.sources.layout import SONG_PREFIX
from sparkify_sample.vocabulary import (
    ADJECTIVES,
    ARTIST_LOCATIONS,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    LAST_NAMES,
    NOUNS,
    PLURALS,
    TITLE_SUFFIXES,
    WORDS,
)

P_YEAR_UNKNOWN = 0.45  # year 0 (the real sample: 43 of 71)
P_EMPTY_LOCATION = 0.35  # artist_location ""
P_NO_COORDINATES = 0.55  # artist_latitude/longitude null
P_PRETTY_SONG_FILE = 0.05  # song file pretty-printed over several lines
ARTISTS_PER_SONG = 0.7  # so about a third of the songs share their artist with another song
P_ARTIST_VARIANT = 0.3  # a later song of an artist spells its name or location differently
SONGS_PER_DUPLICATE_PAIR = 40  # one title+artist pair recorded twice (different durations) per this many


@dataclass(frozen=True, slots=True)
class Artist:
    artist_id: str
    name: str
    location: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True, slots=True)
class Song:
    track_id: str
    song_id: str
    artist: Artist  # as spelled in this song's file
    title: str
    duration: float
    year: int


@dataclass(frozen=True, slots=True)
class UnknownSong:
    """A song that is played but has no song file (no title+artist of the catalogue, even ignoring case and
    spaces): its plays never match."""

    title: str
    artist: str
    length: float


@dataclass(frozen=True)
class Catalogue:
    songs: list[Song]
    """Most played first: the event simulation picks low indexes more often."""
    unknown: list[UnknownSong]


@dataclass(frozen=True)
class SongFile:
    """One song file; the fields are the file's keys, in the file's order."""

    num_songs: int
    artist_id: str
    artist_latitude: float | None
    artist_longitude: float | None
    artist_location: str
    artist_name: str
    song_id: str
    title: str
    duration: float
    year: int

    @classmethod
    def of(cls, song: Song) -> SongFile:
        artist = song.artist
        return cls(
            num_songs=1, artist_id=artist.artist_id, artist_latitude=artist.latitude,
            artist_longitude=artist.longitude, artist_location=artist.location, artist_name=artist.name,
            song_id=song.song_id, title=song.title, duration=song.duration, year=song.year,
        )  # fmt: skip


SONG_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(SongFile))
"""Keys of a song file, in the order of the source files."""


def match_key(title: str, artist: str) -> tuple[str, str]:
    """Title and artist as SPEC.md's song match compares them: trimmed of spaces, ignoring case."""
    return title.strip(" ").lower(), artist.strip(" ").lower()


def build_catalogue(rng: random.Random, n_songs: int) -> Catalogue:
    ids = _Ids(rng)
    artists = [_new_artist(rng, ids) for _ in range(max(1, round(n_songs * ARTISTS_PER_SONG)))]
    seen_artists: set[str] = set()
    songs: list[Song] = []
    for index in range(n_songs):
        # Every artist gets a song first; the remaining songs go mostly to the first (popular) artists.
        artist = artists[index] if index < len(artists) else artists[int(len(artists) * rng.random() ** 1.5)]
        if artist.artist_id in seen_artists and rng.random() < P_ARTIST_VARIANT:
            artist = _artist_variant(rng, artist)
        seen_artists.add(artist.artist_id)
        year = 0 if rng.random() < P_YEAR_UNKNOWN else rng.randint(1955, 2010)
        duration = _duration(rng)
        track_id, song_id = ids.track(), ids.song()
        songs.append(Song(track_id, song_id, artist, _title(rng), duration, year))
    _add_duplicate_pairs(rng, songs)
    return Catalogue(songs, _unknown_songs(rng, songs))


def write_song_files(out_dir: Path, catalogue: Catalogue, rng: random.Random) -> int:
    """Write ``song_data/A/B/C/TRABC...json`` for every song; the bytes written."""
    written = 0
    made_dirs: set[str] = set()
    root = os.fspath(out_dir / SONG_PREFIX)
    # In path order: creating files directory by directory is kinder to the file system.
    for song in sorted(catalogue.songs, key=lambda song: song.track_id):
        track_id = song.track_id
        # The folders are characters 3 to 5 of the track id. Plain string paths: pathlib's per-call parsing
        # costs more than the write of a small file.
        folder = f"{root}/{track_id[2]}/{track_id[3]}/{track_id[4]}"
        if folder not in made_dirs:
            os.makedirs(folder, exist_ok=True)
            made_dirs.add(folder)
        record = vars(SongFile.of(song))
        text = json.dumps(record, indent=4) if rng.random() < P_PRETTY_SONG_FILE else json.dumps(record)
        with open(f"{folder}/{track_id}.json", "wb") as out:
            written += out.write(text.encode("ascii"))
    return written


def _title(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(1 + int(rng.random() ** 1.5 * 4))]
    if rng.random() < 0.03:
        words[-1] = f'"{words[-1]}"'
    text = " ".join(words)
    if rng.random() < 0.15:
        text += rng.choice(TITLE_SUFFIXES)
    return text


def _artist_name(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.25:
        return f"The {rng.choice(PLURALS)}"
    if kind < 0.55:
        return f"{rng.choice(FIRST_NAMES_F + FIRST_NAMES_M)} {rng.choice(LAST_NAMES)}"
    if kind < 0.80:
        return f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    if kind < 0.92:
        return f"{rng.choice(LAST_NAMES)} & The {rng.choice(PLURALS)}"
    if kind < 0.97:
        return f"DJ {rng.choice(FIRST_NAMES_M)}"
    return f"{rng.choice(ADJECTIVES)}/{rng.choice(ADJECTIVES)}"


def _duration(rng: random.Random) -> float:
    """Seconds, about 4 minutes, between 20 s and 15 minutes."""
    return round(min(900.0, max(20.0, rng.gauss(235.0, 80.0))), 5)


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
        return self._unique(
            lambda: (
                "SO" + self._pick(self._LETTERS, 5) + self._rng.choice(("12AB0", "12A8C")) + self._pick(self._HEX, 6)
            )
        )

    def artist(self) -> str:
        # AR62SOJ1187FB47BB5 / ARD7TVE1187B99BFB1
        return self._unique(lambda: "AR" + self._pick(self._ALNUM, 5) + "1187" + self._pick(self._HEX, 7))


def _new_artist(rng: random.Random, ids: _Ids) -> Artist:
    location = "" if rng.random() < P_EMPTY_LOCATION else rng.choice(ARTIST_LOCATIONS)
    if location and rng.random() >= P_NO_COORDINATES:
        lat, lon = round(rng.uniform(-40.0, 65.0), 5), round(rng.uniform(-125.0, 150.0), 5)
    else:
        lat = lon = None
    artist_id = ids.artist()
    return Artist(artist_id, _artist_name(rng), location, lat, lon)


def _artist_variant(rng: random.Random, artist: Artist) -> Artist:
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
            name = f"{name} featuring {rng.choice(FIRST_NAMES_F)} {rng.choice(LAST_NAMES)}"
        return replace(artist, name=name)
    if artist.location and rng.random() < 0.5:
        return replace(artist, location="", latitude=None, longitude=None)
    location = rng.choice([loc for loc in ARTIST_LOCATIONS if loc != artist.location])
    return replace(artist, location=location, latitude=None, longitude=None)


def _add_duplicate_pairs(rng: random.Random, songs: list[Song]) -> None:
    """Make song 2k+1 the same title+artist as song 2k with a duration 0.3 to 2.5 s away.

    These sit at the most played indexes, so plays whose length is within the match tolerance of both occur
    and the warehouse's "closest duration wins" rule is exercised.
    """
    pairs = 0 if len(songs) < 2 else max(1, len(songs) // SONGS_PER_DUPLICATE_PAIR)
    for k in range(pairs):
        original = songs[2 * k]
        offset = rng.uniform(0.3, 2.5) * (1 if rng.random() < 0.5 else -1)
        songs[2 * k + 1] = replace(
            songs[2 * k + 1],
            artist=original.artist,
            title=original.title,
            duration=round(original.duration + offset, 5),
        )


def _unknown_songs(rng: random.Random, songs: list[Song]) -> list[UnknownSong]:
    known = {match_key(song.title, song.artist.name) for song in songs}
    unknown: list[UnknownSong] = []
    while len(unknown) < max(100, len(songs)):
        name, artist = _title(rng), _artist_name(rng)
        if match_key(name, artist) not in known:
            unknown.append(UnknownSong(name, artist, _duration(rng)))
    return unknown
