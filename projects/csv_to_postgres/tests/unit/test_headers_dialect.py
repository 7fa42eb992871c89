from __future__ import annotations

import codecs

import pytest
from csv_to_postgres.dialect import detect, detect_encoding
from csv_to_postgres.headers import map_headers, sanitize

from de_common.errors import UserError


def test_hostile_headers_become_safe_unique_identifiers() -> None:
    raw = [
        'id"; DROP TABLE users; --',
        "",
        "select",
        "Name",
        "name",
        "  ",
        "2nd col",
        "Ünïcode",
        "x" * 80,
    ]
    names = map_headers(raw)
    assert names[0] == "id_drop_table_users"
    assert names[1] == "col_2"
    assert names[2] == "select"  # reserved words stay: every name is quoted as an identifier
    assert names[3:5] == ["name", "name_2"]
    assert names[5] == "col_6"
    assert names[6] == "c_2nd_col"
    assert names[7] == "unicode"
    assert len(names[8]) == 63
    assert len(set(names)) == len(names)
    assert all(n.replace("_", "").isalnum() for n in names)


def test_header_map_applies_before_sanitizing() -> None:
    assert map_headers(["E-mail", "Zip Code"], {"E-mail": "email"}) == ["email", "zip_code"]


def test_sanitize_empty_uses_position() -> None:
    assert sanitize("!!!", 7) == "col_7"


def test_encoding_detection() -> None:
    assert detect_encoding(codecs.BOM_UTF8 + b"a,b\n") == "utf-8-sig"
    assert detect_encoding("név;ár\n".encode()) == "utf-8"
    assert detect_encoding("név;ár\n".encode("cp1252")) == "cp1252"
    assert detect_encoding(codecs.BOM_UTF16_LE + "a".encode("utf-16-le")) == "utf-16"


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiter_sniffing(delim: str) -> None:
    text = delim.join(["a", "b", "c"]) + "\n" + delim.join(["1", "x y", "3"]) + "\n"
    assert detect(text.encode()).delimiter == delim


def test_overrides_win_over_detection() -> None:
    d = detect(b"a;b\n1;2\n", encoding="latin-1", delimiter="|", quote="'")
    assert (d.encoding, d.delimiter, d.quote) == ("latin-1", "|", "'")


def test_bad_overrides_are_user_errors() -> None:
    with pytest.raises(UserError):
        detect(b"a,b\n", encoding="no-such-codec")
    with pytest.raises(UserError):
        detect(b"a,b\n", delimiter=";;")
