"""Auth schemes as requests `AuthBase` objects (the one interface of the family).

Secrets are looked up by name in `settings.secrets` and registered with the log redactor; OAuth2
access tokens are registered the moment they are issued. Nothing here logs a credential.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import requests
from pydantic import SecretStr
from requests.auth import AuthBase, HTTPBasicAuth

from api_fetcher.config import ApiFetcherSettings
from api_fetcher.spec import (
    ApiKeyAuth,
    AuthSpec,
    BasicAuth,
    BearerAuth,
    NoAuth,
    OAuth2ClientCredentials,
)
from de_common import logging as de_logging
from de_common.config import env_name
from de_common.errors import ServiceUnavailable, UserError


def secret(secrets: Mapping[str, SecretStr], name: str) -> str:
    """The value of a named secret; a missing one is a UserError naming its env var."""
    value = secrets.get(name.lower())
    if value is None or not value.get_secret_value():
        var = f"{env_name(ApiFetcherSettings, 'secrets')}__{name.upper()}"
        raise UserError(f"secret {name!r} is not set: export {var}")
    de_logging.add_secret(value.get_secret_value())
    return value.get_secret_value()


class ApiKey(AuthBase):
    """A key in a header or a query parameter."""

    def __init__(self, name: str, key: str, in_query: bool) -> None:
        self.name = name
        self.key = key
        self.in_query = in_query

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.in_query:
            r.prepare_url(r.url, {self.name: self.key})
        else:
            r.headers[self.name] = self.key
        return r


class Bearer(AuthBase):
    """A static bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


class ClientCredentials(AuthBase):
    """OAuth2 client credentials: one cached token for every thread, fetched again shortly before
    it expires or when the API answers 401 to it (then the request is sent once more)."""

    def __init__(self, spec: OAuth2ClientCredentials, client_secret: str, timeout_s: float) -> None:
        self.spec = spec
        self.client_secret = client_secret
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self.issued = 0  # tokens fetched, for the summary and the tests

    def token(self, stale: str | None = None) -> str:
        """The cached token, or a new one when there is none, it expires soon, or it is `stale`."""
        with self._lock:
            now = time.monotonic()
            fresh = self._token is not None and now < self._expires - self.spec.refresh_margin_s
            if fresh and self._token != stale:
                assert self._token is not None
                return self._token
            self._token, lifetime = self._fetch()
            self._expires = now + lifetime
            self.issued += 1
            return self._token

    def _fetch(self) -> tuple[str, float]:
        data = {"grant_type": "client_credentials"}
        if self.spec.scope:
            data["scope"] = self.spec.scope
        try:
            resp = requests.post(
                self.spec.token_url,
                data=data,
                auth=HTTPBasicAuth(self.spec.client_id, self.client_secret),
                timeout=self.timeout_s,
            )
        except requests.ConnectionError as exc:
            raise ServiceUnavailable(
                "oauth2 token endpoint", self.spec.token_url, _reason(exc)
            ) from None
        if resp.status_code != 200:
            detail = _error_code(resp)
            raise UserError(
                f"oauth2 token request to {self.spec.token_url} refused: HTTP {resp.status_code}{detail}"
            )
        try:
            body = resp.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise UserError(
                f"oauth2 token endpoint {self.spec.token_url} sent no access_token"
            ) from None
        de_logging.add_secret(token)
        return token, lifetime

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token()}"
        r.register_hook("response", self._retry_on_401)  # type: ignore[no-untyped-call]
        return r

    def _retry_on_401(self, resp: requests.Response, **kwargs: Any) -> requests.Response:
        if resp.status_code != 401 or getattr(resp.request, "_refreshed", False):
            return resp
        used = (resp.request.headers.get("Authorization") or "").removeprefix("Bearer ")
        resp.content  # noqa: B018 - drain the body so the connection goes back to the pool
        resp.close()
        again = resp.request.copy()
        again.headers["Authorization"] = f"Bearer {self.token(stale=used)}"
        again._refreshed = True  # type: ignore[attr-defined]
        again.hooks = {"response": []}
        retried: requests.Response = resp.connection.send(again, **kwargs)
        retried.history.append(resp)
        retried.request = again
        return retried


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


def _error_code(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return ""
    code = body.get("error") if isinstance(body, dict) else None
    return f" ({code})" if isinstance(code, str) else ""


def build(spec: AuthSpec, secrets: Mapping[str, SecretStr], timeout_s: float) -> AuthBase | None:
    """The requests auth object of a source's `auth` block (None: no auth)."""
    if isinstance(spec, NoAuth):
        return None
    if isinstance(spec, ApiKeyAuth):
        return ApiKey(spec.name, secret(secrets, spec.key_secret), spec.location == "query")
    if isinstance(spec, BasicAuth):
        return HTTPBasicAuth(spec.username, secret(secrets, spec.password_secret))
    if isinstance(spec, BearerAuth):
        return Bearer(secret(secrets, spec.token_secret))
    return ClientCredentials(spec, secret(secrets, spec.client_secret_secret), timeout_s)


def query_secret_param(spec: AuthSpec) -> str | None:
    """The query parameter that carries a key, so URLs can be shown without it."""
    if isinstance(spec, ApiKeyAuth) and spec.location == "query":
        return spec.name
    return None
