#!/usr/bin/env bash
# Write every chapter as a Jupyter notebook (no outputs) onto the branch `notebooks`, which the Colab launch
# buttons open. Each notebook starts with a cell that installs diffusion_utils from the repository when it runs
# on Colab (anywhere else it does nothing). Its Markdown is plain Markdown that Colab renders (tools/plain_notebooks.py:
# exercises as bold paragraphs, solutions folded in <details>, references, citations and glued numbers as the
# website shows them), so the script needs what the last build knew: it builds the book first (a few minutes) when
# _build/.doctrees/plain_notebooks.json is missing or older than a chapter. Maintainers run this after changing
# chapters, then `git push origin notebooks`. Uses the repository URL from _config.yml.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
context="_build/.doctrees/plain_notebooks.json"
if [ ! -f "$context" ] || [ -n "$(find book _toc.yml _config.yml references.bib -newer "$context" -print -quit)" ]; then
    echo "==> building the book first: the notebooks' text takes numbers, citations and glued values from it"
    jupyter-book build . --all -n --keep-going
fi
if [ ! -f "$context" ]; then
    echo "error: the build wrote no $context; is 'plain_notebooks: tools/' under sphinx: local_extensions: in _config.yml?" >&2
    exit 1
fi
work="$(mktemp -d)"
trap 'git worktree remove --force "$work" 2>/dev/null || rm -rf "$work"' EXIT
if git show-ref --quiet refs/heads/notebooks; then
    git worktree add --quiet "$work" notebooks
else
    git worktree add --quiet --detach "$work" && git -C "$work" checkout --quiet --orphan notebooks
    git -C "$work" rm -rf --quiet . >/dev/null 2>&1 || true
fi
WORK="$work" CONTEXT="$context" python - <<'PY'
import os
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

sys.path.insert(0, "tools")
import plain_notebooks

context = plain_notebooks.Context.load(Path(os.environ["CONTEXT"]))

config = yaml.safe_load(Path("_config.yml").read_text())
repo = config["repository"]["url"]
setup = (
    "# On Colab, install the book's package first (elsewhere this cell does nothing).\n"
    "import sys\n"
    "if 'google.colab' in sys.modules:\n"
    f"    %pip install --quiet 'diffusion_utils @ git+{repo}'"
)
for source in sorted(Path("book").rglob("*.md")):
    if "code-cell" not in source.read_text():
        continue  # a page without code is not a notebook
    notebook = jupytext.read(source)
    notebook = nbformat.from_dict(plain_notebooks.convert_notebook(notebook, context, source.with_suffix("").as_posix()))
    notebook.cells.insert(0, nbformat.v4.new_code_cell(setup))
    target = Path(os.environ["WORK"], source).with_suffix(".ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    print("wrote", target.relative_to(os.environ["WORK"]))
PY
git -C "$work" add -A
git -C "$work" commit --quiet -m "Notebooks generated from $(git rev-parse --short HEAD)" || echo "==> notebooks unchanged"
echo "==> branch 'notebooks' updated; publish it with: git push origin notebooks"
