#!/usr/bin/env bash
# Run the unit tests and every chapter on a CUDA machine that has python3 with torch, numpy, matplotlib and pytest
# but no network: the missing pure-Python packages come from a wheel folder built beforehand with
#   pip download --only-binary=:all: --python-version 3.12 --platform manylinux_2_28_x86_64 -d .device/wheels \
#       nbval jupytext ipywidgets ipykernel
# Usage: bash tools/gpu-check.sh [wheel folder]   (prints versions, the pytest summary and GPU timings)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
wheels="${1:-.device/wheels}"
python3 -m pip install --quiet --no-index --find-links "$wheels" nbval jupytext ipywidgets ipykernel 2>&1 | grep -v WARNING || true
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
unset MPLBACKEND DIFFUSION_UTILS_DEVICE
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import sys, torch, diffusion_utils as du; print('python', sys.version.split()[0], '| torch', torch.__version__, '| default device:', du.default_device())"
python3 -m pytest -q -p no:cacheprovider tests book
python3 - <<'PY'
import time, torch, diffusion_utils as du
dev = torch.device("cuda")
s = du.NoiseSchedule.linear(1000, device=dev)
x0 = torch.tensor(du.DATASET, device=dev)[torch.randint(4, (100_000,), device=dev)]
g = torch.Generator(device=dev).manual_seed(0)
grid = torch.linspace(-16, 16, 3201, device=dev)
def timed(fn, n=10):
    fn(); torch.cuda.synchronize(); start = time.perf_counter()
    for _ in range(n):
        fn()
    torch.cuda.synchronize(); return (time.perf_counter() - start) / n
chain = timed(lambda: du.forward_chain(x0, s, g))
normals = timed(lambda: torch.randn((1000, 100_000), generator=g, device=dev))
density = timed(lambda: du.marginal_density(grid, x0, s, torch.arange(1, 1001, device=dev)))
print(f"GPU forward_chain N=100000 T=1000: {1e3*chain:.1f} ms; randn of the same size: {1e3*normals:.2f} ms")
print(f"GPU marginal_density, all 1000 times on a 3201-point grid: {1e3*density:.2f} ms")
PY
