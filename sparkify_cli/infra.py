"""`sparkify infra up|status|down`: the Redshift deployment as code (replaces the create_cluster notebook).

The options, the plan they make and what is printed; the AWS work is `sparkify_infra` (`deploy.py`).
Progress goes to stderr; `up` prints only ``export REDSHIFT_...=...`` lines on stdout, so
``eval "$(sparkify infra up --allow-cidr 203.0.113.7/32)"`` configures the current shell.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from sparkify_infra.errors import ConfigError, InfraError
from sparkify_infra.plan import (
    DEFAULT_BASE_CAPACITY,
    DEFAULT_DB_NAME,
    DEFAULT_MASTER_USER,
    DEFAULT_NAME,
    DEFAULT_NODE_COUNT,
    DEFAULT_NODE_TYPE,
    DEFAULT_POLL_DELAY_S,
    DEFAULT_SOURCE,
    DEFAULT_TIMEOUT_S,
    REDSHIFT_PORT,
    Plan,
    check_db_name,
    check_kms_key,
    check_master_user,
    check_name,
    check_password,
    check_snapshot_id,
    normalize_cidrs,
    parse_source,
    resolve_region,
)

if TYPE_CHECKING:  # boto3 loads with the first AWS call, not with the parser (`sparkify infra --help`)
    from sparkify_infra import deploy
    from sparkify_infra.clients import AwsClients

ALLOW_CIDR_ENV = "SPARKIFY_INFRA_ALLOW_CIDR"
NAME_ENV = "SPARKIFY_INFRA_NAME"
KMS_KEY_ENV = "SPARKIFY_INFRA_KMS_KEY"
PASSWORD_ENV = "REDSHIFT_PASSWORD"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value < 24 * 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 86400 seconds")
    return value


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return parse


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the `up`, `status` and `down` subcommands and their options to `sparkify infra`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--name",
        help=f"prefix of every resource name, and the SparkifyName tag `down` matches "
        f"(default: ${NAME_ENV} or {DEFAULT_NAME!r})",
    )
    common.add_argument("--region", help="AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-west-2)")
    waits = argparse.ArgumentParser(add_help=False)
    waits.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"give up waiting after this long (default: {DEFAULT_TIMEOUT_S:g})",
    )
    waits.add_argument(
        "--poll-delay",
        type=_seconds,
        default=DEFAULT_POLL_DELAY_S,
        metavar="SECONDS",
        help=f"seconds between status checks while waiting (default: {DEFAULT_POLL_DELAY_S:g})",
    )

    subcommands = parser.add_subparsers(dest="infra_command", required=True, metavar="{up,status,down}")
    up = subcommands.add_parser(
        "up",
        parents=[common, waits],
        help="create or update the deployment and print the REDSHIFT_* settings to export",
        description="Create (or bring up to date) the IAM role, security group and Redshift cluster or "
        f"serverless workgroup, wait until it is available, and print export lines. The master password "
        f"is read from ${PASSWORD_ENV} and never printed.",
    )
    up.add_argument(
        "--allow-cidr",
        action="append",
        metavar="CIDR",
        help=f"address range allowed to reach port {REDSHIFT_PORT}, e.g. your public IP/32; repeatable "
        f"(default: ${ALLOW_CIDR_ENV}, comma-separated). 0.0.0.0/0 and ::/0 are always refused",
    )
    up.add_argument(
        "--i-know-this-is-wide",
        dest="allow_wide",
        action="store_true",
        help="accept an --allow-cidr wider than /16 (IPv4) or /48 (IPv6)",
    )
    up.add_argument(
        "--source",
        metavar="S3_URI",
        help=f"s3://bucket[/prefix] the IAM role may read, and nothing else (default: $SPARKIFY_SOURCE if it "
        f"is an s3:// URI, else {DEFAULT_SOURCE})",
    )
    up.add_argument(
        "--kms-key",
        metavar="KEY_ARN",
        help=f"the KMS key of an SSE-KMS encrypted source: the role may kms:Decrypt with it, and no other key "
        f"(default: ${KMS_KEY_ENV}; none: the source is unencrypted or SSE-S3)",
    )
    up.add_argument(
        "--serverless",
        action="store_true",
        help="create a Redshift Serverless namespace and workgroup instead of a provisioned cluster",
    )
    up.add_argument("--node-type", default=DEFAULT_NODE_TYPE, help=f"cluster node type (default: {DEFAULT_NODE_TYPE})")
    up.add_argument(
        "--nodes",
        type=_count(1, 128),
        default=DEFAULT_NODE_COUNT,
        help=f"number of cluster nodes; 1 makes a single-node cluster (default: {DEFAULT_NODE_COUNT})",
    )
    up.add_argument(
        "--base-capacity",
        type=_count(8, 1024),
        default=DEFAULT_BASE_CAPACITY,
        metavar="RPU",
        help=f"serverless base capacity in RPUs (default: {DEFAULT_BASE_CAPACITY})",
    )
    up.add_argument("--db-name", help=f"database to create (default: $REDSHIFT_DB or {DEFAULT_DB_NAME!r})")
    up.add_argument(
        "--master-user", help=f"master/admin user name (default: $REDSHIFT_USER or {DEFAULT_MASTER_USER!r})"
    )

    status = subcommands.add_parser(
        "status",
        parents=[common],
        help="show the role, security group and cluster/workgroup of the deployment",
        description="Show what exists of the deployment and, once it is available, the settings to export.",
    )
    status.add_argument(
        "--serverless",
        action="store_true",
        help="also look for serverless resources (automatic when the deployment's role says serverless)",
    )

    down = subcommands.add_parser(
        "down",
        parents=[common, waits],
        help="delete everything `up` made (cluster or workgroup, security group, role)",
        description="Delete the deployment's cluster (or serverless workgroup and namespace), security group "
        "and IAM role, waiting for each. Only resources tagged with this --name are touched; safe to rerun.",
    )
    down.add_argument(
        "--final-snapshot",
        metavar="ID",
        help="keep a final snapshot with this identifier (default: delete without a final snapshot)",
    )
    down.add_argument(
        "--serverless",
        action="store_true",
        help="also look for serverless resources (automatic when the deployment's role says serverless)",
    )


def plan_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> Plan:
    """Resolve options, environment and defaults into a validated Plan. Raises ConfigError."""
    command = args.infra_command
    settings: dict[str, Any] = {
        "name": check_name(args.name or environ.get(NAME_ENV) or DEFAULT_NAME),
        "region": resolve_region(args.region, environ),
        "serverless": bool(getattr(args, "serverless", False)),
        "timeout_s": getattr(args, "timeout", DEFAULT_TIMEOUT_S),
        "poll_delay_s": getattr(args, "poll_delay", DEFAULT_POLL_DELAY_S),
    }
    if command == "up":
        env_source = environ.get("SPARKIFY_SOURCE", "")
        source = args.source or (env_source if env_source.startswith("s3://") else DEFAULT_SOURCE)
        bucket, prefix = parse_source(source)
        raw_cidrs = args.allow_cidr or [environ.get(ALLOW_CIDR_ENV, "")]
        cidrs = [part for raw in raw_cidrs for part in raw.split(",") if part.strip()]
        settings.update(
            bucket=bucket,
            prefix=prefix,
            allow_cidrs=normalize_cidrs(cidrs, allow_wide=args.allow_wide),
            node_type=args.node_type,
            node_count=args.nodes,
            kms_key_arn=check_kms_key(args.kms_key or environ.get(KMS_KEY_ENV), settings["region"]),
            base_capacity=args.base_capacity,
            db_name=check_db_name(args.db_name or environ.get("REDSHIFT_DB") or DEFAULT_DB_NAME),
            master_user=check_master_user(args.master_user or environ.get("REDSHIFT_USER") or DEFAULT_MASTER_USER),
        )
        if args.base_capacity % 8:
            raise ConfigError(f"--base-capacity {args.base_capacity} is not a multiple of 8 RPUs")
    if command == "down":
        settings["final_snapshot"] = check_snapshot_id(args.final_snapshot)
    return Plan(**settings)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _up(clients: AwsClients, plan: Plan, password: str | None) -> int:
    from sparkify_infra import deploy

    what = f"workgroup {plan.workgroup_name}" if plan.serverless else f"cluster {plan.cluster_id}"
    _progress(f"sparkify infra up: deployment {plan.name!r} in {plan.region}, Redshift may read {plan.source_uri}")
    connection = deploy.up(clients, plan, password or "", _progress)
    _progress(f"Redshift {what} is available; export these (REDSHIFT_PASSWORD stays the one you set):")
    print("\n".join(connection.shell_lines()), flush=True)
    return 0


def _status(clients: AwsClients, plan: Plan, password: str | None) -> int:
    from sparkify_infra import deploy

    print("\n".join(format_status(deploy.status(clients, plan))), flush=True)
    return 0


def _down(clients: AwsClients, plan: Plan, password: str | None) -> int:
    from sparkify_infra import deploy

    _progress(f"sparkify infra down: deployment {plan.name!r} in {plan.region}")
    removed = deploy.down(clients, plan, _progress)
    print(f"removed: {', '.join(removed)}" if removed else "nothing to remove", flush=True)
    return 0


def format_status(status: deploy.Status) -> list[str]:
    plan = status.plan
    lines = [f"deployment {plan.name!r} in {plan.region}"]
    role = status.role
    if role is None:
        lines.append(f"  IAM role        {plan.role_name}: not found")
    else:
        lines.append(f"  IAM role        {role.name} ({role.arn}), kind {role.kind or 'unknown'}")
        lines.append(f"    may read      {', '.join(role.readable) or 'nothing (inline policy missing)'}")
        if role.attached_policies:
            lines.append(f"    WARNING       managed policies attached: {', '.join(role.attached_policies)}")
    if not status.security_groups:
        lines.append(f"  security group  {plan.security_group_name}: not found")
    for group in status.security_groups:
        admitted = ", ".join(group.cidrs) or "nobody"
        extra = f"; plus {group.other_rules} other rule(s)" if group.other_rules else ""
        lines.append(
            f"  security group  {plan.security_group_name} ({group.group_id} in {group.vpc_id}): "
            f"TCP {REDSHIFT_PORT} from {admitted}{extra}"
        )
    state = status.cluster
    if state is None:
        lines.append(f"  cluster         {plan.cluster_id}: not found")
    else:
        endpoint = f"{state.host}:{state.port}" if state.host else "no endpoint yet"
        lines.append(
            f"  cluster         {state.identifier}: {state.status}, {state.node_type} x {state.nodes}, {endpoint}"
        )
    if status.serverless_checked:
        namespace, workgroup = status.namespace, status.workgroup
        lines.append(
            f"  namespace       {plan.namespace_name}: " + (f"{namespace.get('status')}" if namespace else "not found")
        )
        if workgroup:
            endpoint_info = workgroup.get("endpoint") or {}
            address = endpoint_info.get("address")
            where = f"{address}:{endpoint_info.get('port')}" if address else "no endpoint yet"
            lines.append(
                f"  workgroup       {plan.workgroup_name}: {workgroup.get('status')}, "
                f"{workgroup.get('baseCapacity')} RPU, {where}"
            )
        else:
            lines.append(f"  workgroup       {plan.workgroup_name}: not found")
    connection = status.connection()
    if connection is not None:
        lines.append("# settings to export (REDSHIFT_PASSWORD is the one you set for `up`):")
        lines += connection.shell_lines()
    elif status.empty:
        lines.append("nothing exists; create it with `sparkify infra up`")
    return lines


HANDLERS: dict[str, Callable[[AwsClients, Plan, str | None], int]] = {
    "up": _up,
    "status": _status,
    "down": _down,
}


def run(args: argparse.Namespace, clients: AwsClients | None = None) -> int:
    """Run one `sparkify infra` subcommand; failures become one line on stderr and a non-zero exit code.

    ``clients`` replaces the boto3 clients made from a fresh Session (tests pass stubbed ones).
    """
    command = args.infra_command
    secret = os.environ.get(PASSWORD_ENV) or None
    try:
        plan = plan_from_args(args, os.environ)
        password = check_password(secret) if command == "up" else None
        if clients is None:
            from sparkify_infra.clients import AwsClients

            clients = AwsClients(plan.region)
        return HANDLERS[command](clients, plan, password)
    except InfraError as exc:
        return _fail(command, str(exc), exc.exit_code, secret)
    except NoCredentialsError:
        return _fail(
            command,
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            1,
            secret,
        )
    except NoRegionError:
        return _fail(command, "no AWS region: pass --region or set AWS_REGION", 2, secret)
    except (ClientError, BotoCoreError) as exc:
        return _fail(command, f"AWS call failed: {' '.join(str(exc).split())}", 1, secret)
    except KeyboardInterrupt:
        return _fail(command, "interrupted; AWS keeps going with what was started, rerun to continue", 130, secret)


def _fail(command: str, message: str, code: int, secret: str | None) -> int:
    if secret:
        message = message.replace(secret, "********")  # belt and braces: no message may carry the password
    print(f"sparkify infra {command}: error: {message}", file=sys.stderr, flush=True)
    return code
