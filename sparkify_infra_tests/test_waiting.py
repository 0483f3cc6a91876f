"""The slow paths moto cannot show (it creates and deletes at once): timeouts and retries, via Stubber."""

from __future__ import annotations

import functools
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sparkify_infra import cluster, network
from sparkify_infra.errors import InfraError
from sparkify_infra.plan import Plan
from sparkify_infra.waiting import poll_until, waiter_config

TAGS = [{"Key": "Project", "Value": "sparkify"}, {"Key": "SparkifyName", "Value": "sparkify"}]


@functools.cache
def _session() -> boto3.Session:
    return boto3.Session(region_name="us-west-2", aws_access_key_id="testing", aws_secret_access_key="testing")


def client(service: str) -> Any:
    """A fresh client (each Stubber needs its own); the shared Session keeps the parsed service models."""
    return _session().client(service)


def test_waiter_config_spreads_the_timeout_over_attempts() -> None:
    assert waiter_config(1800, 30) == {"Delay": 30, "MaxAttempts": 60}
    assert waiter_config(0.1, 0.05) == {"Delay": 0.05, "MaxAttempts": 2}
    assert waiter_config(0, 0)["MaxAttempts"] == 1


def test_cluster_wait_times_out_naming_the_cluster_and_status() -> None:
    redshift = client("redshift")
    creating = {"Clusters": [{"ClusterIdentifier": "sparkify-cluster", "ClusterStatus": "creating", "Tags": TAGS}]}
    plan = Plan(timeout_s=0.1, poll_delay_s=0.05)
    with Stubber(redshift) as stub:
        for _ in range(2):
            stub.add_response("describe_clusters", creating, {"ClusterIdentifier": "sparkify-cluster"})
        with pytest.raises(InfraError) as caught:
            cluster.wait_available(redshift, plan, lambda _: None)
        stub.assert_no_pending_responses()
    assert str(caught.value) == (
        "Redshift cluster sparkify-cluster did not become available within 0.1 s (last status: creating); "
        "rerun `sparkify infra up` to keep waiting"
    )


def test_security_group_deletion_waits_for_the_cluster_network_interface() -> None:
    ec2 = client("ec2")
    group = {"GroupId": "sg-0123", "GroupName": "sparkify-redshift", "VpcId": "vpc-1", "Tags": TAGS}
    log: list[str] = []
    with Stubber(ec2) as stub:
        stub.add_response("describe_security_groups", {"SecurityGroups": [group]})
        stub.add_client_error("delete_security_group", "DependencyViolation", "in use", 400, {"GroupId": "sg-0123"})
        stub.add_response("delete_security_group", {}, {"GroupId": "sg-0123"})
        assert network.delete_security_groups(ec2, Plan(timeout_s=5, poll_delay_s=0), log.append) == ["sg-0123"]
        stub.assert_no_pending_responses()
    assert log == ["deleted security group sparkify-redshift (sg-0123)"]


def test_security_group_still_in_use_times_out_clearly() -> None:
    ec2 = client("ec2")
    group = {"GroupId": "sg-0123", "GroupName": "sparkify-redshift", "VpcId": "vpc-1", "Tags": TAGS}
    with Stubber(ec2) as stub:
        stub.add_response("describe_security_groups", {"SecurityGroups": [group]})
        stub.add_client_error("delete_security_group", "DependencyViolation", "in use", 400, {"GroupId": "sg-0123"})
        with pytest.raises(InfraError, match=r"sg-0123 .*DependencyViolation.*rerun `sparkify infra down` later"):
            network.delete_security_groups(ec2, Plan(timeout_s=0, poll_delay_s=0), print)


def test_poll_until_stops_when_done() -> None:
    answers = iter([(False, "CREATING"), (False, "CREATING"), (True, "AVAILABLE")])
    poll_until(lambda: next(answers), "x", timeout_s=5, delay_s=0)
    with pytest.raises(InfraError, match=r"waiting for the thing \(last status: stuck\); hint"):
        poll_until(lambda: (False, "stuck"), "the thing", timeout_s=0.02, delay_s=0.005, hint="hint")
