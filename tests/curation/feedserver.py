"""A local HTTP server for feed tests and the curation benchmark: 127.0.0.1, a free port, threads.

Each path answers as its `Route` says: a body with a content type, a status, conditional GET
(an ETag and/or Last-Modified: a request that sends them back gets 304), a redirect (`location`,
with the status given: 301, 302, 307, 308), a delay before the answer (timeouts), a slow drip of
the body, a generated body of any size (huge feeds, sent in chunks, never held in memory), or a
gzip-encoded body. Every request is logged (path and headers) for tests to check what was sent.

    >>> import urllib.request
    >>> with FeedServer({"/a": Route(b"hello", etag='"v1"')}) as server:
    ...     urllib.request.urlopen(server.url("/a")).read()
    b'hello'

Run as `python -m tests.curation.feedserver DIR` to serve the files of DIR (with ETags) until
interrupted; the benchmark does that in a process of its own.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.server
import mimetypes
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None  # a redirect's target (a path on this server or a URL)
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between two chunks of the body
    chunk: int = 65_536
    size: int | None = None  # send this many bytes of generated filler after `body`
    gzip: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    # Computes the route per request (for tests that change a feed between fetches).
    dynamic: Callable[[], Route] | None = None


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        owner = self.server.owner
        path = self.path
        owner.log(Request(path, {k.lower(): v for k, v in self.headers.items()}))
        route = owner.routes.get(path) or owner.routes.get(path.split("?", 1)[0])
        if route is not None and route.dynamic is not None:
            route = route.dynamic()
        try:
            self._answer(route)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True  # the client gave up (a timeout test): fine

    def _answer(self, route: Route | None) -> None:
        if route is None:
            self._simple(404, b"not found", "text/plain")
            return
        if route.delay:
            time.sleep(route.delay)
        if route.location is not None:
            self.send_response(route.status if route.status != 200 else 302)
            target = route.location
            if target.startswith("/"):
                target = self.server.owner.url(target)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                route.last_modified and not route.etag
                and self.headers.get("If-Modified-Since") == route.last_modified):
            self.send_response(304)
            self._validators(route)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = gzip.compress(route.body) if route.gzip else route.body
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self._validators(route)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.gzip:
            self.send_header("Content-Encoding", "gzip")
        if route.size is None and not route.drip:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("Connection", "close")  # the end of the body is the end of the stream
        self.close_connection = True
        self.end_headers()
        for start in range(0, len(body), route.chunk):
            self.wfile.write(body[start:start + route.chunk])
            self.wfile.flush()
            if route.drip:
                time.sleep(route.drip)
        sent, filler = 0, b"<!-- filler -->" * (route.chunk // 15)
        while route.size is not None and sent < route.size:
            self.wfile.write(filler)
            sent += len(filler)
            if route.drip:
                time.sleep(route.drip)

    def _validators(self, route: Route) -> None:
        if route.etag:
            self.send_header("ETag", route.etag)
        if route.last_modified:
            self.send_header("Last-Modified", route.last_modified)

    def _simple(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many feeds connect at once
    owner: FeedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that closes its kept-alive connection is how fetching ends, not an error
        (socketserver would print a traceback to stderr: into a CLI test's captured output)."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class FeedServer:
    """Routes by path; `url(path)` is where to fetch them. Use as a context manager."""

    def __init__(self, routes: Mapping[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @classmethod
    def of_directory(cls, directory: Path) -> FeedServer:
        """Every file under `directory` at its relative path, with an ETag of its content."""
        routes = {}
        for path in sorted(Path(directory).rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                if path.suffix in (".xml", ".rss", ".atom"):
                    kind = "application/xml; charset=utf-8"
                routes["/" + path.relative_to(directory).as_posix()] = Route(
                    data, content_type=kind,
                    etag='"' + hashlib.sha1(data).hexdigest()[:16] + '"')
        return cls(routes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    server = FeedServer.of_directory(args.directory).start()
    print(server.port, flush=True)  # the parent reads where to fetch
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
