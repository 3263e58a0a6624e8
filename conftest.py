"""Collect the book's MyST chapters as notebooks and execute them with nbval from a clean kernel."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import jupytext
import nbval.plugin
import pytest

BOOK = Path(__file__).resolve().parent / "book"


def _is_chapter(path: Path) -> bool:
    """A chapter is a Markdown file under book/ whose jupytext header names a kernel."""
    if path.suffix != ".md" or BOOK not in path.resolve().parents:
        return False
    head = path.read_text(encoding="utf-8")[:600]
    return head.startswith("---") and "kernelspec:" in head


class MystNotebook(nbval.plugin.IPyNbFile):
    """nbval's notebook collector, reading the MyST source through jupytext instead of an .ipynb file."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.compare_outputs = False  # the source has no outputs; the chapters' check cells assert instead

    def collect(self):
        def read(path, as_version=4):
            return jupytext.read(path, as_version=as_version)

        with mock.patch.object(nbval.plugin.nbformat, "read", read):
            yield from super().collect()


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if _is_chapter(file_path):
        return MystNotebook.from_parent(parent, path=file_path)
    return None
