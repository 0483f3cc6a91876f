"""`sparkify infra up|status|down` end to end against a moto server (IAM, EC2, Redshift over HTTP).

The command builds its own boto3 Session, so it reaches moto only through AWS_ENDPOINT_URL, as it would
reach a real endpoint. moto makes clusters `available` (and deletes them) immediately, so waits are short.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shlex
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sparkify_cli.infra import configure_parser, run
from sparkify_infra.clients import AwsClients

PASSWORD = "Sparkify-Secret-42"
MY_CIDR = "203.0.113.7/32"
FAST = ("--timeout", "5", "--poll-delay", "0.05")
_names = itertools.count(1)


@pytest.fixture(scope="module")
def moto_url(moto_s3_endpoint: str) -> str:
    """The session's moto server (it serves IAM, EC2 and Redshift as well as S3); tests keep apart by --name."""
    return moto_s3_endpoint


class MotoAccount:
    """Clients for looking at what a command did. Made once: creating a boto3 client takes ~0.1 s."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-west-2"
        )
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region_name: str = "us-west-2") -> Any:
        key = (service, region_name)
        if key not in self._clients:
            self._clients[key] = self._session.client(service, region_name=region_name, endpoint_url=self._url)
        return self._clients[key]


@pytest.fixture(scope="module")
def account(moto_url: str) -> MotoAccount:
    return MotoAccount(moto_url)


@pytest.fixture
def aws(
    account: MotoAccount, moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> MotoAccount:
    """An environment that can only reach moto, as a user would export it; returns clients to inspect it."""
    for var in list(os.environ):
        if var.startswith(("AWS_", "REDSHIFT_", "SPARKIFY_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_CONFIG_FILE", f"{tmp_path}/no-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", f"{tmp_path}/no-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("REDSHIFT_PASSWORD", PASSWORD)
    return account


@pytest.fixture
def name() -> str:
    """A deployment name no other test uses."""
    return f"t{next(_names)}"


def infra(capsys: pytest.CaptureFixture[str], *argv: str, clients: AwsClients | None = None) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="sparkify infra")
    configure_parser(parser)
    code = run(parser.parse_args(argv), clients=clients)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def error_line(err: str) -> str:
    """The one error line (progress lines may precede it); there must be exactly one and no traceback."""
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "Traceback" not in err, err
    return errors[0]


def exports(out: str) -> dict[str, str]:
    found = {}
    for line in out.splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "export":
            key, _, value = words[1].partition("=")
            found[key] = value
    return found


def roles(session: MotoAccount, name: str) -> list[str]:
    return [r["RoleName"] for r in session.client("iam").list_roles()["Roles"] if r["RoleName"].startswith(f"{name}-")]


def groups(session: MotoAccount, name: str, region: str = "us-west-2") -> list[dict]:
    ec2 = session.client("ec2", region_name=region)
    filters = [{"Name": "group-name", "Values": [f"{name}-redshift"]}]
    return ec2.describe_security_groups(Filters=filters)["SecurityGroups"]


def clusters(session: MotoAccount, name: str, region: str = "us-west-2") -> list[dict]:
    found = session.client("redshift", region_name=region).describe_clusters()["Clusters"]
    return [c for c in found if c["ClusterIdentifier"] == f"{name}-cluster"]


def test_up_creates_a_scoped_deployment_and_prints_exports(aws: MotoAccount, capsys) -> None:
    """The default --name: this is the only test that uses it."""
    code, out, err = infra(capsys, "up", "--allow-cidr", MY_CIDR, "--source", "s3://my-bucket/sparkify", *FAST)
    assert code == 0, err
    iam = aws.client("iam")
    role_name = "sparkify-redshift-s3-read"

    # the role: assumable by Redshift only, one inline policy scoped to the bucket/prefix, nothing managed
    role = iam.get_role(RoleName=role_name)["Role"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "redshift.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    granted: dict[str, list[str]] = {}
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        assert "*" not in resources and all(r.startswith("arn:aws:s3:::my-bucket") for r in resources)
        assert not any(a == "*" or a.endswith(":*") for a in actions)
        for action in actions:
            granted[action] = resources
    assert granted == {
        "s3:GetObject": ["arn:aws:s3:::my-bucket/sparkify/*"],
        "s3:ListBucket": ["arn:aws:s3:::my-bucket"],
    }
    list_statement = next(s for s in document["Statement"] if s["Action"] == "s3:ListBucket")
    assert list_statement["Condition"] == {"StringLike": {"s3:prefix": ["sparkify/*"]}}
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role_name)["Tags"]}
    assert (tags["Project"], tags["SparkifyName"], tags["SparkifyKind"]) == (
        "sparkify",
        "sparkify",
        "cluster",
    )

    # the security group: exactly TCP 5439 from the caller's CIDR
    (group,) = groups(aws, "sparkify")
    assert [(p["IpProtocol"], p["FromPort"], p["ToPort"]) for p in group["IpPermissions"]] == [("tcp", 5439, 5439)]
    assert [r["CidrIp"] for r in group["IpPermissions"][0]["IpRanges"]] == [MY_CIDR]
    assert not group["IpPermissions"][0].get("Ipv6Ranges")
    assert {t["Key"]: t["Value"] for t in group["Tags"]}["Project"] == "sparkify"

    # the cluster: available, with the role and the group, tagged
    (cluster,) = clusters(aws, "sparkify")
    assert cluster["ClusterStatus"] == "available"
    assert (cluster["NodeType"], cluster["NumberOfNodes"]) == ("ra3.large", 2)  # a current node type
    assert [r["IamRoleArn"] for r in cluster["IamRoles"]] == [role["Arn"]]
    assert [g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]] == [group["GroupId"]]
    assert {t["Key"]: t["Value"] for t in cluster["Tags"]}["SparkifyName"] == "sparkify"

    # the output: export lines only on stdout, and never the password anywhere
    assert exports(out) == {
        "REDSHIFT_HOST": cluster["Endpoint"]["Address"],
        "REDSHIFT_PORT": "5439",
        "REDSHIFT_DB": "sparkify",
        "REDSHIFT_USER": "sparkify",
        "REDSHIFT_IAM_ROLE_ARN": role["Arn"],
    }
    assert all(line.startswith("export REDSHIFT_") for line in out.splitlines())
    assert PASSWORD not in out + err
    assert "REDSHIFT_PASSWORD=" not in out + err


def test_up_twice_is_idempotent_and_follows_a_new_cidr(aws: MotoAccount, capsys, monkeypatch, name: str) -> None:
    first = infra(capsys, "up", "--name", name, "--allow-cidr", MY_CIDR, *FAST)
    second = infra(capsys, "up", "--name", name, "--allow-cidr", MY_CIDR, *FAST)
    assert first[0] == second[0] == 0, second[2]
    assert exports(first[1]) == exports(second[1])
    assert roles(aws, name) == [f"{name}-redshift-s3-read"]
    assert len(groups(aws, name)) == 1 and len(clusters(aws, name)) == 1
    assert "exists" in second[2]

    # a new home IP (from the environment this time) replaces the old rule instead of adding one,
    # and a rule someone added by hand (SSH from anywhere) is removed
    (group,) = groups(aws, name)
    aws.client("ec2").authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    monkeypatch.setenv("SPARKIFY_INFRA_ALLOW_CIDR", "198.51.100.23")
    code, _, err = infra(capsys, "up", "--name", name, *FAST)
    assert code == 0, err
    (group,) = groups(aws, name)
    assert [(p["FromPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in group["IpPermissions"]] == [
        (5439, ["198.51.100.23/32"])
    ]
    assert len(clusters(aws, name)) == 1


def test_a_managed_policy_attached_by_hand_is_reported(aws: MotoAccount, capsys, name: str) -> None:
    assert infra(capsys, "up", "--name", name, "--allow-cidr", MY_CIDR, *FAST)[0] == 0
    role_name = f"{name}-redshift-s3-read"
    iam = aws.client("iam")
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    policy_arn = iam.create_policy(PolicyName=f"{name}-by-hand", PolicyDocument=json.dumps(everything))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role_name, PolicyArn=policy_arn)
    code, out, _ = infra(capsys, "status", "--name", name)
    assert code == 0 and f"WARNING       managed policies attached: {name}-by-hand" in out
    code, _, err = infra(capsys, "down", "--name", name, *FAST)
    assert code == 1
    assert f"could not delete IAM role {role_name} (DeleteConflict): it still has {name}-by-hand" in error_line(err)
    assert clusters(aws, name) == [] and groups(aws, name) == []  # everything before the role is gone
    iam.detach_role_policy(RoleName=role_name, PolicyArn=policy_arn)
    code, out, _ = infra(capsys, "down", "--name", name, *FAST)
    assert code == 0 and out.strip() == f"removed: IAM role {role_name}"


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0"])
def test_up_refuses_the_whole_internet_before_touching_aws(aws: MotoAccount, capsys, cidr: str, name: str) -> None:
    code, out, err = infra(capsys, "up", "--name", name, "--allow-cidr", cidr, *FAST)
    assert code == 2 and out == ""
    assert err.strip() == error_line(err)  # nothing but the one error line
    assert f"--allow-cidr {cidr} would open Redshift port 5439 to the whole internet; refusing" in err
    assert roles(aws, name) == [] and groups(aws, name) == [] and clusters(aws, name) == []


def test_up_without_password_or_cidr_says_which_setting(aws: MotoAccount, capsys, monkeypatch, name: str) -> None:
    code, _, err = infra(capsys, "up", "--name", name, *FAST)
    assert code == 2 and "SPARKIFY_INFRA_ALLOW_CIDR" in error_line(err) and "--allow-cidr" in err
    monkeypatch.delenv("REDSHIFT_PASSWORD")
    code, _, err = infra(capsys, "up", "--name", name, "--allow-cidr", MY_CIDR, *FAST)
    assert code == 2 and "REDSHIFT_PASSWORD is not set" in error_line(err)
    assert roles(aws, name) == [] and clusters(aws, name) == []


def test_status_then_down_then_down_again(aws: MotoAccount, capsys, name: str) -> None:
    code, out, _ = infra(capsys, "status", "--name", name)
    assert code == 0
    assert f"IAM role        {name}-redshift-s3-read: not found" in out
    assert f"cluster         {name}-cluster: not found" in out
    assert "nothing exists" in out

    assert infra(capsys, "up", "--name", name, "--allow-cidr", MY_CIDR, *FAST)[0] == 0
    code, out, _ = infra(capsys, "status", "--name", name)
    assert code == 0
    (group,) = groups(aws, name)
    (cluster,) = clusters(aws, name)
    role_arn = aws.client("iam").get_role(RoleName=f"{name}-redshift-s3-read")["Role"]["Arn"]
    assert role_arn in out
    assert "may read      s3://udacity-dend/*" in out
    assert f"({group['GroupId']} in {group['VpcId']}): TCP 5439 from {MY_CIDR}" in out
    assert f"{name}-cluster: available, ra3.large x 2, {cluster['Endpoint']['Address']}:5439" in out
    assert exports(out)["REDSHIFT_IAM_ROLE_ARN"] == role_arn
    assert PASSWORD not in out

    code, out, err = infra(capsys, "down", "--name", name, *FAST)
    assert code == 0, err
    assert out.strip() == (
        f"removed: Redshift cluster {name}-cluster, security group {group['GroupId']}, IAM role {name}-redshift-s3-read"
    )
    assert roles(aws, name) == [] and groups(aws, name) == [] and clusters(aws, name) == []
    snapshots = aws.client("redshift").describe_cluster_snapshots(SnapshotType="manual")["Snapshots"]
    assert not [s for s in snapshots if s["ClusterIdentifier"] == f"{name}-cluster"]

    code, out, err = infra(capsys, "down", "--name", name, *FAST)
    assert code == 0, err
    assert out.strip() == "nothing to remove"
    assert "not found" in err


def test_down_can_keep_a_final_snapshot(aws: MotoAccount, capsys, name: str) -> None:
    infra(capsys, "up", "--name", name, "--allow-cidr", MY_CIDR, *FAST)
    code, _, err = infra(capsys, "down", "--name", name, "--final-snapshot", f"{name}-final", *FAST)
    assert code == 0, err
    snapshots = aws.client("redshift").describe_cluster_snapshots(SnapshotType="manual")["Snapshots"]
    assert [s["SnapshotIdentifier"] for s in snapshots if s["ClusterIdentifier"] == f"{name}-cluster"] == [
        f"{name}-final"
    ]
    assert clusters(aws, name) == []


def test_resources_not_made_by_up_are_never_adopted_or_deleted(aws: MotoAccount, capsys, name: str) -> None:
    role_name = f"{name}-redshift-s3-read"
    iam = aws.client("iam")
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    code, _, err = infra(capsys, "up", "--name", name, "--allow-cidr", MY_CIDR, *FAST)
    assert code == 1
    assert f"IAM role {role_name} exists but is not tagged Project=sparkify, SparkifyName={name}" in error_line(err)
    code, _, err = infra(capsys, "down", "--name", name, *FAST)
    assert code == 1 and "refusing to touch it" in error_line(err)
    assert roles(aws, name) == [role_name] and groups(aws, name) == [] and clusters(aws, name) == []

    # another --name is a separate deployment, and its `down` leaves the foreign role alone
    other = f"{name}-b"
    assert infra(capsys, "up", "--name", other, "--allow-cidr", MY_CIDR, *FAST)[0] == 0
    assert roles(aws, other) == [f"{other}-redshift-s3-read"]
    assert infra(capsys, "down", "--name", other, *FAST)[0] == 0
    assert roles(aws, other) == [] and clusters(aws, other) == []
    assert roles(aws, name) == [role_name]


def test_up_resumes_a_paused_cluster_and_honours_region_and_size(aws: MotoAccount, capsys, name: str) -> None:
    argv = ("--name", name, "--region", "eu-west-1")
    size = ("--nodes", "1", "--node-type", "ra3.xlplus", "--allow-cidr", MY_CIDR)
    assert infra(capsys, "up", *argv, *size, *FAST)[0] == 0
    (cluster,) = clusters(aws, name, "eu-west-1")
    assert (cluster["NodeType"], cluster["NumberOfNodes"]) == ("ra3.xlplus", 1)
    assert ".eu-west-1." in cluster["Endpoint"]["Address"]
    assert clusters(aws, name) == []  # nothing in the default region

    redshift = aws.client("redshift", region_name="eu-west-1")
    redshift.pause_cluster(ClusterIdentifier=f"{name}-cluster")
    code, out, err = infra(capsys, "up", *argv, *size, *FAST)
    assert code == 0 and "resuming paused cluster" in err
    assert clusters(aws, name, "eu-west-1")[0]["ClusterStatus"] == "available"
    assert exports(out)["REDSHIFT_HOST"] == cluster["Endpoint"]["Address"]
    assert infra(capsys, "down", *argv, *FAST)[0] == 0
    assert clusters(aws, name, "eu-west-1") == [] and groups(aws, name, "eu-west-1") == []


def test_missing_credentials_is_one_line(aws: MotoAccount, capsys, monkeypatch, name: str) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, out, err = infra(capsys, "status", "--name", name)
    assert code == 1 and out == ""
    assert err.strip() == (
        "sparkify infra status: error: no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID "
        "and AWS_SECRET_ACCESS_KEY"
    )


# -- serverless: IAM and EC2 in moto, Redshift Serverless (which moto lacks) stubbed ------------------------
def _serverless_client(calls: list[tuple[str, dict]]) -> tuple[Any, Stubber]:
    client = boto3.Session(region_name="us-west-2").client("redshift-serverless")

    def record(params: dict, model: Any, **_: Any) -> None:
        calls.append((model.name, dict(params)))

    client.meta.events.register("provide-client-params.redshift-serverless.*", record)
    return client, Stubber(client)


def test_serverless_up_status_down(aws: MotoAccount, capsys, name: str) -> None:
    role_arn = f"arn:aws:iam::123456789012:role/{name}-redshift-s3-read"
    ns_arn = f"arn:aws:redshift-serverless:us-west-2:123456789012:namespace/{name}"
    wg_arn = f"arn:aws:redshift-serverless:us-west-2:123456789012:workgroup/{name}"
    host = f"{name}-wg.123456789012.us-west-2.redshift-serverless.amazonaws.com"
    namespace = {
        "namespaceName": f"{name}-ns",
        "namespaceArn": ns_arn,
        "status": "AVAILABLE",
        "dbName": "sparkify",
        "adminUsername": "sparkify",
        "iamRoles": [f"IamRole(applyStatus=in-sync, iamRoleArn={role_arn})"],
    }
    workgroup = {
        "workgroupName": f"{name}-wg",
        "workgroupArn": wg_arn,
        "status": "AVAILABLE",
        "baseCapacity": 8,
        "endpoint": {"address": host, "port": 5439},
    }
    tags = {"tags": [{"key": "Project", "value": "sparkify"}, {"key": "SparkifyName", "value": name}]}
    missing = ("ResourceNotFoundException", "not found", 404)
    calls: list[tuple[str, dict]] = []
    client, stub = _serverless_client(calls)
    stub.add_client_error("get_namespace", *missing)
    stub.add_response("create_namespace", {"namespace": namespace})
    stub.add_client_error("get_workgroup", *missing)
    stub.add_response("create_workgroup", {"workgroup": {**workgroup, "status": "CREATING", "endpoint": {}}})
    stub.add_response("get_namespace", {"namespace": namespace})
    stub.add_response("get_workgroup", {"workgroup": workgroup})
    clients = AwsClients("us-west-2", preset={"redshift-serverless": client})

    with stub:
        code, out, err = infra(
            capsys, "up", "--serverless", "--name", name, "--allow-cidr", MY_CIDR, *FAST, clients=clients
        )
        assert code == 0, err
        stub.assert_no_pending_responses()
    (group,) = groups(aws, name)
    sent = dict(calls)
    assert sent["CreateNamespace"] == {
        "namespaceName": f"{name}-ns",
        "adminUsername": "sparkify",
        "adminUserPassword": PASSWORD,
        "dbName": "sparkify",
        "iamRoles": [role_arn],
        "defaultIamRoleArn": role_arn,
        "tags": [
            {"key": "Project", "value": "sparkify"},
            {"key": "SparkifyName", "value": name},
            {"key": "ManagedBy", "value": "sparkify infra"},
            {"key": "SparkifyKind", "value": "serverless"},
        ],
    }
    created = sent["CreateWorkgroup"]
    assert created["securityGroupIds"] == [group["GroupId"]] and created["publiclyAccessible"] is True
    vpc_subnets = aws.client("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [group["VpcId"]]}])
    assert sorted(created["subnetIds"]) == sorted(s["SubnetId"] for s in vpc_subnets["Subnets"])
    assert (created["baseCapacity"], created["port"]) == (8, 5439)
    trust = aws.client("iam").get_role(RoleName=f"{name}-redshift-s3-read")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"]["Service"] == [
        "redshift.amazonaws.com",
        "redshift-serverless.amazonaws.com",
    ]
    assert exports(out) == {
        "REDSHIFT_HOST": host,
        "REDSHIFT_PORT": "5439",
        "REDSHIFT_DB": "sparkify",
        "REDSHIFT_USER": "sparkify",
        "REDSHIFT_IAM_ROLE_ARN": role_arn,
    }
    assert PASSWORD not in out + err
    assert clusters(aws, name) == []

    # status finds the serverless resources because the role records the deployment kind
    stub.add_response("get_namespace", {"namespace": namespace})
    stub.add_response("list_tags_for_resource", tags, {"resourceArn": ns_arn})
    stub.add_response("get_workgroup", {"workgroup": workgroup})
    stub.add_response("list_tags_for_resource", tags, {"resourceArn": wg_arn})
    with stub:
        code, out, _ = infra(capsys, "status", "--name", name, clients=clients)
        stub.assert_no_pending_responses()
    assert code == 0
    assert f"namespace       {name}-ns: AVAILABLE" in out
    assert f"workgroup       {name}-wg: AVAILABLE, 8 RPU, {host}:5439" in out
    assert exports(out)["REDSHIFT_HOST"] == host

    # switching the same deployment to a provisioned cluster is refused
    code, _, err = infra(capsys, "up", "--name", name, "--allow-cidr", MY_CIDR, *FAST, clients=clients)
    assert code == 1 and "is a serverless deployment" in error_line(err)

    stub.add_response("get_workgroup", {"workgroup": workgroup})
    stub.add_response("list_tags_for_resource", tags, {"resourceArn": wg_arn})
    stub.add_response("delete_workgroup", {"workgroup": {**workgroup, "status": "DELETING"}})
    stub.add_client_error("get_workgroup", *missing)
    stub.add_response("get_namespace", {"namespace": namespace})
    stub.add_response("list_tags_for_resource", tags, {"resourceArn": ns_arn})
    stub.add_response("delete_namespace", {"namespace": {**namespace, "status": "DELETING"}})
    stub.add_client_error("get_namespace", *missing)
    with stub:
        code, out, err = infra(capsys, "down", "--name", name, *FAST, clients=clients)
        assert code == 0, err
        stub.assert_no_pending_responses()
    assert out.strip() == (
        f"removed: Redshift Serverless workgroup {name}-wg, Redshift Serverless namespace {name}-ns, "
        f"security group {group['GroupId']}, IAM role {name}-redshift-s3-read"
    )
    assert roles(aws, name) == [] and groups(aws, name) == []


def test_up_says_the_source_buckets_region_and_grants_decrypt_with_the_kms_key(
    aws: MotoAccount, capsys, name: str
) -> None:
    """COPY's REGION must be the bucket's: `up` asks S3 (GetBucketLocation), says it, and exports it; an SSE-KMS
    source needs kms:Decrypt on its key, and on nothing else."""
    bucket = f"{name}-frankfurt-source"
    aws.client("s3", region_name="eu-central-1").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    key = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    argv = ("--name", name, "--allow-cidr", MY_CIDR, "--source", f"s3://{bucket}/raw", "--kms-key", key)
    code, out, err = infra(capsys, "up", *argv, *FAST)
    assert code == 0, err
    assert f"source bucket {bucket} is in eu-central-1 (the warehouse is in us-west-2" in err
    assert exports(out)["REDSHIFT_COPY_REGION"] == "eu-central-1"
    iam = aws.client("iam")
    document = iam.get_role_policy(RoleName=f"{name}-redshift-s3-read", PolicyName="read-sparkify-source")
    statements = document["PolicyDocument"]
    statements = (json.loads(statements) if isinstance(statements, str) else statements)["Statement"]
    assert [(s["Action"], s["Resource"]) for s in statements if s["Action"].startswith("kms:")] == [
        ("kms:Decrypt", key)
    ]
    assert infra(capsys, "down", "--name", name, *FAST)[0] == 0


def test_up_goes_on_when_s3_will_not_say_the_buckets_region(aws: MotoAccount, capsys, name: str) -> None:
    code, out, err = infra(
        capsys, "up", "--name", name, "--allow-cidr", MY_CIDR, "--source", "s3://no-such-sparkify-bucket", *FAST
    )
    assert code == 0, err
    assert "source bucket no-such-sparkify-bucket: S3 did not say its region" in err
    assert "REDSHIFT_COPY_REGION" not in exports(out)
    assert infra(capsys, "down", "--name", name, *FAST)[0] == 0
