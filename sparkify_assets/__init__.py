"""Sparkify warehouse as Dagster software-defined assets: S3 or local JSON -> staging -> star schema.

The code location is `sparkify_assets.definitions` (`defs`). Importing this package does not import Dagster,
so that the `sparkify` command answers `--help` at once; `sparkify_assets.defs` still works, loaded on first
use (so `dagster ... -m sparkify_assets` finds it too).
"""

import warnings

# Dagster features we rely on on purpose, announced on every import: single-run backfill policies (beta),
# partitioned asset checks (preview), and the `include_sources` parameter that Dagster itself passes when it
# parses the selection `*` (beta). The filters match the messages that name these three (Dagster's warning
# classes are not importable without importing Dagster), so any other Beta/Preview warning still shows.
for _message in (
    "Parameter `backfill_policy` of function",
    "Specifying a partitions_def on an AssetCheckSpec",
    "Parameter `include_sources` of function `AssetSelection.all`",
):
    warnings.filterwarnings("ignore", message=_message)
del _message


def __getattr__(name: str):
    if name == "defs":
        from sparkify_assets.definitions import defs

        return defs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "defs"])


__all__ = ["defs"]
