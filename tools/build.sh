#!/usr/bin/env bash
# Set up .venv if needed, then execute every chapter and build the website into _build/html/ (--all: every page is
# rebuilt, so outputs always come from the current package).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
jupyter-book build . --all -W -n --keep-going
echo "==> the book is at $ROOT/_build/html/index.html"
