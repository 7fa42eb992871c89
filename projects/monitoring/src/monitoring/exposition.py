"""/metrics from a body rendered once per round: a scrape copies bytes, it never formats 10k series."""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


class Exposition:
    """The latest rendering of a registry, plain and gzipped."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._plain = b""
        self._gzipped = gzip.compress(b"")

    def refresh(self) -> None:
        """Render now (after a round): the formatting cost is paid here, off the scrape path."""
        plain = generate_latest(self.registry)
        gzipped = gzip.compress(plain, compresslevel=1)
        with self._lock:
            self._plain, self._gzipped = plain, gzipped

    def body(self, gzipped: bool) -> bytes:
        with self._lock:
            return self._gzipped if gzipped else self._plain


def serve(exposition: Exposition, addr: str, port: int) -> ThreadingHTTPServer:
    """GET /metrics (gzip when asked for) on addr:port in a daemon thread; returns the server."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in ("/metrics", "/"):
                self.send_error(404)
                return
            gzipped = "gzip" in self.headers.get("Accept-Encoding", "")
            body = exposition.body(gzipped)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # one line per scrape would drown the log

    server = ThreadingHTTPServer((addr, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server
