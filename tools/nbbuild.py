"""Build a course notebook from a percent-format script, run one to commit its outputs, or export slides.

    python tools/nbbuild.py build SCRIPT.py notebooks/NN_topic.ipynb
    python tools/nbbuild.py script notebooks/NN_topic.ipynb SCRIPT.py     (back to a script, to edit)
    python tools/nbbuild.py execute notebooks/NN_topic.ipynb --profile cpu
    python tools/nbbuild.py slides notebooks/*.ipynb --out runs/slides

Slides (reveal.js, through nbconvert): every ``#``/``##`` heading starts a slide, every other Markdown cell a
sub-slide (one idea per screen, read top to bottom), code and its output stay under the text that explains
them; the Colab install cell and the parameters cell are skipped. `slide_metadata` writes exactly that into
the cells' ``slideshow`` metadata (build and execute apply it).

Script format: jupytext's percent format (jupytext reads and writes it): cells start with ``# %%`` (code)
or ``# %% [markdown]`` (Markdown, each line prefixed with ``# ``); ``# %% tags=["parameters"]`` tags a cell.
``execute`` runs the notebook in place with papermill (fresh kernel, the given profile) and records the
profile and device in ``metadata.eradiff``, so the committed outputs say where they came from.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat


def slide_type(cell) -> str:
    """The reveal.js role of a cell (see the module docstring)."""
    if cell.cell_type == "markdown":
        first = cell.source.lstrip().split("\n", 1)[0]
        return "slide" if re.match(r"#{1,2} ", first) else "subslide"
    tags = cell.metadata.get("tags", [])
    if "parameters" in tags or "injected-parameters" in tags or "google.colab" in cell.source:
        return "skip"
    return "-"


def slide_metadata(nb) -> None:
    for cell in nb.cells:
        cell.metadata["slideshow"] = {"slide_type": slide_type(cell)}


def export_slides(notebooks: list[Path], out: Path) -> list[Path]:
    """One reveal.js deck (HTML) per notebook in ``out``; returns their paths."""
    from nbconvert import SlidesExporter

    out.mkdir(parents=True, exist_ok=True)
    exporter = SlidesExporter(reveal_scroll=True)  # long cells scroll instead of running off a projector
    decks = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        slide_metadata(nb)
        body, _ = exporter.from_notebook_node(nb)
        deck = out / f"{path.stem}.slides.html"
        deck.write_text(body)
        decks.append(deck)
        print(f"{deck} ({body.count('<section')} sections)")
    return decks


def build(script: Path, target: Path) -> None:
    import jupytext

    nb = jupytext.read(script, fmt="py:percent")
    for cell in nb.cells:  # jupytext keeps empty metadata keys; keep only what the course uses
        cell.metadata = {k: v for k, v in cell.metadata.items() if k == "tags"}
    nb.metadata = {}
    slide_metadata(nb)
    if target.exists():  # keep what the notebook declares about itself (e.g. Colab's GPU runtime)
        nb.metadata.update(nbformat.read(target, as_version=4).metadata)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, target)
    print(f"wrote {target} ({len(nb.cells)} cells)")


def to_script(notebook: Path, script: Path) -> None:
    """The notebook's cells (no outputs) as a percent-format script, to edit and `build` again."""
    import jupytext

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k == "tags"}
    nb.metadata = {"jupytext": {"notebook_metadata_filter": "-all", "cell_metadata_filter": "tags"}}
    jupytext.write(nb, script, fmt="py:percent")
    print(f"wrote {script} ({len(nb.cells)} cells)")


def execute(path: Path, profile: str) -> None:
    import papermill as pm

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from eradiff_lite.profiles import describe_device

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        start = time.perf_counter()
        pm.execute_notebook(str(path), str(out), cwd=str(path.parent), kernel_name="python3",
                            parameters={"profile_name": profile}, progress_bar=False)
        seconds = time.perf_counter() - start
        nb = nbformat.read(out, as_version=4)
    # keep the committed parameters cell as written (papermill adds an injected copy)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    nb.metadata.pop("papermill", None)
    for c in nb.cells:
        c.metadata.pop("papermill", None)
        c.metadata.pop("execution", None)
    slide_metadata(nb)
    nb.metadata["eradiff"] = {"profile": profile, "device": describe_device(), "seconds": round(seconds, 1)}
    nbformat.write(nb, path)
    print(f"executed {path} in profile {profile} ({seconds:.1f} s); outputs committed in place")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("script", type=Path)
    b.add_argument("target", type=Path)
    t = sub.add_parser("script")
    t.add_argument("notebook", type=Path)
    t.add_argument("script", type=Path)
    e = sub.add_parser("execute")
    e.add_argument("notebook", type=Path)
    e.add_argument("--profile", default="cpu")
    sl = sub.add_parser("slides")
    sl.add_argument("notebooks", type=Path, nargs="+")
    sl.add_argument("--out", type=Path, default=Path("runs/slides"))
    args = parser.parse_args()
    if args.cmd == "build":
        build(args.script, args.target)
    elif args.cmd == "script":
        to_script(args.notebook, args.script)
    elif args.cmd == "execute":
        execute(args.notebook, args.profile)
    else:
        export_slides(args.notebooks, args.out)
