"""Draw the package's own import graph (Markdown: counts, a mermaid diagram of the layers, adjacency tables).

    python tools/import_graph.py                                   the working tree
    python tools/import_graph.py --before 246a241 --out docs/import_graph.md
                                                                   a past commit ("before") and the working tree

Arrows are read with ``ast`` by `tools/layers.py` (every import of the package's own modules, in functions too) and
judged by its layer table. At a past commit a module is judged where it sat then (``eradiff_lite.metrics.evaluate``
as a measure); a module the table cannot place (the old top-level ``eradiff_lite.bench``) is listed as unplaced.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import layers  # noqa: E402

UNPLACED = "(unplaced)"


def sources_at(rev: str, root: Path = layers.ROOT) -> dict[str, tuple[str, bool]]:
    """`layers.read_sources` of the package as it was at git revision ``rev``."""
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "--", layers.PACKAGE], cwd=root,
                           capture_output=True, text=True, check=True).stdout.split()
    out = {}
    for name in sorted(n for n in names if n.endswith(".py")):
        text = subprocess.run(["git", "show", f"{rev}:{name}"], cwd=root, capture_output=True, text=True,
                              check=True).stdout
        out[layers.module_name(root / name, root)] = (text, name.endswith("/__init__.py"))
    return out


def place(module: str) -> tuple[int, str]:
    """(rank, layer name); unplaced modules rank -1."""
    try:
        return layers.rank(module), layers.layer_name(module)
    except KeyError:
        return -1, UNPLACED


def component(module: str) -> str:
    """The table entry a module belongs to, without the package prefix (``data``, ``widgets.mask_editing``, ...)."""
    best = ""
    for _, _, names in layers.LAYERS:
        for name in names:
            inside = module.startswith(name + ".") and name != layers.PACKAGE
            if (module == name or inside) and len(name) > len(best):
                best = name
    if not best:  # unplaced: its top-level package
        best = ".".join(module.split(".")[:2])
    return "(root)" if best == layers.PACKAGE else best.removeprefix(layers.PACKAGE + ".")


def short(module: str) -> str:
    return module.removeprefix(layers.PACKAGE + ".") if module != layers.PACKAGE else "(root)"


def summary(graph: dict) -> dict:
    arrows = [(a, b) for a in graph for b in graph[a]]
    judged = [(a, b) for a, b in arrows if place(a)[0] >= 0 and place(b)[0] >= 0]
    return {"modules": len(graph), "arrows": len(arrows),
            "package_arrows": len({(component(a), component(b)) for a, b in arrows if component(a) != component(b)}),
            "upward": sorted((a, b) for a, b in judged if place(b)[0] > place(a)[0]),
            "private": layers.private_imports(graph),
            "unplaced": sorted(m for m in graph if place(m)[0] < 0)}


def mermaid(graph: dict) -> list[str]:
    """The layers as a flowchart, top layer first; an arrow's label is its count of module arrows; upward in red."""
    edges = Counter((place(a)[1], place(b)[1]) for a in graph for b in graph[a])
    names = [name for name, _, _ in reversed(layers.LAYERS)] + ([UNPLACED] if any(n == UNPLACED for e in edges
                                                                                  for n in e) else [])
    ids = {name: f"L{i}" for i, name in enumerate(names)}
    lines = ["```mermaid", "flowchart TD"]
    lines += [f'    {ids[n]}["{n} ({edges.get((n, n), 0)} inside)"]' for n in names]
    up = []
    for i, ((a, b), count) in enumerate(sorted(((e, c) for e, c in edges.items() if e[0] != e[1]),
                                               key=lambda ec: (names.index(ec[0][0]), names.index(ec[0][1])))):
        lines.append(f"    {ids[a]} -->|{count}| {ids[b]}")
        if UNPLACED not in (a, b) and place_rank(b) > place_rank(a):
            up.append(str(i))
    if up:
        lines.append(f"    linkStyle {','.join(up)} stroke:red,stroke-width:3px")
    return lines + ["```"]


def place_rank(layer: str) -> int:
    return [name for name, _, _ in layers.LAYERS].index(layer)


def tables(graph: dict) -> list[str]:
    packages: dict[str, Counter] = {}
    for a in graph:
        for b in graph[a]:
            if component(a) != component(b):
                packages.setdefault(component(a), Counter())[component(b)] += 1
    order = sorted({component(m) for m in graph}, key=lambda c: (place(next(m for m in graph if component(m) == c))[0],
                                                                 c))
    lines = ["| package | layer | imports (module arrows) |", "|---|---|---|"]
    for c in order:
        layer = place(next(m for m in graph if component(m) == c))[1]
        targets = ", ".join(f"{t} ({n})" for t, n in sorted(packages.get(c, {}).items()))
        lines.append(f"| `{c}` | {layer} | {targets or '-'} |")
    lines += ["", "<details><summary>every module and what it imports</summary>", "",
              "| module | layer | imports |", "|---|---|---|"]
    for m in sorted(graph, key=lambda m: (place(m)[0], m)):
        lines.append(f"| `{short(m)}` | {place(m)[1]} | {', '.join(short(b) for b in sorted(graph[m])) or '-'} |")
    return lines + ["", "</details>"]


def section(title: str, graph: dict) -> list[str]:
    s = summary(graph)
    lines = [f"## {title}", "",
             f"{s['modules']} modules, {s['arrows']} module arrows ({s['package_arrows']} between packages), "
             f"**{len(s['upward'])} upward**, {len(s['private'])} private names taken from another module.", ""]
    if s["upward"]:
        lines += ["Upward arrows (a lower layer importing a higher one):", ""]
        lines += [f"- `{short(a)}` ({place(a)[1]}) -> `{short(b)}` ({place(b)[1]})" for a, b in s["upward"]] + [""]
    if s["private"]:
        lines += ["Private names:", ""] + [f"- `{short(a)}` takes `{n}` from `{short(b)}`" for a, b, n in s["private"]]
        lines.append("")
    if s["unplaced"]:
        lines += [f"Not in the layer table (arrows from them are not judged): {', '.join(map(short, s['unplaced']))}.",
                  ""]
    return lines + mermaid(graph) + [""] + tables(graph) + [""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=None, help="a git revision to draw first, as 'before'")
    parser.add_argument("--out", default=None, help="Markdown file to write (default: print)")
    args = parser.parse_args(argv)
    lines = ["# The package's import graph", "",
             "Generated by `python tools/import_graph.py" + (f" --before {args.before}" if args.before else "") +
             (f" --out {args.out}" if args.out else "") + "` from the source (`tools/layers.py` reads the imports "
             "with `ast`, function-level ones included, and holds the layer table). The layering is explained in "
             "[layers.md](layers.md).", ""]
    if args.before:
        lines += section(f"Before (commit {args.before})", layers.import_graph(sources_at(args.before)))
    lines += section("After (the working tree)" if args.before else "The working tree",
                     layers.import_graph(layers.read_sources()))
    text = "\n".join(lines).rstrip() + "\n"
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
