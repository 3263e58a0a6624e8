#!/usr/bin/env bash
# Set up .venv if needed; build the book strictly (-W: warnings and cell errors fail) while the unit tests run; then
# nbval executes every chapter; then, on the built site, the browser tests: every page in headless Chromium
# (tests/test_site.py, test_site_figures.py, test_citations.py; screenshots in _build/screenshots/) and the live
# explorers in JupyterLab in the same browser (tests/test_live.py; screenshots in _build/screenshots/live/).
# Extra arguments go to every pytest run (e.g. -k mixture).
set -euo pipefail
# Chromium and npm first: without them (and no way to install them) stop now, not after the whole suite.
source "$(dirname "${BASH_SOURCE[0]}")/system_deps.sh"
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# The build runs side by side with the unit tests, each with half the cores' threads (the toy networks gain little
# from a second thread). Not with nbval: two kernels started at once in a fresh clone stalled a chapter for 300 s.
threads=$(( $(nproc 2>/dev/null || echo 2) / 2 ))
(( threads >= 1 )) || threads=1
build_log="_build/test-build.log"
mkdir -p _build
echo "==> building the book (log: $build_log) while the unit tests run, $threads thread(s) each"
OMP_NUM_THREADS="${OMP_NUM_THREADS:-$threads}" jupyter-book build . --all -W -n --keep-going >"$build_log" 2>&1 &
build=$!
trap 'kill "$build" 2>/dev/null || true' EXIT

# pytest's exit code 5 means "no tests collected" (a -k that selects only another run's tests): not a failure.
run_pytest() {
    local rc=0
    python -m pytest "$@" || rc=$?
    (( rc == 5 )) && rc=0
    return "$rc"
}
status=0
OMP_NUM_THREADS="${OMP_NUM_THREADS:-$threads}" run_pytest tests -m "not browser" "$@" || status=$?

built=0
wait "$build" || built=$?
trap - EXIT
cat "$build_log"
if (( built != 0 )); then
    echo "==> the strict build failed (above)" >&2
    exit "$built"
fi
echo "==> the book built without warnings"
(( status == 0 )) || { echo "==> unit tests failed (above the build log)" >&2; exit "$status"; }

echo "==> every chapter from a clean kernel (nbval)"
run_pytest book "$@"
echo "==> the browser tests on the built site and in JupyterLab"
BOOK_SITE_TEST=required BOOK_LIVE_TEST=required run_pytest tests -m browser "$@"
