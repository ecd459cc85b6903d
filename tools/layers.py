"""The package's layers, written once, and its own import arrows read from the source with ``ast``.

    python tools/layers.py            the layer of every module and every arrow that runs back up (none: exit 0)

A module may import modules of its own layer and of the layers below it, never of a layer above
(`tests/test_layers.py` enforces it; `tools/import_graph.py` draws the graph; docs/layers.md explains it).
Layers are listed from the bottom up; a module belongs to the layer of the longest name in the table that is
the module itself or one of its packages (``eradiff_lite.widgets.mask_editing`` is library, the rest of
``eradiff_lite.widgets`` course); ``eradiff_lite`` stands for the package root alone. Every import counts: at
the top of a module, inside a function, under ``if TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "eradiff_lite"

#: (layer, group, the modules and packages in it), from the bottom up.
LAYERS: list[tuple[str, str, tuple[str, ...]]] = [
    ("foundations", "library", ("eradiff_lite.paths", "eradiff_lite.profiles", "eradiff_lite.lock",
                                "eradiff_lite.cliargs", "eradiff_lite.variants")),
    ("data", "library", ("eradiff_lite.data",)),
    ("method", "library", ("eradiff_lite.schedule", "eradiff_lite.targets", "eradiff_lite.cro", "eradiff_lite.losses")),
    ("attention", "library", ("eradiff_lite.sra",)),
    # the package root (``eradiff_lite/__init__.py``) names `LiteUNet` lazily, for diffusers' loading by class name
    ("models", "library", ("eradiff_lite.models", "eradiff_lite")),
    ("measures", "library", ("eradiff_lite.metrics",)),
    ("pipeline", "library", ("eradiff_lite.pipeline",)),
    ("training", "library", ("eradiff_lite.train",)),
    ("stable diffusion", "library", ("eradiff_lite.sd",)),
    ("widget parts", "library", ("eradiff_lite.widgets.mask_editing", "eradiff_lite.widgets.upload")),
    ("experiments", "experiments", ("eradiff_lite.experiments",)),
    ("course", "course", ("eradiff_lite.course", "eradiff_lite.exercises", "eradiff_lite.viz", "eradiff_lite.eraser",
                          "eradiff_lite.eraser_frame", "eradiff_lite.widgets")),
    ("cli", "cli", ("eradiff_lite.cli", "eradiff_lite.__main__")),
]


def rank(module: str, layers=LAYERS) -> int:
    """The layer number of ``module`` (0 = the bottom); ``KeyError`` if the table does not place it."""
    best, found = -1, None
    for i, (_, _, names) in enumerate(layers):
        for name in names:
            inside = module.startswith(name + ".") and name != PACKAGE  # the root names itself only
            if (module == name or inside) and len(name) > best:
                best, found = len(name), i
    if found is None:
        raise KeyError(f"{module} is in no layer of tools/layers.py: add it to LAYERS")
    return found


def layer_name(module: str, layers=LAYERS) -> str:
    return layers[rank(module, layers)][0]


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read_sources(root: Path = ROOT) -> dict[str, tuple[str, bool]]:
    """``{module: (source, is_package)}`` of every module of the package under ``root``."""
    return {module_name(p, root): (p.read_text(), p.name == "__init__.py")
            for p in sorted((root / PACKAGE).rglob("*.py"))}


def imports_of(module: str, source: str, is_package: bool, known: set[str]) -> list[tuple[str, int, list[str]]]:
    """``[(imported module, line, names)]``: every import of the package's own modules in ``source``, top-level
    or not. ``from X import y`` counts as importing ``X.y`` when that is a module, else ``X``."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno, []) for a in node.names if a.name.split(".")[0] == PACKAGE]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            names = [a.name for a in node.names]
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in known]
            found += [(s, node.lineno, []) for s in subs]
            rest = [n for n in names if f"{target}.{n}" not in known]
            if rest or not subs:
                found.append((target, node.lineno, rest))
    return sorted(found, key=lambda f: f[1])


def import_graph(sources: dict[str, tuple[str, bool]]) -> dict[str, dict[str, list[str]]]:
    """``{module: {imported module: [names]}}`` over the package's own modules (no self-arrows)."""
    known = set(sources)
    graph: dict[str, dict[str, list[str]]] = {}
    for module, (source, is_package) in sources.items():
        arrows = graph.setdefault(module, {})
        for target, _, names in imports_of(module, source, is_package, known):
            if target != module:
                arrows.setdefault(target, []).extend(names)
    return graph


def upward(graph: dict[str, dict[str, list[str]]], layers=LAYERS) -> list[tuple[str, str]]:
    """The arrows from a module to one in a higher layer."""
    return [(a, b) for a in sorted(graph) for b in sorted(graph[a]) if rank(b, layers) > rank(a, layers)]


def private_imports(graph: dict[str, dict[str, list[str]]]) -> list[tuple[str, str, str]]:
    """``(module, other module, _name)``: a leading-underscore name taken from another module."""
    return [(a, b, n) for a in sorted(graph) for b, names in sorted(graph[a].items()) for n in names
            if n.startswith("_") and not n.startswith("__")]


def main() -> int:
    graph = import_graph(read_sources())
    for module in sorted(graph, key=lambda m: (rank(m), m)):
        print(f"{layer_name(module):<17} {module}")
    bad = upward(graph)
    for a, b in bad:
        print(f"UPWARD: {a} ({layer_name(a)}) -> {b} ({layer_name(b)})")
    print(f"{sum(map(len, graph.values()))} arrows, {len(bad)} upward")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
