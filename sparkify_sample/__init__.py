"""The deterministic Udacity-format sample data set (`sparkify sample`), one concern a module:
`vocabulary.py` (the invented words), `catalogue.py` (artists, songs, song files), `events.py` (listeners,
sessions, plays), `day_files.py` (a day's events as the export writes them, broken lines, the JSONPaths file)
and `generator.py` (`generate_sample`: all of it under one folder, in the source's layout)."""
