"""Redshift Serverless (`up --serverless`) against botocore's Stubber: moto 5.2 has no redshift-serverless.

The Stubber checks every request against the real service model and the exact parameters we expect,
so these tests pin what is sent to AWS; they cannot show that AWS accepts it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sparkify_infra import serverless
from sparkify_infra.errors import InfraError
from sparkify_infra.plan import Plan

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/sparkify-redshift-s3-read"
NS_ARN = f"arn:aws:redshift-serverless:us-west-2:{ACCOUNT}:namespace/0f0f0f0f-aaaa-bbbb-cccc-000000000001"
WG_ARN = f"arn:aws:redshift-serverless:us-west-2:{ACCOUNT}:workgroup/0f0f0f0f-aaaa-bbbb-cccc-000000000002"
HOST = f"sparkify-wg.{ACCOUNT}.us-west-2.redshift-serverless.amazonaws.com"
OUR_TAGS = [
    {"key": "Project", "value": "sparkify"},
    {"key": "SparkifyName", "value": "sparkify"},
    {"key": "ManagedBy", "value": "sparkify infra"},
    {"key": "SparkifyKind", "value": "serverless"},
]
PLAN = Plan(serverless=True, allow_cidrs=("203.0.113.7/32",), timeout_s=1.0, poll_delay_s=0.01)


def namespace(status: str = "AVAILABLE", roles: list[str] | None = None) -> dict[str, Any]:
    return {
        "namespaceName": "sparkify-ns",
        "namespaceArn": NS_ARN,
        "status": status,
        "dbName": "sparkify",
        "adminUsername": "sparkify",
        "iamRoles": roles if roles is not None else [f"IamRole(applyStatus=in-sync, iamRoleArn={ROLE_ARN})"],
    }


def workgroup(status: str = "AVAILABLE", groups: list[str] | None = None) -> dict[str, Any]:
    return {
        "workgroupName": "sparkify-wg",
        "workgroupArn": WG_ARN,
        "namespaceName": "sparkify-ns",
        "status": status,
        "baseCapacity": 8,
        "port": 5439,
        "securityGroupIds": groups if groups is not None else ["sg-0123"],
        "endpoint": {"address": HOST, "port": 5439} if status == "AVAILABLE" else {},
    }


def not_found(stub: Stubber, method: str, params: dict[str, Any]) -> None:
    stub.add_client_error(method, "ResourceNotFoundException", "not found", 404, expected_params=params)


def tags(stub: Stubber, arn: str, found: list[dict[str, str]] = OUR_TAGS) -> None:
    stub.add_response("list_tags_for_resource", {"tags": found}, {"resourceArn": arn})


@pytest.fixture(scope="module")
def session() -> boto3.Session:
    """One Session for the module: it keeps the parsed service model, so each client is quick to make."""
    return boto3.Session(region_name="us-west-2", aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def stubbed(session: boto3.Session) -> Iterator[tuple[Any, Stubber]]:
    client = session.client("redshift-serverless")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def test_ensure_creates_namespace_and_workgroup(stubbed: tuple[Any, Stubber]) -> None:
    client, stub = stubbed
    not_found(stub, "get_namespace", {"namespaceName": "sparkify-ns"})
    stub.add_response(
        "create_namespace",
        {"namespace": namespace()},
        {
            "namespaceName": "sparkify-ns",
            "adminUsername": "sparkify",
            "adminUserPassword": "Sparkify-Secret-42",
            "dbName": "sparkify",
            "iamRoles": [ROLE_ARN],
            "defaultIamRoleArn": ROLE_ARN,
            "tags": OUR_TAGS,
        },
    )
    not_found(stub, "get_workgroup", {"workgroupName": "sparkify-wg"})
    stub.add_response(
        "create_workgroup",
        {"workgroup": workgroup("CREATING")},
        {
            "workgroupName": "sparkify-wg",
            "namespaceName": "sparkify-ns",
            "baseCapacity": 8,
            "port": 5439,
            "publiclyAccessible": True,
            "securityGroupIds": ["sg-0123"],
            "subnetIds": ["subnet-a", "subnet-b", "subnet-c"],
            "tags": OUR_TAGS,
        },
    )
    log: list[str] = []
    serverless.ensure_serverless(
        client,
        PLAN,
        ROLE_ARN,
        "sg-0123",
        ["subnet-a", "subnet-b", "subnet-c"],
        "Sparkify-Secret-42",
        log.append,
    )
    assert log == [
        "created Redshift Serverless namespace sparkify-ns",
        "creating Redshift Serverless workgroup sparkify-wg (8 RPU)",
    ]
    assert not any("Sparkify-Secret-42" in line for line in log)


def test_ensure_repairs_an_existing_deployment(stubbed: tuple[Any, Stubber]) -> None:
    client, stub = stubbed
    stub.add_response("get_namespace", {"namespace": namespace(roles=[])}, {"namespaceName": "sparkify-ns"})
    tags(stub, NS_ARN)
    stub.add_response(
        "update_namespace",
        {"namespace": namespace()},
        {"namespaceName": "sparkify-ns", "iamRoles": [ROLE_ARN], "defaultIamRoleArn": ROLE_ARN},
    )
    stub.add_response("get_workgroup", {"workgroup": workgroup(groups=["sg-old"])}, {"workgroupName": "sparkify-wg"})
    tags(stub, WG_ARN)
    stub.add_response(
        "update_workgroup",
        {"workgroup": workgroup()},
        {"workgroupName": "sparkify-wg", "securityGroupIds": ["sg-old", "sg-0123"]},
    )
    serverless.ensure_serverless(client, PLAN, ROLE_ARN, "sg-0123", ["subnet-a"], "Sparkify-Secret-42", print)


def test_a_namespace_we_did_not_make_is_refused(stubbed: tuple[Any, Stubber]) -> None:
    client, stub = stubbed
    stub.add_response("get_namespace", {"namespace": namespace()}, {"namespaceName": "sparkify-ns"})
    tags(stub, NS_ARN, [{"key": "Project", "value": "someone-else"}])
    with pytest.raises(InfraError, match="namespace sparkify-ns exists but is not tagged Project=sparkify"):
        serverless.ensure_serverless(client, PLAN, ROLE_ARN, "sg-0123", [], "Sparkify-Secret-42", print)


def test_wait_returns_the_endpoint_once_available(stubbed: tuple[Any, Stubber]) -> None:
    client, stub = stubbed
    stub.add_response("get_namespace", {"namespace": namespace()}, {"namespaceName": "sparkify-ns"})
    stub.add_response("get_workgroup", {"workgroup": workgroup("CREATING")}, {"workgroupName": "sparkify-wg"})
    stub.add_response("get_namespace", {"namespace": namespace()}, {"namespaceName": "sparkify-ns"})
    stub.add_response("get_workgroup", {"workgroup": workgroup()}, {"workgroupName": "sparkify-wg"})
    found_namespace, found_workgroup = serverless.wait_available(client, PLAN, print)
    assert found_namespace["dbName"] == "sparkify"
    assert found_workgroup["endpoint"] == {"address": HOST, "port": 5439}


def test_wait_times_out_with_the_last_status(stubbed: tuple[Any, Stubber]) -> None:
    client, stub = stubbed
    plan = Plan(serverless=True, timeout_s=0.0, poll_delay_s=0.0)
    stub.add_response("get_namespace", {"namespace": namespace()}, {"namespaceName": "sparkify-ns"})
    stub.add_response("get_workgroup", {"workgroup": workgroup("CREATING")}, {"workgroupName": "sparkify-wg"})
    with pytest.raises(InfraError, match=r"timed out after 0 s .* workgroup CREATING\); rerun `sparkify infra up`"):
        serverless.wait_available(client, plan, print)


def test_delete_removes_workgroup_then_namespace(stubbed: tuple[Any, Stubber]) -> None:
    client, stub = stubbed
    stub.add_response("get_workgroup", {"workgroup": workgroup()}, {"workgroupName": "sparkify-wg"})
    tags(stub, WG_ARN)
    stub.add_response("delete_workgroup", {"workgroup": workgroup("DELETING")}, {"workgroupName": "sparkify-wg"})
    stub.add_response("get_workgroup", {"workgroup": workgroup("DELETING")}, {"workgroupName": "sparkify-wg"})
    not_found(stub, "get_workgroup", {"workgroupName": "sparkify-wg"})
    stub.add_response("get_namespace", {"namespace": namespace()}, {"namespaceName": "sparkify-ns"})
    tags(stub, NS_ARN)
    stub.add_response(
        "delete_namespace",
        {"namespace": namespace("DELETING")},
        {"namespaceName": "sparkify-ns", "finalSnapshotName": "sparkify-final"},
    )
    not_found(stub, "get_namespace", {"namespaceName": "sparkify-ns"})
    plan = Plan(serverless=True, final_snapshot="sparkify-final", timeout_s=1.0, poll_delay_s=0.0)
    assert serverless.delete_serverless(client, plan, print) == [
        "workgroup sparkify-wg",
        "namespace sparkify-ns",
    ]


def test_delete_when_nothing_exists(stubbed: tuple[Any, Stubber]) -> None:
    client, stub = stubbed
    not_found(stub, "get_workgroup", {"workgroupName": "sparkify-wg"})
    not_found(stub, "get_namespace", {"namespaceName": "sparkify-ns"})
    assert serverless.delete_serverless(client, PLAN, print) == []


def test_namespace_role_arns_parses_the_api_strings() -> None:
    assert serverless.namespace_role_arns(namespace()) == [ROLE_ARN]
    assert serverless.namespace_role_arns(namespace(roles=[])) == []
    assert serverless.namespace_role_arns({"iamRoles": [ROLE_ARN, "garbage"]}) == [ROLE_ARN]
