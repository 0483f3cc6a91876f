"""`sparkify days`: the partition range the configured source holds, as `FIRST...LAST`.

`make run` passes it to `dagster asset materialize --partition-range`.
"""

from __future__ import annotations

import argparse
import sys

from dagster import build_resources

from sparkify_assets.resources import source_resource
from sparkify_assets.sources.errors import SourceError
from sparkify_assets.sources.layout import LOG_PREFIX, day_of_event_key


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--list", action="store_true", help="print every day, one a line, instead of a range")


def run(args: argparse.Namespace) -> int:
    try:
        with build_resources({"source": source_resource()}) as resources:
            source = resources.source
            days = sorted({day for key in source.list_keys(LOG_PREFIX) if (day := day_of_event_key(key))})
    except SourceError as exc:
        print(f"sparkify days: {exc}", file=sys.stderr)
        return 2
    if not days:
        print(f"sparkify days: no day files under {source.location(LOG_PREFIX)}", file=sys.stderr)
        return 1
    if args.list:
        print("\n".join(day.isoformat() for day in days))
    else:
        print(f"{days[0].isoformat()}...{days[-1].isoformat()}")
    return 0
