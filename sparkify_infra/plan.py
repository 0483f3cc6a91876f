"""What `sparkify infra` deploys: the settings, the resource names derived from them, and their validation.

Every resource name is derived from one prefix (`--name`), and every resource is tagged with it, so `status`
and `down` find exactly what `up` made without any local state file.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sparkify_infra.errors import ConfigError

DEFAULT_NAME = "sparkify"
DEFAULT_REGION = "us-west-2"
DEFAULT_SOURCE = "s3://udacity-dend"
#: The smallest current node type. DC2 nodes are previous generation and may no longer be creatable in a
#: region; RA3 is what AWS offers for new clusters
#: (https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-clusters.html#rs-node-type-info).
DEFAULT_NODE_TYPE = "ra3.large"
DEFAULT_NODE_COUNT = 2
DEFAULT_BASE_CAPACITY = 8  # RPUs; the smallest Redshift Serverless workgroup
DEFAULT_DB_NAME = "sparkify"
DEFAULT_MASTER_USER = "sparkify"
DEFAULT_TIMEOUT_S = 1800.0
DEFAULT_POLL_DELAY_S = 30.0
REDSHIFT_PORT = 5439

# Narrower than these needs no confirmation; wider needs --i-know-this-is-wide; /0 is never accepted.
WIDEST_UNCONFIRMED_PREFIX = {4: 16, 6: 48}

_NAME = re.compile(r"[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,29}")
_DB_NAME = re.compile(r"[a-z_][a-z0-9_$]{0,63}")
_USER_NAME = re.compile(r"[a-z_][a-z0-9_$]{0,127}")
_SNAPSHOT_ID = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,254}")
_S3_URI = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<prefix>[^\x00-\x1f*?]*))?")
_PASSWORD_FORBIDDEN = set("'\"\\/@")
#: A KMS key ARN (kms:Decrypt is granted on keys, not aliases: https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html).
_KMS_KEY_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):kms:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:key/[A-Za-z0-9-]{1,128}")


@dataclass(frozen=True)
class Plan:
    """One deployment: everything `up` needs, and the names `status` and `down` look for."""

    name: str = DEFAULT_NAME
    region: str = DEFAULT_REGION
    bucket: str = "udacity-dend"
    prefix: str = ""
    serverless: bool = False
    node_type: str = DEFAULT_NODE_TYPE
    node_count: int = DEFAULT_NODE_COUNT
    base_capacity: int = DEFAULT_BASE_CAPACITY
    allow_cidrs: tuple[str, ...] = ()
    db_name: str = DEFAULT_DB_NAME
    master_user: str = DEFAULT_MASTER_USER
    final_snapshot: str | None = None
    kms_key_arn: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    poll_delay_s: float = DEFAULT_POLL_DELAY_S

    @property
    def kind(self) -> str:
        return "serverless" if self.serverless else "cluster"

    @property
    def partition(self) -> str:
        """The AWS partition of the region (aws, aws-cn, aws-us-gov...), which every ARN starts with."""
        return partition_for(self.region)

    @property
    def role_name(self) -> str:
        return f"{self.name}-redshift-s3-read"

    @property
    def role_policy_name(self) -> str:
        return "read-sparkify-source"

    @property
    def security_group_name(self) -> str:
        return f"{self.name}-redshift"

    @property
    def cluster_id(self) -> str:
        return f"{self.name}-cluster"

    @property
    def namespace_name(self) -> str:
        return f"{self.name}-ns"

    @property
    def workgroup_name(self) -> str:
        return f"{self.name}-wg"

    @property
    def source_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def partition_for(region: str) -> str:
    """The partition a region belongs to, from botocore's endpoint data; for a region this botocore does not
    know yet, from its name (``cn-`` China, ``us-gov-`` GovCloud, else the commercial partition)."""
    import botocore.session  # here, not at import: the parser (`sparkify infra --help`) loads no AWS SDK

    try:
        return str(botocore.session.get_session().get_partition_for_region(region))
    except Exception:  # botocore raises its own UnknownRegionError, or ValueError in older versions
        return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def check_kms_key(arn: str | None, region: str) -> str | None:
    """``--kms-key``: the ARN of the KMS key that encrypts the source objects (SSE-KMS), in the region's partition."""
    if arn is None or not arn.strip():
        return None
    arn = arn.strip()
    match = _KMS_KEY_ARN.fullmatch(arn)
    if match is None:
        raise ConfigError(
            f"--kms-key {arn!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>; "
            "not an alias: kms:Decrypt is granted on the key)"
        )
    if match.group("partition") != partition_for(region):
        raise ConfigError(
            f"--kms-key {arn!r} is in partition {match.group('partition')}, not {partition_for(region)} "
            f"where region {region} is"
        )
    return arn


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"--name {name!r} is not usable as a resource-name prefix: use 2-30 lowercase letters, "
            "digits and single hyphens, starting with a letter"
        )
    return name


def resolve_region(explicit: str | None, environ: Mapping[str, str]) -> str:
    """`--region`, else AWS_REGION, else AWS_DEFAULT_REGION, else us-west-2 (home of the Udacity bucket)."""
    for candidate in (explicit, environ.get("AWS_REGION"), environ.get("AWS_DEFAULT_REGION")):
        if candidate and candidate.strip():
            region = candidate.strip()
            if not re.fullmatch(r"[a-z]{2}(?:-[a-z]+)+-\d+", region):
                raise ConfigError(f"region {region!r} is not an AWS region name such as us-west-2")
            return region
    return DEFAULT_REGION


def parse_source(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket[/prefix]`` into the bucket and a prefix that is '' or ends in '/'."""
    match = _S3_URI.fullmatch(uri.strip().rstrip("/"))
    prefix = (match.group("prefix") or "") if match else ""
    if match is None or ".." in prefix.split("/"):
        raise ConfigError(
            f"--source {uri!r} is not an s3://bucket[/prefix] URI (no wildcards); the role is scoped to it"
        )
    prefix = prefix.strip("/")
    return match.group("bucket"), f"{prefix}/" if prefix else ""


def normalize_cidrs(cidrs: Iterable[str], allow_wide: bool = False) -> tuple[str, ...]:
    """Parse the CIDRs allowed to reach port 5439; refuse the internet, and wide ranges unless confirmed.

    A bare address becomes a /32 (or /128); host bits are cleared: ``203.0.113.7/24`` is ``203.0.113.0/24``.
    """
    normalized: list[str] = []
    for raw in cidrs:
        text = raw.strip()
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ConfigError(
                f"--allow-cidr {raw!r} is not an IP address or CIDR block such as 203.0.113.7/32"
            ) from None
        if network.prefixlen == 0:
            raise ConfigError(
                f"--allow-cidr {text} would open Redshift port {REDSHIFT_PORT} to the whole internet; "
                "refusing. "
                "Give your own public IP instead, e.g. --allow-cidr 203.0.113.7/32"
            )
        widest = WIDEST_UNCONFIRMED_PREFIX[network.version]
        if network.prefixlen < widest and not allow_wide:
            raise ConfigError(
                f"--allow-cidr {network} is wider than /{widest} ({network.num_addresses} addresses) and "
                f"would expose Redshift port {REDSHIFT_PORT} broadly; narrow it or add --i-know-this-is-wide"
            )
        if str(network) not in normalized:
            normalized.append(str(network))
    if not normalized:
        raise ConfigError(
            "no CIDR allowed to reach Redshift: pass --allow-cidr YOUR.PUBLIC.IP/32 or set "
            "SPARKIFY_INFRA_ALLOW_CIDR (your public IP cannot be discovered offline; "
            "`curl https://checkip.amazonaws.com` shows it)"
        )
    return tuple(normalized)


def check_password(password: str | None) -> str:
    """Redshift's master-password rules, checked before anything is created. The password is never echoed."""
    if not password:
        raise ConfigError("REDSHIFT_PASSWORD is not set: export the master password for the new warehouse before `up`")
    problems = []
    if not 8 <= len(password) <= 64:
        problems.append("be 8-64 characters long")
    if not (any(c.isupper() for c in password) and any(c.islower() for c in password)):
        problems.append("mix upper- and lower-case letters")
    if not any(c.isdigit() for c in password):
        problems.append("contain a digit")
    if any(not 33 <= ord(c) <= 126 or c in _PASSWORD_FORBIDDEN for c in password):
        problems.append("use printable ASCII without spaces, quotes, backslash, slash or @")
    if problems:
        raise ConfigError(f"REDSHIFT_PASSWORD is not a valid Redshift master password: it must {'; '.join(problems)}")
    return password


def check_db_name(name: str) -> str:
    if not _DB_NAME.fullmatch(name):
        raise ConfigError(f"--db-name {name!r} is not a Redshift database name (lowercase letters, digits, _)")
    return name


def check_master_user(name: str) -> str:
    if not _USER_NAME.fullmatch(name):
        raise ConfigError(f"--master-user {name!r} is not a Redshift user name (lowercase letters, digits, _)")
    return name


def check_snapshot_id(snapshot_id: str | None) -> str | None:
    if snapshot_id is not None and not _SNAPSHOT_ID.fullmatch(snapshot_id):
        raise ConfigError(
            f"--final-snapshot {snapshot_id!r} is not a snapshot identifier: letters, digits and single "
            "hyphens, starting with a letter"
        )
    return snapshot_id
