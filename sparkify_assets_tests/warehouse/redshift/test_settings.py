"""The Redshift resource's settings: login by password or IAM, TLS, timeouts, schema, COPY's role, region and
MAXERROR. A missing or malformed setting fails before any work starts, naming the environment variable."""

from __future__ import annotations

import inspect
from typing import Any
from unittest import mock

import pytest
import redshift_connector
from dagster import EnvVar

from sparkify_assets.resources import RESOURCES_BY_WAREHOUSE, redshift_resources
from sparkify_assets.settings import warehouse_engine
from sparkify_assets.warehouse.recording import StatementLog
from sparkify_assets.warehouse.redshift.engine import RedshiftWarehouse
from sparkify_assets.warehouse.redshift.recording import RecordingConnection
from sparkify_assets.warehouse.redshift.settings import FLAG_SETTINGS, SETTINGS, RedshiftSettingError
from sparkify_assets_tests.conftest import run_graph
from sparkify_assets_tests.warehouse.conftest import ROLE_ARN

PASSWORD = "pw-do-not-print-4f1c"
PASSWORD_LOGIN = {
    "host": "sparkify.abc123xyz.us-west-2.redshift.amazonaws.com",
    "user": "sparkify",
    "password": PASSWORD,
    "iam_role_arn": ROLE_ARN,
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in [*SETTINGS.values(), *FLAG_SETTINGS.values(), "SPARKIFY_WAREHOUSE"]:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        ({"iam_role_arn": None}, "REDSHIFT_IAM_ROLE_ARN"),
        ({"iam_role_arn": "arn:aws:iam::1234:role/x"}, "REDSHIFT_IAM_ROLE_ARN"),
        ({"iam_role_arn": "arn:aws:iam::123456789012:user/x"}, "REDSHIFT_IAM_ROLE_ARN"),
        ({"iam_role_arn": "arn:aws:iam::123456789012:role/x' CREDENTIALS '"}, "REDSHIFT_IAM_ROLE_ARN"),
        ({"schema_name": "Sparkify-Prod"}, "REDSHIFT_SCHEMA"),
        ({"copy_region": "us west 2"}, "REDSHIFT_COPY_REGION"),
        ({"max_errors": -1}, "REDSHIFT_MAXERROR"),
        ({"max_errors": 100_000}, "REDSHIFT_MAXERROR"),  # would send MAXERROR 100001, past COPY's limit
        ({"host": None}, "REDSHIFT_HOST"),
        ({"host": "bad host/name"}, "REDSHIFT_HOST"),
        ({"user": None}, "REDSHIFT_USER"),
        ({"password": None}, "REDSHIFT_PASSWORD"),
        ({"port": 0}, "REDSHIFT_PORT"),
        ({"database": "dev; drop"}, "REDSHIFT_DB"),
        ({"sslmode": "disable"}, "REDSHIFT_SSLMODE"),
        ({"connect_timeout": 0}, "REDSHIFT_CONNECT_TIMEOUT"),
        ({"cluster_identifier": "sparkify", "aws_region": "us-west-2"}, "REDSHIFT_PASSWORD"),  # both logins
        ({"password": None, "cluster_identifier": "sparkify"}, "REDSHIFT_REGION"),
        ({"password": None, "cluster_identifier": "c", "workgroup": "w", "aws_region": "eu-west-1"}, "WORKGROUP"),
    ],
)
def test_a_missing_or_malformed_setting_is_named(settings: dict[str, Any], variable: str) -> None:
    warehouse = RedshiftWarehouse(**{**PASSWORD_LOGIN, **settings})
    with pytest.raises(RedshiftSettingError, match=variable) as raised:
        warehouse.validate()
    assert PASSWORD not in str(raised.value)


@pytest.mark.parametrize("skipped", [0, 1, 1000, 99_999])
def test_maxerror_is_sent_one_higher_so_that_the_setting_is_how_many_bad_lines_are_skipped(skipped: int) -> None:
    """COPY fails when "the load returns the error_count number of errors or greater": MAXERROR 1000 skips 999.
    REDSHIFT_MAXERROR says how many bad lines one COPY may skip, so COPY gets one more, at most 100000."""
    warehouse = RedshiftWarehouse(**{**PASSWORD_LOGIN, "max_errors": skipped})
    warehouse.validate()
    assert warehouse.copy_maxerror == skipped + 1 <= 100_000


def test_password_login_uses_tls_a_connect_timeout_and_tcp_keepalive() -> None:
    warehouse = RedshiftWarehouse(**PASSWORD_LOGIN)
    assert PASSWORD not in repr(warehouse)
    options = warehouse.connect_options()
    assert options == {
        "host": PASSWORD_LOGIN["host"],
        "port": 5439,
        "database": "dev",
        "user": "sparkify",
        "password": PASSWORD,
        "ssl": True,
        "sslmode": "verify-ca",
        "timeout": 30,
        "tcp_keepalive": True,
        "application_name": "sparkify",
    }


def test_iam_login_to_a_cluster_or_a_serverless_workgroup() -> None:
    cluster = RedshiftWarehouse(
        cluster_identifier="sparkify", user="sparkify", aws_region="us-west-2", iam_role_arn=ROLE_ARN
    )
    options = cluster.connect_options()
    assert options["iam"] is True and options["cluster_identifier"] == "sparkify" and options["db_user"] == "sparkify"
    assert "password" not in options and options["ssl"] is True
    assert not cluster.is_serverless

    workgroup = RedshiftWarehouse(workgroup="sparkify", aws_region="us-west-2", iam_role_arn=ROLE_ARN)
    options = workgroup.connect_options()
    assert options["is_serverless"] is True and options["serverless_work_group"] == "sparkify"
    assert workgroup.is_serverless


def test_serverless_is_recognised_by_its_endpoint_or_set_explicitly() -> None:
    host = "sparkify.123456789012.us-west-2.redshift-serverless.amazonaws.com"
    assert RedshiftWarehouse(**{**PASSWORD_LOGIN, "host": host}).is_serverless
    assert not RedshiftWarehouse(**{**PASSWORD_LOGIN, "host": host, "serverless": False}).is_serverless
    assert RedshiftWarehouse(**{**PASSWORD_LOGIN, "serverless": True}).is_serverless


def test_open_connection_logs_in_then_lifts_the_connect_timeout_for_long_copies() -> None:
    connection = mock.Mock()
    with mock.patch.object(redshift_connector, "connect", return_value=connection) as connect:
        assert RedshiftWarehouse(**PASSWORD_LOGIN).open_connection() is connection
    assert connect.call_args.kwargs["timeout"] == 30
    connection._usock.settimeout.assert_called_once_with(None)


def test_redshift_connector_still_keeps_its_socket_where_the_engine_lifts_the_timeout() -> None:
    assert "self._usock.settimeout(timeout)" in inspect.getsource(redshift_connector.core.Connection.__init__)


def test_sparkify_warehouse_redshift_selects_redshift_bound_to_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SPARKIFY_WAREHOUSE", "redshift")
    clean_env.setenv("REDSHIFT_PASSWORD", PASSWORD)
    clean_env.setenv("REDSHIFT_PORT", "5440")
    clean_env.setenv("REDSHIFT_SSL", "1")
    warehouse = RESOURCES_BY_WAREHOUSE[warehouse_engine()]()["warehouse"]
    assert isinstance(warehouse, RedshiftWarehouse)
    # Bound as environment variables, resolved when a run starts: the value is never part of the config.
    assert isinstance(warehouse.password, EnvVar) and warehouse.password.env_var_name == "REDSHIFT_PASSWORD"
    assert warehouse.port.env_var_name == "REDSHIFT_PORT"
    assert warehouse.ssl is True


def test_a_malformed_flag_is_named_when_the_definitions_load(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("REDSHIFT_SSL", "maybe")
    with pytest.raises(ValueError, match="REDSHIFT_SSL"):
        redshift_resources()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REDSHIFT_IAM_ROLE_ARN", "arn:aws:iam::123:role/x", "REDSHIFT_IAM_ROLE_ARN"),
        ("REDSHIFT_HOST", "", "REDSHIFT_HOST"),
        ("REDSHIFT_PORT", "fifty", "REDSHIFT_PORT"),
    ],
)
def test_a_bad_setting_fails_the_run_before_any_statement(
    clean_env: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    environment = {
        "REDSHIFT_HOST": PASSWORD_LOGIN["host"],
        "REDSHIFT_USER": "sparkify",
        "REDSHIFT_PASSWORD": PASSWORD,
        "REDSHIFT_IAM_ROLE_ARN": ROLE_ARN,
        "SPARKIFY_SOURCE": "s3://udacity-dend",
        variable: value,
    }
    for name, setting in environment.items():
        clean_env.setenv(name, setting)
    log = StatementLog()
    connect = mock.patch.object(redshift_connector, "connect", side_effect=lambda **options: RecordingConnection(log))
    with connect, pytest.raises(Exception) as raised:  # noqa: B017 - Dagster wraps the resource's error
        run_graph(redshift_resources(), partition="2018-11-05")
    assert log.sql == []
    chain, error = [], raised.value
    while error is not None:
        chain.append(str(error))
        error = error.__cause__
    assert any(message in text for text in chain), chain
    assert not any(PASSWORD in text for text in chain)
