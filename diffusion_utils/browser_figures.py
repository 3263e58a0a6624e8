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

from ._validate import check_int, check_open_unit, check_positive, check_tensor
from .mixture import empirical_distribution
from .plotting import PALETTE

__all__ = ["fixed_factor_html", "marginal_html"]

SCHEDULES = ("linear", "cosine", "constant")
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


def _figure(kind: str, config: dict, alt: str) -> HTML:
    """The HTML of one figure: container with its JSON config, then the script that mounts it."""
    fig_id = f"kf-{kind}-{next(_ids)}"
    colors = {"blue": PALETTE["blue"], "vermillion": PALETTE["vermillion"], "grey": "#808080"}
    config = {"kind": kind, "colors": colors, **config}
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
    beta = check_open_unit("beta", beta)
    if not 1e-4 <= beta <= 0.5:
        raise ValueError(f"beta must lie in [1e-4, 0.5] (the slider's range), got {beta}")
    ymax = check_positive("ymax", ymax)
    points, weights = empirical_distribution(data.detach().to("cpu", torch.float64))
    controls = [
        {"name": "t", "label": "t", "min": 0, "max": T, "step": 1, "value": t, "integer": True},
        {"name": "schedule", "label": "schedule", "options": list(SCHEDULES), "value": schedule},
        {"name": "beta", "label": "β", "min": 1e-4, "max": 0.5, "step": 0.02, "value": beta, "log": True,
         "visible_if": {"schedule": "constant"}},
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
    sigma: float = 0.4,
    t: int = 10,
    grid: tuple[float, float, int] = (-10.0, 10.0, 801),
    ylim: float = 10.0,
    ymax: float = 1.0,
) -> HTML:
    """Mean and variance of x_t = a x_{t-1} + sigma eps with sliders for a, sigma, t, computed in the browser (chapter: A chain with a fixed factor)."""
    x0 = float(x0)
    if not abs(x0) < float("inf"):
        raise ValueError(f"x0 must be a finite number, got {x0}")
    T = check_int("T", T, low=1, high=5000)
    t = check_int("t", t, low=0, high=T)
    a = check_open_unit("a", a)
    if not 0.5 <= a <= 0.995:
        raise ValueError(f"a must lie in [0.5, 0.995] (the slider's range), got {a}")
    sigma = check_positive("sigma", sigma)
    if not 0.05 <= sigma <= 1.5:
        raise ValueError(f"sigma must lie in [0.05, 1.5] (the slider's range), got {sigma}")
    controls = [
        {"name": "a", "label": "a", "min": 0.5, "max": 0.995, "step": 0.005, "value": a},
        {"name": "sigma", "label": "σ", "min": 0.05, "max": 1.5, "step": 0.05, "value": sigma},
        {"name": "t", "label": "t", "min": 0, "max": T, "step": 1, "value": t, "integer": True},
    ]
    config = {"T": T, "x0": x0, "grid": _check_grid(grid), "ylim": check_positive("ylim", ylim),
              "ymax": check_positive("ymax", ymax), "controls": controls}
    alt = (f"Interactive plot of the chain x_t = a x_(t-1) + sigma eps from x_0 = {x0:g}: the mean plus and minus two "
           "standard deviations over t, and the density of x_t next to its limit; sliders set a, sigma and t.")
    return _figure("fixed_factor", config, alt)
