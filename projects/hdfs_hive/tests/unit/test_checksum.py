"""The local HDFS checksum: independent of how bytes are fed, sensitive to content and blocks.
(Equality with what a real datanode reports is tested in tests/integration/test_checksum.py.)"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hdfs_hive.checksum import HdfsChecksum, file_checksum, remote_md5


def _digest(data: bytes, block: int, step: int) -> str:
    summer = HdfsChecksum(block)
    for i in range(0, len(data), step):
        summer.update(data[i : i + step])
    return summer.hexdigest()


def test_the_digest_does_not_depend_on_how_the_bytes_arrive() -> None:
    data = os.urandom(5 * 4096 + 77)
    digests = {_digest(data, 4096, step) for step in (1, 100, 512, 513, 4096, 1 << 20)}
    assert len(digests) == 1


def test_one_changed_byte_or_another_block_size_changes_it() -> None:
    data = bytearray(os.urandom(10_000))
    base = _digest(bytes(data), 4096, 1000)
    data[5000] ^= 1
    assert _digest(bytes(data), 4096, 1000) != base
    data[5000] ^= 1
    assert _digest(bytes(data), 8192, 1000) != base


def test_an_empty_file_is_hdfs_md5_of_its_zeroed_32_byte_buffer() -> None:
    # HDFS digests its DataOutputBuffer's whole backing array: 32 zero bytes for no blocks.
    assert HdfsChecksum(4096).hexdigest() == hashlib.md5(bytes(32)).hexdigest()  # noqa: S324


def test_file_checksum_reads_the_file(tmp_path: Path) -> None:
    data = os.urandom(70_000)
    (tmp_path / "f").write_bytes(data)
    assert file_checksum(tmp_path / "f", 65536) == _digest(data, 65536, 7000)


def test_remote_md5_is_the_md5_field_of_the_webhdfs_answer() -> None:
    raw = "00000200" + "0000000000000800" + "ab" * 16 + "00000000"
    assert remote_md5({"algorithm": "MD5-of-2048MD5-of-512CRC32C", "bytes": raw}) == "ab" * 16
