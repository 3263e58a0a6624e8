"""Live ipywidgets sliders around the plotting callbacks (need a running kernel; the site shows the twins)."""

from __future__ import annotations

from functools import partial

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display

from .browser_figures import SLIDER_RANGES, beta_values
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

__all__ = ["fixed_factor_explorer", "histogram_explorer", "reverse_explorer", "step_slider"]

# A slider takes the row's width (not ipywidgets' 124 px track: 8 steps per pixel for T = 1000); its name gets
# 5.5em, the - / + buttons are 40 x 36 px.
_STYLE = {"description_width": "5.5em"}


def _range(name: str) -> dict[str, float]:
    """min/max/step of a slider, shared with the kernel-free figure of the same chapter."""
    return dict(zip(("min", "max", "step"), SLIDER_RANGES[name]))


def step_slider(slider: widgets.Widget, steps: int) -> None:
    """Move ``slider`` by ``steps`` of its steps, clamped to its range (the - / + buttons of every explorer's chapter).

    The value stays on the slider's grid (min + k step, rounded to 12 digits: 0.905, not 0.9050000000000001), so the
    figure callback sees the same numbers as when the slider is dragged.
    """
    if isinstance(slider, widgets.SelectionSlider):
        slider.index = min(max(slider.index + steps, 0), len(slider.options) - 1)
        return
    k = round((slider.value - slider.min) / slider.step) + steps
    value = slider.min + k * slider.step
    value = min(max(value, slider.min), slider.max)
    slider.value = round(value) if isinstance(slider, widgets.IntSlider) else round(value, 12)


def _on_step(slider: widgets.Widget, steps: int, _button: widgets.Button) -> None:
    """Button callback: one step of ``slider``."""
    step_slider(slider, steps)


def _row(slider: widgets.Widget, name: str) -> widgets.HBox:
    """A slider across the row with - and + buttons, and a number box for a long integer slider."""
    slider.layout = widgets.Layout(flex="1 1 16em", min_width="12em", width="auto")
    slider.style = _STYLE
    parts: list[widgets.Widget] = [slider]
    for text, steps, verb in (("\u2212", -1, "decrease"), ("+", 1, "increase")):
        button = widgets.Button(description=text, tooltip=f"{verb} {name} by one step",
                                layout=widgets.Layout(width="40px", height="36px", padding="0"))
        button.on_click(partial(_on_step, slider, steps))
        parts.append(button)
    if isinstance(slider, widgets.IntSlider) and (slider.max - slider.min) / slider.step > 100:
        box = widgets.BoundedIntText(value=slider.value, min=slider.min, max=slider.max, step=slider.step,
                                     description="", tooltip=f"{name}: type a value",
                                     layout=widgets.Layout(width="6.5em"))
        widgets.link((slider, "value"), (box, "value"))
        parts.append(box)
    row = widgets.Layout(display="flex", flex_flow="row wrap", align_items="center", width="100%", max_width="52rem")
    return widgets.HBox(parts, layout=row)


def _panel(show, controls: dict[str, widgets.Widget], artists) -> widgets.VBox:
    """One row per slider above the output that ``show`` draws into.

    ``.controls`` maps the names to the sliders and ``.artists`` exposes the figure's artists (for tests, and for
    readers who want to restyle the figure).
    """
    rows = [_row(slider, name) for name, slider in controls.items()]
    box = widgets.VBox([*rows, widgets.interactive_output(show, controls)])
    box.controls = controls
    box.artists = artists
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

    Moving t only updates the artists; changing N or beta re-runs the chain on ``data``'s device (same seed). The beta
    slider stops at the listed values of ``browser_figures.BETA_VALUES`` from 0.001 to 0.5 (0.01, 0.04, 0.15, ...)
    and at ``beta`` itself, exactly as passed.
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
        movie = movie_for(num_particles, beta)
        update_histogram(artists, *movie.frame(t), t, title=f"{movie.title(t)}, β = {beta:g}")
        display(artists.fig)

    controls = {
        "t": widgets.IntSlider(value=0, min=0, max=T, step=1, description="t", continuous_update=True),
        "num_particles": widgets.SelectionSlider(
            options=sorted({100, 300, 1000, 2000, 5000, 20000, num_particles}), value=num_particles, description="particles"
        ),
        "beta": widgets.SelectionSlider(options=[(f"{v:g}", v) for v in beta_values(beta, 1e-3, 0.5)], value=beta,
                                        description="β"),
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


def reverse_explorer(movie: ReverseHistogram, *, bins: int = 80, ylim: float | None = None) -> widgets.Widget:
    """A t slider over the reverse chain's histogram and the exact q_t (chapter: Ancestral sampling).

    The trajectory is already sampled; moving t only updates the artists. t runs from T (noise) down to 0 (samples).
    The y-axis follows each t (``ylim=None``): the bell at t = T is about a tenth as tall as the peaks at t = 0.
    """
    grid = movie.grid
    artists = histogram_figure(grid, np.linspace(float(grid[0]), float(grid[-1]), bins + 1), ylim=ylim)
    plt.close(artists.fig)
    T = movie.schedule.T

    def show(t: int) -> None:
        update_histogram(artists, *movie.frame(t), t, title=movie.title(t))
        display(artists.fig)

    controls = {"t": widgets.IntSlider(value=T, min=0, max=T, step=1, description="t", continuous_update=True)}
    return _panel(show, controls, artists)
