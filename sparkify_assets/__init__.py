"""Sparkify warehouse as Dagster software-defined assets: S3 or local JSON -> staging -> star schema."""

import warnings

from dagster import BetaWarning, PreviewWarning

# We rely on two Dagster features on purpose: single-run backfill policies (beta) and partitioned asset
# checks (preview). Say so once here instead of on every command and test run.
warnings.filterwarnings("ignore", category=BetaWarning, module="dagster")
warnings.filterwarnings("ignore", category=PreviewWarning, module="dagster")

from sparkify_assets.definitions import defs  # noqa: E402

__all__ = ["defs"]
