"""Part II targets: one reverse step vs diffusers' DDPMScheduler.step, and training time to the quality targets.

Run from the repository root: ``.venv/bin/python benchmarks/bench_reverse.py`` (needs ``pip install -r
benchmarks/requirements.txt`` for the diffusers comparison).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_time, print_table

import diffusion_utils as du


def bench_step(rows: list) -> None:
    """One step on a (1024, 2) tensor at several t; both sides get the same eps and the same noise generator."""
    try:
        from diffusers import DDPMScheduler
    except ImportError:
        print("diffusers is not installed: pip install -r benchmarks/requirements.txt")
        return
    schedule = du.NoiseSchedule.linear(1000)
    scheduler = DDPMScheduler(
        num_train_timesteps=1000, trained_betas=schedule.betas[1:].numpy(), clip_sample=False,
        variance_type="fixed_small", prediction_type="epsilon",
    )
    scheduler.set_timesteps(1000)
    g = torch.Generator().manual_seed(0)
    xt, eps = torch.randn(1024, 2, generator=g), torch.randn(1024, 2, generator=g)
    for t in (1000, 500, 2):
        ours = du.ddpm_step(xt, eps, t, schedule, torch.Generator().manual_seed(1))
        # diffusers indexes times from 0: its timestep t-1 is our step t -> t-1
        theirs = scheduler.step(eps, t - 1, xt, generator=torch.Generator().manual_seed(1)).prev_sample
        agree = torch.allclose(ours, theirs, rtol=1e-4, atol=1e-5)
        gen_a, gen_b = torch.Generator(), torch.Generator()
        a = median_time(lambda t=t, g=gen_a: du.ddpm_step(xt, eps, t, schedule, g), repeats=2000, warmup=50)
        b = median_time(lambda t=t, g=gen_b: scheduler.step(eps, t - 1, xt, generator=g), repeats=2000, warmup=50)
        rows.append((f"ddpm_step, t = {t}", f"{a * 1e6:.1f} µs", f"{b * 1e6:.1f} µs", f"{a / b:.2f}x", "<= 0.5x",
                     "same output" if agree else "OUTPUTS DIFFER"))


def bench_training(rows: list) -> None:
    """Wall-clock time of the book's recipes, and the quality their samples reach."""
    start = time.perf_counter()
    trained = du.train_toy_1d("cpu")
    train_s = time.perf_counter() - start
    g = torch.Generator().manual_seed(0)
    samples = trained.scaler.decode(du.ancestral_sample(trained.model, trained.schedule, torch.randn(4000, 1, generator=g), g))
    w1 = du.wasserstein_1d(samples[:, 0], trained.data[:, 0]).item()
    rows.append(("train 1-D (6000 steps)", f"{train_s:.1f} s", "", "", "< 30 s", f"W1 = {w1:.3f} (target < 0.5)"))

    start = time.perf_counter()
    moons = du.train_two_moons("cpu")
    train_s = time.perf_counter() - start
    samples = moons.scaler.decode(du.ancestral_sample(moons.model, moons.schedule, torch.randn(4000, 2, generator=g), g))
    fresh = du.two_moons(4000, generator=g, device="cpu")
    sw = du.sliced_wasserstein(samples, fresh, 256, torch.Generator().manual_seed(7)).item()
    rows.append(("train two moons (4000 steps)", f"{train_s:.1f} s", "", "", "< 60 s", f"SW = {sw:.4f} (target < 0.06)"))


if __name__ == "__main__":
    torch.set_num_threads(min(2, torch.get_num_threads()))
    rows: list = []
    bench_step(rows)
    bench_training(rows)
    print_table(
        f"Part II (torch {torch.__version__}, {torch.get_num_threads()} threads)",
        ("what", "ours", "diffusers", "ratio", "target", "notes"),
        rows,
    )
