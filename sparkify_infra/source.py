"""The source bucket as `up` reports it: which region it is in, which Redshift COPY's REGION must name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from sparkify_assets.sources.bucket_region import bucket_region
from sparkify_infra.plan import Plan

Log = Callable[[str], None]


def source_region(s3: Any, plan: Plan, log: Log) -> str | None:
    """The source bucket's region, said on the progress log; None (and why) when S3 will not tell, in which case
    the pipeline asks S3 itself when a run starts, or REDSHIFT_COPY_REGION must be set."""
    try:
        region = bucket_region(s3, plan.bucket)
    except (ClientError, BotoCoreError) as exc:
        log(
            f"source bucket {plan.bucket}: S3 did not say its region ({' '.join(str(exc).split())}); a run asks "
            "again, or set REDSHIFT_COPY_REGION to it"
        )
        return None
    elsewhere = "" if region == plan.region else f" (the warehouse is in {plan.region}: COPY reads across regions)"
    log(f"source bucket {plan.bucket} is in {region}{elsewhere}; COPY's REGION: REDSHIFT_COPY_REGION={region}")
    return region
