"""The benchmark's do-nothing replica (bench/replica.py) has the shape of the graph it stands for."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from dagster import Definitions

from sparkify_assets.definitions import defs as project_defs

REPLICA = Path(__file__).resolve().parents[1] / "bench" / "replica.py"
GROUPS = {"staging", "star"}  # what the benchmark builds (bench/run.py, DEFAULT_SELECT)


def _replica() -> Definitions:
    spec = importlib.util.spec_from_file_location("bench_replica", REPLICA)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.defs


def _shape(defs: Definitions) -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    keys = [key for key in graph.get_all_asset_keys() if graph.get(key).group_name in GROUPS]
    assets = {
        key.to_user_string(): (
            graph.get(key).group_name,
            graph.get(key).partitions_def is not None,
            sorted(parent.to_user_string() for parent in graph.get(key).parent_keys),
            str(graph.get(key).backfill_policy),
        )
        for key in keys
    }
    steps = {
        node.node_def.name: sorted(
            (spec.name, spec.asset_key.to_user_string(), spec.blocking, spec.partitions_def is not None)
            for spec in node.check_specs
        )
        for node in defs.asset_checks or []
        if all(spec.asset_key in keys for spec in node.check_specs)
    }
    ops = {node.node_def.name for node in defs.assets or [] if set(node.keys) <= set(keys)}  # type: ignore[union-attr]
    return {"assets": assets, "checks": steps, "asset_steps": ops, "executor": defs.executor.name}


def test_the_replica_has_the_graphs_assets_checks_steps_and_executor() -> None:
    project, replica = _shape(project_defs), _shape(_replica())
    assert len(project["assets"]) == 7 and project["checks"]
    assert replica == project
