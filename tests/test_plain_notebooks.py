"""tools/plain_notebooks.py: the downloadable and Colab notebooks carry plain Markdown, not MyST syntax.

Converted here: real chapters, read with jupytext as the build and tools/publish_notebooks.sh read them, with a
context like the one a build writes (numbers, citation labels from references.bib, glued values).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jupytext
import pybtex.database
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import plain_notebooks as pn
from solutions import strip_notebook

CHAPTERS = sorted(p for p in (ROOT / "book").rglob("*.md") if "kernelspec:" in p.read_text()[:600])
RAW = [re.compile(p, re.MULTILINE) for p in (
    r"^\s*(`{3,}|:{3,})\s*\{", r":class:\s*dropdown", r"^:label:", r"\{[\w:-]+\}`", r"^\([\w.:-]+\)=\s*$",
)]


def _context(chapter: Path, glue: dict[str, str] | None = None) -> pn.Context:
    """What a build would know about one chapter: exercise and figure numbers (chapter 8), citations, glue."""
    text = chapter.read_text()
    context = pn.Context(chapters={"doc": "8"})
    for k, label in enumerate(re.findall(r"^````\{exercise\}\n:label: (\S+)", text, re.MULTILINE), start=1):
        context.exercises[label] = context.numbers[label] = f"8.{k}"
        context.refs[label] = f"Exercise 8.{k}"
    for k, label in enumerate(dict.fromkeys(re.findall(r"\{numref\}`([^`]+)`", text)), start=1):
        context.numbers[label], context.refs[label] = f"8.{k}", f"Fig. 8.{k}"
    entries = pybtex.database.parse_file(str(ROOT / "references.bib")).entries
    context.citations = pn._author_year_labels(dict(entries))
    context.glue = {"doc": glue or {}}
    return context


def _notebook(chapter: Path) -> dict:
    return jupytext.read(chapter)


def _markdown(notebook: dict) -> list[str]:
    return [c["source"] for c in notebook["cells"] if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_myst_syntax_left(chapter):
    notebook = _notebook(chapter)
    out = pn.convert_notebook(notebook, _context(chapter), "doc")
    for text in _markdown(out):
        raw = [p.pattern for p in RAW if p.search(text)]
        assert not raw, f"{chapter.name}: MyST left ({raw}) in {text[:300]!r}"
    # Code cells are untouched and keep their order; Markdown cells only go when nothing is left of them.
    assert [c["source"] for c in out["cells"] if c["cell_type"] == "code"] == \
        [c["source"] for c in notebook["cells"] if c["cell_type"] == "code"]
    assert all(text.strip() for text in _markdown(out))
    assert "".join(_markdown(out)).count("<details>") == "".join(_markdown(out)).count("</details>")


def test_sampling_chapter():
    chapter = ROOT / "book" / "reverse" / "sampling.md"
    out = pn.convert_notebook(_notebook(chapter), _context(chapter, {"sampling_n": "4000"}), "doc")
    text = "\n\n".join(_markdown(out))
    # Exercises: bold numbered paragraphs; solutions folded in <details> right after their exercise.
    for k in (1, 2, 3):
        assert f"**Exercise 8.{k}**" in text
        assert f"<summary><b>Solution to Exercise 8.{k} (its code is in the next cell)</b></summary>" in text
        assert text.index(f"**Exercise 8.{k}**") < text.index(f"Solution to Exercise 8.{k}")
    # The gated solution's prose is inside the fold, and the code cell follows the cell that holds it.
    cells = out["cells"]
    first = next(i for i, c in enumerate(cells) if "Solution to Exercise 8.1" in c["source"])
    assert cells[first]["source"].rstrip().endswith("</details>")
    assert "variance=\"beta\"" in cells[first]["source"].split("<summary>")[1]
    assert cells[first + 1]["cell_type"] == "code"
    # Citations as the text of the site reads them, the two 2021 papers by Song apart.
    assert "*ancestral sampling* (Ho et al. (2020), Algorithm 2)" in text
    assert "Song et al. (2021a)" in text and "Song et al. (2021b)" in text
    # References: the target's text; labels gone; glue: the value where known, else the placeholder.
    assert "The introduction promised" in text and "(sampling)=" not in text
    assert re.search(r"\(Fig\. 8\.\d\)", text)
    assert "4,000 samples with 4,000 fresh points" in text
    assert pn.PLACEHOLDER in text


def test_student_edition_has_no_solutions():
    chapter = ROOT / "book" / "forward" / "fixed_factor.md"
    student = strip_notebook(_notebook(chapter))
    text = "\n\n".join(_markdown(pn.convert_notebook(student, _context(chapter), "doc")))
    assert "**Exercise 8.1**" in text and "**Exercise 8.2**" in text
    assert "<details>" not in text and "Solution" not in text


def test_glue_formats_like_myst_nb():
    from myst_nb.core.variables import format_plain_text

    for value, fmt in (("4000", ","), ("0.23812", ".3f"), ("12.7", ".0f"), ("'3·10⁻⁵'", ""), ("14.66", ".1f"),
                       ("168", "d"), ("0.0029", ".1%")):
        assert pn.format_glue(value, fmt) == format_plain_text(value, fmt)


def test_roles():
    context = pn.Context(refs={"schedules": "A variance schedule", "fig-x": "Fig. 3.1"}, numbers={"fig-x": "3.1"},
                         citations={"ho2020": "Ho et al., 2020", "kingma2014": "Kingma and Welling, 2014"})
    convert = pn._Converter(context, "doc").convert
    assert convert("{ref}`schedules`") == "A variance schedule"
    assert convert("the {ref}`next chapter <schedules>`") == "the next chapter"
    assert convert("{numref}`fig-x` and {numref}`Figure %s <fig-x>`") == "Fig. 3.1 and Figure 3.1"
    assert convert("{cite:p}`ho2020,kingma2014`") == "(Ho et al., 2020; Kingma and Welling, 2014)"
    assert convert("{cite:t}`kingma2014`") == "Kingma and Welling (2014)"
    assert convert("(x)=\n# Title\n\n```{note}\nSee $x$.\n```") == "# Title\n\n> **Note**\n>\n> See $x$."
    assert convert("{glue:text}`doc_missing:.2f`") == pn.PLACEHOLDER
