-- Song data is not partitioned: every load replaces all of it, rejects included.
DELETE FROM staging_rejects
WHERE source_key IN (SELECT source_key FROM staging_files WHERE partition_day IS NULL);

DELETE FROM staging_songs;

DELETE FROM staging_files WHERE partition_day IS NULL;
