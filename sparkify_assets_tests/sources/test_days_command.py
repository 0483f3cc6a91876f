"""`sparkify days` as `make run` runs it: stdout is exactly the range of the source's days that are partitions
(SPEC.md, "Partitions"; README, SPARKIFY_PARTITIONS_START), and stderr names every file left out and why."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest


def sparkify_days(source: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPARKIFY_PARTITIONS_")}
    env.update(SPARKIFY_SOURCE=str(source), **settings)
    return subprocess.run(
        [sys.executable, "-m", "sparkify_cli.main", "days", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def touch(source: Path, key: str) -> None:
    path = source / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"ts": 0}\n')


def day_key(day: str) -> str:
    return f"log_data/{day[:4]}/{day[5:7]}/{day}-events.json"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """Day files before the first partition, inside, and today's (not a partition until midnight UTC), plus files
    that are not day files."""
    root = tmp_path / "source"
    for day in ("2018-10-31", "2018-11-02", "2018-11-03"):
        touch(root, day_key(day))
    touch(root, "log_data/2018/11/notes.txt")
    touch(root, "log_data/2018/12/2018-11-04-events.json")  # a day file in the wrong month's folder
    return root


def test_days_prints_only_partitions_and_names_what_it_ignored(source: Path) -> None:
    today = datetime.now(UTC).date().isoformat()
    touch(source, day_key(today))
    done = sparkify_days(source, SPARKIFY_PARTITIONS_START="2018-11-01")
    if datetime.now(UTC).date().isoformat() != today:
        pytest.skip("midnight UTC passed during the test: today's file became a partition")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2018-11-02...2018-11-03\n"
    ignored = {
        line.split(": ", 2)[1].removeprefix("ignored "): line.split(": ", 2)[2] for line in done.stderr.splitlines()
    }
    assert ignored == {
        str(source / day_key("2018-10-31")): "2018-10-31 is before the first partition, 2018-11-01 "
        "(SPARKIFY_PARTITIONS_START)",
        str(source / day_key(today)): f"{today} is not over yet: a day is a partition from the next midnight, UTC",
        str(source / "log_data/2018/11/notes.txt"): "not a day file (log_data/YYYY/MM/YYYY-MM-DD-events.json)",
        str(source / "log_data/2018/12/2018-11-04-events.json"): "a day file outside its month's folder, "
        "log_data/2018/11/",
    }


def test_days_follows_the_configured_start_and_end(source: Path) -> None:
    done = sparkify_days(source, "--list", SPARKIFY_PARTITIONS_START="2018-10-30", SPARKIFY_PARTITIONS_END="2018-11-02")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2018-10-31\n2018-11-02\n"
    assert "2018-11-03 is after the last partition, 2018-11-02 (SPARKIFY_PARTITIONS_END)" in done.stderr


def test_days_fails_when_no_day_file_is_a_partition(source: Path) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    done = sparkify_days(source, SPARKIFY_PARTITIONS_START=tomorrow)
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"no day file under {source / 'log_data/'} is a partition (partitions: {tomorrow} to" in done.stderr
