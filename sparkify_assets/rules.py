"""SPEC.md's rules that Python code needs as values, one home each.

The pipeline applies them in SQL, which spells the same values: the SQL must agree with this file
(`sparkify_assets_tests/test_rules.py` checks it).
"""

MATCH_TOLERANCE_S = 2.0
"""SPEC.md, song match: a play matches a song whose duration is within this many seconds of the play's
length (inclusive). Applied by `warehouse/sql/create_star_views.sql` (`<= 2.0`); the sample generator
draws plays just inside and beyond it."""
