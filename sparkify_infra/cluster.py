"""The provisioned Redshift cluster: create (or adopt our own), wait until available, delete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import WaiterError

from sparkify_infra.errors import InfraError, aws_step
from sparkify_infra.plan import REDSHIFT_PORT, Plan
from sparkify_infra.tags import from_aws, is_owned, not_owned_message, ownership_tags, to_aws
from sparkify_infra.waiting import waiter_config

Log = Callable[[str], None]


@dataclass(frozen=True)
class ClusterState:
    identifier: str
    status: str
    node_type: str
    nodes: int
    host: str | None
    port: int | None
    db_name: str
    master_user: str
    role_arns: tuple[str, ...]
    security_group_ids: tuple[str, ...]


def _state(cluster: dict[str, Any]) -> ClusterState:
    endpoint = cluster.get("Endpoint") or {}
    return ClusterState(
        identifier=cluster["ClusterIdentifier"],
        status=str(cluster.get("ClusterStatus", "unknown")),
        node_type=str(cluster.get("NodeType", "")),
        nodes=int(cluster.get("NumberOfNodes") or 1),
        host=endpoint.get("Address"),
        port=endpoint.get("Port"),
        db_name=str(cluster.get("DBName", "")),
        master_user=str(cluster.get("MasterUsername", "")),
        role_arns=tuple(r["IamRoleArn"] for r in cluster.get("IamRoles", [])),
        security_group_ids=tuple(g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])),
    )


def find_cluster(redshift: Any, plan: Plan) -> ClusterState | None:
    """The deployment's cluster, or None; a cluster of that name not tagged as ours is an error."""
    with aws_step(f"look up Redshift cluster {plan.cluster_id}"):
        try:
            clusters = redshift.describe_clusters(ClusterIdentifier=plan.cluster_id)["Clusters"]
        except redshift.exceptions.ClusterNotFoundFault:
            return None
    if not clusters:
        return None
    if not is_owned(from_aws(clusters[0].get("Tags")), plan.name):
        raise InfraError(not_owned_message(f"Redshift cluster {plan.cluster_id}", plan.name))
    return _state(clusters[0])


def ensure_cluster(redshift: Any, plan: Plan, role_arn: str, security_group_id: str, password: str, log: Log) -> None:
    """Create the cluster, or bring our existing one into shape (role, security group, paused -> resumed).

    An existing cluster is never resized: a different --node-type/--nodes only produces a warning.
    """
    existing = find_cluster(redshift, plan)
    if existing is None:
        multi = plan.node_count > 1
        with aws_step(f"create Redshift cluster {plan.cluster_id}"):
            redshift.create_cluster(
                ClusterIdentifier=plan.cluster_id,
                ClusterType="multi-node" if multi else "single-node",
                NodeType=plan.node_type,
                **({"NumberOfNodes": plan.node_count} if multi else {}),
                DBName=plan.db_name,
                MasterUsername=plan.master_user,
                MasterUserPassword=password,
                Port=REDSHIFT_PORT,
                VpcSecurityGroupIds=[security_group_id],
                PubliclyAccessible=True,  # reachable from --allow-cidr only, via the security group
                Encrypted=True,
                IamRoles=[role_arn],
                DefaultIamRoleArn=role_arn,
                Tags=to_aws(ownership_tags(plan.name, "cluster")),
            )
        log(f"creating Redshift cluster {plan.cluster_id} ({plan.node_type} x {plan.node_count})")
        return

    log(f"Redshift cluster {plan.cluster_id} exists ({existing.status})")
    if existing.status == "deleting":
        raise InfraError(
            f"Redshift cluster {plan.cluster_id} is being deleted; wait for `sparkify infra down` to finish, "
            "then rerun `up`"
        )
    if (existing.node_type, existing.nodes) != (plan.node_type, plan.node_count):
        log(
            f"warning: cluster {plan.cluster_id} is {existing.node_type} x {existing.nodes}, not "
            f"{plan.node_type} x {plan.node_count}; `up` does not resize (resize it yourself or recreate it)"
        )
    if existing.status == "paused":
        with aws_step(f"resume paused Redshift cluster {plan.cluster_id}"):
            redshift.resume_cluster(ClusterIdentifier=plan.cluster_id)
        log(f"resuming paused cluster {plan.cluster_id}")
    if role_arn not in existing.role_arns:
        with aws_step(f"attach IAM role {role_arn} to Redshift cluster {plan.cluster_id}"):
            redshift.modify_cluster_iam_roles(
                ClusterIdentifier=plan.cluster_id, AddIamRoles=[role_arn], DefaultIamRoleArn=role_arn
            )
        log(f"attached IAM role to cluster {plan.cluster_id}")
    if security_group_id not in existing.security_group_ids:
        with aws_step(f"attach security group {security_group_id} to Redshift cluster {plan.cluster_id}"):
            redshift.modify_cluster(
                ClusterIdentifier=plan.cluster_id,
                VpcSecurityGroupIds=[*existing.security_group_ids, security_group_id],
            )
        log(f"attached security group {security_group_id} to cluster {plan.cluster_id}")


def wait_available(redshift: Any, plan: Plan, log: Log) -> ClusterState:
    """Block until the cluster is ``available`` (boto3 waiter ``cluster_available``), up to the timeout."""
    log(f"waiting up to {plan.timeout_s:g} s for cluster {plan.cluster_id} to become available")
    try:
        redshift.get_waiter("cluster_available").wait(
            ClusterIdentifier=plan.cluster_id, WaiterConfig=waiter_config(plan.timeout_s, plan.poll_delay_s)
        )
    except WaiterError as exc:
        last = (exc.last_response or {}).get("Clusters") or [{}]
        status = last[0].get("ClusterStatus") or (exc.last_response or {}).get("Error", {}).get("Code", "unknown")
        raise InfraError(
            f"Redshift cluster {plan.cluster_id} did not become available within {plan.timeout_s:g} s "
            f"(last status: {status}); rerun `sparkify infra up` to keep waiting"
        ) from exc
    state = find_cluster(redshift, plan)
    if state is None or not state.host:
        raise InfraError(f"Redshift cluster {plan.cluster_id} is available but reports no endpoint")
    return state


def delete_cluster(redshift: Any, plan: Plan, log: Log) -> bool:
    """Delete the cluster (final snapshot only if ``plan.final_snapshot``) and wait until it is gone."""
    existing = find_cluster(redshift, plan)
    if existing is None:
        log(f"Redshift cluster {plan.cluster_id}: not found")
        return False
    if existing.status != "deleting":
        snapshot: dict[str, Any] = (
            {"SkipFinalClusterSnapshot": False, "FinalClusterSnapshotIdentifier": plan.final_snapshot}
            if plan.final_snapshot
            else {"SkipFinalClusterSnapshot": True}
        )
        with aws_step(f"delete Redshift cluster {plan.cluster_id}"):
            try:
                redshift.delete_cluster(ClusterIdentifier=plan.cluster_id, **snapshot)
            except redshift.exceptions.ClusterNotFoundFault:
                return False
        kept = f"final snapshot {plan.final_snapshot}" if plan.final_snapshot else "no final snapshot"
        log(f"deleting Redshift cluster {plan.cluster_id} ({kept})")
    try:
        redshift.get_waiter("cluster_deleted").wait(
            ClusterIdentifier=plan.cluster_id, WaiterConfig=waiter_config(plan.timeout_s, plan.poll_delay_s)
        )
    except WaiterError as exc:
        raise InfraError(
            f"Redshift cluster {plan.cluster_id} was not deleted within {plan.timeout_s:g} s; "
            "rerun `sparkify infra down` to keep waiting"
        ) from exc
    log(f"deleted Redshift cluster {plan.cluster_id}")
    return True
