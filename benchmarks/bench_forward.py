"""Forward chain and time-marginal density against seed-style references (run: python benchmarks/bench_forward.py).

Targets (issue "Foundation and Part I"): the chain for N = 100 000, T = 1000 is >= 5x faster than the reference and
<= 1.5x the time of drawing the same number of normals; q_t on a 3201-point grid for N = 100 000 particles of the
4-point dataset is >= 500x faster than the reference and peaks < 50 MB above the baseline after `import torch`.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_time, print_table

import diffusion_utils as du

N, T, M = 100_000, 1000, 3201


def reference_chain(x0: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """The seed notebook's loop, verbatim but for the t indexing: host-side numpy noise, (N, T+1) column writes."""
    N, T = x0.numel(), betas.numel() - 1
    Xf = torch.zeros(N, T + 1)
    Xf[:, 0] = x0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy 2 warns about torch's __array_wrap__
        for t in range(T):
            Xf[:, t + 1] = np.sqrt(1 - betas[t + 1]) * Xf[:, t] + np.sqrt(betas[t + 1]) * np.random.randn(N)
    return Xf


def reference_density(mu: torch.Tensor, v: torch.Tensor, x_grid: torch.Tensor) -> torch.Tensor:
    """The seed notebook's mixture: one component per particle, the grid stacked N times."""
    n = len(mu)
    grid = torch.stack([x_grid] * n)  # (N, M)
    v, mu = v.reshape(n, 1), mu.reshape(n, 1)
    dens = torch.exp(-0.5 * (grid - mu) ** 2 / v) / (2 * np.pi * v).sqrt()
    return dens.mean(0)


def peak_memory_mb(which: str) -> float:
    """Peak resident memory above the post-import baseline, measured in a fresh process."""
    code = f"""
import json, sys
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
import torch
import diffusion_utils as du
from bench_forward import reference_density, N, M
def status_mb(field):
    # VmRSS: resident now; VmHWM: the resident high-water mark of this process (reset by exec, unlike ru_maxrss).
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ':')) / 1024
g = torch.Generator().manual_seed(0)
data = torch.tensor(du.DATASET)
x0 = data[torch.randint(4, (N,), generator=g)]
grid = torch.linspace(-16, 16, M)
s = du.NoiseSchedule.constant(200, 0.04)
baseline = status_mb('VmRSS')
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')  # reset VmHWM to the current RSS, so import-time transients do not count
if {which!r} == "ours":
    du.marginal_density(grid, x0, s, 50)
else:
    mu, v = du.marginal(x0, s, 50)
    reference_density(mu, v, grid)
peak = status_mb('VmHWM')
print(json.dumps(peak - baseline))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    torch.manual_seed(0)
    np.random.seed(0)
    gen = torch.Generator().manual_seed(0)
    schedule = du.NoiseSchedule.linear(T)
    x0 = torch.tensor(du.DATASET)[torch.randint(4, (N,), generator=gen)]

    t_ours = median_time(lambda: du.forward_chain(x0, schedule, gen), repeats=5)
    t_normals = median_time(lambda: torch.randn((T, N), generator=gen), repeats=5)
    t_ref = median_time(lambda: reference_chain(x0, schedule.betas), repeats=3)
    print_table(
        f"Forward chain, N = {N:,}, T = {T} ({torch.get_num_threads()} threads, {torch.__version__})",
        ("method", "median time (s)", "ratio"),
        [
            ("seed-style loop (numpy noise, column writes)", f"{t_ref:.3f}", f"{t_ref / t_ours:.1f}x slower than ours (target >= 5x)"),
            ("du.forward_chain", f"{t_ours:.3f}", f"{t_ours / t_normals:.2f}x the normals alone (target <= 1.5x)"),
            ("torch.randn of T*N normals alone", f"{t_normals:.3f}", "1.00x"),
        ],
    )

    grid = torch.linspace(-16, 16, M)
    small = du.NoiseSchedule.constant(200, 0.04)
    t = 50
    mu, v = du.marginal(x0, small, t)
    d_ours = median_time(lambda: du.marginal_density(grid, x0, small, t), repeats=20)
    d_ref = median_time(lambda: reference_density(mu, v, grid), repeats=3)
    ours, ref = du.marginal_density(grid, x0, small, t), reference_density(mu, v, grid)
    weights = du.empirical_distribution(x0)[1]
    max_diff = (ours - ref).abs().max().item()
    mem_ours, mem_ref = peak_memory_mb("ours"), peak_memory_mb("reference")
    print_table(
        f"q_t on a {M}-point grid for N = {N:,} particles of D = {{-15, -5, 1, 10}} (t = {t})",
        ("method", "median time (ms)", "peak memory above baseline (MB)", "ratio"),
        [
            ("seed-style: one Gaussian per particle, grid stacked N times", f"{1e3 * d_ref:.1f}", f"{mem_ref:.0f}",
             f"{d_ref / d_ours:.0f}x slower than ours (target >= 500x)"),
            ("du.marginal_density (4 distinct points, weights)", f"{1e3 * d_ours:.3f}", f"{mem_ours:.1f} (target < 50)", "1x"),
        ],
    )
    print(f"\nlargest |difference| between the two densities: {max_diff:.2e} (same mixture; weights {weights.tolist()})")
    assert math.isfinite(max_diff) and max_diff < 1e-4


if __name__ == "__main__":
    main()
