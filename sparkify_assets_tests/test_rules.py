"""`rules.py`: each value is the one the SQL that applies the rule spells (SPEC.md)."""

from __future__ import annotations

from sparkify_assets.rules import MATCH_TOLERANCE_S
from sparkify_assets_tests.conftest import REPO_ROOT

STAR_VIEWS = REPO_ROOT / "sparkify_assets" / "warehouse" / "sql" / "create_star_views.sql"


def test_the_song_match_sql_uses_the_match_tolerance() -> None:
    """SPEC.md: a play matches a song whose duration is within 2.0 s of its length."""
    assert MATCH_TOLERANCE_S == 2.0
    assert f"ABS(catalogue.duration - plays.length) <= {MATCH_TOLERANCE_S}" in STAR_VIEWS.read_text(encoding="utf-8")
