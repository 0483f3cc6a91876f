"""The errors `sparkify infra` reports as one line, and the wrapper that turns AWS errors into them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError


class InfraError(Exception):
    """Something went wrong creating, inspecting or removing the deployment; the message is for the user."""

    exit_code = 1


class ConfigError(InfraError):
    """A setting is missing or unsafe; nothing was changed in AWS."""

    exit_code = 2


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def aws_step(action: str) -> Iterator[None]:
    """Re-raise a ClientError as an InfraError that says which step on which resource failed.

    `action` reads as a verb phrase naming the resource, e.g. ``"create IAM role sparkify-redshift-s3-read"``.
    """
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code") or "error"
        message = " ".join(str(error.get("Message") or exc).split())
        raise InfraError(f"could not {action}: {code}: {message}") from exc
