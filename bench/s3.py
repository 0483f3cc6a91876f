"""The S3 path: many small objects fetched by `SparkifySource.read_many` (a bounded pool of threads over
boto3) against one `get_object` after another, both from moto's S3 server on localhost.

    python bench/s3.py --source DIR [--objects 1000] [--latency-ms 0 --latency-ms 30]

The server is moto's `ThreadedMotoServer`, run in a process of its own (as S3 is not in the client's
process). On localhost a GET waits for nothing but CPU, and on a 2-core machine the server's own CPU
time per request caps what any client can gain; S3 answers a small GET after tens of milliseconds of
network and service latency, which is what the pool exists to overlap. So each run can add a fixed
latency to every response of the server (``--latency-ms``, 0 = moto as it is) and the figures are
reported for each latency.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BUCKET = "sparkify-bench"
PREFIX = "raw"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-west-2"


# -- the server process ---------------------------------------------------------------------------------
def serve(port: int, latency_ms: float) -> None:
    """moto's threaded S3 server, each response held back by ``latency_ms`` (a sleep: no CPU)."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from moto.server import MotoRequestHandler
    from werkzeug.serving import make_server

    class DelayedMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)

            def delayed(environ: dict[str, Any], start_response: Any) -> Any:
                time.sleep(latency_ms / 1000)
                return app(environ, start_response)

            self._server = make_server(self._ip_address, self._port, delayed, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    DelayedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    while True:
        time.sleep(3600)


@contextlib.contextmanager
def moto_server(latency_ms: float) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, __file__, "serve", "--port", str(port), "--latency-ms", str(latency_ms)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto's server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


# -- the client -------------------------------------------------------------------------------------------
def song_files(source: Path, count: int) -> list[tuple[str, bytes]]:
    paths = sorted(source.glob("song_data/*/*/*/*.json"))[:count]
    return [(path.relative_to(source).as_posix(), path.read_bytes()) for path in paths]


def run(source: Path, objects: int, latency_ms: float, concurrency: int) -> dict[str, Any]:
    """Upload ``objects`` song files, then time both ways of reading them back."""
    import boto3
    from dagster_aws.s3 import S3Resource

    from sparkify_assets.sources.resource import SparkifySource

    files = song_files(source, objects)
    expected = _digest(files)
    with moto_server(latency_ms) as endpoint:
        client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})

        def upload(item: tuple[str, bytes]) -> None:
            client.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{item[0]}", Body=item[1])

        with ThreadPoolExecutor(max_workers=16) as pool:  # setup, not measured
            list(pool.map(upload, files))
        keys = [key for key, _ in files]

        started = time.perf_counter()
        fetched = [(key, client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{key}")["Body"].read()) for key in keys]
        sequential = time.perf_counter() - started
        if _digest(fetched) != expected:
            raise RuntimeError("sequential get_object returned other bytes than were uploaded")

        s3 = S3Resource(endpoint_url=endpoint, region_name=REGION, **CREDENTIALS)
        source_resource = SparkifySource(uri=f"s3://{BUCKET}/{PREFIX}", s3=s3, max_concurrency=concurrency)
        started = time.perf_counter()
        fetched = list(source_resource.read_many(keys))
        pooled = time.perf_counter() - started
        if _digest(fetched) != expected:
            raise RuntimeError("read_many returned other bytes, or another order, than were uploaded")
    return {
        "objects": len(keys),
        "latency_ms": latency_ms,
        "concurrency": concurrency,
        "sequential_s": round(sequential, 3),
        "pooled_s": round(pooled, 3),
        "speedup": round(sequential / pooled, 2),
        "sequential_objects_per_s": round(len(keys) / sequential, 1),
        "pooled_objects_per_s": round(len(keys) / pooled, 1),
    }


def _digest(items: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for key, data in items:
        digest.update(key.encode())
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    server = sub.add_parser("serve", help="(internal) run moto's server with a fixed latency")
    server.add_argument("--port", type=int, required=True)
    server.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--source", type=Path, help="a generated sample (its song files are uploaded)")
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, action="append", help="added per response (repeatable)")
    parser.add_argument("--concurrency", type=int, default=8, help="SparkifySource.max_concurrency")
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.port, args.latency_ms)
        return
    if args.source is None:
        parser.error("--source is required")
    for latency in args.latency_ms or [0.0, 30.0]:
        print(json.dumps(run(args.source, args.objects, latency, args.concurrency)))


if __name__ == "__main__":
    main()
