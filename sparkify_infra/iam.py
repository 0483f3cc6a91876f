"""The IAM role Redshift assumes to COPY from the source bucket, and nothing more.

The role gets one inline policy: ``s3:GetObject`` on the source prefix and ``s3:ListBucket`` on the bucket,
conditioned on that prefix, and ``kms:Decrypt`` on the one key that encrypts the source when it is SSE-KMS
(`--kms-key`). No managed policy is ever attached (no AmazonS3ReadOnlyAccess, nothing S3-wide). Every ARN is
in the partition of the deployment's region (arn:aws, arn:aws-cn, arn:aws-us-gov...).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sparkify_infra.errors import InfraError, aws_step, error_code
from sparkify_infra.plan import Plan
from sparkify_infra.tags import KIND_KEY, from_aws, is_owned, not_owned_message, ownership_tags, to_aws

Log = Callable[[str], None]

REDSHIFT_PRINCIPALS = {
    "cluster": ["redshift.amazonaws.com"],
    # Serverless namespaces assume the role through either principal (AWS Redshift Serverless docs).
    "serverless": ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"],
}


def trust_policy(kind: str = "cluster") -> dict[str, Any]:
    """Who may assume the role: the Redshift service, nobody else."""
    principals = REDSHIFT_PRINCIPALS[kind]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": principals[0] if len(principals) == 1 else principals},
                "Action": "sts:AssumeRole",
            }
        ],
    }


#: An S3 ARN of any partition (``arn:aws:s3:::``, ``arn:aws-cn:s3:::``...).
_S3_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::")


def read_policy(bucket: str, prefix: str, partition: str = "aws", kms_key_arn: str | None = None) -> dict[str, Any]:
    """Read-only access to ``s3://bucket/prefix`` (prefix '' or ending in '/'): what COPY needs, no more.

    ``partition``: that of the deployment's region, which S3 ARNs name
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html). ``kms_key_arn``: the key of an SSE-KMS
    source, which S3 decrypts with on the role's behalf, so the role needs kms:Decrypt on it
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html).
    """
    list_statement: dict[str, Any] = {
        "Sid": "ListSourcePrefix",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": f"arn:{partition}:s3:::{bucket}",
    }
    if prefix:
        list_statement["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix}*"]}}
    statements: list[dict[str, Any]] = [
        list_statement,
        {
            "Sid": "ReadSourceObjects",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:{partition}:s3:::{bucket}/{prefix}*",
        },
    ]
    if kms_key_arn:
        statements.append(
            {"Sid": "DecryptSourceObjects", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": kms_key_arn}
        )
    return {"Version": "2012-10-17", "Statement": statements}


@dataclass(frozen=True)
class RoleState:
    name: str
    arn: str
    tags: dict[str, str]
    policy: dict[str, Any] | None
    attached_policies: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        return self.tags.get(KIND_KEY)

    @property
    def readable(self) -> list[str]:
        """The S3 locations the inline policy lets Redshift read, as ``s3://bucket/key-pattern``."""
        found = []
        for statement in (self.policy or {}).get("Statement", []):
            actions = statement.get("Action", [])
            if "s3:GetObject" in ([actions] if isinstance(actions, str) else actions):
                resources = statement.get("Resource", [])
                for resource in [resources] if isinstance(resources, str) else resources:
                    found.append(_S3_ARN.sub("s3://", str(resource), count=1))
        return found


def find_role(iam: Any, plan: Plan) -> RoleState | None:
    """The deployment's role, or None; a role of that name not tagged as ours is an error."""
    with aws_step(f"look up IAM role {plan.role_name}"):
        try:
            role = iam.get_role(RoleName=plan.role_name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            return None
        tags = from_aws(iam.list_role_tags(RoleName=plan.role_name).get("Tags"))
        if not is_owned(tags, plan.name):
            raise InfraError(not_owned_message(f"IAM role {plan.role_name}", plan.name))
        try:
            inline = iam.get_role_policy(RoleName=plan.role_name, PolicyName=plan.role_policy_name)
            policy = inline["PolicyDocument"]
        except iam.exceptions.NoSuchEntityException:
            policy = None
        if isinstance(policy, str):
            policy = json.loads(policy)
        attached = iam.list_attached_role_policies(RoleName=plan.role_name).get("AttachedPolicies", [])
    return RoleState(
        name=plan.role_name,
        arn=role["Arn"],
        tags=tags,
        policy=policy,
        attached_policies=[p["PolicyName"] for p in attached],
    )


def ensure_role(iam: Any, plan: Plan, log: Log) -> str:
    """Create or update the role (trust policy, bucket-scoped inline policy, tags); return its ARN."""
    existing = find_role(iam, plan)
    trust = json.dumps(trust_policy(plan.kind))
    if existing is None:
        with aws_step(f"create IAM role {plan.role_name}"):
            arn = iam.create_role(
                RoleName=plan.role_name,
                AssumeRolePolicyDocument=trust,
                Description=f"Lets Redshift read {plan.source_uri} for sparkify deployment {plan.name}",
                Tags=to_aws(ownership_tags(plan.name, plan.kind)),
            )["Role"]["Arn"]
        log(f"created IAM role {plan.role_name}")
    else:
        if existing.kind not in (None, plan.kind):
            raise InfraError(
                f"deployment {plan.name!r} is a {existing.kind} deployment (IAM role {plan.role_name}); "
                f"run `sparkify infra down --name {plan.name}` before switching to a {plan.kind}"
            )
        arn = existing.arn
        with aws_step(f"update IAM role {plan.role_name}"):
            iam.update_assume_role_policy(RoleName=plan.role_name, PolicyDocument=trust)
            iam.tag_role(RoleName=plan.role_name, Tags=to_aws(ownership_tags(plan.name, plan.kind)))
        if existing.attached_policies:
            log(
                f"warning: IAM role {plan.role_name} has managed policies attached that `up` never adds: "
                f"{', '.join(existing.attached_policies)}; detach them"
            )
        log(f"IAM role {plan.role_name} exists; policy refreshed")
    with aws_step(f"put inline policy {plan.role_policy_name} on IAM role {plan.role_name}"):
        iam.put_role_policy(
            RoleName=plan.role_name,
            PolicyName=plan.role_policy_name,
            PolicyDocument=json.dumps(read_policy(plan.bucket, plan.prefix, plan.partition, plan.kms_key_arn)),
        )
    return arn


def delete_role(iam: Any, plan: Plan, log: Log) -> bool:
    """Remove the inline policy and the role; False if there was no role."""
    existing = find_role(iam, plan)
    if existing is None:
        log(f"IAM role {plan.role_name}: not found")
        return False
    with (
        aws_step(f"delete inline policy {plan.role_policy_name} of IAM role {plan.role_name}"),
        contextlib.suppress(iam.exceptions.NoSuchEntityException),
    ):
        iam.delete_role_policy(RoleName=plan.role_name, PolicyName=plan.role_policy_name)
    with aws_step(f"delete IAM role {plan.role_name}"):
        try:
            iam.delete_role(RoleName=plan.role_name)
        except iam.exceptions.NoSuchEntityException:
            return False
        except iam.exceptions.DeleteConflictException as exc:
            extra = ", ".join(existing.attached_policies) or "policies or instance profiles"
            raise InfraError(
                f"could not delete IAM role {plan.role_name} ({error_code(exc)}): it still has {extra}, "
                "which `sparkify infra up` never adds; detach them and rerun `down`"
            ) from exc
    log(f"deleted IAM role {plan.role_name}")
    return True
