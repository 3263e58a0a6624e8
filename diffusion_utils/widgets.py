"""Live ipywidgets sliders around the plotting callbacks (need a running kernel; the site shows the twins)."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display

from .browser_figures import SLIDER_RANGES
from .forward import FixedFactorChain
from .plotting import (
    ForwardHistogram,
    ReverseHistogram,
    fixed_factor_figure,
    histogram_figure,
    update_fixed_factor,
    update_histogram,
)
from .schedules import NoiseSchedule

__all__ = ["fixed_factor_explorer", "histogram_explorer", "reverse_explorer"]


def _range(name: str) -> dict[str, float]:
    """min/max/step of a slider, shared with the kernel-free figure of the same chapter."""
    return dict(zip(("min", "max", "step"), SLIDER_RANGES[name]))


def _panel(show, controls: dict[str, widgets.Widget], artists) -> widgets.VBox:
    """Sliders in a row above the output that ``show`` draws into; ``.artists`` exposes the figure's artists."""
    box = widgets.VBox([widgets.HBox(list(controls.values())), widgets.interactive_output(show, controls)])
    box.artists = artists  # for tests, and for readers who want to restyle the figure
    return box


def histogram_explorer(
    data: torch.Tensor,
    *,
    T: int = 200,
    beta: float = 0.04,
    num_particles: int = 2000,
    seed: int = 0,
    grid: torch.Tensor | None = None,
    bins: int = 64,
) -> widgets.Widget:
    """Sliders for t, the number of particles and a constant beta over the histogram figure (chapter: An example diffusion).

    Moving t only updates the artists; changing N or beta re-runs the chain on ``data``'s device (same seed).
    """
    grid = torch.linspace(-16, 16, 3201, device=data.device) if grid is None else grid
    artists = histogram_figure(grid, np.linspace(float(grid[0]), float(grid[-1]), bins + 1))
    plt.close(artists.fig)  # shown through the output widget only
    cache: dict[tuple[int, float], ForwardHistogram] = {}

    def movie_for(n: int, b: float) -> ForwardHistogram:
        if (n, b) not in cache:
            cache.clear()
            generator = torch.Generator(device=data.device).manual_seed(seed)
            cache[(n, b)] = ForwardHistogram.simulate(data, NoiseSchedule.constant(T, b, device=data.device), grid, n, generator)
        return cache[(n, b)]

    def show(t: int, num_particles: int, beta: float) -> None:
        update_histogram(artists, *movie_for(num_particles, beta).frame(t), t)
        display(artists.fig)

    controls = {
        "t": widgets.IntSlider(value=0, min=0, max=T, step=1, description="t", continuous_update=True),
        "num_particles": widgets.SelectionSlider(
            options=sorted({100, 300, 1000, 2000, 5000, 20000, num_particles}), value=num_particles, description="particles"
        ),
        "beta": widgets.FloatLogSlider(value=beta, base=10, min=-3, max=-0.7, step=0.05, description="β", readout_format=".4f"),
    }
    return _panel(show, controls, artists)


def fixed_factor_explorer(x0: float = 5.0, *, T: int = 60, grid: torch.Tensor | None = None) -> widgets.Widget:
    """Sliders for a, b and t over the fixed-factor figure (chapter: A chain with a fixed factor)."""
    grid = torch.linspace(-10, 10, 801) if grid is None else grid
    artists = fixed_factor_figure(T, grid)
    plt.close(artists.fig)

    def show(a: float, b: float, t: int) -> None:
        update_fixed_factor(artists, FixedFactorChain(a, b), x0, t)
        display(artists.fig)

    controls = {
        "a": widgets.FloatSlider(value=0.9, **_range("a"), description="a", readout_format=".3f"),
        "b": widgets.FloatSlider(value=0.4, **_range("b"), description="b"),
        "t": widgets.IntSlider(value=10, min=0, max=T, description="t"),
    }
    return _panel(show, controls, artists)



def reverse_explorer(movie: ReverseHistogram, *, bins: int = 80, ylim: float = 0.6) -> widgets.Widget:
    """A t slider over the reverse chain's histogram and the exact q_t (chapter: Ancestral sampling).

    The trajectory is already sampled; moving t only updates the artists. t runs from T (noise) down to 0 (samples).
    """
    grid = movie.grid
    artists = histogram_figure(grid, np.linspace(float(grid[0]), float(grid[-1]), bins + 1), ylim=ylim)
    plt.close(artists.fig)
    T = movie.schedule.T

    def show(t: int) -> None:
        update_histogram(artists, *movie.frame(t), t)
        display(artists.fig)

    controls = {"t": widgets.IntSlider(value=T, min=0, max=T, step=1, description="t", continuous_update=True)}
    return _panel(show, controls, artists)
