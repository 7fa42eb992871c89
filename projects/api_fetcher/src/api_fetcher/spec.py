"""The declarative source file (YAML or TOML): what to fetch, how to page through it, how to log in.

A malformed file is one `UserError` naming the file and the key (exit 2); nothing is fetched.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from de_common.errors import UserError
from de_common.inputs import InputMissing

NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
Scalar = str | int | float | bool


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- pagination ------------------------------------------------------------------------------------


class NoPagination(_Spec):
    """One request returns everything."""

    type: Literal["none"]


class PageNumber(_Spec):
    """?page=1&per_page=100 ... until a short page, or up to the total the body announces."""

    type: Literal["page_number"]
    page_param: str = "page"
    size_param: str | None = "per_page"
    size: int = Field(default=100, ge=1)
    start: int = Field(default=1, ge=0)
    total_pages_path: str | None = None
    total_path: str | None = None


class Offset(_Spec):
    """?offset=0&limit=100 ... until a short page, or up to the total the body announces."""

    type: Literal["offset"]
    offset_param: str = "offset"
    limit_param: str = "limit"
    limit: int = Field(default=100, ge=1)
    total_path: str | None = None


class Cursor(_Spec):
    """A cursor or next token in the body, sent back as a parameter; done when it is empty."""

    type: Literal["cursor"]
    cursor_param: str = "cursor"
    next_path: str = "next_cursor"
    size_param: str | None = None
    size: int | None = Field(default=None, ge=1)


class LinkHeader(_Spec):
    """RFC 8288 `Link: <...>; rel="next"` headers (GitHub style)."""

    type: Literal["link_header"]
    rel: str = "next"


class NextUrl(_Spec):
    """The next page's URL (absolute or relative) in the body; done when it is empty."""

    type: Literal["next_url"]
    next_path: str = "next"


Pagination = Annotated[
    NoPagination | PageNumber | Offset | Cursor | LinkHeader | NextUrl, Field(discriminator="type")
]


# --- auth: secrets are named here and come from settings.secrets, never from this file --------------


class NoAuth(_Spec):
    type: Literal["none"]


class ApiKeyAuth(_Spec):
    """A key in a header (X-API-Key) or a query parameter (api_key)."""

    type: Literal["api_key"]
    name: str = "X-API-Key"
    location: Literal["header", "query"] = "header"
    key_secret: str


class BasicAuth(_Spec):
    type: Literal["basic"]
    username: str
    password_secret: str


class BearerAuth(_Spec):
    type: Literal["bearer"]
    token_secret: str


class OAuth2ClientCredentials(_Spec):
    """Client-credentials grant: the token is cached, refreshed before expiry and on a 401."""

    type: Literal["oauth2_client_credentials"]
    token_url: str
    client_id: str
    client_secret_secret: str
    scope: str | None = None
    refresh_margin_s: float = Field(default=30.0, ge=0)


AuthSpec = Annotated[
    NoAuth | ApiKeyAuth | BasicAuth | BearerAuth | OAuth2ClientCredentials,
    Field(discriminator="type"),
]


# --- endpoints and sources -------------------------------------------------------------------------


class Incremental(_Spec):
    """Fetch only what changed since the last durable write: `param` >= the saved cursor."""

    cursor_field: str
    param: str
    initial: Scalar | None = None
    end_param: str | None = None
    sorted: bool = True


class _Named(_Spec):
    name: str = Field(pattern=NAME)


class Endpoint(_Named):
    path: str
    params: dict[str, Scalar] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    records_path: str | None = None
    primary_key: list[str] = Field(min_length=1)
    incremental: Incremental | None = None
    pagination: Pagination = NoPagination(type="none")
    # A JSON Schema for one record; invalid records are quarantined with the reason.
    record_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    partition_field: str | None = None

    @field_validator("primary_key", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @property
    def partition_by(self) -> str | None:
        """The field whose date names a record's partition (the cursor field by default)."""
        if self.partition_field is not None:
            return self.partition_field
        return self.incremental.cursor_field if self.incremental else None


Named = TypeVar("Named", bound="_Named")


def _no_repeats(items: list[Named], what: str) -> list[Named]:
    names = [item.name for item in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{what} names repeat: {', '.join(repeated)}")
    return items


class RateLimit(_Spec):
    requests_per_second: float = Field(gt=0)
    burst: int = Field(default=1, ge=1)


class Source(_Named):
    base_url: str = Field(pattern=r"^https?://")
    auth: AuthSpec = NoAuth(type="none")
    headers: dict[str, str] = Field(default_factory=dict)
    rate_limit: RateLimit | None = None
    concurrency: int | None = Field(default=None, ge=1, le=256)
    interval_s: int = Field(default=3600, ge=1)
    endpoints: list[Endpoint] = Field(min_length=1)

    @field_validator("endpoints")
    @classmethod
    def _unique(cls, value: list[Endpoint]) -> list[Endpoint]:
        return _no_repeats(value, "endpoint")

    def endpoint(self, name: str) -> Endpoint:
        for endpoint in self.endpoints:
            if endpoint.name == name:
                return endpoint
        raise UserError(f"source {self.name} has no endpoint {name!r}")


class SourceFile(_Spec):
    sources: list[Source] = Field(min_length=1)

    @field_validator("sources")
    @classmethod
    def _unique(cls, value: list[Source]) -> list[Source]:
        return _no_repeats(value, "source")

    def select(self, names: list[str]) -> list[Source]:
        """The named sources (all when none are named); an unknown name is a UserError."""
        if not names:
            return list(self.sources)
        known = {s.name: s for s in self.sources}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UserError(f"no source named {', '.join(unknown)}; have: {', '.join(known)}")
        return [known[n] for n in names]


def _key(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse(text: str, suffix: str, origin: str) -> SourceFile:
    """Parse and validate a source file's text; YAML unless the suffix is .toml."""
    try:
        data = tomllib.loads(text) if suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        first = " ".join(str(exc).split())
        raise UserError(
            f"source file {origin} is not valid {suffix.lstrip('.') or 'YAML'}: {first}"
        ) from None
    if not isinstance(data, dict):
        raise UserError(f"source file {origin}: expected a mapping with a `sources` list")
    # Top-level `x-...` keys hold YAML anchors (a shared schema, say); they are not sources.
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    try:
        return SourceFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UserError(f"source file {origin}: {_key(err['loc'])}: {err['msg']}") from None


def load(path: Path) -> SourceFile:
    """Read a source file; a missing one is `InputMissing` (exit 2)."""
    if not path.is_file():
        raise InputMissing(f"source file not found: {path}")
    suffix = ".toml" if path.suffix.lower() == ".toml" else ".yaml"
    return parse(path.read_text(encoding="utf-8"), suffix, str(path))
