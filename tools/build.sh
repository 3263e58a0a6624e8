#!/usr/bin/env bash
# Set up .venv if needed, then execute every chapter and build the website into _build/html/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
jupyter-book build . -W -n --keep-going
echo "==> the book is at $ROOT/_build/html/index.html"
