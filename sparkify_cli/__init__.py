"""The `sparkify` command (`main.py`) and its subcommands, one module each, named after it: `sample.py`,
`days.py`, `summary.py`, `sql.py` (with `sql_plan.py`), `infra.py`. A subcommand's module parses its options
and imports its domain's heavy code (Dagster, DuckDB, boto3) inside `run()`, so `--help` answers at once."""
