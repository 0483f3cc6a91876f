"""The recording stand-in answers queries as an empty warehouse would, so a plan runs without data."""

from __future__ import annotations

import pytest

from sparkify_assets.warehouse.recording import StatementLog, returns_row_set, select_width


@pytest.mark.parametrize(
    ("sql", "width"),
    [
        ("SELECT pg_last_copy_count()", 1),
        ("SELECT COUNT(*), COUNT(song_id) FROM songplays WHERE a IN (1, 2)", 2),
        ("WITH a AS (SELECT 1, 2) SELECT x, ', ' || y, z FROM a", 3),
        ("SELECT (SELECT COUNT(*) FROM a), (SELECT COUNT(b) FROM a), (SELECT COUNT(*) FROM c)", 3),
        ("SELECT CAST(EXTRACT(hour FROM t) AS INTEGER) FROM time", 1),
    ],
)
def test_the_width_of_a_select_list(sql: str, width: int) -> None:
    assert select_width(sql) == width


def test_aggregates_answer_one_row_of_zeros_and_row_sets_none() -> None:
    log = StatementLog()
    assert log.rows_for("SELECT COUNT(*) AS violations, MIN(x) AS detail FROM t") == [(0, 0)]
    assert log.rows_for("SELECT partition_day, COUNT(*) FROM t GROUP BY partition_day") == []
    assert log.rows_for("SELECT column_name, data_type FROM c WHERE t = 'x' ORDER BY ordinal_position") == []
    assert not returns_row_set("SELECT (SELECT a FROM b ORDER BY a LIMIT 1)")
    assert StatementLog(lambda sql: [(7,)]).rows_for("SELECT 1") == [(7,)]
