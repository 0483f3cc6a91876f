"""What DuckDB did to run one statement: its operators and the rows each produced (``EXPLAIN (ANALYZE, FORMAT
json)``, https://duckdb.org/docs/stable/guides/meta/explain_analyze). The cost tests assert on these counts,
which depend on the data and the plan only, not on how busy the machine is.

DuckDB 2.0 writes the plan as ``{"operator": [...]}`` of nodes with ``type`` and ``intermediate_rows``; 1.4
(the oldest pyproject.toml allows) as the root node itself, with ``operator_type`` and ``operator_cardinality``."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb


@dataclass(frozen=True)
class Operator:
    """One operator of the plan DuckDB ran: its type (``WINDOW``, ``TABLE_SCAN``, ...), the rows it produced,
    and for a scan the table it read (unqualified)."""

    type: str
    rows: int
    table: str | None


def _walk(node: Mapping[str, Any]) -> Iterator[Operator]:
    table = node.get("extra_info", {}).get("Table")
    name = str(table).rsplit(".", 1)[-1].strip('"') if table else None
    kind = node.get("type", node.get("operator_type", ""))
    yield Operator(str(kind).strip(), int(node.get("intermediate_rows", node.get("operator_cardinality", 0))), name)
    for child in node.get("children", []):
        yield from _walk(child)


def operators(connection: duckdb.DuckDBPyConnection, statement: str) -> list[Operator]:
    """Run ``statement`` (it takes effect: run it in a transaction to roll back) and list its operators."""
    ((_, plan),) = connection.execute(f"EXPLAIN (ANALYZE, FORMAT json) {statement}").fetchall()
    profile = json.loads(plan)
    roots = profile["operator"] if "operator" in profile else profile["children"]
    return [operator for root in roots for operator in _walk(root)]
