#!/usr/bin/env bash
# Set up .venv if needed, then execute every chapter and build the website into _build/html/ (--all: every page is
# rebuilt, so outputs always come from the current package).
#   bash tools/build.sh             the full edition (with solutions)   -> _build/html/index.html
#   bash tools/build.sh --student   the student edition, no solutions   -> _build/student/html/index.html
# JUPYTERHUB_URL=https://hub.example.edu adds a JupyterHub launch button to either edition (see book/instructors.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# One torch thread per kernel: the toy networks gain nothing from a second one, and two OpenMP threads on a busy
# 2-core machine wait for each other at every small operation (tools/test.sh does the same).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
edition="full"
for arg in "$@"; do
    case "$arg" in
        --student) edition="student" ;;
        *) echo "usage: bash tools/build.sh [--student]" >&2; exit 2 ;;
    esac
done
if [ "$edition" = "full" ] && [ -z "${JUPYTERHUB_URL:-}" ]; then
    jupyter-book build . --all -W -n --keep-going
    echo "==> the book is at $ROOT/_build/html/index.html"
    exit 0
fi
# Another edition: _config.yml with one or two values switched, written under _build/ (never a second config to edit).
out="_build/$([ "$edition" = student ] && echo student || echo hub)"
mkdir -p "$out"
EDITION="$edition" OUT="$out" python - <<'PY'
import os
from pathlib import Path

import yaml

config = yaml.safe_load(Path("_config.yml").read_text())
if os.environ["EDITION"] == "student":
    config["title"] += " (student edition)"
    config["sphinx"]["config"]["hide_solutions"] = True
if os.environ.get("JUPYTERHUB_URL"):
    config["launch_buttons"]["jupyterhub_url"] = os.environ["JUPYTERHUB_URL"]
# local_extensions are resolved from the config file's folder: make them absolute.
config["sphinx"]["local_extensions"] = {
    name: str(Path(path).resolve()) for name, path in config["sphinx"]["local_extensions"].items()
}
Path(os.environ["OUT"], "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
PY
jupyter-book build . --all -W -n --keep-going --config "$out/_config.yml" --path-output "$out"
echo "==> the $edition edition is at $ROOT/$out/_build/html/index.html"
