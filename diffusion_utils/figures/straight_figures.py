"""Exact 1-D paths of the linear interpolant and of the VP probability flow, as the data's spread grows.

Home chapter: Straight paths and few steps. :class:`StraightFrame` holds one spread's paths (CPU copies);
:func:`straight_figure` draws the empty two-panel figure, :func:`update_straight` (the slider callback of
:func:`~diffusion_utils.figures.widgets.straight_explorer`) fills it, and :func:`straight_animation` plays the same
callback over a sweep of spreads for the website.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation

from ..core._validate import check_int, check_tensor
from ..core.flows import ExactVelocity, flow_time_grid
from ..core.straight import integrate_flow, interpolant_to_vp, path_curvature
from .plotting import PALETTE, to_numpy

__all__ = ["StraightArtists", "StraightFrame", "straight_animation", "straight_figure", "straight_frame",
           "update_straight"]

_FONTS = {"ticks": 13, "labels": 14, "title": 14, "legend": 13}


class StraightFrame(NamedTuple):
    """The exact paths for data ``spread`` x points, on the CPU (chapter: Straight paths and few steps).

    ``linear`` and ``vp`` are (n+1, P): the first P particles' paths x_t and x_t / nu_t at ``times`` (1 -> 0);
    ``kappa_linear`` and ``kappa_vp`` are the medians over all N particles of :func:`path_curvature` in the clock t.
    """

    spread: float
    times: np.ndarray
    linear: np.ndarray
    vp: np.ndarray
    kappa_linear: float
    kappa_vp: float


def straight_frame(
    points: torch.Tensor, spread: float, x1: torch.Tensor, *, steps: int = 200, num_paths: int = 12
) -> StraightFrame:
    """Integrate the exact velocity of ``spread * points`` (K, 1) from x1 (N, 1) with Heun on the quadratic grid.

    The VP path is the interpolant's path divided by nu_t at the same times (chapter: Straight paths and few steps).
    """
    check_tensor("points", points, min_ndim=2, max_ndim=2)
    check_tensor("x1", x1, min_ndim=2, max_ndim=2)
    if points.shape[1] != 1 or x1.shape[1] != 1:
        raise ValueError("points and x1 must be (K, 1) and (N, 1): the figure draws 1-D paths")
    if isinstance(spread, bool) or not isinstance(spread, numbers.Real) or not 0 <= float(spread) < math.inf:
        raise ValueError(f"spread must be a finite number >= 0, got {spread!r}")
    steps = check_int("steps", steps, low=1)
    num_paths = check_int("num_paths", num_paths, low=1, high=x1.shape[0])
    times = flow_time_grid(steps, "quadratic")
    z = integrate_flow(ExactVelocity(float(spread) * points.to(x1.dtype)), x1, times, method="heun",
                       trajectory=True).samples
    vp = torch.stack([interpolant_to_vp(z[k], float(times[k])) for k in range(len(times))])
    t_dev = times.to(x1.device)
    k_lin = float(path_curvature(z, t_dev).median())
    k_vp = float(path_curvature(vp, t_dev).median())
    return StraightFrame(float(spread), to_numpy(times), to_numpy(z[:, :num_paths, 0]), to_numpy(vp[:, :num_paths, 0]),
                         k_lin, k_vp)


class StraightArtists(NamedTuple):
    """The artists :func:`update_straight` changes (chapter: Straight paths and few steps)."""

    fig: plt.Figure
    axes: tuple  #: (linear interpolant, VP) axes
    paths: tuple  #: per panel, one Line2D per drawn particle
    chords: tuple  #: per panel, one dashed Line2D per drawn particle: its chord
    titles: tuple  #: per panel, the Text of its title
    suptitle: object


def straight_figure(num_paths: int = 12, *, figsize: tuple[float, float] = (10.0, 4.4)) -> StraightArtists:
    """An empty figure: paths against t (1 -> 0), interpolant (left) and VP flow (right), chords dashed (chapter: Straight paths and few steps)."""
    num_paths = check_int("num_paths", num_paths, low=1)
    fig, axes = plt.subplots(1, 2, figsize=figsize, layout="constrained", sharey=True)
    paths, chords, titles = [], [], []
    for ax, color, name in zip(axes, (PALETTE["blue"], PALETTE["orange"]), ("linear interpolant $x_t$", r"VP flow $x_t / \nu_t$")):
        paths.append([ax.plot([1.0, 0.0], [0.0, 0.0], color=color, lw=1.6)[0] for _ in range(num_paths)])
        chords.append([ax.plot([1.0, 0.0], [0.0, 0.0], color="black", lw=1.0, ls="--", alpha=0.7)[0]
                       for _ in range(num_paths)])
        ax.set_xlim(1.0, 0.0)  # noise on the left: sampling runs left to right
        ax.set_xlabel("interpolant time $t$ (1 = noise)", fontsize=_FONTS["labels"])
        ax.tick_params(labelsize=_FONTS["ticks"])
        titles.append(ax.set_title(name, loc="left", fontsize=_FONTS["title"]))
    axes[0].set_ylabel("position (model units)", fontsize=_FONTS["labels"])
    fig.legend(handles=[paths[0][0], paths[1][0], chords[0][0]],
               labels=["interpolant paths", "VP paths", "chord at uniform speed"],
               loc="outside lower center", ncol=3, frameon=False, fontsize=_FONTS["legend"])
    suptitle = fig.suptitle(" ", fontsize=_FONTS["title"])
    fig.canvas.draw()
    fig.set_layout_engine("none")  # the axes never move: lay out once
    return StraightArtists(fig, tuple(axes), tuple(paths), tuple(chords), tuple(titles), suptitle)


def update_straight(artists: StraightArtists, frame: StraightFrame) -> None:
    """Slider callback: new paths, chords, y-range and titles for one spread, existing artists only (same chapter)."""
    if not isinstance(frame, StraightFrame):
        raise TypeError(f"frame must be a StraightFrame, got {type(frame).__name__}")
    times = np.asarray(frame.times, dtype=float)
    count = frame.linear.shape[1]
    if count > len(artists.paths[0]) or frame.vp.shape != frame.linear.shape or frame.linear.shape[0] != times.size:
        raise ValueError(f"frame must hold (n+1, P) paths with P <= {len(artists.paths[0])} and n+1 = len(times)")
    span = [times[0], times[-1]]
    for panel, values, kappa in ((0, frame.linear, frame.kappa_linear), (1, frame.vp, frame.kappa_vp)):
        for k, (line, chord) in enumerate(zip(artists.paths[panel], artists.chords[panel])):
            visible = k < count
            line.set_visible(visible)
            chord.set_visible(visible)
            if visible:
                line.set_data(times, values[:, k])
                chord.set_data(span, [values[0, k], values[-1, k]])
        name = "linear interpolant $x_t$" if panel == 0 else r"VP flow $x_t / \nu_t$"
        artists.titles[panel].set_text(f"{name}: median κ = {kappa:.3f}")
    low = min(float(frame.linear.min()), float(frame.vp.min()))
    high = max(float(frame.linear.max()), float(frame.vp.max()))
    pad = 0.06 * max(high - low, 1e-6)
    artists.axes[0].set_ylim(low - pad, high + pad)
    artists.suptitle.set_text(f"data spread ζ = {frame.spread:g}")


def straight_animation(
    frames: Sequence[StraightFrame], artists: StraightArtists, *, interval: int = 900
) -> FuncAnimation:
    """Kernel-free twin of the spread slider: the same callback, one frame per spread (same chapter)."""
    frames = list(frames)
    if not frames:
        raise ValueError("frames must hold at least one StraightFrame")

    def draw(i: int):
        update_straight(artists, frames[i])
        return (*artists.paths[0], *artists.paths[1], artists.suptitle)

    return FuncAnimation(artists.fig, draw, frames=len(frames), interval=interval, blit=False)
