"""The bundled demo API: a real HTTP server (stdlib ThreadingHTTPServer) on 127.0.0.1 that serves
seeded `orders` in every pagination style behind every auth scheme, with scriptable faults, so the
demo, the tests and the benchmark run offline.

Routes: `GET /{auth}/{style}/{resource}` with auth in open|key|basic|bearer|oauth and style in
single|page|offset|cursor|link|next; `POST /oauth/token` (client credentials); `GET /health`.
Filters: `updated_since` (inclusive) and `updated_before` (exclusive) on `updated_at`.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

API_KEY = "demo-api-key-0123"
BASIC_USER, BASIC_PASSWORD = "demo", "demo-password-0123"
BEARER_TOKEN = "demo-bearer-token-0123"  # noqa: S105 - the demo server's own, public
CLIENT_ID, CLIENT_SECRET = "demo-client", "demo-client-secret-0123"
# Every credential the demo server accepts, by the secret name the bundled source file uses.
CREDENTIALS = {
    "demo_api_key": API_KEY,
    "demo_password": BASIC_PASSWORD,
    "demo_token": BEARER_TOKEN,
    "demo_client_secret": CLIENT_SECRET,
}
BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
STEP_S = 60
STATUSES = ("new", "paid", "shipped", "cancelled")
FAULT_KINDS = ("429", "500", "503", "slow", "truncate", "malformed", "html", "drop")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_order(i: int, position: int, version: int, invalid_every: int) -> dict[str, Any]:
    """Order `i` as it is at `position` in the change log (its updated_at)."""
    amount: Any = ((i * 7919 + version * 31) % 100_000) / 100
    if invalid_every and i % invalid_every == 0:
        amount = "n/a"  # breaks the bundled schema: the demo's quarantine shows it
    return {
        "id": i,
        "updated_at": iso(BASE_TIME + timedelta(seconds=position * STEP_S)),
        "customer": f"customer-{i % 97:02d}",
        "email": f"buyer{i}@example.com",
        "amount": amount,
        "status": STATUSES[(i + version) % len(STATUSES)],
        "version": version,
    }


class Orders:
    """The dataset: order i at position i-1 until mutated, then a materialized change log."""

    def __init__(self, count: int, invalid_every: int = 0) -> None:
        self.count = count
        self.invalid_every = invalid_every
        self._rows: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def grow(self, new: int, changed: int) -> None:
        """Add `new` orders and change `changed` existing ones (they move to the end)."""
        with self._lock:
            rows = (
                self._rows if self._rows is not None else [self._lazy(p) for p in range(self.count)]
            )
            latest = {r["id"]: r for r in rows}
            targets = sorted(latest)[: max(0, changed)]
            rows = [r for r in rows if r["id"] not in set(targets)]
            moved = [latest[i] for i in targets]
            next_id = max(latest, default=0) + 1
            for k, old in enumerate(
                moved + [{"id": next_id + n, "version": -1} for n in range(new)]
            ):
                i, version = old["id"], old["version"] + 1
                rows.append(make_order(i, self.count + k, version, self.invalid_every))
            self.count += len(moved) + new
            self._rows = rows

    def _lazy(self, position: int) -> dict[str, Any]:
        return make_order(position + 1, position, 0, self.invalid_every)

    def view(self, since: str | None, before: str | None) -> Sequence[dict[str, Any]]:
        """The orders with since <= updated_at < before, in updated_at order."""
        with self._lock:
            rows = self._rows
        if rows is not None:
            keys = [r["updated_at"] for r in rows]
            lo = bisect.bisect_left(keys, since) if since else 0
            hi = bisect.bisect_left(keys, before) if before else len(rows)
            return rows[lo:hi]
        lo = _position(since, ceil=True) if since else 0
        hi = _position(before, ceil=True) if before else self.count
        return _LazyView(self, max(0, lo), min(self.count, hi))


def _position(stamp: str, ceil: bool) -> int:
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = (moment - BASE_TIME).total_seconds()
    return int(-(-seconds // STEP_S)) if ceil else int(seconds // STEP_S)


class _LazyView(Sequence[dict[str, Any]]):
    def __init__(self, orders: Orders, lo: int, hi: int) -> None:
        self.orders, self.lo, self.hi = orders, lo, max(lo, hi)

    def __len__(self) -> int:
        return self.hi - self.lo

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, _ = index.indices(len(self))
            return [self.orders._lazy(self.lo + p) for p in range(start, stop)]
        return self.orders._lazy(self.lo + index)


@dataclass
class Fault:
    """Answer the `page`-th page of a style (any when None) with `kind`, `times` times."""

    kind: str
    style: str | None = None
    page: int | None = None
    times: int = 1


@dataclass
class DemoConfig:
    records: int = 1_000
    invalid_every: int = 0
    overlap: int = 0  # records of the previous page repeated at the start of each page (page style)
    latency_s: float = 0.0
    fault_rate: float = 0.0  # share of pages answered 429 or 500 once before the real answer
    retry_after_s: float = 1.0
    slow_s: float = 2.0
    token_ttl_s: float = 3600.0  # how long an issued OAuth token really works
    advertised_ttl_s: float | None = None  # what `expires_in` says (the real TTL by default)
    faults: list[Fault] = field(default_factory=list)
    max_page_size: int = 1000


@dataclass
class ServerLog:
    """What the server saw, for tests and the benchmark."""

    statuses: Counter[int] = field(default_factory=Counter)
    paths: Counter[str] = field(default_factory=Counter)
    tokens_issued: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    times: list[float] = field(default_factory=list)
    headers_seen: list[dict[str, str]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None  # quiet: the ServerLog counts what happened

    def do_POST(self) -> None:
        self.server.api.handle(self, "POST")

    def do_GET(self) -> None:
        self.server.api.handle(self, "GET")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    api: DemoApi


class DemoApi:
    """Start with `start()` (or `with DemoApi(...) as api`), read `api.url`."""

    def __init__(self, config: DemoConfig | None = None, port: int = 0) -> None:
        self.config = config or DemoConfig()
        self.orders = Orders(self.config.records, self.config.invalid_every)
        self.log = ServerLog()
        self._port = port
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}
        self._fired: Counter[tuple[str, int, int]] = Counter()
        self._random_fired: set[tuple[str, int]] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> DemoApi:
        self._server = _Server(("127.0.0.1", self._port), _Handler)
        self._server.api = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> DemoApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- requests ------------------------------------------------------------------------------

    def handle(self, h: _Handler, method: str) -> None:
        with self._lock:
            self.log.in_flight += 1
            self.log.max_in_flight = max(self.log.max_in_flight, self.log.in_flight)
            self.log.times.append(time.monotonic())
            self.log.headers_seen.append(dict(h.headers.items()))
        try:
            parts = urlsplit(h.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            with self._lock:
                self.log.paths[parts.path] += 1
            if method == "POST" and parts.path == "/oauth/token":
                self._token(h)
            elif method == "GET" and parts.path == "/health":
                self._send(h, 200, {"ok": True})
            elif method == "GET":
                self._list(h, parts.path, query)
            else:
                self._send(h, 405, {"error": "method not allowed"})
        finally:
            with self._lock:
                self.log.in_flight -= 1

    def _send(
        self, h: _Handler, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self._raw(h, status, data, {"Content-Type": "application/json", **(headers or {})})

    def _raw(
        self,
        h: _Handler,
        status: int,
        data: bytes,
        headers: dict[str, str],
        length: int | None = None,
    ) -> None:
        with self._lock:
            self.log.statuses[status] += 1
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(data) if length is None else length))
        h.end_headers()
        h.wfile.write(data)
        if length is not None:
            h.close_connection = True

    def _token(self, h: _Handler) -> None:
        size = int(h.headers.get("Content-Length") or 0)
        form = parse_qs(h.rfile.read(size).decode())
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if h.headers.get("Authorization") != expected:
            self._send(h, 401, {"error": "invalid_client"})
            return
        if form.get("grant_type") != ["client_credentials"]:
            self._send(h, 400, {"error": "unsupported_grant_type"})
            return
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.config.token_ttl_s
            self.log.tokens_issued += 1
        advertised = self.config.advertised_ttl_s or self.config.token_ttl_s
        self._send(
            h, 200, {"access_token": token, "token_type": "bearer", "expires_in": advertised}
        )

    def _authorized(self, h: _Handler, scheme: str, query: dict[str, str]) -> bool:
        given = h.headers.get("Authorization", "")
        if scheme == "open":
            return True
        if scheme == "key":
            return API_KEY in (h.headers.get("X-API-Key"), query.get("api_key"))
        if scheme == "basic":
            pair = base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
            return given == f"Basic {pair}"
        if scheme == "bearer":
            return given == f"Bearer {BEARER_TOKEN}"
        if scheme == "oauth":
            with self._lock:
                expires = self._tokens.get(given.removeprefix("Bearer "), 0.0)
            return time.monotonic() < expires
        return False

    def _list(self, h: _Handler, path: str, query: dict[str, str]) -> None:
        parts = path.strip("/").split("/")
        if len(parts) != 3:
            self._send(h, 404, {"error": f"no route {path}"})
            return
        scheme, style, _resource = parts
        if not self._authorized(h, scheme, query):
            self._send(h, 401, {"error": "unauthorized"}, {"WWW-Authenticate": "Bearer"})
            return
        rows = self.orders.view(query.get("updated_since"), query.get("updated_before"))
        size = min(
            self.config.max_page_size,
            max(1, int(query.get("per_page") or query.get("limit") or 100)),
        )
        page = self._page_number(style, query, size)
        if self.config.latency_s:
            time.sleep(self.config.latency_s)
        if self._fault(h, style, page, path):
            return
        self._answer(h, style, (path, query, rows, size, page))

    @staticmethod
    def _page_number(style: str, query: dict[str, str], size: int) -> int:
        if style == "offset":
            return int(query.get("offset") or 0) // size + 1
        if style == "cursor":
            return _decode_cursor(query.get("cursor")) // size + 1
        return int(query.get("page") or 1)

    def _fault(self, h: _Handler, style: str, page: int, path: str) -> bool:
        kind = None
        with self._lock:
            for n, fault in enumerate(self.config.faults):
                if fault.style not in (None, style) or fault.page not in (None, page):
                    continue
                if self._fired[(path, page, n)] < fault.times:
                    self._fired[(path, page, n)] += 1
                    kind = fault.kind
                    break
            if kind is None and self.config.fault_rate and (path, page) not in self._random_fired:
                roll = (
                    int(hashlib.sha256(f"{path}:{page}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
                )
                if roll < self.config.fault_rate:
                    self._random_fired.add((path, page))
                    kind = "429" if roll < self.config.fault_rate / 2 else "500"
        if kind is None:
            return False
        if kind == "slow":
            time.sleep(self.config.slow_s)
            return False
        if kind == "429":
            self._send(
                h, 429, {"error": "slow down"}, {"Retry-After": f"{self.config.retry_after_s:g}"}
            )
        elif kind in ("500", "503"):
            self._send(h, int(kind), {"error": "server error"})
        elif kind == "truncate":
            self._raw(
                h,
                200,
                b'{"data": [{"id": 1, "upd',
                {"Content-Type": "application/json"},
                length=4096,
            )
        elif kind == "malformed":
            self._raw(h, 200, b'{"data": [{"id": 1,,}]', {"Content-Type": "application/json"})
        elif kind == "html":
            self._raw(
                h, 200, b"<html><body>maintenance</body></html>", {"Content-Type": "text/html"}
            )
        elif kind == "drop":
            h.close_connection = True
            h.connection.close()
        return True

    def _answer(
        self,
        h: _Handler,
        style: str,
        request: tuple[str, dict[str, str], Sequence[dict[str, Any]], int, int],
    ) -> None:
        path, query, rows, size, page = request
        total = len(rows)
        pages = max(1, -(-total // size))
        if style == "single":
            self._send(h, 200, {"data": list(rows[:])})
        elif style == "page":
            lo = (page - 1) * size
            lo_overlap = max(0, lo - self.config.overlap) if page > 1 else lo
            body = {
                "data": rows[lo_overlap : lo + size],
                "meta": {"page": page, "per_page": size, "total_pages": pages, "total": total},
            }
            self._send(h, 200, body)
        elif style == "offset":
            lo = int(query.get("offset") or 0)
            self._send(h, 200, {"results": rows[lo : lo + size], "total": total})
        elif style == "cursor":
            lo = _decode_cursor(query.get("cursor"))
            more = lo + size < total
            self._send(
                h,
                200,
                {
                    "items": rows[lo : lo + size],
                    "next_cursor": _encode_cursor(lo + size) if more else None,
                },
            )
        elif style in ("link", "next"):
            lo = (page - 1) * size
            following = {**query, "page": str(page + 1), "per_page": str(size)}
            following.pop("api_key", None)
            next_url = f"{path}?{urlencode(following)}" if page < pages else None
            if style == "next":
                self._send(h, 200, {"records": rows[lo : lo + size], "next": next_url})
            else:
                links = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
                self._send(h, 200, rows[lo : lo + size], links)
        elif style == "xml":
            lo = (page - 1) * size
            self._raw(h, 200, _orders_xml(rows[lo : lo + size], page, pages), XML_HEADERS)
        else:
            self._send(h, 404, {"error": f"no pagination style {style!r}"})


XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}


def _orders_xml(rows: Sequence[dict[str, Any]], page: int, pages: int) -> bytes:
    """A legacy-style XML page: `<orders page= total_pages=><order id=>...</order></orders>`."""
    root = ET.Element("orders", {"page": str(page), "total_pages": str(pages)})
    for row in rows:
        order = ET.SubElement(root, "order", {"id": str(row["id"])})
        for name, value in row.items():
            if name != "id":
                ET.SubElement(order, name).text = str(value)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"pos:{position}".encode()).decode()


def _decode_cursor(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("pos:"))
    except (ValueError, UnicodeDecodeError):
        return 0
