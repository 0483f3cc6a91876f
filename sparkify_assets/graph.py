"""Every asset of the pipeline, in the order of the data's path, and which of them are daily.

Jobs, checks and tests read the daily assets from here, as their definitions' `partitions_def` says,
instead of listing them again.
"""

from dagster import AssetKey

from sparkify_assets.analytics.assets import analytics_assets
from sparkify_assets.staging.assets import staging_events, staging_songs
from sparkify_assets.star.assets import song_catalogue, songplays, time, users

PIPELINE_ASSETS = [staging_events, staging_songs, song_catalogue, users, time, songplays, *analytics_assets]

#: The assets partitioned by day (the rest, the song catalogue and its staging, are not partitioned).
DAILY_ASSET_KEYS: frozenset[AssetKey] = frozenset(
    key for assets in PIPELINE_ASSETS if assets.partitions_def is not None for key in assets.keys
)
