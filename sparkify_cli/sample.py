"""`sparkify sample`: write a deterministic Udacity-format sample data set to a directory."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from sparkify_sample.generator import (
    DEFAULT_DAYS,
    DEFAULT_EVENTS_PER_DAY,
    DEFAULT_MALFORMED_PER_DAY,
    DEFAULT_SEED,
    DEFAULT_SONGS,
    DEFAULT_START,
    DEFAULT_USERS,
    generate_sample,
)


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="directory to write song_data/, log_data/ and log_json_path.json into",
    )
    parser.add_argument("--songs", type=_count, default=DEFAULT_SONGS, help="song files (default %(default)s)")
    parser.add_argument(
        "--days", type=_count, default=DEFAULT_DAYS, help="daily event files, i.e. partitions (default %(default)s)"
    )
    parser.add_argument(
        "--events-per-day",
        type=_count,
        default=DEFAULT_EVENTS_PER_DAY,
        help="valid events per day file; 0 writes empty files (default %(default)s)",
    )
    parser.add_argument(
        "--start", type=_day, default=DEFAULT_START, metavar="YYYY-MM-DD", help="first day, UTC (default %(default)s)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help="same seed and options give byte-identical files (default %(default)s)",
    )
    parser.add_argument("--users", type=_positive, default=DEFAULT_USERS, help="listeners (default %(default)s)")
    parser.add_argument(
        "--malformed-per-day",
        type=_count,
        default=DEFAULT_MALFORMED_PER_DAY,
        help="broken lines added to each day file, to exercise rejects (default %(default)s)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a sample already in --out (its song_data/, log_data/, JSONPaths file)",
    )


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        summary = generate_sample(
            args.out,
            songs=args.songs,
            days=args.days,
            events_per_day=args.events_per_day,
            start=args.start,
            seed=args.seed,
            users=args.users,
            malformed_per_day=args.malformed_per_day,
            overwrite=args.overwrite,
        )
    except (FileExistsError, ValueError) as error:
        print(f"sparkify sample: error: {error}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    files = summary.song_files + summary.event_files + 1
    print(
        f"wrote {files} files ({summary.song_files} songs, {summary.event_files} day files), "
        f"{summary.events_written} events, {summary.malformed_lines} malformed lines, "
        f"{summary.bytes_written / 1_000_000:.1f} MB in {seconds:.1f} s to {summary.out_dir}"
    )
    return 0
