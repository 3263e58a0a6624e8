#!/usr/bin/env bash
# Set up .venv if needed, build the book strictly (-W: warnings and cell errors fail), then run the unit tests and
# execute every chapter with nbval. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
jupyter-book build . --all -W -n --keep-going
echo "==> the book built without warnings; now the tests"
python -m pytest tests book "$@"
