"""Which region an S3 bucket is in: what Redshift COPY's REGION must say (a bucket elsewhere gives S3's 301).

Asked with GetBucketLocation, which answers no LocationConstraint for us-east-1 and the legacy ``EU`` for
eu-west-1 (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html). Only a bucket's owner
(or whom its policy allows) may call it; for another bucket, such as the public Udacity one read unsigned,
HeadBucket's ``x-amz-bucket-region`` header says the region even when S3 refuses the request itself
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

_REGION_HEADER = "x-amz-bucket-region"


def region_of_location(constraint: str | None) -> str:
    """The region a GetBucketLocation LocationConstraint stands for."""
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def bucket_region(client: Any, bucket: str) -> str:
    """The region of ``bucket``, asked through ``client`` (a boto3 S3 client); raises boto3's error when S3
    will say neither (no such bucket, no access and no header, S3 unreachable)."""
    try:
        return region_of_location(client.get_bucket_location(Bucket=bucket).get("LocationConstraint"))
    except ClientError as refused:
        try:
            answer = client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            answer = exc.response
        region = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get(_REGION_HEADER)
        if region:
            return str(region)
        raise refused from None
