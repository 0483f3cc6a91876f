"""The boto3 clients one command needs, made lazily from one Session.

A Session (rather than bare ``boto3.client``) picks up the usual credential chain, AWS_PROFILE and
AWS_ENDPOINT_URL, so the same code runs against AWS or a moto server.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="sparkify-infra")


@functools.cache
def _shared_loader(data_path: str | None) -> botocore.loaders.Loader:
    return botocore.loaders.create_loader(data_path)


def new_session(region: str) -> boto3.Session:
    """A fresh Session (fresh credentials and endpoint settings) that reuses the parsed service models.

    Parsing the EC2 model alone takes about half a second; a process that runs several commands (the
    tests, a notebook) would pay it on every command without the shared loader.
    """
    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader(core.get_config_variable("data_path")))
    return boto3.Session(botocore_session=core, region_name=region)


class AwsClients:
    """``clients.iam``, ``clients.ec2``... made on first use; ``preset`` supplies some (tests)."""

    def __init__(self, region: str, session: boto3.Session | None = None, preset: dict[str, Any] | None = None):
        self.region = region
        self.session = session or new_session(region)
        self._clients: dict[str, Any] = dict(preset or {})

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region, config=_CONFIG)
        return self._clients[service]

    @property
    def iam(self) -> Any:
        return self.client("iam")

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def ec2(self) -> Any:
        return self.client("ec2")

    @property
    def redshift(self) -> Any:
        return self.client("redshift")

    @property
    def serverless(self) -> Any:
        return self.client("redshift-serverless")
