"""Build a course notebook from a percent-format script, run one to commit its outputs, or export slides.

    python tools/nbbuild.py build SCRIPT.py notebooks/NN_topic.ipynb
    python tools/nbbuild.py script notebooks/NN_topic.ipynb SCRIPT.py     (back to a script, to edit)
    python tools/nbbuild.py execute notebooks/NN_topic.ipynb --profile cpu
    python tools/nbbuild.py slides notebooks/*.ipynb --out runs/slides
    python tools/nbbuild.py lectures docs/lecture_decks.json --out runs/slides

Slides (reveal.js, through nbconvert): every ``#``/``##`` heading starts a slide, every other Markdown cell a
sub-slide (one idea per screen, read top to bottom), code and its output stay under the text that explains
them; the Colab install cell and the parameters cell are skipped. `slide_metadata` writes exactly that into
the cells' ``slideshow`` metadata (build and execute apply it). ``lectures`` builds the curated decks of
``docs/lecture_decks.json``: per lecture, the named sections of several notebooks in one deck.

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


def write_deck(nb, deck: Path) -> Path:
    """``nb`` as a reveal.js deck (HTML) at ``deck``, its cells' slide roles set by `slide_metadata`."""
    from nbconvert import SlidesExporter

    slide_metadata(nb)
    body, _ = SlidesExporter(reveal_scroll=True).from_notebook_node(nb)  # long cells scroll on a projector
    deck.write_text(body)
    print(f"{deck} ({body.count('<section')} sections)")
    return deck


def export_slides(notebooks: list[Path], out: Path) -> list[Path]:
    """One reveal.js deck (HTML) per notebook in ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    return [write_deck(nbformat.read(path, as_version=4), out / f"{path.stem}.slides.html") for path in notebooks]


def sections(nb, starts: list[str], name: str = "") -> list:
    """The cells of the sections of ``nb`` whose heading's first line starts with one of ``starts``, in that order: a
    section is a ``#``/``##`` heading cell and every cell up to the next one. Each start must name one heading."""
    heads = [i for i, c in enumerate(nb.cells) if slide_type(c) == "slide"] + [len(nb.cells)]
    cells = []
    for start in starts:
        found = [i for i in heads[:-1] if nb.cells[i].source.lstrip().split("\n", 1)[0].startswith(start)]
        if len(found) != 1:
            raise ValueError(f"{name}: {start!r} names {len(found)} headings, not one: edit docs/lecture_decks.json")
        cells += nb.cells[found[0]:heads[heads.index(found[0]) + 1]]
    return cells


def export_lectures(spec: Path, out: Path, notebooks: Path | None = None) -> list[Path]:
    """One reveal.js deck per lecture of ``spec`` (docs/lecture_decks.json) in ``out``; returns their paths."""
    import json

    notebooks = notebooks or spec.resolve().parent.parent / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    decks = []
    for lecture, plan in json.loads(spec.read_text()).items():
        if lecture == "about":
            continue
        deck_nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {plan['title']}")])
        for part in plan["parts"]:
            nb = nbformat.read(notebooks / f"{part['notebook']}.ipynb", as_version=4)
            slide_metadata(nb)
            if not deck_nb.metadata:  # the kernel and language of the first notebook
                deck_nb.metadata = {k: nb.metadata[k] for k in ("kernelspec", "language_info") if k in nb.metadata}
            deck_nb.cells += sections(nb, part["sections"], part["notebook"])
        decks.append(write_deck(deck_nb, out / f"{lecture}.slides.html"))
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
    lec = sub.add_parser("lectures")
    lec.add_argument("spec", type=Path)
    lec.add_argument("--out", type=Path, default=Path("runs/slides"))
    args = parser.parse_args()
    if args.cmd == "build":
        build(args.script, args.target)
    elif args.cmd == "script":
        to_script(args.notebook, args.script)
    elif args.cmd == "execute":
        execute(args.notebook, args.profile)
    elif args.cmd == "lectures":
        export_lectures(args.spec, args.out)
    else:
        export_slides(args.notebooks, args.out)
