"""deploy/ecs/dagster.yaml, the instance on Amazon ECS (docs/deployment.md), is valid by Dagster's and
dagster-aws's own schemas: the instance's, then the ECS run launcher's. (No cloud is reachable here: the
launcher itself is not started.) deploy/dagster.yaml and make's dagster.yaml are checked the same way, their
run launcher imported; both Postgres instances name the psycopg2 driver (see deploy/dagster.yaml)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config

from sparkify_assets_tests.conftest import REPO_ROOT

pytestmark = pytest.mark.deploy

INSTANCES = [
    REPO_ROOT / "deploy" / "ecs" / "dagster.yaml",
    REPO_ROOT / "deploy" / "dagster.yaml",
    REPO_ROOT / "dagster.yaml",
]
#: What the instance files read from the environment, so that the schemas see values.
ENVIRONMENT = {
    "DAGSTER_PG_HOST": "db.example.internal",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "not-a-secret",
    "SPARKIFY_REDSHIFT_PASSWORD_SECRET_ARN": "arn:aws:secretsmanager:us-west-2:123456789012:secret:redshift",
    "SPARKIFY_DAGSTER_PG_PASSWORD_SECRET_ARN": "arn:aws:secretsmanager:us-west-2:123456789012:secret:dagster-pg",
}


@pytest.mark.parametrize("path", INSTANCES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_the_instance_and_its_run_launcher_are_valid(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "dagster.yaml").write_text(path.read_text())
    config, _ = dagster_instance_config(str(tmp_path))
    launcher = config["run_launcher"]
    launcher_class = getattr(importlib.import_module(launcher["module"]), launcher["class"])
    result = process_config(launcher_class.config_type(), launcher.get("config") or {})
    assert result.success, [error.message for error in result.errors]
    postgres = yaml.safe_load(path.read_text()).get("storage", {}).get("postgres")
    assert postgres is None or postgres["postgres_db"]["scheme"] == "postgresql+psycopg2"
