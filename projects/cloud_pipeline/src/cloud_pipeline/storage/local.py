"""A folder as the lake (file:///path): for development, forks and the CLI's own tests.
Each object is written atomically; metadata sits beside it in `<name>.meta.json`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cloud_pipeline.storage import StoreOptions
from de_common.durable import write_atomically

META_SUFFIX = ".meta.json"


class LocalStore:
    def __init__(self, url: str, root: Path, options: StoreOptions) -> None:
        self.url = url
        self.root = root
        self.options = options

    def _path(self, key: str) -> Path:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def put_bytes(self, key: str, data: bytes, metadata: dict[str, str]) -> None:
        meta = {**metadata, "sha256": hashlib.sha256(data).hexdigest()}
        write_atomically(self._path(key), data)
        write_atomically(self._path(key + META_SUFFIX), json.dumps(meta).encode())

    def put_file(self, key: str, path: Path, metadata: dict[str, str]) -> None:
        self.put_bytes(key, path.read_bytes(), metadata)

    def get(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def metadata(self, key: str) -> dict[str, str]:
        meta: dict[str, str] = json.loads((self.root / (key + META_SUFFIX)).read_text())
        return meta

    def keys(self, prefix: str = "") -> list[str]:
        if not self.root.exists():
            return []
        names = (
            p.relative_to(self.root).as_posix()
            for p in self.root.rglob("*")
            if p.is_file() and not p.name.endswith(META_SUFFIX)
        )
        return sorted(n for n in names if n.startswith(prefix))
