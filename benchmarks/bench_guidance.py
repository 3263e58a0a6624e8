"""Part IV target for classifier-free guidance: the cost of a guided sample against unguided ones.

A guided evaluation needs the conditional model at (x, t, c) and at (x, t, null). ``du.guided(..., batched=True)``
makes that one call on 2N rows, ``batched=False`` two calls on N rows. For the trained conditional MLP of two moons
(``du.train_conditional_moons``, float32, from the trained-model cache) and 100 000 samples, DDIM with 20 steps:

- one unguided run (the conditional model with a fixed label: one call of N rows per step),
- two unguided runs (what a guided step needs at the least: two N-row evaluations),
- a guided run, batched and unbatched.

Target: a batched guided run costs <= 1.1 x two unguided runs. Run from the repository root:
``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_guidance.py`` (``--quick``: 20 000 samples).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_time, print_table

import diffusion_utils as du


class Fixed:
    """The conditional model with a fixed label: an unguided eps-model(x, t)."""

    def __init__(self, model: torch.nn.Module, label: int) -> None:
        self.model, self.label, self.T = model, label, model.T

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.model(x, t, torch.full((x.shape[0],), self.label, dtype=torch.long, device=x.device))


def main() -> None:
    quick = "--quick" in sys.argv
    n, steps = (20_000 if quick else 100_000), 20
    device = du.default_device()
    trained = du.train_conditional_moons(device)
    model, schedule = trained.model, trained.schedule
    xT = torch.randn(n, 2, generator=torch.Generator(device=device).manual_seed(0), device=device)

    def run(eps_model) -> None:
        with torch.no_grad():
            du.sample(eps_model, schedule, xT, method="ddim", steps=steps)

    one = median_time(lambda: run(Fixed(model, 0)), repeats=5)
    two = median_time(lambda: (run(Fixed(model, 0)), run(Fixed(model, 2))), repeats=5)
    batched = median_time(lambda: run(du.guided(model, 0, 3.0, batched=True)), repeats=5)
    unbatched = median_time(lambda: run(du.guided(model, 0, 3.0, batched=False)), repeats=5)
    rows = [
        ("one unguided run", f"{one:.3f}", f"{1e6 * one / n:.2f}", f"{one / two:.2f}"),
        ("two unguided runs", f"{two:.3f}", f"{1e6 * two / n:.2f}", "1.00"),
        ("guided, batched (1 call of 2N rows)", f"{batched:.3f}", f"{1e6 * batched / n:.2f}", f"{batched / two:.2f}"),
        ("guided, unbatched (2 calls of N rows)", f"{unbatched:.3f}", f"{1e6 * unbatched / n:.2f}",
         f"{unbatched / two:.2f}"),
    ]
    print_table(f"Guided DDIM, {steps} steps, {n:,} samples, trained conditional MLP ({device.type}, "
                f"torch threads {torch.get_num_threads()})",
                ("run", "seconds", "µs per sample", "÷ two unguided runs"), rows)
    verdict = "met" if batched <= 1.1 * two else "NOT met"
    print(f"\nTarget (batched guided <= 1.1 x two unguided runs): {verdict} ({batched / two:.2f}x)")


if __name__ == "__main__":
    main()
