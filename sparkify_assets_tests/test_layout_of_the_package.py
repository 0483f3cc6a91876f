"""The shape of the code (DEVELOPERS.md, "Layout"): the pipeline's folders import each other without a
cycle, the tools (`sparkify_cli`, `sparkify_infra`, `sparkify_sample`) import the pipeline and never the
reverse, and `sparkify --help` loads no Dagster module.

The imports are read from the source (every `import`, also those inside functions), not by importing it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from sparkify_assets_tests.conftest import REPO_ROOT

PIPELINE = "sparkify_assets"
TOOLS = ("sparkify_cli", "sparkify_infra", "sparkify_sample")


def modules(package: str) -> Iterator[tuple[str, Path]]:
    """(dotted name, file) of every module of ``package``."""
    for path in sorted((REPO_ROOT / package).rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imported(name: str, path: Path) -> Iterator[str]:
    """The modules ``name`` imports: ``from a import b`` yields ``a.b`` (``b`` may be a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def unit_of(module: str) -> str | None:
    """The part of the pipeline a module belongs to: its top-level folder (``warehouse``), or the top-level
    module itself (``definitions``); ``None`` for modules outside the package (or names that are not modules)."""
    parts = module.split(".")
    if parts[0] != PIPELINE:
        return None
    if len(parts) == 1:
        return "__init__"
    top = REPO_ROOT / PIPELINE / parts[1]
    return parts[1] if top.is_dir() or top.with_suffix(".py").is_file() else None


def pipeline_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules(PIPELINE):
        here = unit_of(name)
        for target in imported(name, path):
            there = unit_of(target)
            if there is not None and there != here:
                graph[here].add(there)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_the_pipelines_folders() -> None:
    graph = pipeline_graph()
    assert graph, "no import found: the walk is broken"
    assert cycles(graph) == [], {unit: sorted(targets) for unit, targets in sorted(graph.items())}


def test_the_pipeline_never_imports_a_tool() -> None:
    wrong = [
        (name, target)
        for name, path in modules(PIPELINE)
        for target in imported(name, path)
        if target.split(".")[0] in TOOLS
    ]
    assert wrong == []


def test_infra_and_the_sample_generator_are_loaded_only_by_their_command() -> None:
    """`sparkify_infra` by `sparkify infra` (sparkify_cli/infra.py), `sparkify_sample` by `sparkify sample`."""
    owners = {"sparkify_infra": "sparkify_cli.infra", "sparkify_sample": "sparkify_cli.sample"}
    wrong = [
        (name, target)
        for package in (PIPELINE, *TOOLS)
        for name, path in modules(package)
        for target in imported(name, path)
        if (tool := target.split(".")[0]) in owners and name != owners[tool] and not name.startswith(tool)
    ]
    assert wrong == []


HELP_PROBE = """
import sys
from sparkify_cli.main import SUBCOMMANDS, build_parser
build_parser(configure=SUBCOMMANDS)
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0].startswith("dagster") or m == "duckdb")))
"""


def test_every_subcommands_parser_loads_no_dagster_module() -> None:
    """Every subcommand's module and options (what `sparkify COMMAND --help` needs) without Dagster or DuckDB:
    they are imported inside each command's `run()`."""
    done = subprocess.run([sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == ""
