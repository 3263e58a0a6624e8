"""Sphinx extension: point the Colab launch button at the chapter's notebook on the `notebooks` branch.

sphinx-book-theme links Colab to the page's source file, a MyST ``.md`` that Colab cannot open. The chapters'
notebooks live on the branch written by ``tools/publish_notebooks.sh`` at the same paths with ``.ipynb``.
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx

NOTEBOOKS_BRANCH = "notebooks"


def _colab_to_notebooks_branch(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Rewrite .../blob/<branch>/<path>.md of the Colab button to .../blob/notebooks/<path>.ipynb."""
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if button.get("text") == "Colab":
                button["url"] = re.sub(r"/blob/[^/]+/(.*)\.md$", rf"/blob/{NOTEBOOKS_BRANCH}/\1.ipynb", button["url"])


def setup(app: Sphinx) -> dict[str, object]:
    """Run after the theme has added its launch buttons."""
    app.connect("html-page-context", _colab_to_notebooks_branch, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
