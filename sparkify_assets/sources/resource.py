"""The raw-data source: a local directory or an S3 bucket root, read through dagster-aws's S3Resource."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field, field_validator

from sparkify_assets.sources.errors import SourceError, SourceObjectMissing
from sparkify_assets.sources.layout import SONG_PREFIX, is_song_key

_S3_URI = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<prefix>[^\x00-\x1f]*))?")


class SparkifySource(ConfigurableResource):
    """Where the raw Sparkify data lives: ``s3://bucket[/prefix]`` or a local directory laid out the same way."""

    uri: str = Field(description="Source root: a local directory or s3://bucket[/prefix] (SPARKIFY_SOURCE).")
    s3: S3Resource
    max_concurrency: int = Field(
        default=8, ge=1, le=64, description="Parallel S3 GETs when fetching many small objects (song files)."
    )

    @field_validator("uri")
    @classmethod
    def _valid_uri(cls, uri: str) -> str:
        if uri.startswith("s3://"):
            match = _S3_URI.fullmatch(uri.rstrip("/"))
            prefix = (match.group("prefix") or "") if match else ""
            if match is None or ".." in prefix.split("/") or len(uri) > 1024:
                raise ValueError(f"SPARKIFY_SOURCE={uri!r} is not a valid s3://bucket[/prefix] URI")
        elif "://" in uri:
            raise ValueError(f"SPARKIFY_SOURCE={uri!r}: only local directories and s3:// URIs are supported")
        return uri

    # -- where things are -------------------------------------------------------------------------------
    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")

    @property
    def bucket(self) -> str:
        return self.uri[len("s3://") :].split("/", 1)[0]

    @property
    def prefix(self) -> str:
        """The key prefix under the bucket, '' or ending in '/'."""
        rest = self.uri[len("s3://") :].rstrip("/").split("/", 1)
        return f"{rest[1]}/" if len(rest) > 1 and rest[1] else ""

    def location(self, key: str) -> str:
        """The full address of a key, for messages and lineage metadata."""
        if self.is_s3:
            return f"s3://{self.bucket}/{self.prefix}{key}"
        return str(Path(self.uri) / key)

    # -- reading -----------------------------------------------------------------------------------------
    def read(self, key: str) -> bytes:
        """The bytes of one object; a missing object raises SourceObjectMissing naming it."""
        if not self.is_s3:
            return self._read_local(key)
        return self._get(self._client(), key)

    def read_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """Yield ``(key, bytes)`` in key order; S3 objects are fetched by a bounded pool of threads."""
        keys = list(keys)
        if not self.is_s3:
            for key in keys:
                yield key, self._read_local(key)
            return
        client = self._client()
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="s3-get") as pool:
            # map() keeps at most len(keys) futures; results come back in order.
            yield from pool.map(lambda key: (key, self._get(client, key)), keys)

    def song_keys(self) -> list[str]:
        """Every song file under ``song_data/``, sorted."""
        if not self.is_s3:
            root = Path(self.uri)
            if not root.is_dir():
                raise SourceError(f"SPARKIFY_SOURCE={self.uri!r} is not a directory")
            song_root = root / SONG_PREFIX
            return sorted(path.relative_to(root).as_posix() for path in song_root.rglob("*.json") if path.is_file())
        return sorted(key for key in self.list_keys(SONG_PREFIX) if is_song_key(key))

    def list_keys(self, under: str) -> list[str]:
        """Keys (relative to the source root) under a folder."""
        if not self.is_s3:
            root = Path(self.uri)
            return sorted(p.relative_to(root).as_posix() for p in (root / under).rglob("*") if p.is_file())
        paginator = self._client().get_paginator("list_objects_v2")
        keys: list[str] = []
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + under):
                keys.extend(item["Key"][len(self.prefix) :] for item in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise SourceError(f"cannot list {self.location(under)}: {exc}") from exc
        return keys

    # -- internals ---------------------------------------------------------------------------------------
    def _client(self) -> Any:
        return self.s3.get_client()

    def _get(self, client: Any, key: str) -> bytes:
        try:
            return client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                raise SourceObjectMissing(self.location(key)) from None
            raise SourceError(f"cannot read {self.location(key)}: {exc}") from exc
        except BotoCoreError as exc:
            raise SourceError(f"cannot read {self.location(key)}: {exc}") from exc

    def _read_local(self, key: str) -> bytes:
        path = Path(self.uri) / key
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise SourceObjectMissing(str(path)) from None
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror}") from exc


def default_source_dir() -> Path:
    """Where `make run` writes the generated sample when SPARKIFY_SOURCE is unset."""
    return Path(os.environ.get("SPARKIFY_DATA_DIR", Path.cwd() / "data")) / "sample"
