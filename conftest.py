"""The fixture every test root shares (sparkify_assets_tests, sparkify_infra_tests): one moto server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Iterator[str]:
    """moto's server (S3, and IAM/EC2/Redshift for the infra tests), over HTTP on a free localhost port."""
    import logging
    import socket

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
