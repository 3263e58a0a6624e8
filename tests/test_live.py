"""The live notebook, end to end: JupyterLab from the venv, the chapters with a live explorer, headless Chromium.

For each chapter whose code calls an explorer of ``diffusion_utils.figures.widgets`` (today fixed_factor.md, example.md and
sampling.md), the test opens the chapter as a student does (*Open With → Jupytext Notebook*), checks that the
Markdown is rendered as MyST (jupyterlab-myst: exercise boxes, folded solutions, typeset math, no raw directives),
runs the cells **up to and including the explorer** (the cells after it do not feed the explorer, and nbval executes
every cell of every chapter in the same ``tools/test.sh``; ``BOOK_LIVE_RUN_ALL=1`` runs them all, as *Run All*),
moves every slider of the explorer with an arrow key on the slider's handle and the first one with a mouse drag, and
asserts that each move shows a new image. Then it saves the notebook through JupyterLab (what autosave does) and
asserts that the Markdown file was written and is byte for byte what it was. The server serves a temporary copy of
``book/``, so the repository's chapters are never opened for writing.

``tools/test.sh`` sets BOOK_LIVE_TEST=required: there a missing Chromium or a server that does not start fails. A
bare ``pytest tests`` skips this module. Latencies are not asserted here: ``benchmarks/bench_live.py`` prints them.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import jupytext
import pytest
from browser import Chromium, find_chromium, is_external
from live_lab import JupyterLab, LabSession, explorer_cells, explorer_chapters, explorer_names

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = os.environ.get("BOOK_LIVE_TEST") == "required"
RUN_ALL = os.environ.get("BOOK_LIVE_RUN_ALL") == "1"
SHOTS = ROOT / "_build" / "screenshots" / "live"
EXPLORERS = explorer_names()


CHAPTERS = explorer_chapters(EXPLORERS)

# What must not be left of MyST syntax in a rendered Markdown cell.
RAW = [re.compile(p, re.MULTILINE) for p in (
    r"```\s*\{", r":::\s*\{", r":class:\s*dropdown", r":label:", r"\{(numref|ref|cite:[pt]|eq|glue:text|doc)\}`",
    r"^\([\w-]+\)=\s*$", r"\\(frac|mathcal|operatorname|begin\{)",
)]


def test_explorer_chapters_found():
    assert {"book/forward/fixed_factor.md", "book/forward/example.md", "book/reverse/sampling.md"} <= set(CHAPTERS)


@pytest.fixture(scope="module")
def lab():
    """JupyterLab on 127.0.0.1 and one headless Chromium tab on it, for the whole module."""
    if not REQUIRED:
        pytest.skip("the live-notebook test runs from tools/test.sh (BOOK_LIVE_TEST=required)")
    binary = find_chromium()
    assert binary, "Chromium not found: install it (Debian: chromium) or set CHROMIUM=/path/to/chrome"
    server = JupyterLab()
    browser = None
    try:
        browser = Chromium(binary, width=1366, height=900)
        session = LabSession(browser.page(), server)
        yield session
        session.page.close()
    finally:
        if browser is not None:
            browser.close()
        server.close()


def _differences(model: dict, path: Path) -> tuple[list[int], list[str]]:
    """Cells (type, source, metadata) and notebook metadata keys that differ between JupyterLab's model and the file."""
    notebook = jupytext.read(path)
    theirs = [(c["cell_type"], "".join(c["source"]), c.get("metadata", {})) for c in model["cells"]]
    ours = [(c.cell_type, c.source, dict(c.metadata)) for c in notebook.cells]
    cells = [i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b] + ([-1] if len(theirs) != len(ours) else [])
    keys = sorted(k for k in set(model["metadata"]) | set(notebook.metadata)
                  if model["metadata"].get(k) != notebook.metadata.get(k))
    return cells, keys


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: Path(c).stem)
def test_live_explorer(lab, chapter):
    path = lab.lab.tree / chapter
    before = path.read_bytes()
    factory = lab.open(chapter)
    assert factory == "Jupytext Notebook", f"jupytext's notebook view is missing; opened with {factory}"

    # Opening changes nothing that jupytext would write: only language_info, which the kernel stamps and the
    # chapter's header leaves out (it differs between Python versions). JupyterLab still shows the tab as modified.
    cells, keys = _differences(lab.call("model()"), path)
    assert cells == [], f"opening {chapter} changed cells {cells}"
    assert set(keys) <= {"language_info"}, f"opening {chapter} changed the notebook metadata {keys}"

    # The notebook view: MyST rendered by jupyterlab-myst, not raw directives.
    rendered = lab.call("rendered()")
    markdown = [c for c in jupytext.read(path).cells if c.cell_type == "markdown"]
    assert len(rendered) == len(markdown)
    for cell in rendered:
        assert cell["myst"], f"markdown cell {cell['index']} of {chapter} is not rendered by jupyterlab-myst"
        raw = [p.pattern for p in RAW if p.search(cell["text"])]
        assert not raw, f"cell {cell['index']} of {chapter} shows raw MyST ({raw}): {cell['text'][:300]!r}"
        if re.search(r"^`{3,}\{exercise\}", cell["source"], re.MULTILINE):
            assert cell["exercises"] >= 1, f"cell {cell['index']} of {chapter}: exercise not drawn as a box"
        if re.search(r"^`{3,}\{solution(-start)?\}", cell["source"], re.MULTILINE):
            assert cell["solutions"] >= 1, f"cell {cell['index']} of {chapter}: solution not folded"
        if "$" in cell["source"]:
            assert cell["math"] >= 1, f"cell {cell['index']} of {chapter}: math not typeset"

    explorer = explorer_cells(lab.call("model()")["cells"], EXPLORERS)[0]
    lab.run(-1 if RUN_ALL else explorer)
    drawn = lab.explorer(explorer)
    assert drawn["handles"] >= 1 and drawn["img"] > 0, f"the explorer of {chapter} shows no slider or no image"

    moves = [lab.press(explorer, slider) for slider in range(drawn["handles"])]
    moves.append(lab.drag(explorer, 0, 40))
    SHOTS.mkdir(parents=True, exist_ok=True)
    lab.screenshot(SHOTS / f"{path.stem}.png")
    for move in moves:
        assert move.before != move.after, f"{chapter}: slider {move.slider} did not move ({move.how})"
        assert move.changed, f"{chapter}: slider {move.slider} moved ({move.how}) but the image did not change"

    # Save as autosave does; the Markdown file is written and keeps every byte.
    mtime = path.stat().st_mtime_ns
    time.sleep(0.05)
    saved = lab.call("save()")
    assert not saved["dirty"]
    assert path.stat().st_mtime_ns != mtime, f"saving {chapter} did not write the file"
    assert path.read_bytes() == before, f"saving {chapter} in JupyterLab changed the file"
    lab.call("close()")


def test_chapters_unchanged_and_offline(lab):
    """Runs last: every chapter of the served copy is byte for byte what it was, and the page stayed on 127.0.0.1."""
    assert lab.lab.changed_chapters() == []
    external = [url for url in lab.page.requests if is_external(url, lab.lab.url)]
    assert external == [], f"JupyterLab requested other hosts: {external[:5]}"
