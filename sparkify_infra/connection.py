"""What the warehouse code needs to connect, as the REDSHIFT_* settings `up` and `status` print."""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Connection:
    """Where the warehouse answers. It has no password field on purpose: nothing can print it by accident."""

    host: str
    port: int
    db_name: str
    user: str
    role_arn: str

    def exports(self) -> dict[str, str]:
        return {
            "REDSHIFT_HOST": self.host,
            "REDSHIFT_PORT": str(self.port),
            "REDSHIFT_DB": self.db_name,
            "REDSHIFT_USER": self.user,
            "REDSHIFT_IAM_ROLE_ARN": self.role_arn,
        }

    def shell_lines(self) -> list[str]:
        """``export NAME=value`` lines, safe to ``eval``; the password stays what you exported."""
        return [f"export {key}={shlex.quote(value)}" for key, value in self.exports().items()]
