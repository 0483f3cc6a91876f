"""The `sparkify` command: `sparkify sample`, `sparkify sql`, `sparkify infra`.

Each subcommand lives in the module that owns its domain and exposes
`configure_parser(parser)` and `run(args) -> int`; this file only wires them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "sample": ("sparkify_assets.sample.command", "Write a deterministic Udacity-format sample data set."),
    "days": ("sparkify_assets.sources.command", "Print the partition range the configured source holds."),
    "summary": ("sparkify_assets.summary", "Rows per warehouse table and the latest run's checks."),
    "sql": ("sparkify_assets.warehouse.command", "Print every statement a run would send to the warehouse, in order."),
    "infra": ("sparkify_assets.infra.command", "Create, inspect or remove the Redshift cluster and its IAM role."),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sparkify", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        module.configure_parser(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
