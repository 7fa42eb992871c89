"""OAuth2 client credentials: the token cached, refreshed before it expires and after a 401; and no
key, password, token or Authorization header in logs, summaries, state or quarantine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from api_fetcher.demo_api import CREDENTIALS, DemoApi

pytestmark = pytest.mark.integration


def oauth_source(base: str, margin: float = 30.0, path: str = "/oauth/cursor/orders") -> str:
    return f"""
sources:
  - name: s
    base_url: {base}
    auth:
      type: oauth2_client_credentials
      token_url: {base}/oauth/token
      client_id: demo-client
      client_secret_secret: demo_client_secret
      refresh_margin_s: {margin}
    endpoints:
      - name: orders
        path: {path}
        records_path: items
        primary_key: id
        pagination: {{type: cursor, size_param: limit, size: 20}}
"""


def test_one_token_serves_every_request_while_it_is_valid(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    server = api(records=200)
    summary = kit.fetch(kit.settings(kit.sources(oauth_source(server.url))))
    assert summary.records_out == 200
    assert server.log.tokens_issued == 1 and server.log.statuses[401] == 0


def test_the_token_is_refreshed_before_it_expires(kit: Any, api: Callable[..., DemoApi]) -> None:
    # Tokens live 1 s; with a 0.5 s margin a token is renewed from 0.5 s on, before any 401.
    server = api(records=200, latency_s=0.1, token_ttl_s=1.0)
    summary = kit.fetch(kit.settings(kit.sources(oauth_source(server.url, margin=0.5))))
    assert summary.records_out == 200
    assert server.log.tokens_issued >= 2 and server.log.statuses[401] == 0


def test_a_401_on_a_token_believed_valid_gets_a_new_token_and_the_page(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    # The server says tokens last an hour but drops them after 0.3 s (a revocation, a restart).
    server = api(records=200, latency_s=0.1, token_ttl_s=0.3, advertised_ttl_s=3600)
    summary = kit.fetch(kit.settings(kit.sources(oauth_source(server.url))))
    assert summary.records_out == 200 and summary.extra["pages_failed"] == 0
    assert server.log.statuses[401] >= 1
    assert server.log.tokens_issued == server.log.statuses[401] + 1
    assert summary.extra["requests"]["401"] == server.log.statuses[401]


def test_a_wrong_client_secret_is_exit_2_and_never_printed(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    server = api(records=10)
    sources = kit.sources(oauth_source(server.url))
    wrong = "wrong-client-secret-8841"
    res = kit.cli(
        "run",
        "--sources",
        str(sources),
        "--json",
        env={"API_FETCHER_SECRETS__DEMO_CLIENT_SECRET": wrong},
    )
    assert res.returncode == 2
    assert "oauth2 token request" in res.stderr and "HTTP 401 (invalid_client)" in res.stderr
    assert wrong not in res.stdout + res.stderr


def test_a_missing_secret_names_its_env_var(kit: Any, api: Callable[..., DemoApi]) -> None:
    server = api(records=10)
    res = kit.cli(
        "run",
        "--sources",
        str(kit.sources(oauth_source(server.url))),
        env={"API_FETCHER_SECRETS__DEMO_CLIENT_SECRET": ""},
    )
    assert res.returncode == 2
    assert "export API_FETCHER_SECRETS__DEMO_CLIENT_SECRET" in res.stderr.strip().splitlines()[-1]


def every_scheme(base: str) -> str:
    def src(
        name: str,
        auth: str,
        path: str,
        pagination: str = "{type: page_number, size: 50, total_pages_path: meta.total_pages}",
    ) -> str:
        return f"""
  - name: {name}
    base_url: {base}
    auth: {auth}
    endpoints:
      - name: orders
        path: {path}
        records_path: data
        primary_key: id
        pagination: {pagination}"""

    return "sources:" + "".join(
        [
            src(
                "k",
                "{type: api_key, name: api_key, location: query, key_secret: demo_api_key}",
                "/key/page/orders?broken=1",
            ),
            src(
                "b",
                "{type: basic, username: demo, password_secret: demo_password}",
                "/basic/page/orders",
            ),
            src("t", "{type: bearer, token_secret: demo_token}", "/bearer/page/orders"),
            src(
                "o",
                f"{{type: oauth2_client_credentials, token_url: {base}/oauth/token, client_id: demo-client, client_secret_secret: demo_client_secret}}",
                "/oauth/page/orders",
            ),
        ]
    )


def test_no_secret_reaches_logs_summaries_state_or_quarantine(
    kit: Any, api: Callable[..., DemoApi]
) -> None:
    from api_fetcher.demo_api import Fault

    # Failed pages and retries on every source, so errors and retry logs quote URLs and headers.
    server = api(records=120, faults=[Fault("malformed", page=2, times=99), Fault("500", page=3)])
    sources = kit.sources(every_scheme(server.url))
    res = kit.cli(
        "--log-level",
        "DEBUG",
        "--log-format",
        "json",
        "run",
        "--sources",
        str(sources),
        "--json",
        "--max-failed-pages",
        "9",
    )
    assert res.returncode == 0, res.stderr
    assert kit.summary(res)["records_out"] == 4 * 70
    tokens = [
        h["Authorization"].removeprefix("Bearer ")
        for h in server.log.headers_seen
        if h.get("Authorization", "").startswith("Bearer ")
        and h["Authorization"] != "Bearer demo-bearer-token-0123"
    ]
    assert tokens  # the OAuth access tokens the server issued
    written = "".join(
        p.read_text()
        for p in Path(kit.tmp).rglob("*")
        if p.is_file() and p.suffix in (".json", ".jsonl")
    )
    seen = res.stdout + res.stderr + written
    assert "urllib3" in res.stderr  # debug logging really was on
    for value in [*CREDENTIALS.values(), *tokens]:
        assert value not in seen, value
    assert "ZGVtbzpkZW1vLXBhc3N3b3JkLTAxMjM" not in seen  # basic auth, base64
