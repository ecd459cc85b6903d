"""docs/glossary.md: every term it defines appears in the notebooks or the package, every notebook and section it
names exists, and the README and docs/teaching.md link to it. Reads text only: no notebook is executed."""

import json
import re

from test_docs_answer_key import ROOT, bad_references, notebook_sections

GLOSSARY = ROOT / "docs" / "glossary.md"


def glossary_rows() -> list[list[str]]:
    """The glossary's table rows (term, meaning, defined in), header and rule lines left out."""
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in GLOSSARY.read_text().splitlines() if line.startswith("| **")]


def names(term_cell: str) -> list[str]:
    """What a term cell names: its bold words and its `code` names."""
    return re.findall(r"\*\*(.+?)\*\*", term_cell) + re.findall(r"`([^`]+)`", term_cell)


def corpus() -> str:
    """Lower-cased text of every notebook cell (markdown and code) and every module of the package."""
    texts = ["".join(cell["source"]) for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
             for cell in json.loads(path.read_text())["cells"]]
    texts += [path.read_text() for path in sorted((ROOT / "eradiff_lite").rglob("*.py"))]
    return "\n".join(texts).lower()


def missing_terms(rows: list[list[str]], text: str) -> list[str]:
    return [name for row in rows for name in names(row[0]) if name.lower() not in text]


def test_every_glossary_term_appears_in_the_notebooks_or_the_package():
    rows = glossary_rows()
    assert len(rows) >= 30 and all(len(row) == 3 for row in rows), [r for r in rows if len(r) != 3]
    text = corpus()
    planted = [["**pepperoni detector** (`x_mix_tilde`)", "", ""]]  # the checker can fail
    assert missing_terms(planted, text) == ["pepperoni detector"]
    assert missing_terms(rows, text) == []
    for term in ("x_ori", "x_obj", "mask", "dynamic image", "lambda_t", "alpha_bar", "SNR", "DDIM", "strength", "CRO",
                 "fading path", "gamma", "cro_zero", "paired", "baseline", "baseline_ft", "cro_const", "SRA", "EMA",
                 "elimination", "re-creation", "masked PSNR", "HF ratio", "band", "local FID",
                 "paired bootstrap interval", "McNemar's test", "shown", "not shown", "near", "smooth", "textured",
                 "held-out families"):
        assert any(term in names(row[0]) for row in rows), f"the glossary has no entry for {term!r}"


def test_every_notebook_and_section_the_glossary_names_exists():
    rows, sections = glossary_rows(), notebook_sections()
    for row in rows:
        named = re.findall(r"notebook (\d{2})", row[2])
        assert named and set(named) <= set(sections), f"{row[0]}: defined in {row[2]!r}"
    assert bad_references(GLOSSARY.read_text(), sections) == []


def test_the_readme_and_the_teaching_notes_link_the_glossary():
    assert "](docs/glossary.md)" in (ROOT / "README.md").read_text()
    assert "](glossary.md)" in (ROOT / "docs" / "teaching.md").read_text()
