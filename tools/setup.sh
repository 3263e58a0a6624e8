# Sourced by tools/build.sh and tools/test.sh: create .venv (once) and install requirements.txt into it.
# Environment: PYTHON (interpreter, default python3, must be >= 3.10); TORCH_INDEX_URL (optional wheel index for
# torch, e.g. a CUDA or CPU-only index; see README.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "error: $PYTHON is $("$PYTHON" --version 2>&1); the book needs Python >= 3.10 (set PYTHON=...)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $("$PYTHON" --version)"
    "$PYTHON" -m venv .venv
fi
VENV_PY="$ROOT/.venv/bin/python"
# Re-install only when requirements.txt or pyproject.toml changed since the last successful install.
stamp=".venv/.installed-$(cat requirements.txt pyproject.toml | "$VENV_PY" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])')"
if [ ! -f "$stamp" ]; then
    echo "==> installing requirements into .venv (a minute or two the first time)"
    if [ -n "${TORCH_INDEX_URL:-}" ]; then
        "$VENV_PY" -m pip install --quiet "torch==2.13.0" --index-url "$TORCH_INDEX_URL"
    fi
    "$VENV_PY" -m pip install --quiet -r requirements.txt
    rm -f .venv/.installed-*
    touch "$stamp"
fi
export PATH="$ROOT/.venv/bin:$PATH"
source "$ROOT/tools/vendor.sh"
# Kernels must pick matplotlib's inline backend, or the built pages would lose their figures.
unset MPLBACKEND
