"""Sparkify warehouse as Dagster software-defined assets: S3 or local JSON -> staging -> star schema."""

import warnings

from dagster import BetaWarning, PreviewWarning

# We rely on two Dagster features on purpose: single-run backfill policies (beta) and partitioned asset
# checks (preview). Say so once here instead of on every command and test run; the filters name the two
# features, so any other Beta/Preview warning still shows.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=BetaWarning)
warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=PreviewWarning)

from sparkify_assets.definitions import defs  # noqa: E402

__all__ = ["defs"]
