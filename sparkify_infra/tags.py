"""The tags that mark a resource as made by `sparkify infra up`, so `down` never touches anything else."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PROJECT_KEY = "Project"
PROJECT_VALUE = "sparkify"
NAME_KEY = "SparkifyName"
KIND_KEY = "SparkifyKind"  # on the IAM role: "cluster" or "serverless", so status/down know what to look for
MANAGED_BY_KEY = "ManagedBy"
MANAGED_BY_VALUE = "sparkify infra"


def ownership_tags(name: str, kind: str | None = None) -> dict[str, str]:
    tags = {PROJECT_KEY: PROJECT_VALUE, NAME_KEY: name, MANAGED_BY_KEY: MANAGED_BY_VALUE}
    if kind is not None:
        tags[KIND_KEY] = kind
    return tags


def to_aws(tags: Mapping[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    """``{"a": "b"}`` as AWS's ``[{"Key": "a", "Value": "b"}]`` (Redshift Serverless says key/value)."""
    return [{key: k, value: v} for k, v in tags.items()]


def from_aws(tags: Iterable[Mapping[str, Any]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {str(tag[key]): str(tag.get(value, "")) for tag in tags or ()}


def is_owned(tags: Mapping[str, str], name: str) -> bool:
    return tags.get(PROJECT_KEY) == PROJECT_VALUE and tags.get(NAME_KEY) == name


def not_owned_message(resource: str, name: str) -> str:
    return (
        f"{resource} exists but is not tagged {PROJECT_KEY}={PROJECT_VALUE}, {NAME_KEY}={name}, so it was "
        f"not made by `sparkify infra up --name {name}`; refusing to touch it "
        "(choose another --name or remove it yourself)"
    )
