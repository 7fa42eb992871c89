"""Every pagination style behind every auth scheme, against the bundled API (a real HTTP server on
127.0.0.1); exact query parameters against pytest-httpserver; basic auth and status codes against
httpbin served locally."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpbin
import pytest
from api_fetcher.demo_api import DemoApi
from pytest_httpserver import HTTPServer
from werkzeug.serving import make_server

pytestmark = pytest.mark.integration

AUTH = {
    "open": "{type: none}",
    "key": "{type: api_key, name: X-API-Key, key_secret: demo_api_key}",
    "key_query": "{type: api_key, name: api_key, location: query, key_secret: demo_api_key}",
    "basic": "{type: basic, username: demo, password_secret: demo_password}",
    "bearer": "{type: bearer, token_secret: demo_token}",
    "oauth": "{type: oauth2_client_credentials, token_url: BASE/oauth/token, client_id: demo-client, client_secret_secret: demo_client_secret}",
}
STYLES = {
    "page": ("data", "{type: page_number, size: 40, total_pages_path: meta.total_pages}"),
    "page_short": ("data", "{type: page_number, size: 40}"),
    "offset": ("results", "{type: offset, limit: 40, total_path: total}"),
    "cursor": ("items", "{type: cursor, size_param: limit, size: 40}"),
    "link": (None, "{type: link_header}"),
    "next": ("records", "{type: next_url, next_path: next}"),
    "single": ("data", "{type: none}"),
}
CASES = [
    ("open", "page"),
    ("key", "page_short"),
    ("key_query", "offset"),
    ("basic", "cursor"),
    ("bearer", "link"),
    ("oauth", "next"),
    ("open", "single"),
]


def source_yaml(base: str, auth: str, style: str) -> str:
    records_path, pagination = STYLES[style]
    route = style.removesuffix("_short")
    scheme = auth.removesuffix("_query")
    lines = [
        f"        path: /{scheme}/{route}/orders",
        "        params: {per_page: 40}",
        f"        pagination: {pagination}",
    ]
    if records_path:
        lines.append(f"        records_path: {records_path}")
    return f"""
sources:
  - name: s
    base_url: {base}
    auth: {AUTH[auth].replace("BASE", base)}
    endpoints:
      - name: orders
        primary_key: id
""" + "\n".join(lines)


@pytest.mark.parametrize(("auth", "style"), CASES, ids=[f"{a}-{s}" for a, s in CASES])
def test_every_style_and_scheme_fetches_each_record_once(
    kit: Any, api: Callable[..., DemoApi], auth: str, style: str
) -> None:
    server = api(records=230)
    settings = kit.settings(kit.sources(source_yaml(server.url, auth, style)))
    summary = kit.fetch(settings)
    assert "failure" not in summary.extra, summary.extra
    ids = sorted(r["id"] for r in kit.jsonl())
    assert ids == list(range(1, 231))
    assert summary.records_in == summary.records_out == 230
    expected_pages = 1 if style == "single" else 6  # 5 full pages of 40, then 30
    assert summary.extra["pages"] == expected_pages
    assert server.log.statuses[401] == 0


def test_pages_are_fetched_concurrently_when_the_total_is_known(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    server = api(records=2000, latency_s=0.05)
    settings = kit.settings(kit.sources(source_yaml(server.url, "open", "page")), concurrency=8)
    summary = kit.fetch(settings)
    assert summary.records_out == 2000
    assert server.log.max_in_flight >= 4  # 50 pages in flight 8 at a time, not one by one


def test_duplicates_across_pages_are_skipped_and_counted(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    server = api(records=200, overlap=3)
    settings = kit.settings(kit.sources(source_yaml(server.url, "open", "page")))
    summary = kit.fetch(settings)
    assert summary.records_in == 200 + 3 * 4  # pages 2..5 repeat the last 3 of the page before
    assert summary.records_skipped["duplicate"] == 12
    assert sorted(r["id"] for r in kit.jsonl()) == list(range(1, 201))


def test_the_requests_sent_carry_the_cursor_and_page_parameters(
    kit: Any, httpserver: HTTPServer
) -> None:
    httpserver.expect_ordered_request(
        "/items", query_string={"since": "2024-01-01", "page": "1", "per_page": "2"}
    ).respond_with_json({"data": [{"id": 1, "ts": "2024-01-02"}, {"id": 2, "ts": "2024-01-03"}]})
    httpserver.expect_ordered_request(
        "/items", query_string={"since": "2024-01-01", "page": "2", "per_page": "2"}
    ).respond_with_json({"data": [{"id": 3, "ts": "2024-01-04"}]})
    httpserver.expect_ordered_request(
        "/items", query_string={"since": "2024-01-04", "page": "1", "per_page": "2"}
    ).respond_with_json({"data": [{"id": 3, "ts": "2024-01-04"}]})
    text = f"""
sources:
  - name: s
    base_url: {httpserver.url_for("/")}
    endpoints:
      - name: items
        path: /items
        records_path: data
        primary_key: id
        incremental: {{cursor_field: ts, param: since, initial: "2024-01-01"}}
        pagination: {{type: page_number, size: 2}}
"""
    settings = kit.settings(kit.sources(text))
    first = kit.fetch(settings)
    second = kit.fetch(settings)
    httpserver.check_assertions()
    assert (first.records_out, second.records_in, second.records_skipped["duplicate"]) == (3, 1, 1)


@pytest.fixture(scope="module")
def httpbin_url() -> Iterator[str]:
    """httpbin (the PyPI package) served by werkzeug on a free local port."""
    server = make_server("127.0.0.1", 0, httpbin.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def httpbin_source(base: str, path: str, auth: str = "{type: none}") -> str:
    return f"""
sources:
  - name: hb
    base_url: {base}
    auth: {auth}
    endpoints:
      - name: probe
        path: {path}
        primary_key: user
"""


def test_httpbin_accepts_our_basic_auth(kit: Any, httpbin_url: str) -> None:
    auth = "{type: basic, username: demo, password_secret: demo_password}"
    path = "/basic-auth/demo/demo-password-0123"
    summary = kit.fetch(kit.settings(kit.sources(httpbin_source(httpbin_url, path, auth))))
    assert summary.records_out == 1
    assert kit.jsonl() == [{"authenticated": True, "user": "demo"}]


def test_httpbin_refusing_the_password_is_exit_2_naming_the_status(
    kit: Any, httpbin_url: str
) -> None:
    auth = "{type: basic, username: demo, password_secret: demo_password}"
    path = "/basic-auth/demo/another-password"
    sources = kit.sources(httpbin_source(httpbin_url, path, auth))
    res = kit.cli("run", "--sources", str(sources), "--json")
    assert res.returncode == 2, res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: hb.probe: HTTP 401: the API refused the credentials"), last
    assert "demo-password-0123" not in res.stdout + res.stderr
    assert kit.summary(res)["status"] == "failed"


def test_httpbin_5xx_is_retried_then_counted_as_a_failed_page(kit: Any, httpbin_url: str) -> None:
    settings = kit.settings(
        kit.sources(httpbin_source(httpbin_url, "/status/503")), retries=2, max_failed_pages=1
    )
    summary = kit.fetch(settings)
    assert "failure" not in summary.extra
    assert summary.extra["pages_failed"] == 1
    assert summary.extra["requests"]["503"] == 3  # the first try and two retries
    assert summary.extra["retries"] == 2
    (entry,) = kit.quarantine()
    assert entry["kind"] == "page" and entry["reason"] == "HTTP 503 after the retries"


def test_an_xml_api_is_fetched_like_a_json_one(kit: Any, api: Callable[..., DemoApi]) -> None:
    """The bundled API's legacy XML route: page numbers, the total from an attribute, values kept
    as the text the API sent."""
    server = api(records=95, invalid_every=0)
    source = f"""
sources:
  - name: s
    base_url: {server.url}
    endpoints:
      - name: orders
        path: /open/xml/orders
        params: {{per_page: 40}}
        pagination: {{type: page_number, size: 40, total_pages_path: orders.@total_pages}}
        records_path: orders.order
        primary_key: "@id"
"""
    summary = kit.fetch(kit.settings(kit.sources(source)))
    assert "failure" not in summary.extra, summary.extra
    assert summary.records_out == 95 and summary.extra["pages"] == 3
    rows = sorted(kit.jsonl(), key=lambda r: int(r["@id"]))
    assert [r["@id"] for r in rows] == [str(i) for i in range(1, 96)]
    first = server.orders.view(None, None)[0]
    assert rows[0]["amount"] == str(first["amount"]) and rows[0]["email"] == first["email"]


def test_hostile_xml_fails_the_page_with_the_reason(kit: Any, httpserver: HTTPServer) -> None:
    laughs = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "ha"><!ENTITY b "&a;&a;">]><l>&b;</l>'
    httpserver.expect_request("/feed").respond_with_data(laughs, content_type="application/xml")
    source = f"""
sources:
  - name: s
    base_url: {httpserver.url_for("")}
    endpoints:
      - name: feed
        path: /feed
        records_path: l
        primary_key: id
"""
    summary = kit.fetch(kit.settings(kit.sources(source)))
    assert summary.records_out == 0
    assert "entities or a DTD refused" in str(summary.extra), summary.extra
