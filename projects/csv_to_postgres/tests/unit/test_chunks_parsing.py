from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from csv_to_postgres.chunks import ChunkReader, quotes_open_fields_only
from csv_to_postgres.dialect import Dialect
from csv_to_postgres.parsing import parse
from csv_to_postgres.sample import csv_inputs

from de_common.errors import UserError
from de_common.inputs import open_input

UTF8 = Dialect("utf-8", ",", '"')


def _rows(data: bytes, chunk_bytes: int, dialect: Dialect = UTF8) -> list[tuple[int, list[str]]]:
    reader = ChunkReader(io.BytesIO(data), dialect, chunk_bytes)
    out: list[tuple[int, list[str]]] = []
    for chunk in reader:
        parsed = parse(chunk, reader.header, dialect)
        for i, line in enumerate(parsed.lines):
            out.append((int(line), [parsed.table.column(c)[i].as_py() for c in reader.header]))
    return out


def test_quoted_newlines_keep_records_whole_across_tiny_chunks() -> None:
    body = "".join(
        f'{i},"multi\nline {i}",x\n' if i % 3 == 0 else f"{i},plain,x\n" for i in range(60)
    )
    data = ("id,text,z\n" + body).encode()
    for size in (7, 64, 1 << 20):
        rows = _rows(data, size)
        assert [r[1][0] for r in rows] == [str(i) for i in range(60)]
        # line numbers are physical: each multi-line record adds one line
        expected_line, lines = 2, []
        for i in range(60):
            lines.append(expected_line)
            expected_line += 2 if i % 3 == 0 else 1
        assert [r[0] for r in rows] == lines
        assert rows[3][1][1] == "multi\nline 3"


def test_wrong_field_counts_and_blank_lines_are_reported_with_lines() -> None:
    data = b"a,b\n1,2\n\n3\n4,5,6\n7,8\n"
    reader = ChunkReader(io.BytesIO(data), UTF8, 1 << 20)
    parsed = parse(next(iter(reader)), reader.header, UTF8)
    assert parsed.lines.tolist() == [2, 6]
    assert parsed.blank == 1
    assert [(line, raw) for line, raw, _ in parsed.invalid] == [(4, "3"), (5, "4,5,6")]


def test_missing_final_newline_and_crlf() -> None:
    rows = _rows(b"a,b\r\n1,2\r\n3,4", 1 << 20)
    assert rows == [(2, ["1", "2"]), (3, ["3", "4"])]


def test_cp1252_is_transcoded() -> None:
    data = "name;city\nZoë;Køge\n".encode("cp1252")
    rows = _rows(data, 1 << 20, Dialect("cp1252", ";", '"'))
    assert rows == [(2, ["Zoë", "Køge"])]


def test_invalid_utf8_line_is_marked_not_fatal() -> None:
    data = b"a,b\n1,ok\n2,bad\xff\n3,ok\n"
    reader = ChunkReader(io.BytesIO(data), UTF8, 1 << 20)
    parsed = parse(next(iter(reader)), reader.header, UTF8)
    assert parsed.lines.tolist() == [2, 4]
    assert parsed.invalid[0][0] == 3
    assert "encoding" in parsed.invalid[0][2]


def test_globs_and_gzip_and_no_stdin(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    with gzip.open(tmp_path / "b.csv.gz", "wt") as fh:
        fh.write("x\n2\n")
    files = csv_inputs([str(tmp_path / "*.csv*")])
    assert [Path(f.path).name for f in files] == ["a.csv", "b.csv.gz"]
    with open_input(files[1]) as fh:
        assert fh.read() == b"x\n2\n"
    with pytest.raises(UserError, match="stdin"):
        csv_inputs(["-"])


def test_an_empty_quoted_field_is_an_empty_string_an_unquoted_one_null() -> None:
    rows = _rows(b'a,b,c\n"",,x\n" NA ",NULL,""\n', 1 << 20)
    assert rows == [(2, ["", None, "x"]), (3, [" NA ", "NULL", ""])]


@pytest.mark.parametrize(
    ("data", "alike"),
    [
        (b'1,plain,"a, b"\n2,"say ""hi""",""\n', True),
        (b'1,"multi\nline",x\n', True),
        (b'1,""""\n2,"""x"""\n', True),
        (b'1,x"y\n', False),  # COPY: an unterminated quoted field; the parser: x"y
        (b'1, "q"\n', False),  # COPY: ' q'; the parser: ' "q"'
        (b'1,ab"c,d"e\n', False),
        (b'1,"ab"c"d"\n', False),
        (b'1,"open\n', False),
        (b'"x";"y""z"\n', False),  # with ',' as the delimiter the second quote is mid-field
    ],
)
def test_raw_bytes_only_where_copy_reads_quotes_as_the_parser(data: bytes, alike: bool) -> None:
    assert quotes_open_fields_only(data, ",", '"') is alike


def test_raw_bytes_check_follows_the_delimiter() -> None:
    assert quotes_open_fields_only(b'"x";"y""z"\n', ";", '"')


def test_bytes_not_utf8_in_a_row_of_the_wrong_width_are_both_reported_quietly(
    capfd: pytest.CaptureFixture[str],
) -> None:
    data = b"a,b\n1,ok\n2,bad\xff,x\n3,ok\n"
    reader = ChunkReader(io.BytesIO(data), UTF8, 1 << 20)
    parsed = parse(next(iter(reader)), reader.header, UTF8)
    assert parsed.lines.tolist() == [2, 4]
    assert [(line, reason) for line, _, reason in parsed.invalid] == [
        (3, "expected 2 fields, found 3")
    ]
    assert "Exception ignored" not in capfd.readouterr().err


def test_record_starts_match_the_line_by_line_reading() -> None:
    from csv_to_postgres.chunks import record_lines, record_starts

    for data in (b'1,"a\nb"\n\n2,x\n3,"""\n"""\n', b"a\n", b'\n\n"x\ny"\n', b"1,2\n3,4\n"):
        slow = [line for line, _ in record_lines(data, b'"', 7)]
        assert record_starts(data, b'"', 7).tolist() == slow
