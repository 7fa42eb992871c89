"""The bundled demo API: a real HTTP server (stdlib ThreadingHTTPServer) on 127.0.0.1 serving
seeded orders by day and page, with hostile payloads spread through (records breaking the contract,
a page that is not JSON, a record repeated across pages), so the demo and the tests run offline."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

STATUSES = ("new", "paid", "shipped", "cancelled")


@dataclass(frozen=True)
class DemoConfig:
    """Orders per day, page size, and the hostile parts."""

    records: int = 1_000
    page_size: int = 100
    invalid_every: int = 97  # every n-th order breaks the contract (0: none)
    broken_page: int = 0  # this page answers with a body that is not JSON (0: none)
    overlap: int = 1  # the last n orders of a page come again at the top of the next


def order(day: date, i: int, invalid_every: int) -> dict[str, Any]:
    """Order i of the day; every invalid_every-th one is hostile in a rotating way."""
    record: dict[str, Any] = {
        "id": int(day.strftime("%Y%m%d")) * 100_000 + i,
        "updated_at": f"{day.isoformat()}T{i // 60 % 24:02d}:{i % 60:02d}:00Z",
        "customer": f"customer-{(i * i) % 13:02d}",  # skewed: a few customers dominate
        "amount": round((i * 7919 % 100_000) / 100, 2),
        "status": STATUSES[i % len(STATUSES)],
    }
    if invalid_every and i % invalid_every == invalid_every - 1:
        kind = i // invalid_every % 3
        if kind == 0:
            record["amount"] = "n/a"
        elif kind == 1:
            record["customer"] = None
        else:
            record["updated_at"] = "yesterday"
    return record


class DemoApi:
    """`with DemoApi(config) as api:` serves on api.url until the block ends."""

    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self.requests = 0
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/orders"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def page(self, day: date, number: int) -> bytes:
        cfg = self.config
        if number == cfg.broken_page:
            return b"<html>502 Bad Gateway (upstream returned garbage)</html>"
        start = (number - 1) * cfg.page_size
        first = max(0, start - cfg.overlap) if number > 1 else 0
        end = min(cfg.records, start + cfg.page_size)
        items = (
            [order(day, i, cfg.invalid_every) for i in range(first, end)]
            if start < cfg.records
            else []
        )
        return json.dumps({"page": number, "items": items}).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.requests += 1
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if parts.path != "/orders" or "date" not in query:
                    self.send_error(404)
                    return
                try:
                    day = date.fromisoformat(query["date"][0])
                    number = int(query.get("page", ["1"])[0])
                except ValueError:
                    self.send_error(400)
                    return
                body = api.page(day, number)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def __enter__(self) -> DemoApi:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
