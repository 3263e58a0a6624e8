"""Part III targets for du.sample: the NFE each sampler needs for DDPM-1000's sample quality, and its cost per call.

With the exact denoiser of the book's 1-D dataset (standardised: mean 0, sd 1; W1 in these *model units*, multiply by
sd(D) = 9.09 for data units), 100 000 samples from x_T ~ N(0, 1) and the linear schedule with T = 1000 (float64):

1. W1 to the data distribution of DDPM ancestral sampling with all 1000 steps, beside the Monte Carlo floor (the W1 of
   100 000 exact draws to the distribution, and of two independent exact samples to each other), and, for every
   method and time grid, the W1 at 10, 20 and 40 calls and the first NFE on a ladder from which W1 stays at or below
   DDPM-1000's value, and below the floor band (mean + 2 sd of the one-sample floor). Target: the best sampler needs
   <= 20 NFE.
2. Wall time per model call of each sampler for 100 000 particles with the exact denoiser and with the trained MLP
   (``du.train_toy_1d``, float32), and the sampler's own overhead per step (a model that returns a precomputed tensor)
   as a fraction of one MLP call. Target: < 10 %.

Run from the repository root: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_samplers.py`` (several minutes;
``--quick`` uses 20 000 samples and a shorter ladder).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_time, print_table

import diffusion_utils as du

LADDER = (5, 10, 20, 40, 80, 160, 320, 640, 1000)


def w1(samples: torch.Tensor, points: torch.Tensor) -> float:
    """W1 of (N, 1) samples to the equally weighted points, model units."""
    return du.wasserstein_1d(samples[:, 0].double(), points).item()


def steps_for(method: str, nfe: int) -> int:
    """Steps that make about nfe calls (Heun: 2 steps - 1 calls)."""
    return max(1, (nfe + 1) // 2) if method == "heun" else nfe


def exact_jumps(points: torch.Tensor, schedule: du.NoiseSchedule) -> torch.Tensor:
    """The x_T where the exact flow map jumps between data points: the quartiles of q_T, by bisection."""
    ab = du.alpha_bars64(schedule)[-1].item()
    lo, hi = torch.full((3,), -10.0, dtype=torch.float64), torch.full((3,), 10.0, dtype=torch.float64)
    quarters = torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)
    for _ in range(100):
        mid = (lo + hi) / 2
        below = torch.special.ndtr((mid[:, None] - ab**0.5 * points) / (1 - ab) ** 0.5).mean(1) < quarters
        lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
    return (lo + hi) / 2


def reached(tried: list[tuple[int, float]], limit: float) -> str:
    """The first NFE from which on every W1 tried is <= limit ('> last' if none)."""
    for k, (calls, _) in enumerate(tried):
        if all(d <= limit for _, d in tried[k:]):
            return str(calls)
    return f"> {tried[-1][0]}"


def bench_quality(n: int, ladder: tuple[int, ...]) -> None:
    schedule = du.NoiseSchedule.linear(1000, dtype=torch.float64)
    data = du.toy_dataset()[:, None].double()
    scaler = du.DataScaler.fit(data[:, 0])
    points = scaler.encode(data)[:, 0]
    exact = du.ExactDenoiser(points[:, None], schedule)
    gen = torch.Generator().manual_seed(0)
    xT = torch.randn(n, 1, generator=gen, dtype=torch.float64)

    reps = 50
    one = torch.tensor([w1(points[torch.randint(4, (n,), generator=gen)][:, None], points) for _ in range(reps)])
    two = torch.tensor([du.wasserstein_1d(points[torch.randint(4, (n,), generator=gen)],
                                          points[torch.randint(4, (n,), generator=gen)]).item() for _ in range(reps)])
    band = (one.mean() + 2 * one.std()).item()
    start = time.perf_counter()
    ddpm = du.sample(exact, schedule, xT, method="ddpm", steps=1000, generator=torch.Generator().manual_seed(1))
    ddpm_s = time.perf_counter() - start
    target = w1(ddpm.samples, points)
    print(f"\n{n} samples, model units (x {scaler.scale:.2f} for data units). Floor over {reps} sets of exact draws: "
          f"one-sample W1 {one.mean():.5f} ± {one.std():.5f} (band up to {band:.5f}), two-sample "
          f"{two.mean():.5f} ± {two.std():.5f}. DDPM, 1000 steps: W1 {target:.5f} "
          f"({target * scaler.scale:.4f} data units, {ddpm_s:.0f} s).")

    flow = w1(points[torch.bucketize(xT[:, 0], exact_jumps(points, schedule))][:, None], points)
    print(f"The exact probability-flow ODE from the same x_T (its staircase): W1 {flow:.5f}; a converged ODE sampler "
          f"ends there. DDPM-1000's W1 is one draw from the floor's distribution, like this one: 'NFE to DDPM-1000's "
          f"W1' compares two noisy numbers (an ODE sampler never gets below {flow:.5f}); 'NFE to the band' is the "
          f"robust criterion (the first NFE from which W1 stays <= mean + 2 sd of the floor).")

    rows = []
    for method in du.METHODS:
        for grid in du.GRIDS:
            tried: list[tuple[int, float]] = []  # (calls, W1)
            for nfe in ladder:
                result = du.sample(exact, schedule, xT, method=method, steps=steps_for(method, nfe), grid=grid,
                                   generator=torch.Generator().manual_seed(2))
                tried.append((result.nfe, w1(result.samples, points)))
                if nfe >= 40 and len(tried) >= 3 and all(d <= band for _, d in tried[-3:]):
                    break  # settled in the band
            at = dict(zip(ladder, tried))
            rows.append((method, grid, *(f"{at[m][1]:.5f}" if m in at else "" for m in (10, 20, 40)),
                         reached(tried, target), reached(tried, band)))
    print_table(
        f"NFE to DDPM-1000's W1 ({target:.5f}) and to the floor band (<= {band:.5f}), exact denoiser, {n} samples, "
        f"model units (Heun's columns are at 9, 19 and 39 calls)",
        ("method", "grid", "W1 @ 10", "W1 @ 20", "W1 @ 40", "NFE to DDPM-1000's W1", "NFE to the band"),
        rows,
    )


def bench_cost(n: int) -> None:
    schedule64 = du.NoiseSchedule.linear(1000, dtype=torch.float64)
    data = du.toy_dataset()[:, None].double()
    points = du.DataScaler.fit(data[:, 0]).encode(data)
    exact = du.ExactDenoiser(points, schedule64)
    trained = du.train_toy_1d("cpu")
    gen = torch.Generator().manual_seed(3)
    x64 = torch.randn(n, 1, generator=gen, dtype=torch.float64)
    x32 = x64.float()
    t = torch.full((n,), 500)
    with torch.no_grad():
        mlp_call = median_time(lambda: trained.model(x32, t), repeats=5)
    exact_call = median_time(lambda: exact(x64, t), repeats=5)
    fixed = torch.randn(n, 1, generator=gen)

    def constant(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return fixed  # a model that costs nothing: what remains is the sampler's own work

    rows = []
    steps = 10
    for method in du.METHODS:
        g = torch.Generator()
        nfe = du.sample(constant, trained.schedule, x32, method=method, steps=steps).nfe

        def run(model, schedule, x, m=method, g=g):
            return du.sample(model, schedule, x, method=m, steps=steps, generator=g)

        per_exact = median_time(lambda: run(exact, schedule64, x64), repeats=3) / nfe
        per_mlp = median_time(lambda: run(trained.model, trained.schedule, x32), repeats=2, warmup=0) / nfe
        overhead = median_time(lambda: run(constant, trained.schedule, x32), repeats=5) / nfe
        rows.append((method, nfe, f"{per_exact * 1e3:.2f} ms", f"{per_mlp * 1e3:.1f} ms", f"{overhead * 1e3:.2f} ms",
                     f"{100 * overhead / mlp_call:.1f} %", "< 10 %"))
    print_table(
        f"Cost per model call, {n} particles, {steps} steps, uniform grid (one MLP call {mlp_call * 1e3:.1f} ms, one "
        f"exact-denoiser call {exact_call * 1e3:.2f} ms; torch {torch.__version__}, {torch.get_num_threads()} thread(s))",
        ("method", "NFE", "exact denoiser, per NFE", "MLP, per NFE", "sampler overhead per NFE",
         "overhead / MLP call", "target"),
        rows,
    )


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    n = 20_000 if quick else 100_000
    bench_quality(n, LADDER[:6] if quick else LADDER)
    bench_cost(n)
