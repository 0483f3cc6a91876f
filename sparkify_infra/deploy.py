"""`up`, `status` and `down` as functions of (clients, plan): the order resources are made and unmade in.

`up` goes role -> security group -> warehouse; `down` goes the other way, so an interrupted `down` always
leaves the role (which records the deployment kind) until last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sparkify_infra import cluster, iam, network, serverless
from sparkify_infra.clients import AwsClients
from sparkify_infra.cluster import ClusterState
from sparkify_infra.connection import Connection
from sparkify_infra.iam import RoleState
from sparkify_infra.network import SecurityGroupState
from sparkify_infra.plan import REDSHIFT_PORT, Plan
from sparkify_infra.source import source_region

Log = Callable[[str], None]


def up(clients: AwsClients, plan: Plan, password: str, log: Log) -> Connection:
    """Create what is missing, reconcile what exists, wait until the warehouse answers; return where it is."""
    copy_region = source_region(clients.s3, plan, log)
    vpc_id = network.default_vpc_id(clients.ec2, plan.region)
    role_arn = iam.ensure_role(clients.iam, plan, log)
    group_id = network.ensure_security_group(clients.ec2, plan, vpc_id, log)
    if plan.serverless:
        subnet_ids = network.default_subnet_ids(clients.ec2, vpc_id)
        serverless.ensure_serverless(clients.serverless, plan, role_arn, group_id, subnet_ids, password, log)
        namespace, workgroup = serverless.wait_available(clients.serverless, plan, log)
        endpoint = workgroup["endpoint"]
        return Connection(
            host=endpoint["address"],
            port=int(endpoint.get("port") or workgroup.get("port") or REDSHIFT_PORT),
            db_name=namespace.get("dbName") or plan.db_name,
            user=namespace.get("adminUsername") or plan.master_user,
            role_arn=role_arn,
            copy_region=copy_region,
        )
    cluster.ensure_cluster(clients.redshift, plan, role_arn, group_id, password, log)
    state = cluster.wait_available(clients.redshift, plan, log)
    return Connection(
        host=state.host or "",  # wait_available raises when there is no endpoint
        port=int(state.port or REDSHIFT_PORT),
        db_name=state.db_name,
        user=state.master_user,
        role_arn=role_arn,
        copy_region=copy_region,
    )


@dataclass(frozen=True)
class Status:
    """What exists of one deployment. Serverless resources are only looked up when they can exist."""

    plan: Plan
    role: RoleState | None
    security_groups: list[SecurityGroupState]
    cluster: ClusterState | None
    serverless_checked: bool = False
    namespace: dict[str, Any] | None = None
    workgroup: dict[str, Any] | None = None

    @property
    def empty(self) -> bool:
        return not (self.role or self.security_groups or self.cluster or self.namespace or self.workgroup)

    def connection(self) -> Connection | None:
        """The settings to export, once the warehouse is available and the role exists."""
        if self.role is None:
            return None
        state = self.cluster
        if state and state.status == "available" and state.host and state.port:
            return Connection(state.host, int(state.port), state.db_name, state.master_user, self.role.arn)
        workgroup, namespace = self.workgroup, self.namespace
        if workgroup and namespace and workgroup.get("status") == namespace.get("status") == "AVAILABLE":
            endpoint = workgroup.get("endpoint") or {}
            if endpoint.get("address"):
                return Connection(
                    endpoint["address"],
                    int(endpoint.get("port") or workgroup.get("port") or REDSHIFT_PORT),
                    str(namespace.get("dbName", "")),
                    str(namespace.get("adminUsername", "")),
                    self.role.arn,
                )
        return None


def _serverless_possible(plan: Plan, role: RoleState | None) -> bool:
    """Look for serverless resources if asked to, or if the role says `up --serverless` made them."""
    return plan.serverless or (role is not None and role.kind == "serverless")


def status(clients: AwsClients, plan: Plan) -> Status:
    role = iam.find_role(clients.iam, plan)
    groups = network.find_security_groups(clients.ec2, plan)
    state = cluster.find_cluster(clients.redshift, plan)
    if not _serverless_possible(plan, role):
        return Status(plan, role, groups, state)
    return Status(
        plan,
        role,
        groups,
        state,
        serverless_checked=True,
        namespace=serverless.find_namespace(clients.serverless, plan),
        workgroup=serverless.find_workgroup(clients.serverless, plan),
    )


def down(clients: AwsClients, plan: Plan, log: Log) -> list[str]:
    """Remove everything `up` made (and nothing else); return what was removed. A second run is a no-op."""
    removed = []
    role = iam.find_role(clients.iam, plan)
    if cluster.delete_cluster(clients.redshift, plan, log):
        removed.append(f"Redshift cluster {plan.cluster_id}")
    if _serverless_possible(plan, role):
        removed += [
            f"Redshift Serverless {what}" for what in serverless.delete_serverless(clients.serverless, plan, log)
        ]
    removed += [f"security group {group_id}" for group_id in network.delete_security_groups(clients.ec2, plan, log)]
    if iam.delete_role(clients.iam, plan, log):
        removed.append(f"IAM role {plan.role_name}")
    return removed
