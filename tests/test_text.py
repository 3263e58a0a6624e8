"""Numbers for prose (du.sci) and the chapters' sources: no code that nothing executes."""

import re
from pathlib import Path

import pytest

import diffusion_utils as du

BOOK = Path(__file__).resolve().parents[1] / "book"


@pytest.mark.parametrize(("value", "digits", "text"), [
    (2.8e-4, 2, "2.8·10⁻⁴"), (4.036e-5, 3, "4.04·10⁻⁵"), (3e-13, 1, "3·10⁻¹³"), (1.5e7, 2, "1.5·10⁷"),
    (0.0337, 2, "0.034"), (1.0, 3, "1.00"), (-19.84, 3, "-19.8"), (1234.5, 2, "1200"), (0.0, 2, "0"),
])
def test_sci(value, digits, text):
    assert du.sci(value, digits) == text


@pytest.mark.parametrize(("args", "error", "match"), [
    ((float("nan"),), ValueError, "value must be finite"),
    (("1",), TypeError, "value must be a real number"),
    ((1.0, 0), ValueError, r"digits must be an int in \[1, 15\]"),
])
def test_sci_rejects(args, error, match):
    with pytest.raises(error, match=match):
        du.sci(*args)


CHAPTERS = sorted(p for p in BOOK.rglob("*.md") if "{code-cell}" in p.read_text())


def test_chapters_found():
    assert len(CHAPTERS) >= 8


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_code_that_nothing_runs(path):
    """Solutions and examples are code cells (executed by the build and nbval), never plain python fences."""
    fences = re.findall(r"^\s*```+\s*(?:python|py|ipython3?)\s*$", path.read_text(), flags=re.MULTILINE)
    assert not fences, f"{path.name} has {len(fences)} plain python fence(s)"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_inline_math_stays_on_one_source_line(path):
    """An inline $...$ that breaks across two source lines renders in Sphinx but shows as raw TeX in JupyterLab's
    MyST renderer (the live notebook): every Markdown line holds an even number of single dollars."""
    import jupytext

    broken = []
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            dollars = line.replace(r"\$", "").replace("$$", "").count("$")
            if dollars % 2:
                broken.append(line[:80])
    assert not broken, f"{path.name}: inline math continues on the next line after: {broken}"
