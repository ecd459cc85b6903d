"""docs/answer_key.md answers every discussion question of docs/teaching.md, and its references to notebook sections
point at headings that exist. Reads text only: no notebook is executed."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = ROOT / "docs" / "answer_key.md"
TEACHING = ROOT / "docs" / "teaching.md"
LABELS = ("**Answer.**", "**Evidence.**", "**Common wrong answer.**")
FIRST_WORDS = 6  # how much of each question must appear, in order, in its notebook's part of the key
# "## 3 · The ablation", "## 1b. Build it", "### 3b. Build it": the section's id is 3, 1b, 3b
HEADING = re.compile(r"^#{2,4}\s+(\d+[a-z]?)\s*[·.]\s")
REFERENCE = re.compile(r"notebook\s+(\d{2}),?\s+sections?\s+(\d+[a-z]?)\b", re.IGNORECASE)


def normalised(text: str) -> str:
    """Lower case, without markdown emphasis, code ticks or quotes, whitespace collapsed."""
    return " ".join(re.sub(r"[`*\"“”]", "", text).lower().split())


def discussion_questions() -> dict[str, list[str]]:
    """teaching.md's table: notebook number -> the questions of its 'discussion questions' cell."""
    lines = TEACHING.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|") and "discussion questions" in line)
    header = [c.strip() for c in lines[start].strip().strip("|").split("|")]
    column = header.index("discussion questions")
    questions = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        number = re.match(r"\d{2}", cells[0]).group()
        questions[number] = [q.strip() + "?" for q in re.split(r"\?(?=\s|$)", cells[column]) if q.strip()]
    return questions


def key_parts(text: str) -> dict[str, str]:
    """answer_key.md split at its '## Notebook NN' headings: notebook number -> that part's text."""
    parts = re.split(r"^## Notebook (\d{2})\b", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def notebook_sections() -> dict[str, set[str]]:
    """Every notebook's numbered section headings: notebook number -> {"1", "1b", "3b", ...}."""
    sections = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        sections[path.name[:2]] = {m.group(1) for line in source.splitlines() if (m := HEADING.match(line))}
    return sections


def bad_references(text: str, sections: dict[str, set[str]]) -> list[str]:
    """The references 'notebook NN, section S' in `text` whose notebook or section heading does not exist."""
    return [m.group(0) for m in REFERENCE.finditer(text) if m.group(2) not in sections.get(m.group(1), set())]


def test_every_discussion_question_of_teaching_md_has_an_entry_in_the_answer_key():
    questions = discussion_questions()
    assert sorted(questions) == [f"{n:02d}" for n in range(1, 9)], sorted(questions)
    assert sum(len(q) for q in questions.values()) >= 13, questions  # two per notebook, three in 06
    parts = key_parts(KEY.read_text())
    assert sorted(parts) == sorted(questions), f"answer_key.md has notebook parts {sorted(parts)}"
    for number, asked in questions.items():
        entries = re.split(r"^### ", parts[number], flags=re.MULTILINE)[1:]
        for question in asked:
            start = " ".join(normalised(question).split()[:FIRST_WORDS])
            answering = [e for e in entries if start in normalised(e.splitlines()[0])]
            assert answering, f"notebook {number}: no entry whose heading quotes {question!r}"
            for label in LABELS:
                assert label in answering[0], f"notebook {number}, {question!r}: no {label}"


def test_every_notebook_section_the_answer_key_names_exists():
    sections = notebook_sections()
    assert {"05", "06", "08"} <= set(sections) and "8" in sections["05"] and "11" in sections["06"], sections
    # the checker can fail: a section that does not exist, a notebook that does not exist, and the old 06 "9b"
    planted = "notebook 05, section 12; notebook 09, section 1; notebook 06, section 9b; notebook 08, section 2"
    assert bad_references(planted, sections) == ["notebook 05, section 12", "notebook 09, section 1",
                                                 "notebook 06, section 9b"]
    text = KEY.read_text()
    found = REFERENCE.findall(text)
    assert len(found) >= 40 and {n for n, _ in found} == {f"{n:02d}" for n in range(1, 9)}, found
    assert bad_references(text, sections) == [], bad_references(text, sections)
