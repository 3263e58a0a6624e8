# Sourced first by tools/test.sh (and so by .ci/run): the test command needs two programs from outside PyPI,
# Chromium (the browser test opens every page) and npm (it installs the site's MathJax and widget scripts, without
# which the browser test fails by design). When one is missing, install Debian's packages if this user may (root, or
# sudo without a password); otherwise stop now, in the first seconds, with one message that says what to install.
_missing_system_deps() {
    local missing=()
    local browser="${CHROMIUM:-}"
    if [ -n "$browser" ]; then
        command -v "$browser" >/dev/null 2>&1 || missing+=(chromium)
    elif ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
         && ! command -v google-chrome >/dev/null 2>&1; then
        missing+=(chromium)
    fi
    command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
    echo "${missing[@]}"
}

missing="$(_missing_system_deps)"
if [ -n "$missing" ]; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo_cmd="sudo"
    fi
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo_cmd" ]; }; then
        echo "==> installing $missing (Debian packages; the browser test and the site's offline assets need them)"
        $sudo_cmd apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends $missing >/dev/null
        missing="$(_missing_system_deps)"
    fi
fi
if [ -n "$missing" ]; then
    cat >&2 <<MSG
error: the tests need programs that are not installed: $missing
  Chromium opens every page of the built site; npm installs the site's MathJax and widget scripts.
  Debian/Ubuntu:  sudo apt-get install chromium nodejs npm
  macOS:          brew install node, and CHROMIUM="/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"
  Any system:     CHROMIUM=/path/to/chrome-or-chromium bash tools/test.sh
Then run the command again. (tools/build.sh, which only builds the book, needs neither.)
MSG
    exit 1
fi
unset missing
