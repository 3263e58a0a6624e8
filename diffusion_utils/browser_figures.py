"""Kernel-free figures: closed forms recomputed in the reader's browser as sliders move (no Python kernel).

Each function returns an HTML snippet (a ``<div class="kf-figure">`` with its sliders, an SVG and the inline script
``js/kernel_free.js``) that works on the static website, in a notebook's output and offline. The script evaluates the
same formulas as the package in float64; the browser test (``tests/test_site.py``) compares its numbers with it.
"""

from __future__ import annotations

import html
import itertools
import json
from functools import cache
from importlib import resources

import torch
from IPython.display import HTML

from ._validate import check_int, check_positive, check_tensor
from .mixture import empirical_distribution
from .plotting import PALETTE, PALETTE_DARK

__all__ = ["BETA_VALUES", "SLIDER_RANGES", "fixed_factor_html", "marginal_html"]

SCHEDULES = ("linear", "cosine", "constant")
# (low, high, step) of the sliders; the live ipywidgets explorer of the fixed-factor chain uses the same ranges.
SLIDER_RANGES = {"a": (0.5, 0.995, 0.005), "b": (0.05, 1.5, 0.05)}
# The values a beta slider stops at (log-spaced, 1-1.2-1.5-2-2.5-3-4-5-6-8 per decade), written as decimals so that
# 0.04 is the float 0.04 and not 10**-1.4: every value a chapter names (0.01, 0.02, 0.04, 0.15, 0.5) is one of them.
# The kernel-free figure and the live explorer share them; a value passed in that is not listed is added.
BETA_VALUES = tuple(
    float(f"{m}e{e}") for e in range(-4, 0) for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8) if float(f"{m}e{e}") <= 0.5
)
# Colours of the figures on a light and on a dark page (the site's dark mode, JupyterLab's dark theme). Every line
# and text colour has a contrast of at least 3:1 against its background (tests/test_browser_figures.py measures it).
THEMES = {
    "light": {"bg": "#ffffff", "fg": "#222832", "axis": "#5c636e", "grey": "#767676",
              "blue": PALETTE["blue"], "vermillion": PALETTE["vermillion"]},
    "dark": {"bg": "#121212", "fg": "#e6e6e6", "axis": "#a0a7b0", "grey": "#9e9e9e",
             "blue": PALETTE_DARK["blue"], "vermillion": PALETTE_DARK["vermillion"]},
}
_ids = itertools.count()


@cache
def _script() -> str:
    """The figure library, read once from the package."""
    return resources.files(__package__).joinpath("js/kernel_free.js").read_text(encoding="utf-8")


def _check_grid(grid: tuple[float, float, int]) -> list[float]:
    """A (low, high, points) triple with low < high and at least 2 points."""
    if not (isinstance(grid, (tuple, list)) and len(grid) == 3):
        raise TypeError(f"grid must be a (low, high, points) triple, got {grid!r}")
    low, high = float(grid[0]), float(grid[1])
    points = check_int("grid points", grid[2], low=2, high=20001)
    if not low < high:
        raise ValueError(f"grid must have low < high, got {low} and {high}")
    return [low, high, points]


def _slider(name: str, label: str, value: object, **extra) -> dict:
    """A range control for ``name`` from SLIDER_RANGES; raise naming ``name`` when ``value`` lies outside it."""
    low, high, step = SLIDER_RANGES[name]
    value = check_positive(name, value)
    if not low <= value <= high:
        raise ValueError(f"{name} must lie in [{low:g}, {high:g}] (the slider's range), got {value}")
    return {"name": name, "label": label, "min": low, "max": high, "step": step, "value": value, **extra}


def beta_values(value: float, low: float = BETA_VALUES[0], high: float = BETA_VALUES[-1]) -> list[float]:
    """The listed beta values in [low, high], with ``value`` added if it is not one of them (exactly as passed)."""
    value = check_positive("beta", value)
    if not low <= value <= high:
        raise ValueError(f"beta must lie in [{low:g}, {high:g}] (the slider's range), got {value}")
    return sorted({v for v in BETA_VALUES if low <= v <= high} | {value})


def _figure(kind: str, config: dict, alt: str) -> HTML:
    """The HTML of one figure: container with its JSON config, then the script that mounts it."""
    fig_id = f"kf-{kind}-{next(_ids)}"
    config = {"kind": kind, "colors": THEMES, **config}
    return HTML(
        f'<div class="kf-figure" id="{fig_id}" role="figure" aria-label="{html.escape(alt)}" '
        f"data-config='{html.escape(json.dumps(config), quote=True)}'></div>\n"
        f"<script>\n{_script()}\nwindow.KernelFree.mount(document.getElementById({json.dumps(fig_id)}));\n</script>"
    )


def marginal_html(
    data: torch.Tensor,
    *,
    T: int = 1000,
    schedule: str = "linear",
    t: int = 100,
    beta: float = 0.01,
    grid: tuple[float, float, int] = (-20.0, 20.0, 801),
    ymax: float = 0.45,
) -> HTML:
    """q_t(x) with sliders for t, the schedule and a constant beta, recomputed in the browser (chapter: An example diffusion).

    ``data`` is the 1-D dataset (repeats become weights, as in :func:`marginal_density`); the schedules are the
    package's ``NoiseSchedule.linear(T)``, ``.cosine(T)`` and ``.constant(T, beta)`` with their default parameters.
    """
    check_tensor("data", data, min_ndim=1, max_ndim=1)
    T = check_int("T", T, low=1, high=5000)
    t = check_int("t", t, low=0, high=T)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    values = beta_values(beta)
    beta_slider = {"name": "beta", "label": "β", "min": values[0], "max": values[-1], "values": values,
                   "value": float(beta), "log": True, "visible_if": {"schedule": "constant"}}
    ymax = check_positive("ymax", ymax)
    points, weights = empirical_distribution(data.detach().to("cpu", torch.float64))
    controls = [
        {"name": "t", "label": "t", "min": 0, "max": T, "step": 1, "value": t, "integer": True},
        {"name": "schedule", "label": "schedule", "options": list(SCHEDULES), "value": schedule},
        beta_slider,
    ]
    config = {"T": T, "points": points.tolist(), "weights": weights.tolist(), "grid": _check_grid(grid),
              "ymax": ymax, "controls": controls}
    alt = (f"Interactive plot of the marginal density q_t(x) of the forward chain for the data points "
           f"{', '.join(f'{p:g}' for p in points.tolist())}, next to alpha-bar_t of the chosen schedule; "
           "sliders set t, the schedule and beta.")
    return _figure("marginal", config, alt)


def fixed_factor_html(
    x0: float = 5.0,
    *,
    T: int = 60,
    a: float = 0.9,
    b: float = 0.4,
    t: int = 10,
    grid: tuple[float, float, int] = (-10.0, 10.0, 801),
    ylim: float = 10.0,
    ymax: float = 1.0,
) -> HTML:
    """Mean and variance of x_t = a x_{t-1} + b eps with sliders for a, b, t, computed in the browser (chapter: A chain with a fixed factor)."""
    x0 = float(x0)
    if not abs(x0) < float("inf"):
        raise ValueError(f"x0 must be a finite number, got {x0}")
    T = check_int("T", T, low=1, high=5000)
    t = check_int("t", t, low=0, high=T)
    controls = [
        _slider("a", "a", a),
        _slider("b", "b", b),
        {"name": "t", "label": "t", "min": 0, "max": T, "step": 1, "value": t, "integer": True},
    ]
    config = {"T": T, "x0": x0, "grid": _check_grid(grid), "ylim": check_positive("ylim", ylim),
              "ymax": check_positive("ymax", ymax), "controls": controls}
    alt = (f"Interactive plot of the chain x_t = a x_(t-1) + b eps from x_0 = {x0:g}: the mean plus and minus two "
           "standard deviations over t, and the density of x_t next to its limit; sliders set a, b and t.")
    return _figure("fixed_factor", config, alt)
