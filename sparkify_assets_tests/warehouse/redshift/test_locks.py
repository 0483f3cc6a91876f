"""Which tables a Redshift transaction locks: read off its SQL, views resolved to their tables, in one order."""

from __future__ import annotations

from sparkify_assets.warehouse.redshift.locks import created_tables, lock_statement, tables_used, view_tables


def test_the_lock_names_each_table_once_in_alphabetical_order() -> None:
    assert lock_statement(["users", "songplays", "artists", "users"]) == 'LOCK "artists", "songplays", "users"'
    assert lock_statement([]) is None


def test_a_view_locks_the_tables_behind_it_through_other_views() -> None:
    assert view_tables()["stg_events"] == {"staging_events"}
    # stg_plays reads stg_events and the song catalogue
    assert {"staging_events", "song_catalogue"} <= view_tables()["stg_plays"]
    assert tables_used(["INSERT INTO songplays SELECT * FROM stg_plays"]) == [
        "song_catalogue",
        "songplays",
        "staging_events",
    ]


def test_comments_strings_temp_tables_and_system_views_lock_nothing() -> None:
    sql = """
    -- users are rebuilt elsewhere
    INSERT INTO staging_rejects SELECT 'songs', line_number FROM load_errors JOIN sys_load_error_detail ON TRUE
    """
    assert tables_used([sql]) == ["staging_rejects"]


def test_a_table_the_script_creates_is_locked_once_created() -> None:
    script = [
        "CREATE TABLE IF NOT EXISTS daily_things (partition_day DATE)",
        "DELETE FROM daily_things",
        "INSERT INTO daily_things SELECT CAST(start_time AS DATE) FROM songplays",
    ]
    created = created_tables(script[:1])
    assert created == ["daily_things"]
    assert tables_used(script[1:]) == ["songplays"]  # not a warehouse table unless the script says it creates it
    assert tables_used(script[1:], also=created) == ["daily_things", "songplays"]
