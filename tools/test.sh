#!/usr/bin/env bash
# Set up .venv if needed; build the book strictly (-W: warnings and cell errors fail) while the unit tests run and
# nbval executes every chapter; then, on the built site, the browser tests: every page in headless Chromium
# (tests/test_site.py, test_site_figures.py, test_citations.py; screenshots in _build/screenshots/) and the live
# explorers in JupyterLab in the same browser (tests/test_live.py; screenshots in _build/screenshots/live/).
# Extra arguments go to both pytest runs (e.g. -k mixture).
set -euo pipefail
# Chromium and npm first: without them (and no way to install them) stop now, not after the whole suite.
source "$(dirname "${BASH_SOURCE[0]}")/system_deps.sh"
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# The build and the first pytest run side by side, each with half the cores' threads: the toy networks gain little
# from a second thread, so two processes on one thread each do nearly twice the work (measured on 2 cores).
threads=$(( $(nproc 2>/dev/null || echo 2) / 2 ))
(( threads >= 1 )) || threads=1
build_log="_build/test-build.log"
mkdir -p _build
echo "==> building the book (log: $build_log) while the unit tests and nbval run, $threads thread(s) each"
OMP_NUM_THREADS="${OMP_NUM_THREADS:-$threads}" jupyter-book build . --all -W -n --keep-going >"$build_log" 2>&1 &
build=$!
trap 'kill "$build" 2>/dev/null || true' EXIT

# pytest's exit code 5 means "no tests collected" (a -k that selects only the other run's tests): not a failure.
status=0
OMP_NUM_THREADS="${OMP_NUM_THREADS:-$threads}" python -m pytest tests book -m "not browser" "$@" || status=$?
(( status == 5 )) && status=0

built=0
wait "$build" || built=$?
trap - EXIT
cat "$build_log"
if (( built != 0 )); then
    echo "==> the strict build failed (above)" >&2
    exit "$built"
fi
echo "==> the book built without warnings"
(( status == 0 )) || { echo "==> unit tests or nbval failed (above the build log)" >&2; exit "$status"; }

echo "==> the browser tests on the built site and in JupyterLab"
browser=0
BOOK_SITE_TEST=required BOOK_LIVE_TEST=required python -m pytest tests -m browser "$@" || browser=$?
(( browser == 5 )) && browser=0
exit "$browser"
