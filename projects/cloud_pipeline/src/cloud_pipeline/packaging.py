"""The Lambda deployment zip: this package, de_common and the handler's third-party imports
(boto3 and what it needs), copied file by file from the installed distributions, so the zip holds
exactly the locked versions. Everything in it is pure Python; Lambda's handler setting is
`cloud_pipeline.handler.handler`. `nox -s lambda_zip` calls `build_zip`."""

from __future__ import annotations

import argparse
import importlib.metadata as md
import re
import zipfile
from pathlib import Path

import cloud_pipeline
import de_common

# The handler's third-party imports; their own requirements are followed.
ROOTS = ("boto3",)
# Our packages: copied as source trees (they are installed editable, so they have no file list).
OWN = (cloud_pipeline, de_common)
# Modules of our packages the handler never imports and whose imports are not in the zip.
SKIP = re.compile(r"(__pycache__|\.pyc$)")


def requirements(name: str, seen: set[str]) -> set[str]:
    """The distribution and everything it requires (markers evaluated on this interpreter)."""
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        return seen
    seen.add(key)
    for req in md.requires(name) or []:
        spec, _, marker = req.partition(";")
        if marker and "extra ==" in marker:
            continue
        dep = re.split(r"[\s<>=!~\[(]", spec.strip(), maxsplit=1)[0]
        requirements(dep, seen)
    return seen


def build_zip(out: Path) -> Path:
    """Write the zip (deterministic order, fixed timestamps) and return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Path] = {}
    for name in sorted(set().union(*(requirements(r, set()) for r in ROOTS))):
        dist = md.distribution(name)
        for file in dist.files or []:
            text = str(file)
            if (
                SKIP.search(text)
                or text.startswith("..")
                or (".dist-info/" in text and not text.endswith(("METADATA", "RECORD")))
            ):
                continue
            entries[text] = Path(str(dist.locate_file(file)))
    for package in OWN:
        root = Path(package.__file__).parent  # type: ignore[arg-type]
        for path in sorted(root.rglob("*")):
            if path.is_file() and not SKIP.search(str(path)):
                entries[path.relative_to(root.parent).as_posix()] = path
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for arcname in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, entries[arcname].read_bytes())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="The zip to write.")
    args = parser.parse_args()
    path = build_zip(args.out)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
