"""Errors about the source data, each naming the object or setting at fault."""


class SourceError(Exception):
    """The source data cannot be read as configured."""


class SourceObjectMissing(SourceError):
    """A file the run needs (a day's event file) does not exist."""

    def __init__(self, location: str) -> None:
        super().__init__(f"missing source file: {location}")
        self.location = location
