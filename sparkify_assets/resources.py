"""Resources per deployment: one switch (SPARKIFY_WAREHOUSE) picks the warehouse engine.

Settings are bound as Dagster `EnvVar`s, so they are read when a run starts and never show up in the
UI or run config; secrets (AWS keys, the Redshift password) are never read here at all.

Each engine is imported by its own factory, when that deployment is chosen: every process that loads the
code location (each run, `dagster asset materialize`, the code server) imports only its own engine's driver.
redshift_connector alone takes about 0.2 s to import, which every DuckDB run paid before it started
(bench/RESULTS.md); a Redshift deployment does not import DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dagster import EnvVar
from dagster_aws.s3 import S3Resource

from sparkify_assets.settings import DEFAULT_DUCKDB_PATH, DEFAULT_SOURCE, flag, is_set
from sparkify_assets.sources.resource import SparkifySource
from sparkify_assets.warehouse.redshift.settings import FLAG_SETTINGS, INTEGER_SETTINGS, SETTINGS


def _env_or(name: str, default: Any) -> Any:
    """An EnvVar when the variable is set, else the default (EnvVar has no default of its own)."""
    return EnvVar(name) if is_set(name) else default


def s3_resource() -> S3Resource:
    """dagster-aws's S3 resource with the standard AWS settings.

    Credentials, AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL_S3 are left to boto3's own lookup, so keys
    never pass through Dagster config. SPARKIFY_S3_UNSIGNED=1 reads public buckets (s3://udacity-dend)
    without credentials.
    """
    return S3Resource(
        region_name=_env_or("AWS_REGION", _env_or("AWS_DEFAULT_REGION", "us-west-2")),
        endpoint_url=_env_or("AWS_ENDPOINT_URL_S3", None),
        use_unsigned_session=flag("SPARKIFY_S3_UNSIGNED"),
        max_attempts=EnvVar.int("SPARKIFY_S3_MAX_ATTEMPTS") if is_set("SPARKIFY_S3_MAX_ATTEMPTS") else 5,
    )


def source_resource() -> SparkifySource:
    return SparkifySource(uri=_env_or("SPARKIFY_SOURCE", str(DEFAULT_SOURCE)), s3=s3_resource())


def common_warehouse_settings() -> dict[str, Any]:
    """Settings every warehouse engine takes (`warehouse/engine.py`)."""
    if is_set("SPARKIFY_MAX_REJECT_PERCENT"):
        return {"max_reject_percent": EnvVar.int("SPARKIFY_MAX_REJECT_PERCENT")}
    return {}


def duckdb_resources() -> dict[str, Any]:
    from sparkify_assets.warehouse.duckdb.engine import DuckDBWarehouse  # see the module's docstring

    return {
        "source": source_resource(),
        "warehouse": DuckDBWarehouse(
            path=_env_or("SPARKIFY_DUCKDB_PATH", str(DEFAULT_DUCKDB_PATH)),
            memory_limit=_env_or("SPARKIFY_DUCKDB_MEMORY_LIMIT", "1GB"),
            **common_warehouse_settings(),
        ),
    }


def redshift_resources() -> dict[str, Any]:
    """Every REDSHIFT_* variable that is set (docs/redshift.md); the engine checks them when a run starts."""
    from sparkify_assets.warehouse.redshift.engine import RedshiftWarehouse  # see the module's docstring

    settings: dict[str, Any] = {
        name: EnvVar.int(variable) if name in INTEGER_SETTINGS else EnvVar(variable)
        for name, variable in SETTINGS.items()
        if is_set(variable)
    }
    settings.update({name: flag(variable) for name, variable in FLAG_SETTINGS.items() if is_set(variable)})
    return {"source": source_resource(), "warehouse": RedshiftWarehouse(**settings, **common_warehouse_settings())}


RESOURCES_BY_WAREHOUSE: dict[str, Callable[[], dict[str, Any]]] = {
    "duckdb": duckdb_resources,
    "redshift": redshift_resources,
}
