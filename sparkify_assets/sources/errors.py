"""Errors about the source data, each naming the object or setting at fault.

A `SourceError` is permanent: the data, a setting or the permissions need fixing, and running the step
again cannot help. Only `SourceUnreachable` is transient (S3 throttled, failed or did not answer, after
boto3's own retries); the staging assets let their `RetryPolicy` retry that one and fail at once on the rest.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, IncompleteReadError
from botocore.exceptions import ConnectionError as BotoConnectionError

#: Error codes of throttling and transient failures: the ones botocore's standard retry mode retries
#: (`botocore/retries/standard.py`), with S3's 5xx codes spelled out; any code starting "Throttl" too.
TRANSIENT_CODES = frozenset(
    {
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
        "InternalError",
        "LimitExceededException",
        "PriorRequestNotComplete",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "SlowDown",
        "TooManyRequestsException",
        "TransactionInProgressException",
    }
)
#: Failing to connect, a timeout, a connection closed mid-answer, a body cut short.
TRANSIENT_BOTO_ERRORS = (BotoConnectionError, HTTPClientError, IncompleteReadError)


class SourceError(Exception):
    """The source data cannot be read as configured: permanent until the data, a setting or the permissions
    are fixed (a missing bucket, AccessDenied, bad credentials, a source that is not a directory...)."""


class SourceUnreachable(SourceError):
    """The source did not answer usefully after boto3's own retries (throttling, a 5xx, a timeout, a dropped
    connection): transient, so worth running the step again."""


class SourceObjectMissing(SourceError):
    """A file the run needs (a day's event file) does not exist."""

    def __init__(self, location: str) -> None:
        super().__init__(f"missing source file: {location}")
        self.location = location


def is_transient(exc: BotoCoreError | ClientError) -> bool:
    """Whether a boto3 error may go away by itself: throttling, a server error (HTTP 5xx or 429), a timeout,
    a connection that failed or dropped. Everything else (403, NoSuchBucket, bad or no credentials) is not."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in TRANSIENT_CODES or code.startswith("Throttl") or status >= 500 or status == 429
    return isinstance(exc, TRANSIENT_BOTO_ERRORS)


def s3_error(problem: str, exc: BotoCoreError | ClientError) -> SourceError:
    """The error to raise when boto3 failed at ``problem`` ("cannot read s3://..."): the message keeps boto3's,
    which names the S3 error code; the class says whether retrying can help."""
    error = SourceUnreachable if is_transient(exc) else SourceError
    return error(f"{problem}: {exc}")


class NotJsonText(SourceError):
    """A source file that is not UTF-8 JSON text, one object a line (gzip, UTF-16, a JSON array...): the whole
    file is refused (its partition fails) rather than each of its lines rejected as a bad record."""

    def __init__(self, source_key: str, problem: str) -> None:
        super().__init__(f"{source_key} is not UTF-8 JSON text (one object a line): {problem}")
        self.source_key = source_key
        self.problem = problem


class OutsideSourceRoot(SourceError):
    """A key that would be read from outside the source root: a symbolic link (the file or a folder on the
    way) that resolves outside it, or a key with ``..`` in it. Refused, never skipped: skipping would change
    the data silently."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path
