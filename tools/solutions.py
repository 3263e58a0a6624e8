"""Sphinx extension: a student edition without solutions, for gated solutions (with code cells) too.

sphinx-exercise's ``hide_solutions`` drops the ``solution`` and ``solution-start`` directives but leaves the
``solution-end`` marker behind, which fails the build, and it keeps everything between the two markers. This
extension takes over the switch: it lets sphinx-exercise build every solution, removes the finished solution nodes
from the pages, and strips the solutions from the downloadable sources (``_sources/**/*.md`` and ``*.ipynb``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.transforms import SphinxTransform
from sphinx_exercise.nodes import solution_node

# A ```` ```{solution} ```` block (a fence of backticks or colons), a gated range, and its two markers alone.
_SOLUTION_BLOCK = re.compile(r"^(?P<f>`{3,}|:{3,})\{solution\}.*?^(?P=f)[ \t]*$\n?", re.MULTILINE | re.DOTALL)
_GATED = re.compile(r"^(?P<f>`{3,}|:{3,})\{solution-start\}.*?^(?P<g>`{3,}|:{3,})\{solution-end\}[^\n]*\n(?P=g)[ \t]*$\n?",
                    re.MULTILINE | re.DOTALL)
_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}", re.MULTILINE)
_END = re.compile(r"^(?P<g>`{3,}|:{3,})\{solution-end\}[^\n]*\n(?P=g)[ \t]*$\n?", re.MULTILINE)


def _take_over_switch(app: Sphinx, config: Config) -> None:
    """Move ``hide_solutions`` to ``strip_solutions`` before sphinx-exercise reads it."""
    if config.hide_solutions:
        config.strip_solutions = True
        config.hide_solutions = False


class RemoveSolutions(SphinxTransform):
    """Remove every solution node once sphinx-exercise has merged the gated ones (its transform runs at 10)."""

    default_priority = 11

    def apply(self) -> None:
        if self.config.strip_solutions:
            for node in list(self.document.findall(solution_node)):
                node.parent.remove(node)


def strip_markdown(text: str) -> str:
    """MyST text without its solution blocks and gated solution ranges."""
    return _SOLUTION_BLOCK.sub("", _GATED.sub("", text))


def strip_notebook(notebook: dict) -> dict:
    """A notebook without solutions: blocks leave the markdown cells, and every cell of a gated range is dropped."""
    cells, inside = [], False
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            if not inside:
                cells.append(cell)
            continue
        text = _GATED.sub("", "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
        if inside:
            end = _END.search(text)
            if end is None:
                continue
            text, inside = text[end.end():], False
        start = _START.search(text)
        if start is not None:
            text, inside = text[: start.start()], True
        text = _SOLUTION_BLOCK.sub("", text)
        if text.strip():
            cells.append({**cell, "source": text})
    return {**notebook, "cells": cells}


def _strip_sources(app: Sphinx, exception: Exception | None) -> None:
    """Strip the solutions from the downloadable chapter sources of a student edition."""
    if exception is not None or not app.config.strip_solutions or app.builder.format != "html":
        return
    sources = Path(app.outdir) / "_sources"
    for path in sources.rglob("*.md"):
        path.write_text(strip_markdown(path.read_text(encoding="utf-8")), encoding="utf-8")
    for path in sources.rglob("*.ipynb"):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(strip_notebook(notebook), indent=1, ensure_ascii=False), encoding="utf-8")


def setup(app: Sphinx) -> dict[str, object]:
    """Register the switch, the transform and the clean-up of the sources."""
    app.add_config_value("strip_solutions", False, "env")
    app.connect("config-inited", _take_over_switch, priority=100)
    app.add_transform(RemoveSolutions)
    app.connect("build-finished", _strip_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
