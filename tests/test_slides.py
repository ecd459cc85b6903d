"""`make slides`: every notebook exports to a reveal.js deck with one slide per section."""

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
pytest.importorskip("nbconvert")

import nbbuild  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_notebook_exports_to_a_deck_with_its_sections_and_without_set_up_cells(tmp_path):
    decks = nbbuild.export_slides(NOTEBOOKS, tmp_path)
    assert [d.name for d in decks] == [f"{p.stem}.slides.html" for p in NOTEBOOKS]
    for path, deck in zip(NOTEBOOKS, decks):
        html = deck.read_text()
        nb = nbformat.read(path, as_version=4)
        headings = sum(nbbuild.slide_type(c) == "slide" for c in nb.cells)
        assert headings >= 5 and html.count("<section") >= headings, path.name
        assert "google.colab" not in html and "profile_name = None" not in html  # set-up cells are skipped


def test_slide_roles_follow_the_cells():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("if 'google.colab' in x: pass"),
        nbformat.v4.new_markdown_cell("## A section"), nbformat.v4.new_markdown_cell("Some text"),
        nbformat.v4.new_code_cell("x = 1")])
    nb.cells[1].metadata["tags"] = []
    nbbuild.slide_metadata(nb)
    assert [c.metadata["slideshow"]["slide_type"] for c in nb.cells] == ["slide", "skip", "slide", "subslide", "-"]


def test_every_notebook_round_trips_through_its_percent_script(tmp_path):
    pytest.importorskip("jupytext")
    for path in NOTEBOOKS:
        nbbuild.to_script(path, tmp_path / f"{path.stem}.py")
        nbbuild.build(tmp_path / f"{path.stem}.py", tmp_path / path.name)
        cells = lambda p: [(c.cell_type, c.source, c.metadata.get("tags", []))  # noqa: E731
                           for c in nbformat.read(p, as_version=4).cells]
        assert cells(tmp_path / path.name) == cells(path), path.name
    script = (tmp_path / f"{NOTEBOOKS[0].stem}.py").read_text()
    assert '# %% tags=["parameters"]' in script and "# %% [markdown]" in script


def test_lecture_decks_show_the_named_sections_of_several_notebooks(tmp_path):
    import json

    spec = ROOT / "docs" / "lecture_decks.json"
    decks = nbbuild.export_lectures(spec, tmp_path)
    plan = {k: v for k, v in json.loads(spec.read_text()).items() if k != "about"}
    assert [d.name for d in decks] == [f"{k}.slides.html" for k in plan]
    for deck, (lecture, lec) in zip(decks, plan.items()):
        html = deck.read_text()
        assert lec["title"] in html and "google.colab" not in html
        assert html.count("<section") >= sum(len(p["sections"]) for p in lec["parts"]), lecture
        for part in lec["parts"]:  # a curated deck: fewer cells than its notebooks
            nb = nbformat.read(ROOT / "notebooks" / f"{part['notebook']}.ipynb", as_version=4)
            assert 0 < len(nbbuild.sections(nb, part["sections"], part["notebook"])) < len(nb.cells)


def test_a_deck_entry_must_name_exactly_one_heading():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_markdown_cell("## 1. One"),
        nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("## 10. Ten"),
        nbformat.v4.new_markdown_cell("text")])
    assert [c.source for c in nbbuild.sections(nb, ["## 10", "## 1. One"])] == ["## 10. Ten", "text", "## 1. One",
                                                                                 "x = 1"]
    with pytest.raises(ValueError, match="names 2 headings"):
        nbbuild.sections(nb, ["## 1"], "nb")
    with pytest.raises(ValueError, match="names 0 headings"):
        nbbuild.sections(nb, ["## 2"], "nb")
