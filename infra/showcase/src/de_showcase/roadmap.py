"""The README's roadmap map: each topic links to the file and the symbol where the code shows it.

A link is ``[`module.Symbol`](path/to/module.py)``: the file must exist and define the symbol (a
function, class, method or module-level name, found by parsing the file, never by importing it).
A link to a non-Python file (a pyproject, a Dockerfile) names no symbol and must only exist.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

HEADING = "## Roadmap map"
_LINK = re.compile(r"\[`(?P<symbol>[^`]+)`\]\((?P<path>[^)#]+)\)")


@dataclass(frozen=True)
class Link:
    topic: str
    symbol: str
    path: str


def section(readme: str) -> str:
    """The text under the roadmap heading, up to the next heading of the same level."""
    start = readme.index(HEADING)
    rest = readme[start + len(HEADING) :]
    end = rest.find("\n## ")
    return rest if end < 0 else rest[:end]


def links(readme: str) -> list[Link]:
    """Every symbol link in the roadmap table, with its row's topic."""
    found = []
    for line in section(readme).splitlines():
        if not line.startswith("| ") or line.startswith(("| topic", "|---")):
            continue
        topic = line.split("|")[1].strip()
        found += [Link(topic, m["symbol"], m["path"]) for m in _LINK.finditer(line)]
    return found


def _defined(tree: ast.Module, qualname: list[str]) -> bool:
    body: list[ast.stmt] = tree.body
    for i, part in enumerate(qualname):
        match = None
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if node.name == part:
                    match = node
            elif isinstance(node, ast.Assign | ast.AnnAssign) and i == len(qualname) - 1:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == part for t in targets):
                    return True
        if match is None:
            return False
        body = match.body
    return True


def problem(root: Path, link: Link) -> str | None:
    """Why a link does not resolve, or None when it does."""
    path = root / link.path
    if not path.is_file():
        return f"{link.topic}: {link.path} does not exist"
    if path.suffix != ".py":
        return None
    module = path.stem if path.stem != "__init__" else path.parent.name
    head, _, rest = link.symbol.partition(".")
    if head != module or not rest:
        return f"{link.topic}: {link.symbol} should read {module}.<symbol> for {link.path}"
    if not _defined(ast.parse(path.read_text()), rest.split(".")):
        return f"{link.topic}: {link.path} defines no {rest}"
    return None
