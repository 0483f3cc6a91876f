"""The `sparkify` command: sample data, the source's days, a run's summary, the SQL plan, the Redshift cluster.

Each subcommand is the module of this package named after it (`sparkify_cli/days.py` is `sparkify days`),
with `configure_parser(parser)` and `run(args) -> int`; this file only wires them. Only the chosen
subcommand's module is imported, and those modules import Dagster (and the pipeline's engines, boto3...) inside
`run()`, so `sparkify --help` and `sparkify <command> --help` answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable, Sequence

#: Each subcommand and its one-line help; its module is `sparkify_cli.<name>`.
SUBCOMMANDS = {
    "sample": "Write a deterministic Udacity-format sample data set.",
    "days": "Print the partition range the configured source holds.",
    "summary": "Rows per warehouse table and the latest run's checks.",
    "sql": "Print every statement a run would send to the warehouse, in order.",
    "infra": "Create, inspect or remove the Redshift cluster and its IAM role.",
}


def build_parser(configure: Iterable[str] = SUBCOMMANDS) -> argparse.ArgumentParser:
    """The parser of every subcommand; only those named in ``configure`` get their options (and their
    module imported): the others can be listed by `--help` but not run."""
    parser = argparse.ArgumentParser(prog="sparkify", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    configure = set(configure)
    for name, help_text in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name in configure:
            module = importlib.import_module(f"sparkify_cli.{name}")
            module.configure_parser(sub)
            sub.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # The subcommand is the first word (`sparkify` itself has no option but --help): configure only that one.
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    args = build_parser(configure=[chosen] if chosen in SUBCOMMANDS else []).parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
