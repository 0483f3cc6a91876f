"""Which source errors are transient (worth retrying the step) and which are permanent (fail at once)."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    IncompleteReadError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from sparkify_assets.sources.errors import SourceError, SourceUnreachable, is_transient, s3_error

ENDPOINT = "https://s3.us-west-2.amazonaws.com/sparkify/log_data/2018/11/2018-11-05-events.json"


def client_error(code: str, status: int) -> ClientError:
    """What boto3 raises for an S3 error answer, as it parses one."""
    response = {"Error": {"Code": code, "Message": f"{code} (test)"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "GetObject")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("SlowDown", 503),
        ("InternalError", 500),
        ("ServiceUnavailable", 503),
        ("RequestTimeout", 400),  # S3 answers an idle upload with 400 RequestTimeout
        ("Throttling", 400),
        ("ThrottlingException", 400),
        ("ThrottledByTheEdge", 400),  # any Throttl... code
        ("RequestLimitExceeded", 400),
        ("BadGateway", 502),  # an unknown code: the status decides
        ("", 504),  # a gateway's answer without an S3 error body
        ("TooManyRequests", 429),
    ],
)
def test_throttling_and_server_errors_are_transient(code: str, status: int) -> None:
    assert is_transient(client_error(code, status))


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("AccessDenied", 403),
        ("403", 403),  # HEAD requests carry no error body: botocore uses the status as the code
        ("NoSuchBucket", 404),
        ("InvalidAccessKeyId", 403),
        ("SignatureDoesNotMatch", 403),
        ("ExpiredToken", 400),
        ("InvalidBucketName", 400),
        ("RequestTimeTooSkewed", 403),  # the clock needs fixing; waiting does not help
        ("AuthorizationHeaderMalformed", 400),  # the wrong region
    ],
)
def test_refusals_and_missing_buckets_are_permanent(code: str, status: int) -> None:
    assert not is_transient(client_error(code, status))


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url=ENDPOINT),
        ConnectTimeoutError(endpoint_url=ENDPOINT),
        ReadTimeoutError(endpoint_url=ENDPOINT),
        ConnectionClosedError(endpoint_url=ENDPOINT),
        ResponseStreamingError(error="Connection broken: IncompleteRead(100 bytes read, 100 more expected)"),
        IncompleteReadError(actual_bytes=100, expected_bytes=200),
    ],
    ids=lambda error: type(error).__name__,
)
def test_connection_failures_and_timeouts_are_transient(error: BotoCoreError) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        NoCredentialsError(),
        PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
        ParamValidationError(report="Invalid bucket name"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_missing_credentials_and_invalid_requests_are_permanent(error: BotoCoreError) -> None:
    assert not is_transient(error)


def test_the_error_raised_names_the_object_and_the_s3_code_and_says_whether_to_retry() -> None:
    problem = "cannot read s3://sparkify/raw/log_data/2018/11/2018-11-05-events.json"
    permanent = s3_error(problem, client_error("AccessDenied", 403))
    transient = s3_error(problem, client_error("SlowDown", 503))
    assert type(permanent) is SourceError
    assert type(transient) is SourceUnreachable and isinstance(transient, SourceError)
    for error, code in [(permanent, "AccessDenied"), (transient, "SlowDown")]:
        assert str(error).startswith(f"{problem}: ")
        assert f"({code})" in str(error)
