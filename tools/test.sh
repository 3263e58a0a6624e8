#!/usr/bin/env bash
# Set up .venv if needed; then, side by side, the strict build of the book (-W: warnings and cell errors fail; log
# in _build/test-logs/build.log, printed when the build fails) and pytest of the unit tests followed by every chapter
# from a clean kernel (nbval); then, once the site is built, the tests marked `browser`: every page in headless
# Chromium (tests/test_site.py, test_site_figures.py, test_citations.py; screenshots in _build/screenshots/) and the
# live explorers in JupyterLab in the same browser (tests/test_live.py; screenshots in _build/screenshots/live/).
# Extra arguments go to both pytest runs (e.g. -k mixture). The exit status is non-zero when any part failed.
set -euo pipefail
# Chromium and npm first: without them (and no way to install them) stop now, not after the whole suite.
source "$(dirname "${BASH_SOURCE[0]}")/system_deps.sh"
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# One thread per process. Two processes run torch at once here, and a process with two OpenMP threads on a 2-core
# machine that is busy otherwise waits at every tiny operation for a descheduled thread: a 500-step training took 56 s
# with two threads beside a one-thread training, 1.7 s with one; with two threads and other work on the machine, the
# sampling chapter's training cell ran past its 300-s timeout. The toy networks gain nothing from a second thread.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
# The build, nbval and the unit tests train the book's models through du.train_toy_1d / du.train_two_moons, which
# keep them in an on-disk cache ($DIFFUSION_UTILS_CACHE, default ~/.cache/diffusion_utils): whichever run reaches a
# model second loads it.

# pytest's exit code 5 means "no tests collected" (a -k that selects only another run's tests): not a failure.
run_pytest() {
    local rc=0
    python -m pytest "$@" || rc=$?
    (( rc == 5 )) && rc=0
    return "$rc"
}
now() { date +%s; }

logs="_build/test-logs"
mkdir -p "$logs"
build_log="$logs/build.log"
background=""
# The build is started with setsid where there is one: it and its kernels form a process group of their own,
# stopped together if this script stops early.
start_background() {
    if command -v setsid >/dev/null 2>&1; then
        setsid "$@" &
    else
        "$@" &
    fi
    background=$!
}
stop_background() {
    if [ -n "$background" ]; then
        kill -TERM -- "-$background" 2>/dev/null || kill -TERM "$background" 2>/dev/null || true
    fi
}
trap stop_background EXIT
trap 'stop_background; exit 130' INT TERM

echo "==> building the book in the background (log: $build_log) while the unit tests and nbval run"
start=$(now)
start_background jupyter-book build . --all -W -n --keep-going >"$build_log" 2>&1
build=$background
tests=0
run_pytest tests book -m "not browser" "$@" || tests=$?
echo "==> the unit tests and nbval took $(( $(now) - start )) s (exit status $tests)"
built=0
wait "$build" || built=$?
background=""
trap - EXIT INT TERM
# The build's own duration: its log was last written when it ended.
build_end=$(python -c 'import os, sys; print(int(os.path.getmtime(sys.argv[1])))' "$build_log")
echo "==> the build took $(( build_end - start )) s (exit status $built); time per chapter:"
grep -a "parallel_execution\] executed\|Executed notebook in" "$build_log" | sed "s|^$PWD/||; s|^|    |" || true
if (( built != 0 )); then
    echo "==> the strict build failed (exit status $built); its log:" >&2
    cat "$build_log" >&2
    echo "==> the strict build failed (log above and in $build_log)" >&2
    exit "$built"
fi
echo "==> the book built without warnings (log: $build_log)"

# One run, alone: some browser tests time the pages (an update of the sampler playground must take < 100 ms), and a
# second browser beside them (tried: the site's tests beside the others, 45 s faster) made one of them fail.
echo "==> the browser tests on the built site and in JupyterLab"
start=$(now)
browser=0
BOOK_SITE_TEST=required BOOK_LIVE_TEST=required run_pytest tests -m browser "$@" || browser=$?
echo "==> the browser tests took $(( $(now) - start )) s (exit status $browser)"
if (( tests != 0 )); then
    echo "==> the unit tests or nbval failed (exit status $tests; their report is above the build's chapter times)" >&2
    exit "$tests"
fi
exit "$browser"
