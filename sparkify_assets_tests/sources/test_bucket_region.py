"""Which region a bucket is in, asked of moto's S3: GetBucketLocation, else HeadBucket's region header."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from sparkify_assets.sources.bucket_region import bucket_region, region_of_location


@pytest.mark.parametrize(("constraint", "region"), [(None, "us-east-1"), ("", "us-east-1"), ("EU", "eu-west-1")])
def test_s3s_special_location_constraints(constraint: str | None, region: str) -> None:
    assert region_of_location(constraint) == region


def refuse_get_bucket_location(client: Any) -> None:
    """What S3 answers a caller who does not own the bucket: 403 AccessDenied to GetBucketLocation."""

    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        denied = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}, "ResponseMetadata": {}}
        return AWSResponse("https://s3.amazonaws.com", 403, {}, None), denied

    client.meta.events.register("before-call.s3.GetBucketLocation", refuse)


def test_without_getbucketlocation_the_head_bucket_header_says_the_region(aws_test_env: str) -> None:
    client = boto3.client("s3", region_name="ap-southeast-2", endpoint_url=aws_test_env)
    client.create_bucket(Bucket="sparkify-sydney", CreateBucketConfiguration={"LocationConstraint": "ap-southeast-2"})
    assert bucket_region(client, "sparkify-sydney") == "ap-southeast-2"
    refuse_get_bucket_location(client)
    assert bucket_region(client, "sparkify-sydney") == "ap-southeast-2"


def test_a_bucket_s3_will_say_nothing_of_is_the_refusal(aws_test_env: str) -> None:
    client = boto3.client("s3", region_name="us-west-2", endpoint_url=aws_test_env)
    with pytest.raises(ClientError, match="NoSuchBucket"):
        bucket_region(client, "sparkify-no-such-bucket")
