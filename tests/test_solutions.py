"""The student edition's clean-up (tools/solutions.py): solutions leave the sources, everything else stays."""

import importlib.util
import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("solutions", ROOT / "tools" / "solutions.py")
solutions = importlib.util.module_from_spec(spec)
spec.loader.exec_module(solutions)

CHAPTERS = sorted(p for p in (ROOT / "book").rglob("*.md") if "{solution" in p.read_text())


def _gated_code_cells(text: str) -> int:
    """Code cells that sit between a solution-start and its solution-end marker."""
    ranges = re.findall(r"\{solution-start\}.*?\{solution-end\}", text, flags=re.DOTALL)
    return sum(r.count("```{code-cell}") for r in ranges)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_strip_markdown_keeps_exercises(path):
    text = path.read_text()
    stripped = solutions.strip_markdown(text)
    assert "{solution" not in stripped
    assert stripped.count("{exercise}") == text.count("{exercise}") > 0
    assert stripped.count("```{code-cell}") == text.count("```{code-cell}") - _gated_code_cells(text)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_strip_notebook_drops_solution_cells(path):
    text = path.read_text()
    notebook = jupytext.reads(text, fmt="md:myst")
    code_before = sum(c["cell_type"] == "code" for c in notebook["cells"])
    stripped = solutions.strip_notebook(notebook)
    code_after = sum(c["cell_type"] == "code" for c in stripped["cells"])
    assert code_after == code_before - _gated_code_cells(text)
    markdown = "".join(c["source"] for c in stripped["cells"] if c["cell_type"] == "markdown")
    assert "{solution" not in markdown and markdown.count("{exercise}") == text.count("{exercise}")


def test_a_gated_solution_exists():
    """The book has solutions with executed code, so the tests above exercise the gated path."""
    assert sum(_gated_code_cells(p.read_text()) for p in CHAPTERS) > 0
