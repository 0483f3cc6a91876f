"""Sparkify warehouse as Dagster software-defined assets: S3 or local JSON -> staging -> star schema."""

from sparkify_assets.definitions import defs

__all__ = ["defs"]
