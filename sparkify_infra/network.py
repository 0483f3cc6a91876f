"""The security group in front of Redshift: TCP 5439 from the caller's CIDR(s) only.

`up` reconciles the group's ingress to exactly the requested CIDRs, so rerunning it with a new
`--allow-cidr` (a new home IP) replaces the old rule instead of accumulating openings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from sparkify_infra.errors import InfraError, aws_step, error_code
from sparkify_infra.plan import REDSHIFT_PORT, Plan
from sparkify_infra.tags import from_aws, is_owned, not_owned_message, ownership_tags, to_aws
from sparkify_infra.waiting import poll_until

Log = Callable[[str], None]

RULE_DESCRIPTION = "Redshift from sparkify infra --allow-cidr"
_SOURCE_KEYS = ("IpRanges", "Ipv6Ranges", "UserIdGroupPairs", "PrefixListIds")


@dataclass(frozen=True)
class SecurityGroupState:
    group_id: str
    vpc_id: str
    cidrs: tuple[str, ...]  # admitted on TCP 5439
    other_rules: int  # ingress rules that are not "TCP 5439 from a CIDR" (up removes them)


def default_vpc_id(ec2: Any, region: str) -> str:
    """The region's default VPC: a cluster without a subnet group lands there, so its group must too."""
    with aws_step(f"find the default VPC in {region}"):
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        raise InfraError(
            f"region {region} has no default VPC to put Redshift in; create one with "
            f"`aws ec2 create-default-vpc --region {region}` or use another --region"
        )
    return str(vpcs[0]["VpcId"])


def default_subnet_ids(ec2: Any, vpc_id: str) -> list[str]:
    """The default VPC's per-AZ subnets (a Serverless workgroup needs subnets in at least three AZs)."""
    with aws_step(f"list the subnets of VPC {vpc_id}"):
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    return sorted(s["SubnetId"] for s in subnets if s.get("DefaultForAz", True))


def _state(group: dict[str, Any]) -> SecurityGroupState:
    cidrs: list[str] = []
    other = 0
    for permission in group.get("IpPermissions", []):
        if _is_redshift_port(permission):
            cidrs += [r["CidrIp"] for r in permission.get("IpRanges", [])]
            cidrs += [r["CidrIpv6"] for r in permission.get("Ipv6Ranges", [])]
            other += len(permission.get("UserIdGroupPairs", [])) + len(permission.get("PrefixListIds", []))
        else:
            other += 1
    return SecurityGroupState(group["GroupId"], group["VpcId"], tuple(cidrs), other)


def _is_redshift_port(permission: dict[str, Any]) -> bool:
    return (
        permission.get("IpProtocol") == "tcp"
        and permission.get("FromPort") == REDSHIFT_PORT
        and permission.get("ToPort") == REDSHIFT_PORT
    )


def _describe(ec2: Any, plan: Plan, vpc_id: str | None) -> list[dict[str, Any]]:
    filters = [{"Name": "group-name", "Values": [plan.security_group_name]}]
    if vpc_id:
        filters.append({"Name": "vpc-id", "Values": [vpc_id]})
    with aws_step(f"look up security group {plan.security_group_name}"):
        groups = ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
    for group in groups:
        if not is_owned(from_aws(group.get("Tags")), plan.name):
            raise InfraError(
                not_owned_message(f"security group {plan.security_group_name} ({group['GroupId']})", plan.name)
            )
    return groups


def find_security_groups(ec2: Any, plan: Plan, vpc_id: str | None = None) -> list[SecurityGroupState]:
    """The deployment's security group(s) (one per VPC `up` ran against; normally exactly one)."""
    return [_state(group) for group in _describe(ec2, plan, vpc_id)]


def _permission(cidrs: list[str]) -> dict[str, Any]:
    permission: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": REDSHIFT_PORT, "ToPort": REDSHIFT_PORT}
    v4 = [c for c in cidrs if ":" not in c]
    v6 = [c for c in cidrs if ":" in c]
    if v4:
        permission["IpRanges"] = [{"CidrIp": c, "Description": RULE_DESCRIPTION} for c in v4]
    if v6:
        permission["Ipv6Ranges"] = [{"CidrIpv6": c, "Description": RULE_DESCRIPTION} for c in v6]
    return permission


def _unwanted(group: dict[str, Any], wanted: set[str]) -> list[dict[str, Any]]:
    """The parts of the group's ingress to revoke: everything but TCP 5439 from the wanted CIDRs."""
    revoke = []
    for permission in group.get("IpPermissions", []):
        keep_wanted = _is_redshift_port(permission)
        part: dict[str, Any] = {
            key: permission[key] for key in ("IpProtocol", "FromPort", "ToPort") if key in permission
        }
        ranges = [
            {"CidrIp": r["CidrIp"]}
            for r in permission.get("IpRanges", [])
            if not (keep_wanted and r["CidrIp"] in wanted)
        ]
        ranges6 = [
            {"CidrIpv6": r["CidrIpv6"]}
            for r in permission.get("Ipv6Ranges", [])
            if not (keep_wanted and r["CidrIpv6"] in wanted)
        ]
        pairs = [{"GroupId": p["GroupId"]} for p in permission.get("UserIdGroupPairs", []) if "GroupId" in p]
        prefix_lists = [{"PrefixListId": p["PrefixListId"]} for p in permission.get("PrefixListIds", [])]
        for key, value in (
            ("IpRanges", ranges),
            ("Ipv6Ranges", ranges6),
            ("UserIdGroupPairs", pairs),
            ("PrefixListIds", prefix_lists),
        ):
            if value:
                part[key] = value
        if any(key in part for key in _SOURCE_KEYS):
            revoke.append(part)
    return revoke


def ensure_security_group(ec2: Any, plan: Plan, vpc_id: str, log: Log) -> str:
    """Create the group if needed and make its ingress exactly TCP 5439 from ``plan.allow_cidrs``."""
    groups = _describe(ec2, plan, vpc_id)
    if groups:
        group = groups[0]
        group_id = group["GroupId"]
        log(f"security group {plan.security_group_name} ({group_id}) exists")
    else:
        with aws_step(f"create security group {plan.security_group_name} in {vpc_id}"):
            group_id = ec2.create_security_group(
                GroupName=plan.security_group_name,
                Description=f"Redshift port {REDSHIFT_PORT} for sparkify deployment {plan.name}",
                VpcId=vpc_id,
                TagSpecifications=[{"ResourceType": "security-group", "Tags": to_aws(ownership_tags(plan.name))}],
            )["GroupId"]
        group = {"GroupId": group_id, "VpcId": vpc_id, "IpPermissions": []}
        log(f"created security group {plan.security_group_name} ({group_id}) in {vpc_id}")

    wanted = set(plan.allow_cidrs)
    revoke = _unwanted(group, wanted)
    if revoke:
        with aws_step(f"remove old ingress rules from security group {group_id}"):
            ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=revoke)
        log(f"removed {len(revoke)} old ingress rule set(s) from {group_id}")
    present = set(_state(group).cidrs)
    missing = [c for c in plan.allow_cidrs if c not in present]
    if missing:
        with aws_step(f"allow {', '.join(missing)} on port {REDSHIFT_PORT} in security group {group_id}"):
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[_permission(missing)])
        log(f"security group {group_id} admits {', '.join(missing)} on TCP {REDSHIFT_PORT}")
    return str(group_id)


def delete_security_groups(ec2: Any, plan: Plan, log: Log) -> list[str]:
    """Delete the deployment's group(s), waiting out the minutes a deleted cluster's interface lingers."""
    deleted = []
    groups = find_security_groups(ec2, plan)
    if not groups:
        log(f"security group {plan.security_group_name}: not found")
    for group in groups:

        def attempt(group_id: str = group.group_id) -> tuple[bool, str]:
            try:
                ec2.delete_security_group(GroupId=group_id)
            except ClientError as exc:
                code = error_code(exc)
                if code == "InvalidGroup.NotFound":
                    return True, "gone"
                if code == "DependencyViolation":
                    return False, "still in use (DependencyViolation)"
                raise
            return True, "deleted"

        with aws_step(f"delete security group {group.group_id}"):
            poll_until(
                attempt,
                f"security group {group.group_id} to be released",
                plan.timeout_s,
                plan.poll_delay_s,
                hint="a network interface still uses it; rerun `sparkify infra down` later",
            )
        log(f"deleted security group {plan.security_group_name} ({group.group_id})")
        deleted.append(group.group_id)
    return deleted
