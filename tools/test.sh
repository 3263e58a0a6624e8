#!/usr/bin/env bash
# Set up .venv if needed, build the book strictly (-W: warnings and cell errors fail), then run the unit tests,
# execute every chapter with nbval, open every page of the built site in headless Chromium
# (tests/test_site.py; screenshots in _build/screenshots/), and run the live explorers in JupyterLab in the same
# browser (tests/test_live.py; screenshots in _build/screenshots/live/). Extra arguments go to pytest.
set -euo pipefail
# Chromium and npm first: without them (and no way to install them) stop now, not after the whole suite.
source "$(dirname "${BASH_SOURCE[0]}")/system_deps.sh"
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
jupyter-book build . --all -W -n --keep-going
echo "==> the book built without warnings; now the tests"
BOOK_SITE_TEST=required BOOK_LIVE_TEST=required python -m pytest tests book "$@"
