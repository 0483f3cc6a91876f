"""A small HTTP proxy in front of moto's S3 server that answers chosen requests with faults (tests only).

It listens on 127.0.0.1 only, relays every other request to moto unchanged (path-style S3 requests, as
boto3 sends them to an endpoint URL), and records what it saw. A `Fault` matches requests by method and a
substring of the path (with the query string); the first ``times`` matching requests get the fault
(``None``: all of them):

- ``status`` 4xx/5xx with an S3 error body (``InternalError``, ``SlowDown``, ``InvalidAccessKeyId``...), or
- ``cut_body``: the real answer's headers, then half of its body, then the connection is closed.

Bounded: at most ``max_requests`` requests are relayed, each with a timeout, after which it answers 503.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
_MESSAGES = {
    "InternalError": "We encountered an internal error. Please try again.",
    "SlowDown": "Please reduce your request rate.",
    "ServiceUnavailable": "Service is unable to handle request.",
    "NoSuchKey": "The specified key does not exist.",
    "InvalidAccessKeyId": "The AWS Access Key Id you provided does not exist in our records.",
}


@dataclass
class Fault:
    path_contains: str
    status: int = 503
    code: str = "SlowDown"
    method: str = "GET"
    times: int | None = 1
    cut_body: bool = False
    extra_xml: str = ""  # more elements of the error body (S3 echoes <AWSAccessKeyId> in some)
    retry_after_ms: int | None = None  # S3's x-amz-retry-after header: the least backoff botocore then takes
    hits: int = 0

    def applies(self, method: str, path: str) -> bool:
        if method != self.method or self.path_contains not in path:
            return False
        return self.times is None or self.hits < self.times


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    status: int
    at: float


@dataclass
class FaultyS3Proxy:
    upstream: str
    max_requests: int = 2000
    timeout: float = 10.0
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _relay(self) -> None:
                proxy.handle(self)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _relay  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="faulty-s3-proxy", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultyS3Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def requests_for(self, path_contains: str, method: str = "GET") -> list[Seen]:
        return [s for s in self.seen if s.method == method and path_contains in s.path]

    # -- one request --------------------------------------------------------------------------------------
    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            fault = next((f for f in self.faults if f.applies(handler.command, handler.path)), None)
            if fault is not None:
                fault.hits += 1
            over_budget = len(self.seen) >= self.max_requests
        if over_budget:
            self._error(handler, 503, "SlowDown")
        elif fault is not None and not fault.cut_body:
            self._error(handler, fault.status, fault.code, fault.extra_xml, fault.retry_after_ms)
        else:
            self._forward(handler, body, cut=fault is not None)

    def _record(self, handler: BaseHTTPRequestHandler, status: int) -> None:
        with self._lock:
            self.seen.append(Seen(handler.command, handler.path, status, time.monotonic()))

    def _error(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        code: str,
        extra_xml: str = "",
        retry_after_ms: int | None = None,
    ) -> None:
        self._record(handler, status)
        key = urlsplit(handler.path).path
        payload = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{_MESSAGES.get(code, code)}</Message>"
            f"<Key>{key}</Key>{extra_xml}<RequestId>FAULTYPROXY</RequestId></Error>"
        ).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/xml")
        handler.send_header("Content-Length", str(len(payload)))
        if retry_after_ms is not None:
            handler.send_header("x-amz-retry-after", str(retry_after_ms))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(payload)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes, cut: bool) -> None:
        upstream = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=self.timeout)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(handler.command, handler.path, body=body or None, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            self._record(handler, answer.status)
            handler.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if handler.command == "HEAD":
                return
            if cut:
                handler.wfile.write(payload[: len(payload) // 2])
                handler.wfile.flush()
                handler.close_connection = True
                handler.connection.shutdown(2)
                return
            handler.wfile.write(payload)
        finally:
            connection.close()
