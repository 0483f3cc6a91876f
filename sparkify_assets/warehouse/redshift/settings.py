"""The Redshift warehouse's settings and their checks: which environment variable each setting comes from,
what a valid value is, and the keyword arguments of `redshift_connector.connect` they make.

`RedshiftSettings` holds the resource's fields; `RedshiftWarehouse` (`engine.py`) is these settings plus the
warehouse. Every error names the environment variable at fault, since that is what an operator sets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NoReturn

from pydantic import Field

from sparkify_assets.warehouse.engine import Warehouse
from sparkify_assets.warehouse.sql import Identifier

#: Each setting of the resource and the environment variable `resources.py` binds it to. Errors name
#: the variable, since that is what an operator sets.
SETTINGS: Mapping[str, str] = {
    "host": "REDSHIFT_HOST",
    "port": "REDSHIFT_PORT",
    "database": "REDSHIFT_DB",
    "user": "REDSHIFT_USER",
    "password": "REDSHIFT_PASSWORD",
    "cluster_identifier": "REDSHIFT_CLUSTER_IDENTIFIER",
    "workgroup": "REDSHIFT_WORKGROUP",
    "aws_region": "REDSHIFT_REGION",
    "sslmode": "REDSHIFT_SSLMODE",
    "connect_timeout": "REDSHIFT_CONNECT_TIMEOUT",
    "schema_name": "REDSHIFT_SCHEMA",
    "iam_role_arn": "REDSHIFT_IAM_ROLE_ARN",
    "copy_region": "REDSHIFT_COPY_REGION",
    "max_errors": "REDSHIFT_MAXERROR",
}
#: Settings that are whole numbers (bound with `EnvVar.int`).
INTEGER_SETTINGS = frozenset({"port", "connect_timeout", "max_errors"})
#: On/off settings (read with `settings.flag`).
FLAG_SETTINGS: Mapping[str, str] = {
    "ssl": "REDSHIFT_SSL",
    "tcp_keepalive": "REDSHIFT_TCP_KEEPALIVE",
    "serverless": "REDSHIFT_SERVERLESS",
}

_ROLE_ARN = re.compile(r"arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}")
_NAME = re.compile(r"[A-Za-z0-9_.@+=-]{1,127}")
_SSLMODES = ("verify-ca", "verify-full")
_SERVERLESS_HOST = ".redshift-serverless.amazonaws.com"
#: COPY's MAXERROR accepts at most this many; "if the load returns the error_count number of errors or greater,
#: the load fails" (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-load.html#copy-maxerror),
#: so MAXERROR n skips at most n - 1 lines.
COPY_MAXERROR_LIMIT = 100_000
#: The most bad lines REDSHIFT_MAXERROR may let one COPY skip: it sends one more as MAXERROR.
MAX_ERRORS_LIMIT = COPY_MAXERROR_LIMIT - 1


class RedshiftSettingError(ValueError):
    """A Redshift setting is missing or malformed; the message names the environment variable."""


class RedshiftSettings(Warehouse):
    """The settings of the Redshift warehouse (see `RedshiftWarehouse`), each checked by `validate`."""

    host: str | None = Field(default=None, description="Cluster or workgroup endpoint (REDSHIFT_HOST).")
    port: int = Field(default=5439, description="Port (REDSHIFT_PORT).")
    database: str = Field(default="dev", description="Database (REDSHIFT_DB).")
    user: str | None = Field(
        default=None, description="Database user (REDSHIFT_USER); with IAM on a cluster, the db_user."
    )
    password: str | None = Field(
        default=None,
        repr=False,
        description="Password login (REDSHIFT_PASSWORD). Bound as an EnvVar, never logged.",
    )
    cluster_identifier: str | None = Field(
        default=None, description="IAM login to a provisioned cluster (REDSHIFT_CLUSTER_IDENTIFIER)."
    )
    workgroup: str | None = Field(default=None, description="IAM login to a Serverless workgroup (REDSHIFT_WORKGROUP).")
    aws_region: str | None = Field(
        default=None, description="Region of the cluster or workgroup, for IAM login (REDSHIFT_REGION)."
    )
    serverless: bool | None = Field(
        default=None,
        description="Redshift Serverless (REDSHIFT_SERVERLESS); default: yes with a workgroup or a "
        "*.redshift-serverless.amazonaws.com host. Serverless never has the raw lines of STL_LOAD_ERRORS.",
    )
    ssl: bool = Field(default=True, description="TLS to the warehouse (REDSHIFT_SSL, on by default).")
    sslmode: str = Field(default="verify-ca", description="verify-ca or verify-full (REDSHIFT_SSLMODE).")
    connect_timeout: int = Field(
        default=30, description="Seconds to wait for the connection and login (REDSHIFT_CONNECT_TIMEOUT)."
    )
    tcp_keepalive: bool = Field(
        default=True, description="TCP keepalive, so a long COPY survives idle NAT timeouts (REDSHIFT_TCP_KEEPALIVE)."
    )
    schema_name: str = Field(default="public", description="Schema of every table and view (REDSHIFT_SCHEMA).")
    iam_role_arn: str | None = Field(
        default=None, description="IAM role Redshift assumes to read the source bucket in COPY (REDSHIFT_IAM_ROLE_ARN)."
    )
    copy_region: str | None = Field(
        default=None,
        description="Region of the source bucket, for COPY's REGION (REDSHIFT_COPY_REGION); default: asked of "
        "S3 (GetBucketLocation) once a run.",
    )
    max_errors: int = Field(
        default=1000,
        description="REDSHIFT_MAXERROR: how many bad lines one COPY may skip into staging_rejects; one more fails "
        "the load (COPY is sent MAXERROR one higher, see `copy_maxerror`). 0 makes any bad line fail the partition.",
    )

    def validate(self) -> None:
        """Check every setting, naming the one at fault: before any work starts."""
        self.validate_sql_settings()
        self.connect_options()

    def validate_sql_settings(self) -> None:
        """The settings that shape the SQL: schema, COPY's IAM role, region and MAXERROR."""
        try:
            Identifier(self.schema_name)
        except ValueError:
            _fail("schema_name", f"={self.schema_name!r} is not a schema name (lower-case letters, digits, _)")
        if not self.iam_role_arn:
            _fail("iam_role_arn", " is not set: COPY needs the IAM role Redshift assumes to read the source bucket")
        if not _ROLE_ARN.fullmatch(self.iam_role_arn):
            _fail("iam_role_arn", f"={self.iam_role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
        if self.copy_region is not None and not _REGION.fullmatch(self.copy_region):
            _fail("copy_region", f"={self.copy_region!r} is not an AWS region (like us-west-2)")
        if not 0 <= self.max_errors <= MAX_ERRORS_LIMIT:
            _fail(
                "max_errors",
                f"={self.max_errors} is not between 0 and {MAX_ERRORS_LIMIT} "
                f"(COPY's MAXERROR is at most {COPY_MAXERROR_LIMIT}, and fails at that many bad lines)",
            )

    def connect_options(self) -> dict[str, Any]:
        """The keyword arguments of `redshift_connector.connect`, checked; holds the password, never log it."""
        iam = bool(self.cluster_identifier or self.workgroup)
        if iam and self.password:
            _fail(
                "password",
                " is set together with REDSHIFT_CLUSTER_IDENTIFIER or REDSHIFT_WORKGROUP: choose password or IAM login",
            )
        if self.cluster_identifier and self.workgroup:
            _fail("workgroup", " is set together with REDSHIFT_CLUSTER_IDENTIFIER: choose a cluster or a workgroup")
        if self.host is not None and not _HOST.fullmatch(self.host):
            _fail("host", f"={self.host!r} is not a host name")
        if not iam and not self.host:
            _fail("host", " is not set (the cluster endpoint; or log in by IAM with REDSHIFT_CLUSTER_IDENTIFIER)")
        if not 1 <= self.port <= 65535:
            _fail("port", f"={self.port} is not a port number")
        if not _NAME.fullmatch(self.database):
            _fail("database", f"={self.database!r} is not a database name")
        if not self.workgroup and not self.user:
            _fail("user", " is not set (the database user)")
        if self.user is not None and not _NAME.fullmatch(self.user):
            _fail("user", f"={self.user!r} is not a database user name")
        if not iam and not self.password:
            _fail("password", " is not set (password login; or log in by IAM with REDSHIFT_CLUSTER_IDENTIFIER)")
        if iam and not self.aws_region:
            _fail("aws_region", " is not set: IAM login asks the warehouse's region for credentials")
        if self.aws_region is not None and not _REGION.fullmatch(self.aws_region):
            _fail("aws_region", f"={self.aws_region!r} is not an AWS region (like us-west-2)")
        if self.sslmode not in _SSLMODES:
            _fail("sslmode", f"={self.sslmode!r} is not one of {', '.join(_SSLMODES)}")
        if not 1 <= self.connect_timeout <= 600:
            _fail("connect_timeout", f"={self.connect_timeout} is not between 1 and 600 seconds")
        options: dict[str, Any] = {
            "database": self.database,
            "port": self.port,
            "ssl": self.ssl,
            "sslmode": self.sslmode,
            "timeout": self.connect_timeout,
            "tcp_keepalive": self.tcp_keepalive,
            "application_name": "sparkify",
        }
        if self.host:
            options["host"] = self.host
        if not iam:
            options.update(user=self.user, password=self.password)
        elif self.cluster_identifier:
            options.update(iam=True, cluster_identifier=self.cluster_identifier, db_user=self.user)
            options["region"] = self.aws_region
        else:
            options.update(iam=True, is_serverless=True, serverless_work_group=self.workgroup, region=self.aws_region)
            if self.user:
                options["db_user"] = self.user
        return options

    @property
    def copy_maxerror(self) -> int:
        """What COPY is sent as MAXERROR: one more than REDSHIFT_MAXERROR, since COPY fails the load when it
        meets MAXERROR errors (https://docs.aws.amazon.com/redshift/latest/dg/copy-parameters-data-load.html)."""
        return self.max_errors + 1

    @property
    def is_serverless(self) -> bool:
        if self.serverless is not None:
            return self.serverless
        return bool(self.workgroup) or (self.host or "").lower().endswith(_SERVERLESS_HOST)

    @property
    def schema(self) -> Identifier:
        return Identifier(self.schema_name)


def _fail(setting: str, problem: str) -> NoReturn:
    raise RedshiftSettingError(f"{SETTINGS.get(setting) or FLAG_SETTINGS.get(setting, setting)}{problem}")
