"""DEVELOPERS.md: secrets never reach SQL text, logs or metadata. The production resources (`redshift_resources`,
password login) run the whole graph with known fake secrets; redshift-connector's `connect` is the only thing
replaced, by the recording stand-in. Then everything the run wrote is scanned for the secrets."""

from __future__ import annotations

import logging
from typing import Any
from unittest import mock

import pytest
import redshift_connector
from dagster import DagsterInstance

from sparkify_assets.resources import redshift_resources
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.recording import StatementLog
from sparkify_assets.warehouse.redshift.recording import RecordingConnection
from sparkify_assets.warehouse.redshift.settings import FLAG_SETTINGS, SETTINGS
from sparkify_assets_tests.conftest import run_graph
from sparkify_assets_tests.warehouse.conftest import ROLE_ARN, SOURCE_URI

SECRETS = {
    "REDSHIFT_PASSWORD": "rs-pass-0f9e8d7c6b5a",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-1a2b3c4d5e6f",
    "AWS_SESSION_TOKEN": "aws-token-9z8y7x6w5v",
}


def test_no_secret_reaches_sql_logs_or_metadata(
    s3_source: SparkifySource, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for variable in [*SETTINGS.values(), *FLAG_SETTINGS.values()]:
        monkeypatch.delenv(variable, raising=False)
    environment = {
        "REDSHIFT_HOST": "sparkify.abc123xyz.us-west-2.redshift.amazonaws.com",
        "REDSHIFT_USER": "sparkify",
        "REDSHIFT_IAM_ROLE_ARN": ROLE_ARN,
        "SPARKIFY_SOURCE": SOURCE_URI,
        **SECRETS,
    }
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    log, logins = StatementLog(), []

    def connect(**options: Any) -> RecordingConnection:
        logins.append(options)
        return RecordingConnection(log)

    instance = DagsterInstance.ephemeral()
    # Everything at the level operators run with, and the project's and Dagster's own loggers at DEBUG. (Not
    # botocore's DEBUG: it prints every signed request, session token included, whatever the project does.)
    caplog.set_level(logging.INFO)
    for logger in ("sparkify_assets", "dagster", "redshift_connector"):
        caplog.set_level(logging.DEBUG, logger=logger)
    with mock.patch.object(redshift_connector, "connect", side_effect=connect):
        result = run_graph(redshift_resources(), partition="2018-11-05", instance=instance)
    assert result.success
    assert len(logins) == 1 and logins[0]["password"] == SECRETS["REDSHIFT_PASSWORD"]  # the secret was used

    written = [
        *log.sql,
        caplog.text,
        *(repr(record) for record in instance.all_logs(result.run_id)),
        *(
            repr(materialization.metadata)
            for node in ("staging_events", "staging_songs", "songplays", "users", "time", "songs", "artists")
            for materialization in result.asset_materializations_for_node(node)
        ),
    ]
    assert any("COPY" in text for text in written) and any("records_read" in text for text in written)
    for name, secret in SECRETS.items():
        leaks = [text[max(0, text.find(secret) - 300) : text.find(secret) + 50] for text in written if secret in text]
        assert not leaks, f"{name} leaked: {leaks[:1]}"
