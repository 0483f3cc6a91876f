"""What the warehouse code needs to connect, as the REDSHIFT_* settings `up` and `status` print."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Connection:
    """Where the warehouse answers. It has no password field on purpose: nothing can print it by accident."""

    host: str
    port: int
    db_name: str
    user: str
    role_arn: str
    #: The source bucket's region, when S3 said it (`up` asks): COPY's REGION.
    copy_region: str | None = field(default=None)

    def exports(self) -> dict[str, str]:
        exported = {
            "REDSHIFT_HOST": self.host,
            "REDSHIFT_PORT": str(self.port),
            "REDSHIFT_DB": self.db_name,
            "REDSHIFT_USER": self.user,
            "REDSHIFT_IAM_ROLE_ARN": self.role_arn,
        }
        if self.copy_region:
            exported["REDSHIFT_COPY_REGION"] = self.copy_region
        return exported

    def shell_lines(self) -> list[str]:
        """``export NAME=value`` lines, safe to ``eval``; the password stays what you exported."""
        return [f"export {key}={shlex.quote(value)}" for key, value in self.exports().items()]
