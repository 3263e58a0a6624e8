#!/usr/bin/env bash
# Set up .venv if needed; build the book strictly (-W: warnings and cell errors fail); then the unit tests, the
# browser tests on the built site: every page in headless Chromium
# (tests/test_site.py, test_site_figures.py, test_citations.py; screenshots in _build/screenshots/) and the live
# explorers in JupyterLab in the same browser (tests/test_live.py; screenshots in _build/screenshots/live/),
# and every chapter from a clean kernel (nbval). Extra arguments go to pytest (e.g. -k mixture).
set -euo pipefail
# Chromium and npm first: without them (and no way to install them) stop now, not after the whole suite.
source "$(dirname "${BASH_SOURCE[0]}")/system_deps.sh"
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

jupyter-book build . --all -W -n --keep-going
echo "==> the book built without warnings; now the tests"
# One after the other, never beside the build: with the unit tests running beside it, the build's fixed-factor
# chapter stalled for 300 s in fresh clones (three times; alone it never did).
BOOK_SITE_TEST=required BOOK_LIVE_TEST=required python -m pytest tests book "$@"
