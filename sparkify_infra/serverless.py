"""The Redshift Serverless alternative (`up --serverless`): a namespace (the data) and a workgroup (compute).

boto3 has no waiters for redshift-serverless, so availability and deletion are polled with `poll_until`.
moto 5.2 does not emulate this service; the tests drive this module with botocore's Stubber.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sparkify_infra.errors import InfraError, aws_step
from sparkify_infra.plan import REDSHIFT_PORT, Plan
from sparkify_infra.tags import from_aws, is_owned, not_owned_message, ownership_tags, to_aws
from sparkify_infra.waiting import poll_until

Log = Callable[[str], None]

# GetNamespace reports roles as strings like "IamRole(applyStatus=in-sync, iamRoleArn=arn:aws:iam::1:role/x)".
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")


def _owned(serverless: Any, plan: Plan, arn: str, what: str) -> None:
    with aws_step(f"read the tags of {what}"):
        tags = from_aws(serverless.list_tags_for_resource(resourceArn=arn).get("tags"), "key", "value")
    if not is_owned(tags, plan.name):
        raise InfraError(not_owned_message(what, plan.name))


def find_namespace(serverless: Any, plan: Plan, check_owner: bool = True) -> dict[str, Any] | None:
    what = f"Redshift Serverless namespace {plan.namespace_name}"
    with aws_step(f"look up {what}"):
        try:
            namespace = serverless.get_namespace(namespaceName=plan.namespace_name)["namespace"]
        except serverless.exceptions.ResourceNotFoundException:
            return None
    if check_owner:
        _owned(serverless, plan, namespace["namespaceArn"], what)
    return dict(namespace)


def find_workgroup(serverless: Any, plan: Plan, check_owner: bool = True) -> dict[str, Any] | None:
    what = f"Redshift Serverless workgroup {plan.workgroup_name}"
    with aws_step(f"look up {what}"):
        try:
            workgroup = serverless.get_workgroup(workgroupName=plan.workgroup_name)["workgroup"]
        except serverless.exceptions.ResourceNotFoundException:
            return None
    if check_owner:
        _owned(serverless, plan, workgroup["workgroupArn"], what)
    return dict(workgroup)


def namespace_role_arns(namespace: dict[str, Any]) -> list[str]:
    return [m.group(0) for role in namespace.get("iamRoles", []) for m in [_ROLE_ARN.search(str(role))] if m]


def ensure_serverless(
    serverless: Any,
    plan: Plan,
    role_arn: str,
    security_group_id: str,
    subnet_ids: list[str],
    password: str,
    log: Log,
) -> None:
    """Create the namespace and workgroup, or bring our existing ones into shape (role, security group)."""
    tags = ownership_tags(plan.name, "serverless")
    namespace = find_namespace(serverless, plan)
    if namespace is None:
        with aws_step(f"create Redshift Serverless namespace {plan.namespace_name}"):
            serverless.create_namespace(
                namespaceName=plan.namespace_name,
                adminUsername=plan.master_user,
                adminUserPassword=password,
                dbName=plan.db_name,
                iamRoles=[role_arn],
                defaultIamRoleArn=role_arn,
                tags=to_aws(tags, "key", "value"),
            )
        log(f"created Redshift Serverless namespace {plan.namespace_name}")
    else:
        log(f"Redshift Serverless namespace {plan.namespace_name} exists ({namespace.get('status')})")
        if namespace.get("status") == "DELETING":
            raise InfraError(
                f"Redshift Serverless namespace {plan.namespace_name} is being deleted; wait for "
                "`sparkify infra down` to finish, then rerun `up`"
            )
        roles = namespace_role_arns(namespace)
        if role_arn not in roles:
            with aws_step(f"attach IAM role {role_arn} to namespace {plan.namespace_name}"):
                serverless.update_namespace(
                    namespaceName=plan.namespace_name, iamRoles=[*roles, role_arn], defaultIamRoleArn=role_arn
                )
            log(f"attached IAM role to namespace {plan.namespace_name}")

    workgroup = find_workgroup(serverless, plan)
    if workgroup is None:
        with aws_step(f"create Redshift Serverless workgroup {plan.workgroup_name}"):
            serverless.create_workgroup(
                workgroupName=plan.workgroup_name,
                namespaceName=plan.namespace_name,
                baseCapacity=plan.base_capacity,
                port=REDSHIFT_PORT,
                publiclyAccessible=True,  # reachable from --allow-cidr only, via the security group
                securityGroupIds=[security_group_id],
                subnetIds=subnet_ids,
                tags=to_aws(tags, "key", "value"),
            )
        log(f"creating Redshift Serverless workgroup {plan.workgroup_name} ({plan.base_capacity} RPU)")
        return
    log(f"Redshift Serverless workgroup {plan.workgroup_name} exists ({workgroup.get('status')})")
    if workgroup.get("status") == "DELETING":
        raise InfraError(
            f"Redshift Serverless workgroup {plan.workgroup_name} is being deleted; wait for "
            "`sparkify infra down` to finish, then rerun `up`"
        )
    groups = list(workgroup.get("securityGroupIds") or [])
    if security_group_id not in groups:
        with aws_step(f"attach security group {security_group_id} to workgroup {plan.workgroup_name}"):
            serverless.update_workgroup(
                workgroupName=plan.workgroup_name, securityGroupIds=[*groups, security_group_id]
            )
        log(f"attached security group {security_group_id} to workgroup {plan.workgroup_name}")


def wait_available(serverless: Any, plan: Plan, log: Log) -> tuple[dict[str, Any], dict[str, Any]]:
    """Poll until both namespace and workgroup are AVAILABLE; return them."""
    log(f"waiting up to {plan.timeout_s:g} s for workgroup {plan.workgroup_name} to become available")
    found: dict[str, dict[str, Any]] = {}

    def ready() -> tuple[bool, str]:
        namespace = find_namespace(serverless, plan, check_owner=False)
        workgroup = find_workgroup(serverless, plan, check_owner=False)
        if namespace is None or workgroup is None:
            missing = plan.namespace_name if namespace is None else plan.workgroup_name
            raise InfraError(f"{missing} disappeared while waiting for it; rerun `sparkify infra up`")
        found.update(namespace=namespace, workgroup=workgroup)
        statuses = f"namespace {namespace.get('status')}, workgroup {workgroup.get('status')}"
        return namespace.get("status") == "AVAILABLE" and workgroup.get("status") == "AVAILABLE", statuses

    poll_until(
        ready,
        f"Redshift Serverless workgroup {plan.workgroup_name}",
        plan.timeout_s,
        plan.poll_delay_s,
        hint="rerun `sparkify infra up` to keep waiting",
    )
    if not (found["workgroup"].get("endpoint") or {}).get("address"):
        raise InfraError(f"Redshift Serverless workgroup {plan.workgroup_name} is available but reports no endpoint")
    return found["namespace"], found["workgroup"]


def delete_serverless(serverless: Any, plan: Plan, log: Log) -> list[str]:
    """Delete the workgroup, then the namespace (final snapshot only if asked for), waiting for each."""
    deleted = []
    workgroup = find_workgroup(serverless, plan)
    if workgroup is None:
        log(f"Redshift Serverless workgroup {plan.workgroup_name}: not found")
    else:
        if workgroup.get("status") != "DELETING":
            with aws_step(f"delete Redshift Serverless workgroup {plan.workgroup_name}"):
                serverless.delete_workgroup(workgroupName=plan.workgroup_name)
            log(f"deleting Redshift Serverless workgroup {plan.workgroup_name}")
        _wait_gone(plan, "workgroup", plan.workgroup_name, lambda: find_workgroup(serverless, plan, False))
        log(f"deleted Redshift Serverless workgroup {plan.workgroup_name}")
        deleted.append(f"workgroup {plan.workgroup_name}")

    namespace = find_namespace(serverless, plan)
    if namespace is None:
        log(f"Redshift Serverless namespace {plan.namespace_name}: not found")
        return deleted
    if namespace.get("status") != "DELETING":
        snapshot = {"finalSnapshotName": plan.final_snapshot} if plan.final_snapshot else {}
        with aws_step(f"delete Redshift Serverless namespace {plan.namespace_name}"):
            serverless.delete_namespace(namespaceName=plan.namespace_name, **snapshot)
        kept = f"final snapshot {plan.final_snapshot}" if plan.final_snapshot else "no final snapshot"
        log(f"deleting Redshift Serverless namespace {plan.namespace_name} ({kept})")
    _wait_gone(plan, "namespace", plan.namespace_name, lambda: find_namespace(serverless, plan, False))
    log(f"deleted Redshift Serverless namespace {plan.namespace_name}")
    deleted.append(f"namespace {plan.namespace_name}")
    return deleted


def _wait_gone(plan: Plan, kind: str, name: str, find: Callable[[], dict[str, Any] | None]) -> None:
    def gone() -> tuple[bool, str]:
        current = find()
        return current is None, "gone" if current is None else str(current.get("status"))

    poll_until(
        gone,
        f"Redshift Serverless {kind} {name} to be deleted",
        plan.timeout_s,
        plan.poll_delay_s,
        hint="rerun `sparkify infra down` to keep waiting",
    )
