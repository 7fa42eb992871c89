"""The HTTP client of one source: a pooled requests Session whose urllib3 `Retry` retries connection
errors, 5xx and 429 with exponential backoff and jitter, honouring Retry-After (capped) and pausing
the source's rate limit while it waits.

requests' and urllib3's errors are mapped here and nowhere else: a server out of reach after every
retry is `ServiceUnavailable`, credentials refused are `AuthRefused` (a `UserError`), and a page that
cannot be used (an HTTP error after the retries, a non-JSON, truncated or wrongly typed body, a
timeout) is `PageError`, which the run counts and quarantines and goes on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

from api_fetcher import auth, xmlbody
from api_fetcher.config import ApiFetcherSettings
from api_fetcher.ratelimit import TokenBucket, Unlimited
from api_fetcher.spec import Scalar, Source
from api_fetcher.telemetry import FetchMetrics
from de_common import logging as de_logging
from de_common.errors import ServiceUnavailable, UserError

RETRY_STATUSES = (429, 500, 502, 503, 504)
USER_AGENT = "api-fetcher/0.1 (+requests)"


class PageError(Exception):
    """One page that cannot be used; the run counts it, quarantines the reason and goes on."""

    def __init__(self, reason: str, status: int | None = None, snippet: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.snippet = snippet


class AuthRefused(UserError):
    """The API refused the configured credentials (401/403 after a token refresh)."""


class SourceRetry(Retry):
    """urllib3's Retry with Retry-After capped and reported (so the source's bucket pauses)."""

    def __init__(
        self,
        *args: Any,
        max_retry_after: float = 120.0,
        on_retry_after: Callable[[float], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after
        self.on_retry_after = on_retry_after

    def new(self, **kw: Any) -> SourceRetry:
        kw.setdefault("max_retry_after", self.max_retry_after)
        kw.setdefault("on_retry_after", self.on_retry_after)
        retry = super().new(**kw)
        assert isinstance(retry, SourceRetry)
        return retry

    def parse_retry_after(self, retry_after: str) -> float:
        """Seconds (fractions too, which some APIs send) or an HTTP date, as urllib3 reads it."""
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return float(super().parse_retry_after(retry_after))

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        if seconds is None:
            return None
        seconds = min(seconds, self.max_retry_after)
        if self.on_retry_after is not None:
            self.on_retry_after(seconds)
        return seconds


@dataclass(frozen=True)
class PageRequest:
    """One page to ask for: the URL, its parameters, its place in the endpoint's run."""

    url: str
    params: Mapping[str, Scalar] = field(default_factory=dict)
    number: int = 1


@dataclass
class Answer:
    """A page's decoded JSON body with what pagination may need from the response."""

    body: Any
    url: str
    links: dict[str, dict[str, str]]


def retry_policy(settings: ApiFetcherSettings, bucket: TokenBucket) -> SourceRetry:
    return SourceRetry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        other=0,
        backoff_factor=settings.backoff_s,
        backoff_max=settings.backoff_max_s,
        backoff_jitter=settings.backoff_s,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
        max_retry_after=settings.retry_after_max_s,
        on_retry_after=bucket.pause,
    )


class ApiClient:
    """Every request of one source goes through here: rate limit, auth, retries, metrics."""

    def __init__(self, source: Source, settings: ApiFetcherSettings, metrics: FetchMetrics) -> None:
        self.source = source
        self.metrics = metrics
        self.timeout_s = settings.timeout_s
        limit = source.rate_limit
        self.bucket = TokenBucket(limit.requests_per_second, limit.burst) if limit else Unlimited()
        pool = source.concurrency or settings.concurrency
        adapter = HTTPAdapter(
            pool_connections=4,
            pool_maxsize=pool,
            pool_block=True,
            max_retries=retry_policy(settings, self.bucket),
        )
        self.session = requests.Session()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self.session.headers.update(source.headers)
        self.session.auth = auth.build(source.auth, settings.secrets, settings.timeout_s)
        self._hidden_param = auth.query_secret_param(source.auth)

    def close(self) -> None:
        self.session.close()

    def shown(self, url: str) -> str:
        """The URL as logs, errors and the quarantine show it: never a key in the query."""
        if self._hidden_param is None:
            return url
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != self._hidden_param]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def get(self, req: PageRequest, headers: Mapping[str, str] | None = None) -> Answer:
        """GET one page and decode its JSON body."""
        self.bucket.acquire()
        name = self.source.name
        started = time.perf_counter()
        try:
            resp = self.session.get(
                req.url,
                params=dict(req.params),
                headers=dict(headers or {}),
                timeout=self.timeout_s,
            )
        except requests.Timeout as exc:
            self.metrics.request(name, "timeout", None)
            if isinstance(exc, requests.ConnectTimeout):
                raise ServiceUnavailable(name, self.source.base_url, "connect timeout") from None
            raise PageError(f"no answer within {self.timeout_s:g}s after the retries") from None
        except requests.exceptions.ChunkedEncodingError as exc:
            self.metrics.request(name, "truncated", None)
            raise PageError(f"truncated body: {_first(exc)}") from None
        except requests.ConnectionError as exc:
            reason = getattr(exc.args[0] if exc.args else None, "reason", None)
            if isinstance(reason, ReadTimeoutError):
                self.metrics.request(name, "timeout", None)
                raise PageError(f"no answer within {self.timeout_s:g}s after the retries") from None
            self.metrics.request(name, "error", None)
            if isinstance(reason, NewConnectionError | ConnectTimeoutError) or reason is None:
                raise ServiceUnavailable(name, self.source.base_url, _first(exc)) from None
            raise PageError(f"connection failed after the retries: {_first(exc)}") from None
        except requests.RequestException as exc:
            self.metrics.request(name, "error", None)
            raise PageError(f"request failed: {_first(exc)}") from None
        self._observe(resp, time.perf_counter() - started)
        return self._decode(resp)

    def _observe(self, resp: requests.Response, seconds: float) -> None:
        name = self.source.name
        retries = getattr(resp.raw, "retries", None)
        history = list(getattr(retries, "history", ()) or ())
        for attempt in history:
            self.metrics.request(name, str(attempt.status or "error"), None)
        for earlier in resp.history:  # a 401 answered again with a fresh token
            self.metrics.request(name, str(earlier.status_code), None)
        self.metrics.retried(name, len(history) + len(resp.history))
        self.metrics.request(name, str(resp.status_code), seconds)

    def _decode(self, resp: requests.Response) -> Answer:
        status = resp.status_code
        if status in (401, 403):
            raise AuthRefused(
                f"HTTP {status}: the API refused the credentials (GET {self.shown(resp.url)})"
            )
        snippet = resp.text[:200] if resp.content else ""
        if status >= 400:
            after = " after the retries" if status in RETRY_STATUSES else ""
            raise PageError(f"HTTP {status}{after}", status, snippet)
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
        is_xml = ctype in ("application/xml", "text/xml") or ctype.endswith("+xml")
        if ctype and not (ctype == "application/json" or ctype.endswith("+json") or is_xml):
            raise PageError(f"unexpected content type {ctype!r}", status, snippet)
        length = resp.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) != len(resp.content):
            raise PageError(
                f"truncated body: {len(resp.content)} of {length} bytes", status, snippet
            )
        try:
            body = xmlbody.parse(resp.content) if is_xml else json.loads(resp.content)
        except xmlbody.XmlRefused as exc:
            raise PageError(_first(exc), status, snippet) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise PageError(f"body is not JSON: {_first(exc)}", status, snippet) from None
        return Answer(body=body, url=resp.url, links=dict(resp.links))


def _first(exc: BaseException) -> str:
    """One line of an error, with any key or token it quotes (a URL's query) redacted."""
    text = de_logging.redact(" ".join(str(exc).split()))
    return text[:300] or type(exc).__name__
