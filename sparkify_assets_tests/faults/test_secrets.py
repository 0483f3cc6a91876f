"""DEVELOPERS.md: secrets never reach SQL text, logs, metadata or exception text.

Known fake secrets (AWS access key id, secret key and session token, the Redshift password) are set in the
environment; then the graph runs from S3 (moto) with the deployment's own resources, in process and as the
real `dagster asset materialize` in a subprocess, a source error is provoked from a server that echoes the
access key back (as S3's InvalidAccessKeyId answer does), and `sparkify sql` prints a Redshift plan.
Everything captured is scanned: Dagster's event log (messages, metadata, errors), Python logging, stdout and
stderr, the subprocess's DAGSTER_HOME (event log database, compute logs) and the warehouse file itself.
(Not botocore's own DEBUG logging, which prints signed requests whatever a project does.)
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from dagster import DagsterInstance, build_resources
from dagster._serdes import serialize_value

from sparkify_assets.resources import duckdb_resources, source_resource
from sparkify_assets.sources.errors import SourceError
from sparkify_assets_tests.conftest import run_graph, upload_tree
from sparkify_assets_tests.faults.conftest import (
    DAY,
    SPEC_ASSETS,
    SPEC_SELECTION,
    driver_results,
    forked_run,
    start_driver,
)
from sparkify_assets_tests.faults.figures import add
from sparkify_assets_tests.faults.s3_proxy import Fault, FaultyS3Proxy
from sparkify_cli import main as cli

pytestmark = pytest.mark.faults

SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAFAULTSUITE0SECRET",
    "AWS_SECRET_ACCESS_KEY": "faults-secret-key-7Qx2mZr9wK4pLd8vN3bT",
    "AWS_SESSION_TOKEN": "faults-session-token-Fq9sRt2uVw5xYz8AbCdE",
    "REDSHIFT_PASSWORD": "faults-redshift-password-Gh3jKl6mNp",
}
BUCKET, PREFIX = "sparkify-secrets", "udacity"
DAY_KEY = f"log_data/2018/11/{DAY}-events.json"


def leaks(captured: dict[str, bytes | str]) -> list[str]:
    """Where any secret (or its URL-encoded form) appears, with some context."""
    found = []
    for name, secret in SECRETS.items():
        for form in {secret, urllib.parse.quote(secret, safe="")}:
            for where, text in captured.items():
                data = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
                at = data.find(form.encode())
                if at >= 0:
                    found.append(f"{name} in {where}: ...{data[max(0, at - 200) : at + 40]!r}")
    return found


@pytest.fixture
def secret_env(
    aws_test_env: str, real_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The fake secrets and the S3 source (the real 2018-11-05 and its song files, on moto) in the environment."""
    client = boto3.client("s3", endpoint_url=aws_test_env, region_name="us-west-2")
    tree = tmp_path / "tree"
    (tree / DAY_KEY).parent.mkdir(parents=True)
    (tree / DAY_KEY).write_bytes((real_sample / DAY_KEY).read_bytes())
    for song in sorted((real_sample / "song_data").rglob("*.json"))[:10]:
        (tree / song.relative_to(real_sample)).parent.mkdir(parents=True, exist_ok=True)
        (tree / song.relative_to(real_sample)).write_bytes(song.read_bytes())
    upload_tree(client, tree, BUCKET, PREFIX)
    settings = {
        **SECRETS,
        "SPARKIFY_SOURCE": f"s3://{BUCKET}/{PREFIX}",
        "SPARKIFY_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "AWS_ENDPOINT_URL_S3": aws_test_env,
        "AWS_REGION": "us-west-2",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    yield settings


def test_no_secret_reaches_the_event_log_logs_output_or_errors_of_a_run(
    secret_env: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sparkify_assets")
    caplog.set_level(logging.DEBUG, logger="dagster")
    instance = DagsterInstance.ephemeral()
    succeeded = run_graph(duckdb_resources(), partition=DAY, selection=SPEC_ASSETS, instance=instance)
    failed = run_graph(
        duckdb_resources(),
        partition="2018-11-06",
        selection=["staging_events"],
        instance=instance,
        raise_on_error=False,
    )
    assert succeeded.success and not failed.success
    captured: dict[str, bytes | str] = {}
    for result in (succeeded, failed):
        for number, record in enumerate(instance.all_logs(result.run_id)):
            captured[f"event {number} of run {result.run_id[:8]}"] = serialize_value(record)
        captured[f"run {result.run_id[:8]}"] = serialize_value(instance.get_run_by_id(result.run_id))
    captured["python logging"] = caplog.text
    out, err = capfd.readouterr()
    captured["stdout"], captured["stderr"] = out, err
    captured["warehouse file"] = Path(secret_env["SPARKIFY_DUCKDB_PATH"]).read_bytes()
    assert any("records_read" in str(text) for text in captured.values())  # metadata was captured
    assert any("missing source file" in str(text) for text in captured.values())  # and the error
    add("captured texts scanned for secrets", len(captured))
    assert not leaks(captured)


def test_no_secret_reaches_the_error_of_a_server_that_echoes_the_access_key(
    secret_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 answers InvalidAccessKeyId with the key id in its body: the error the run reports must not carry it."""
    with FaultyS3Proxy(upstream=secret_env["AWS_ENDPOINT_URL_S3"]) as proxy:
        echo = f"<AWSAccessKeyId>{SECRETS['AWS_ACCESS_KEY_ID']}</AWSAccessKeyId>"
        proxy.faults.append(Fault(DAY_KEY, status=403, code="InvalidAccessKeyId", extra_xml=echo, times=None))
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
        with build_resources({"source": source_resource()}) as resources, pytest.raises(SourceError) as refused:
            resources.source.read(DAY_KEY)
    error = refused.value
    texts: dict[str, bytes | str] = {"message": str(error), "repr": repr(error)}
    cause = error.__cause__
    while cause is not None:
        texts[f"cause {type(cause).__name__}"] = f"{cause} {cause!r}"
        cause = cause.__cause__
    assert f"s3://{BUCKET}/{PREFIX}/{DAY_KEY}" in texts["message"] and "InvalidAccessKeyId" in texts["message"]
    add("captured texts scanned for secrets", len(texts))
    assert not leaks(texts)


def test_no_secret_reaches_the_output_of_the_dagster_command_or_its_storage(
    secret_env: dict[str, str], tmp_path: Path
) -> None:
    run = forked_run("materialize", tmp_path / "command", secret_env, select=SPEC_SELECTION)
    results = driver_results(start_driver([run], tmp_path), timeout=180)
    log = Path(run["log"]).read_text(errors="replace")
    assert results["materialize"]["exit"] == 0, log[-3000:]
    captured: dict[str, bytes | str] = {"command output": log}
    for path in (tmp_path / "command" / "home").rglob("*"):
        if path.is_file():
            captured[f"DAGSTER_HOME/{path.relative_to(tmp_path / 'command' / 'home')}"] = path.read_bytes()
    captured["warehouse file"] = Path(secret_env["SPARKIFY_DUCKDB_PATH"]).read_bytes()
    assert any(name.endswith(".db") for name in captured)  # the run's event log storage was scanned
    add("captured texts scanned for secrets", len(captured))
    assert not leaks(captured)


def test_no_secret_reaches_the_output_of_sparkify_sql(
    secret_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    if "sql" not in cli.SUBCOMMANDS:
        pytest.skip("`sparkify sql` does not exist yet")
    monkeypatch.setenv("REDSHIFT_HOST", "sparkify.abc123xyz.us-west-2.redshift.amazonaws.com")
    monkeypatch.setenv("REDSHIFT_USER", "sparkify")
    monkeypatch.setenv("REDSHIFT_IAM_ROLE_ARN", "arn:aws:iam::123456789012:role/sparkify-copy")
    code = cli.main(["sql", "--engine", "redshift", "--partition", DAY])
    out, err = capsys.readouterr()
    assert code == 0 and "COPY" in out, err[-2000:]
    add("captured texts scanned for secrets", 2)
    assert not leaks({"sparkify sql stdout": out, "sparkify sql stderr": err})
