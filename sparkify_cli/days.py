"""`sparkify days`: the partition range the configured source holds, as `FIRST...LAST`.

`make run` passes it to `dagster asset materialize --partition-range`, so stdout is exactly that range (or, with
`--list`, the days one a line). Only days that are partitions count (from SPARKIFY_PARTITIONS_START to
SPARKIFY_PARTITIONS_END or yesterday, UTC: `partitions.why_not_a_partition`), since the pipeline rejects any
other; every file under `log_data/` left out is named on stderr with the reason.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date

from sparkify_assets.sources.layout import LOG_PREFIX, day_of_event_key

#: Ignored files named one a line on stderr; past this many, a count of the rest.
SHOWN_IGNORED = 20

_DAY_FILE_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})-events\.json")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--list", action="store_true", help="print every day, one a line, instead of a range")


def run(args: argparse.Namespace) -> int:
    # Dagster is imported here, not at the top: `sparkify --help` answers without it.
    from dagster import build_resources

    from sparkify_assets.partitions import partitions_range_text, why_not_a_partition
    from sparkify_assets.resources import source_resource
    from sparkify_assets.sources.errors import SourceError

    try:
        with build_resources({"source": source_resource()}) as resources:
            source = resources.source
            keys = source.list_keys(LOG_PREFIX)
    except SourceError as exc:
        print(f"sparkify days: {exc}", file=sys.stderr)
        return 2
    days: set[date] = set()
    ignored: list[tuple[str, str]] = []
    for key in sorted(keys):
        if key.endswith("/"):  # an S3 "folder" marker, not a file
            continue
        day = day_of_event_key(key)
        why = _not_a_day_file(key) if day is None else why_not_a_partition(day)
        if why is None and day is not None:
            days.add(day)
        else:
            ignored.append((key, why or "not a day file"))
    for key, why in ignored[:SHOWN_IGNORED]:
        print(f"sparkify days: ignored {source.location(key)}: {why}", file=sys.stderr)
    if len(ignored) > SHOWN_IGNORED:
        print(f"sparkify days: ignored {len(ignored) - SHOWN_IGNORED} more files", file=sys.stderr)
    if not days:
        print(
            f"sparkify days: no day file under {source.location(LOG_PREFIX)} is a partition "
            f"(partitions: {partitions_range_text()})",
            file=sys.stderr,
        )
        return 1
    ordered = sorted(days)
    if args.list:
        print("\n".join(day.isoformat() for day in ordered))
    else:
        print(f"{ordered[0].isoformat()}...{ordered[-1].isoformat()}")
    return 0


def _not_a_day_file(key: str) -> str:
    """Why a key under log_data/ is not read as a day's file."""
    name = key.rsplit("/", 1)[-1]
    match = _DAY_FILE_NAME.fullmatch(name)
    if match:
        try:
            date.fromisoformat(name[:10])
        except ValueError:
            return f"{name[:10]} is not a date"
        folder = f"{LOG_PREFIX}{match.group(1)}/{match.group(2)}/"
        return f"a day file outside its month's folder, {folder}"
    return f"not a day file ({LOG_PREFIX}YYYY/MM/YYYY-MM-DD-events.json)"
