"""Settings, validation and policy documents of `sparkify infra`: no AWS involved."""

from __future__ import annotations

import argparse

import pytest
from botocore.exceptions import ClientError

from sparkify_cli.infra import configure_parser, plan_from_args
from sparkify_infra.connection import Connection
from sparkify_infra.errors import ConfigError, InfraError, aws_step
from sparkify_infra.iam import read_policy, trust_policy
from sparkify_infra.plan import (
    Plan,
    check_name,
    check_password,
    normalize_cidrs,
    parse_source,
    resolve_region,
)
from sparkify_infra.tags import is_owned, ownership_tags


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sparkify infra")
    configure_parser(parser)
    return parser.parse_args(argv)


# -- who may connect ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0", " 0.0.0.0/0 ", "0.0.0.0/0.0.0.0", "1.2.3.4/0"])
def test_the_whole_internet_is_refused_even_when_confirmed(cidr: str) -> None:
    with pytest.raises(ConfigError, match="whole internet"):
        normalize_cidrs([cidr], allow_wide=True)


@pytest.mark.parametrize("cidr", ["10.0.0.0/8", "198.50.0.0/15", "2001:db8::/32"])
def test_wide_ranges_need_confirmation(cidr: str) -> None:
    with pytest.raises(ConfigError, match="--i-know-this-is-wide"):
        normalize_cidrs([cidr])
    assert normalize_cidrs([cidr], allow_wide=True) == (cidr,)


def test_cidrs_are_normalized() -> None:
    assert normalize_cidrs(["203.0.113.7", "198.51.100.9/24", "2001:db8::1", "203.0.113.7/32"]) == (
        "203.0.113.7/32",
        "198.51.100.0/24",
        "2001:db8::1/128",
    )
    assert normalize_cidrs(["10.1.0.0/16"]) == ("10.1.0.0/16",)


@pytest.mark.parametrize("cidrs", [[], ["not-an-ip"], ["300.1.1.1/32"]])
def test_missing_or_bad_cidr_names_the_option(cidrs: list[str]) -> None:
    with pytest.raises(ConfigError, match="--allow-cidr|SPARKIFY_INFRA_ALLOW_CIDR"):
        normalize_cidrs(cidrs)


# -- secrets and names --------------------------------------------------------------------------------------
@pytest.mark.parametrize("password", ["short1A", "alllowercase1", "NoDigitsHere", "Has space 1A", "Quote'1Aaaaa"])
def test_bad_passwords_are_refused_without_being_echoed(password: str) -> None:
    with pytest.raises(ConfigError, match="REDSHIFT_PASSWORD") as caught:
        check_password(password)
    assert password not in str(caught.value)


def test_missing_password_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="REDSHIFT_PASSWORD is not set"):
        check_password(None)
    assert check_password("Sparkify-Pw-2024") == "Sparkify-Pw-2024"


@pytest.mark.parametrize("name", ["Sparkify", "s", "sparkify-", "spark--ify", "1sparkify", "x" * 31, "spark_ify"])
def test_bad_deployment_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="--name"):
        check_name(name)


def test_resource_names_derive_from_the_name() -> None:
    plan = Plan(name="team-a")
    assert (plan.role_name, plan.security_group_name, plan.cluster_id) == (
        "team-a-redshift-s3-read",
        "team-a-redshift",
        "team-a-cluster",
    )
    assert (plan.namespace_name, plan.workgroup_name) == ("team-a-ns", "team-a-wg")


def test_region_precedence() -> None:
    env = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-central-1"}
    assert resolve_region("ap-south-1", env) == "ap-south-1"
    assert resolve_region(None, env) == "eu-west-1"
    assert resolve_region(None, {"AWS_DEFAULT_REGION": "eu-central-1"}) == "eu-central-1"
    assert resolve_region(None, {}) == "us-west-2"
    with pytest.raises(ConfigError, match="region"):
        resolve_region("not a region", {})


# -- what Redshift may read ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://udacity-dend", ("udacity-dend", "")),
        ("s3://udacity-dend/", ("udacity-dend", "")),
        ("s3://my-bucket/sparkify", ("my-bucket", "sparkify/")),
        ("s3://my-bucket/a/b/", ("my-bucket", "a/b/")),
    ],
)
def test_parse_source(uri: str, expected: tuple[str, str]) -> None:
    assert parse_source(uri) == expected


@pytest.mark.parametrize("uri", ["my-bucket", "s3://*", "s3://b/*", "s3://bucket/a/../b", "https://x/y", "s3://A"])
def test_bad_sources_are_refused(uri: str) -> None:
    with pytest.raises(ConfigError, match="--source"):
        parse_source(uri)


def test_read_policy_is_scoped_to_the_prefix() -> None:
    policy = read_policy("my-bucket", "sparkify/")
    by_action = {s["Action"]: s for s in policy["Statement"]}
    assert set(by_action) == {"s3:GetObject", "s3:ListBucket"}
    assert by_action["s3:GetObject"]["Resource"] == "arn:aws:s3:::my-bucket/sparkify/*"
    assert by_action["s3:ListBucket"]["Resource"] == "arn:aws:s3:::my-bucket"
    assert by_action["s3:ListBucket"]["Condition"] == {"StringLike": {"s3:prefix": ["sparkify/*"]}}
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])


def test_read_policy_for_a_bucket_root_has_no_prefix_condition() -> None:
    by_action = {s["Action"]: s for s in read_policy("udacity-dend", "")["Statement"]}
    assert by_action["s3:GetObject"]["Resource"] == "arn:aws:s3:::udacity-dend/*"
    assert "Condition" not in by_action["s3:ListBucket"]


def test_trust_policy_admits_only_redshift() -> None:
    (statement,) = trust_policy("cluster")["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "redshift.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    (statement,) = trust_policy("serverless")["Statement"]
    assert statement["Principal"]["Service"] == [
        "redshift.amazonaws.com",
        "redshift-serverless.amazonaws.com",
    ]


def test_ownership_needs_project_and_name() -> None:
    assert is_owned(ownership_tags("sparkify"), "sparkify")
    assert not is_owned(ownership_tags("other"), "sparkify")
    assert not is_owned({"SparkifyName": "sparkify"}, "sparkify")


# -- options and environment --------------------------------------------------------------------------------
def test_plan_from_args_uses_environment_defaults() -> None:
    env = {
        "SPARKIFY_INFRA_ALLOW_CIDR": "203.0.113.7, 198.51.100.0/24",
        "SPARKIFY_SOURCE": "s3://my-bucket/raw",
        "SPARKIFY_INFRA_NAME": "team-a",
        "REDSHIFT_DB": "dwh",
        "REDSHIFT_USER": "admin_user",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    plan = plan_from_args(_args("up"), env)
    assert plan.allow_cidrs == ("203.0.113.7/32", "198.51.100.0/24")
    assert (plan.bucket, plan.prefix, plan.name, plan.region) == ("my-bucket", "raw/", "team-a", "eu-west-1")
    assert (plan.db_name, plan.master_user, plan.node_type, plan.node_count) == (
        "dwh",
        "admin_user",
        "ra3.large",  # DC2 may no longer be creatable
        2,
    )
    assert not plan.serverless


def test_options_override_environment() -> None:
    env = {"SPARKIFY_INFRA_ALLOW_CIDR": "203.0.113.7", "SPARKIFY_SOURCE": "/local/dir"}
    args = _args(
        "up",
        "--allow-cidr",
        "198.51.100.4",
        "--name",
        "team-b",
        "--region",
        "us-east-1",
        "--serverless",
        "--nodes",
        "4",
        "--node-type",
        "ra3.large",
        "--base-capacity",
        "16",
        "--timeout",
        "60",
        "--poll-delay",
        "2",
    )
    plan = plan_from_args(args, env)
    assert plan.allow_cidrs == ("198.51.100.4/32",)
    assert (plan.bucket, plan.prefix) == ("udacity-dend", "")  # a local SPARKIFY_SOURCE is not an S3 scope
    assert (plan.name, plan.region, plan.serverless, plan.node_count, plan.node_type) == (
        "team-b",
        "us-east-1",
        True,
        4,
        "ra3.large",
    )
    assert (plan.base_capacity, plan.timeout_s, plan.poll_delay_s) == (16, 60.0, 2.0)


def test_status_and_down_need_no_cidr_or_password() -> None:
    assert plan_from_args(_args("status"), {}).allow_cidrs == ()
    plan = plan_from_args(_args("down", "--final-snapshot", "sparkify-final-1"), {})
    assert plan.final_snapshot == "sparkify-final-1"
    with pytest.raises(ConfigError, match="--final-snapshot"):
        plan_from_args(_args("down", "--final-snapshot", "bad_id!"), {})


def test_base_capacity_must_be_a_multiple_of_8() -> None:
    with pytest.raises(ConfigError, match="--base-capacity"):
        plan_from_args(_args("up", "--allow-cidr", "203.0.113.7", "--base-capacity", "12"), {})


# -- output and errors ------------------------------------------------------------------------------------
def test_exports_are_shell_quoted_and_have_no_password() -> None:
    connection = Connection("h.example.com", 5439, "dev", "awsuser", "arn:aws:iam::123456789012:role/r")
    lines = connection.shell_lines()
    assert lines == [
        "export REDSHIFT_HOST=h.example.com",
        "export REDSHIFT_PORT=5439",
        "export REDSHIFT_DB=dev",
        "export REDSHIFT_USER=awsuser",
        "export REDSHIFT_IAM_ROLE_ARN=arn:aws:iam::123456789012:role/r",
    ]
    assert not any("PASSWORD" in line for line in lines)


def test_aws_step_names_the_failed_step() -> None:
    error = ClientError({"Error": {"Code": "AccessDenied", "Message": "not\nallowed"}}, "CreateRole")
    with pytest.raises(InfraError) as caught, aws_step("create IAM role sparkify-redshift-s3-read"):
        raise error
    assert str(caught.value) == "could not create IAM role sparkify-redshift-s3-read: AccessDenied: not allowed"


# -- the partition, SSE-KMS ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("region", "partition"),
    [("us-west-2", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("cn-future-9", "aws-cn")],
)
def test_s3_arns_are_in_the_partition_of_the_region(region: str, partition: str) -> None:
    plan = Plan(region=region, bucket="my-bucket", prefix="raw/")
    assert plan.partition == partition
    resources = {s["Resource"] for s in read_policy(plan.bucket, plan.prefix, plan.partition)["Statement"]}
    assert resources == {f"arn:{partition}:s3:::my-bucket", f"arn:{partition}:s3:::my-bucket/raw/*"}


KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_a_kms_key_lets_the_role_decrypt_with_that_key_only() -> None:
    statements = read_policy("my-bucket", "", "aws", KEY)["Statement"]
    (decrypt,) = [s for s in statements if s["Action"] == "kms:Decrypt"]
    assert decrypt == {"Sid": "DecryptSourceObjects", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}
    assert not any(s["Action"] == "kms:Decrypt" for s in read_policy("my-bucket", "")["Statement"])


def test_the_kms_key_comes_from_the_option_or_the_environment_and_is_checked() -> None:
    up = ("up", "--allow-cidr", "203.0.113.7", "--region", "us-west-2")
    assert plan_from_args(_args(*up, "--kms-key", KEY), {}).kms_key_arn == KEY
    assert plan_from_args(_args(*up), {"SPARKIFY_INFRA_KMS_KEY": KEY}).kms_key_arn == KEY
    assert plan_from_args(_args(*up), {}).kms_key_arn is None
    with pytest.raises(ConfigError, match="--kms-key .* not a KMS key ARN"):
        plan_from_args(_args(*up, "--kms-key", "arn:aws:kms:us-west-2:123456789012:alias/sparkify"), {})
    with pytest.raises(ConfigError, match="--kms-key .* partition aws, not aws-cn"):
        plan_from_args(_args(*up, "--region", "cn-north-1", "--kms-key", KEY), {})


def test_the_copy_region_is_exported_when_known() -> None:
    connection = Connection("h.example.com", 5439, "dev", "awsuser", "arn:aws:iam::123456789012:role/r")
    assert "REDSHIFT_COPY_REGION" not in connection.exports()
    with_region = Connection("h.example.com", 5439, "dev", "awsuser", "arn:aws:iam::123456789012:role/r", "eu-west-1")
    assert with_region.exports()["REDSHIFT_COPY_REGION"] == "eu-west-1"
