"""A real HTTP proxy in front of the moto server that injects the failures moto never produces.

moto does not throttle: a PutRecords call there always succeeds whole. This proxy is the honest
stand-in for a throttled shard. It takes chosen records OUT of a PutRecords request before
forwarding it (so they are really not written, as on AWS), and answers for them with
ProvisionedThroughputExceededException entries in the positions they had, FailedRecordCount
adjusted. For S3 it can answer PUTs to chosen keys with 503 SlowDown. Everything else is
forwarded unchanged. Every PutRecords request's record payloads are logged for the assertions.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

THROTTLED = {
    "ErrorCode": "ProvisionedThroughputExceededException",
    "ErrorMessage": "Rate exceeded for shard shardId-000000000000 in stream (injected by the proxy).",
}
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class FaultProxy:
    """`with FaultProxy(upstream) as proxy:`; set `throttle` and `fail_put` while it runs."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        # throttle(data, times_seen) -> True to fail this record on this attempt.
        self.throttle: Callable[[bytes, int], bool] = lambda data, seen: False
        # fail_put(key path) -> True to answer 503 SlowDown.
        self.fail_put: Callable[[str], bool] = lambda path: False
        self.seen: Counter[bytes] = Counter()
        self.put_records_calls: list[list[bytes]] = []
        self.failed_puts: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            conn.request(
                method, path, body=body, headers={**headers, "Content-Length": str(len(body))}
            )
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def put_records(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        request = json.loads(body)
        datas = [base64.b64decode(r["Data"]) for r in request["Records"]]
        with self.lock:
            self.put_records_calls.append(datas)
            verdicts = []
            for data in datas:
                self.seen[data] += 1
                verdicts.append(self.throttle(data, self.seen[data]))
        kept = [r for r, fail in zip(request["Records"], verdicts, strict=True) if not fail]
        results: list[dict[str, Any]] = []
        status, out_headers = 200, [("Content-Type", "application/x-amz-json-1.1")]
        if kept:
            status, out_headers, raw = self.forward(
                "POST", path, headers, json.dumps({**request, "Records": kept}).encode()
            )
            if status != 200:
                return status, out_headers, raw
            results = json.loads(raw)["Records"]
        merged, it = [], iter(results)
        for fail in verdicts:
            merged.append(dict(THROTTLED) if fail else next(it))
        failed = sum(1 for r in merged if "ErrorCode" in r)
        payload = json.dumps({"FailedRecordCount": failed, "Records": merged}).encode()
        return status, [(k, v) for k, v in out_headers if k.lower() not in HOP], payload

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                headers["Host"] = self.headers.get("Host", "")
                target = self.headers.get("X-Amz-Target", "")
                if target.endswith(".PutRecords"):
                    status, out, payload = proxy.put_records(self.path, headers, body)
                elif self.command == "PUT" and proxy.fail_put(unquote(urlsplit(self.path).path)):
                    with proxy.lock:
                        proxy.failed_puts.append(self.path)
                    status, out = 503, [("Content-Type", "application/xml")]
                    payload = b"<Error><Code>SlowDown</Code><Message>injected</Message></Error>"
                else:
                    status, out, payload = proxy.forward(self.command, self.path, headers, body)
                self.send_response(status)
                length = str(len(payload))
                for key, value in out:
                    if key.lower() == "content-length" and self.command == "HEAD":
                        length = value  # a HEAD answer tells the object's size, without a body
                    elif key.lower() not in HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", length)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
