#!/usr/bin/env bash
# Set up .venv if needed, then run the unit tests, execute every chapter with nbval, and build the book strictly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
python -m pytest tests book "$@"
jupyter-book build . -W -n --keep-going
echo "==> all tests passed and the book built without warnings"
