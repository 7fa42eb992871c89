"""Which metrics the repository's code exports: prometheus-client calls found by reading source."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

# prometheus-client constructors -> the suffixes of the sample names they expose.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "Counter": ("_total",),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count"),
    "Summary": ("_sum", "_count"),
    "Info": ("_info",),
    "Enum": ("",),
    "CounterMetricFamily": ("_total",),
    "GaugeMetricFamily": ("",),
    "HistogramMetricFamily": ("_bucket", "_sum", "_count"),
    "SummaryMetricFamily": ("_sum", "_count"),
    "InfoMetricFamily": ("_info",),
}
MODULES = ("prometheus_client", "prometheus_client.core", "prometheus_client.metrics")


@dataclass(frozen=True)
class Metric:
    """One metric family as exported: its name, type, owner (project or de_common) and origin."""

    name: str
    kind: str
    owner: str
    origin: str

    @property
    def samples(self) -> tuple[str, ...]:
        """The sample names a query may use for it (x_total, x_bucket, ...)."""
        base = self.name.removesuffix("_total") if self.kind.startswith("Counter") else self.name
        return tuple(base + s for s in SUFFIXES[self.kind])


@dataclass(frozen=True)
class Dynamic:
    """A constructor whose name is not a literal: it cannot be checked and must be listed."""

    owner: str
    origin: str


def _aliases(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Local names bound to prometheus-client constructors, and names bound to its modules."""
    names: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in MODULES:
            for alias in node.names:
                if alias.name in SUFFIXES:
                    names[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES:
                    modules.add(alias.asname or alias.name)
    return names, modules


def _constructor(call: ast.Call, names: dict[str, str], modules: set[str]) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return names.get(func.id)
    if isinstance(func, ast.Attribute) and func.attr in SUFFIXES:
        root = func.value
        dotted = []
        while isinstance(root, ast.Attribute):
            dotted.append(root.attr)
            root = root.value
        if isinstance(root, ast.Name):
            full = ".".join([root.id, *reversed(dotted)])
            if full in modules:
                return func.attr
    return None


def _name_arg(call: ast.Call) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == "name":
            return kw.value
    return call.args[0] if call.args else None


def scan_file(path: Path, owner: str, root: Path) -> tuple[list[Metric], list[Dynamic]]:
    """The metrics one source file constructs."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names, modules = _aliases(tree)
    if not names and not modules:
        return [], []
    found: list[Metric] = []
    dynamic: list[Dynamic] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        kind = _constructor(node, names, modules)
        if kind is None:
            continue
        arg = _name_arg(node)
        origin = f"{path.relative_to(root)}:{node.lineno}"
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.append(Metric(arg.value, kind, owner, origin))
        else:
            dynamic.append(Dynamic(owner, origin))
    return found, dynamic


def scan(root: Path) -> tuple[list[Metric], list[Dynamic]]:
    """Every metric de_common and each project under projects/*/src construct, in a stable order."""
    sources: list[tuple[str, Path]] = [("de_common", root / "shared" / "src")]
    sources += [(p.name, p / "src") for p in sorted((root / "projects").glob("*")) if p.is_dir()]
    metrics: list[Metric] = []
    dynamic: list[Dynamic] = []
    for owner, folder in sources:
        for path in sorted(folder.rglob("*.py")):
            got, dyn = scan_file(path, owner, root)
            metrics += got
            dynamic += dyn
    unique = {(m.name, m.owner): m for m in metrics}
    return sorted(unique.values(), key=lambda m: (m.owner, m.name)), dynamic
