"""The source file: every style parses, and a malformed file is one line naming the key (exit 2)."""

from __future__ import annotations

from typing import Any

import pytest
from api_fetcher import spec
from api_fetcher.spec import Cursor, PageNumber

from de_common.errors import UserError

GOOD = """
x-schema: &s {type: object}
sources:
  - name: api
    base_url: http://127.0.0.1:9
    auth: {type: bearer, token_secret: tok}
    endpoints:
      - name: a
        path: /a
        primary_key: id
        pagination: {type: page_number, size: 10, total_pages_path: meta.pages}
        schema: *s
      - name: b
        path: /b
        primary_key: [org, id]
        pagination: {type: cursor, next_path: next}
"""


def test_yaml_with_anchors_and_every_field_parses() -> None:
    parsed = spec.parse(GOOD, ".yaml", "t.yaml")
    (source,) = parsed.sources
    a, b = source.endpoints
    assert isinstance(a.pagination, PageNumber) and a.pagination.size == 10
    assert a.primary_key == ["id"] and a.record_schema == {"type": "object"}
    assert isinstance(b.pagination, Cursor) and b.primary_key == ["org", "id"]


def test_toml_parses_the_same_shape() -> None:
    text = """
[[sources]]
name = "api"
base_url = "https://example.org"
[[sources.endpoints]]
name = "items"
path = "/items"
primary_key = "id"
pagination = { type = "offset", limit = 50 }
"""
    (source,) = spec.parse(text, ".toml", "t.toml").sources
    assert source.endpoints[0].pagination.type == "offset"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (GOOD.replace("type: page_number", "type: pages"), "sources[0].endpoints[0].pagination"),
        (GOOD.replace("primary_key: id", "primary_kee: id"), "sources[0].endpoints[0].primary_ke"),
        (
            GOOD.replace("size: 10", "size: 0"),
            "sources[0].endpoints[0].pagination.page_number.size",
        ),
        (GOOD.replace("http://127.0.0.1:9", "ftp://x"), "sources[0].base_url"),
        (GOOD.replace("name: b", "name: a"), "sources[0].endpoints"),
    ],
)
def test_a_malformed_file_names_the_key(text: str, key: str) -> None:
    with pytest.raises(UserError) as err:
        spec.parse(text, ".yaml", "t.yaml")
    assert f"t.yaml: {key}" in str(err.value)


def test_invalid_yaml_is_one_line_exit_2(kit: Any) -> None:
    path = kit.sources("sources: [\n  - name: a\n    base_url: [")
    res = kit.cli("run", "--sources", str(path))
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert lines[-1].startswith("error: source file") and "not valid yaml" in lines[-1]
    assert "Traceback" not in res.stderr


def test_sources_command_exits_2_naming_the_key(kit: Any) -> None:
    path = kit.sources(GOOD.replace("next_path: next", "bogus: 1"))
    res = kit.cli("sources", "--sources", str(path))
    assert res.returncode == 2
    assert "sources[0].endpoints[1]" in res.stderr.strip().splitlines()[-1]


def test_unknown_source_name_is_a_user_error() -> None:
    parsed = spec.parse(GOOD, ".yaml", "t.yaml")
    with pytest.raises(UserError, match="no source named nope"):
        parsed.select(["nope"])
