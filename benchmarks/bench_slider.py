"""Cost of one slider update of the histogram figure, Agg backend (run: python benchmarks/bench_slider.py).

Target (issue "Foundation and Part I"): median update (histogram + exact density for a new t, then a redraw) <= 1.25x a
bare redraw of the same figure showing the same frame, and faster than clearing and re-plotting the axes as the seed
notebook does.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table

import diffusion_utils as du

REPEATS = 60


def timed(step, times, prepare=None) -> float:
    """Median seconds of ``step(t)`` over the given times, each after an untimed ``prepare(t)`` (one warm-up call)."""
    step(times[-1])
    samples = []
    for t in times:
        if prepare is not None:
            prepare(t)
        start = time.perf_counter()
        step(t)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure(num_particles: int) -> tuple[float, float, float]:
    data = torch.tensor(du.DATASET)
    schedule = du.NoiseSchedule.constant(200, 0.04)
    grid = torch.linspace(-16, 16, 3201)
    movie = du.ForwardHistogram.simulate(data, schedule, grid, num_particles, torch.Generator().manual_seed(0))
    edges = np.linspace(-16, 16, 65)
    artists = du.histogram_figure(grid, edges)
    canvas = artists.fig.canvas
    rng = np.random.default_rng(0)
    times = [int(t) for t in rng.integers(1, 201, REPEATS)]

    def show(t: int) -> None:  # untimed: put frame t on the figure, so the bare redraw draws the same content
        du.update_histogram(artists, *movie.frame(t), t)

    def bare(t: int) -> None:
        canvas.draw()

    def update(t: int) -> None:
        du.update_histogram(artists, *movie.frame(t), t)
        canvas.draw()

    xs = grid.numpy()
    ax = artists.ax

    def replot(t: int) -> None:  # what the seed's animate() does, plus the clearing it forgot
        samples, density = movie.frame(t)
        ax.cla()
        ax.hist(samples, bins=edges, density=True, alpha=0.45)
        ax.plot(xs, density)
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(0, 0.6)
        ax.set_title(f"time = {t}")
        canvas.draw()

    result = timed(bare, times, prepare=show), timed(update, times), timed(replot, times)
    plt.close(artists.fig)
    return result


def main() -> None:
    rows = []
    for n in (2_000, 20_000):
        bare, update, replot = measure(n)
        rows.append((f"{n:,}", f"{1e3 * bare:.1f}", f"{1e3 * update:.1f}", f"{1e3 * replot:.1f}",
                     f"{update / bare:.2f} (target <= 1.25)", f"{update / replot:.2f} (target < 1)"))
    print_table(
        f"One slider update, 7x4 in figure, 64 bins, 3201-point density, median of {REPEATS} random t (Agg)",
        ("particles", "bare redraw (ms)", "update + redraw (ms)", "clear + re-plot (ms)", "update / bare", "update / re-plot"),
        rows,
    )


if __name__ == "__main__":
    main()
