"""Guided samples against the tilted density: a sweep over the guidance scale, its figure, slider callback and twin.

Home chapter: Conditioning and guidance. :class:`GuidanceSweep` runs the exact guided probability-flow ODE of a
labelled 1-D point cloud at several guidance scales w, from the tilted density at a large noise level down to a small
one, and keeps the tilted density q_t(x|c)^(1+w) q_t(x)^(-w) at that small level beside it. :func:`guidance_figure`
draws the empty figure, :func:`update_guidance` (the callback of
:func:`~diffusion_utils.figures.widgets.guidance_explorer`) fills it for one w, and :func:`guidance_animation` plays the
same callback over the sweep for the website.
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

from ..core._validate import check_int, check_positive, check_tensor
from ..core.data import DataScaler
from ..core.guidance import guided_flow, tilted_log_density
from .plotting import PALETTE

__all__ = ["GuidanceArtists", "GuidanceSweep", "guidance_animation", "guidance_figure", "tilted_quantiles",
           "update_guidance"]

_FONTS = {"ticks": 13, "labels": 14, "title": 14, "legend": 12}


def _check_ws(ws: object) -> tuple[float, ...]:
    """A non-empty sequence of finite reals >= -1, as floats."""
    if isinstance(ws, (str, bytes)) or not isinstance(ws, Sequence) or len(ws) == 0:
        raise TypeError(f"ws must be a non-empty sequence of guidance scales >= -1, got {ws!r}")
    out = []
    for w in ws:
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(float(w)):
            raise TypeError(f"ws must hold finite real numbers, got {w!r}")
        if float(w) < -1.0:
            raise ValueError(f"ws must be >= -1 (-1: the unconditional model, 0: the conditional one), got {w}")
        out.append(float(w))
    return tuple(out)


def tilted_quantiles(
    levels: torch.Tensor,
    grid: torch.Tensor,
    data: torch.Tensor,
    labels: torch.Tensor,
    label: int,
    w: float,
    gamma: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Density of the tilted target on ``grid`` and its quantiles at ``levels`` (chapter: Conditioning and guidance).

    In the variable u = x_t / sqrt(alpha_bar) at noise level ``gamma`` (p_gamma = data * N(0, gamma^2)): the density
    p_gamma(u|c)^(1+w) p_gamma(u)^(-w) / Z on the 1-D ``grid`` (G,), normalised by the trapezoid rule, and the inverse of
    its CDF (linear between grid points) at ``levels`` (n,) in (0, 1). ``data`` is (K, 1).
    """
    check_tensor("grid", grid, min_ndim=1, max_ndim=1)
    ab = 1.0 / (1.0 + gamma * gamma)
    x = grid[:, None] * math.sqrt(ab)  # the density of u is that of x_t = sqrt(ab) u, up to a constant factor
    log_p = tilted_log_density(x, data, labels, label, w, ab)
    p = torch.exp(log_p - log_p.max())
    p = p / torch.trapezoid(p, grid)
    cdf = torch.cat([p.new_zeros(1), torch.cumulative_trapezoid(p, grid)])
    cdf = cdf / cdf[-1]
    idx = torch.searchsorted(cdf, levels).clamp(1, grid.numel() - 1)
    c0, c1 = cdf[idx - 1], cdf[idx]
    frac = (levels - c0) / (c1 - c0).clamp_min(torch.finfo(p.dtype).tiny)
    return p, grid[idx - 1] + frac * (grid[idx] - grid[idx - 1])


class GuidanceSweep(NamedTuple):
    """The exact guided ODE's endpoints and the tilted density at several w, in data units (CPU copies).

    Chapter: Conditioning and guidance. Entry k of ``tilted``, ``samples`` and ``w1`` belongs to ``ws[k]``.
    """

    label: int
    ws: tuple[float, ...]
    gamma_min: float  #: the final noise level, in model units (u = x_t / sqrt(alpha_bar))
    grid: np.ndarray  #: (G,) positions in data units
    tilted: np.ndarray  #: (len(ws), G): the tilted density at gamma_min, per data unit
    samples: np.ndarray  #: (len(ws), n): the guided ODE's particles at gamma_min, data units, sorted
    quantiles: np.ndarray  #: (len(ws), n): the tilted density's quantiles at the same levels, data units
    w1: np.ndarray  #: (len(ws),): W1 between the two, data units (mean gap of matched quantiles)
    points: np.ndarray  #: (K,) the data points, data units
    point_labels: np.ndarray  #: (K,) their classes

    @classmethod
    def simulate(
        cls,
        data: torch.Tensor,
        labels: torch.Tensor,
        label: int,
        ws: Sequence[float],
        *,
        gamma_min: float = 0.15,
        gamma_max: float = 200.0,
        steps: int = 150,
        n: int = 2000,
        grid_size: int = 4001,
        scaler: DataScaler | None = None,
    ) -> GuidanceSweep:
        """Run the exact guided flow (Heun, ``steps`` steps geometric in gamma) from ``n`` quantiles of the tilted
        density at ``gamma_max`` down to ``gamma_min``, for every w in ``ws``; ``data`` (K, 1) in model units,
        ``scaler`` decodes them (default: identity)."""
        check_tensor("data", data, min_ndim=2, max_ndim=2)
        if data.shape[1] != 1:
            raise ValueError(f"data must be 1-D points of shape (K, 1), got {tuple(data.shape)}")
        ws = _check_ws(ws)
        gamma_min = check_positive("gamma_min", gamma_min)
        gamma_max = check_positive("gamma_max", gamma_max)
        if not gamma_max > gamma_min:
            raise ValueError(f"gamma_max must exceed gamma_min ({gamma_min}), got {gamma_max}")
        steps, n = check_int("steps", steps, low=1), check_int("n", n, low=2)
        grid_size = check_int("grid_size", grid_size, low=101)
        scaler = scaler or DataScaler(0.0, 1.0)
        data = data.detach().to("cpu", torch.float64)
        labels = labels.detach().cpu()
        levels = (torch.arange(n, dtype=torch.float64) + 0.5) / n
        gammas = torch.logspace(math.log10(gamma_max), math.log10(gamma_min), steps + 1, dtype=torch.float64)
        pad = 6.0 * gamma_min + 0.5 * float(data.max() - data.min())
        fine = torch.linspace(float(data.min()) - pad, float(data.max()) + pad, grid_size, dtype=torch.float64)
        wide = torch.linspace(-8.0 * gamma_max, 8.0 * gamma_max, grid_size, dtype=torch.float64)
        tilted, samples, quants = [], [], []
        for w in ws:
            _, start = tilted_quantiles(levels, wide, data, labels, label, w, gamma_max)
            end = guided_flow(start[:, None], data, labels, label, w, gammas)[:, 0]
            dens, q = tilted_quantiles(levels, fine, data, labels, label, w, gamma_min)
            tilted.append(dens / scaler.scale)
            samples.append(torch.sort(scaler.decode(end)).values)
            quants.append(scaler.decode(q))
        samples_t, quants_t = torch.stack(samples), torch.stack(quants)
        w1 = (samples_t - quants_t).abs().mean(dim=1)
        return cls(int(label), ws, float(gamma_min), scaler.decode(fine).numpy(), torch.stack(tilted).numpy(),
                   samples_t.numpy(), quants_t.numpy(), w1.numpy(), scaler.decode(data[:, 0]).numpy(),
                   labels.numpy())

    def index(self, w: float) -> int:
        """Position of ``w`` in ``ws`` (a KeyError names the scales that exist)."""
        for k, value in enumerate(self.ws):
            if abs(value - float(w)) < 1e-9:
                return k
        raise KeyError(f"w = {w} was not simulated; the sweep has ws = {self.ws}")


class GuidanceArtists(NamedTuple):
    """The artists :func:`update_guidance` changes (chapter: Conditioning and guidance)."""

    fig: plt.Figure
    ax_density: plt.Axes
    ax_w1: plt.Axes
    bars: object  #: StepPatch: density of the guided ODE's particles
    line: object  #: Line2D: the tilted density
    marker: object  #: Line2D: the current w on the W1 curve
    title: object
    edges: np.ndarray


def guidance_figure(sweep: GuidanceSweep, *, bins: int = 120,
                    figsize: tuple[float, float] = (10.0, 4.4)) -> GuidanceArtists:
    """An empty figure: densities at the final noise level (left) and W1 against w (right) (chapter: Conditioning and guidance)."""
    bins = check_int("bins", bins, low=2)
    edges = np.linspace(sweep.grid[0], sweep.grid[-1], bins + 1)
    fig, (ax_d, ax_w) = plt.subplots(1, 2, figsize=figsize, layout="constrained", width_ratios=(1.7, 1))
    bars = ax_d.stairs(np.zeros(bins), edges, fill=True, color=PALETTE["blue"], alpha=0.45,
                       label="guided ODE's samples")
    (line,) = ax_d.plot(sweep.grid, np.zeros_like(sweep.grid), color=PALETTE["vermillion"], lw=2.2, ls="--",
                        label="tilted density")
    top = 1.15 * max(float(sweep.tilted.max()), _hist(sweep.samples, edges).max())
    for x, c in zip(sweep.points, sweep.point_labels):
        mine = int(c) == sweep.label
        ax_d.plot([x], [0.0], "o" if mine else "x", ms=10, mew=2.5, clip_on=False,
                  color="black" if mine else PALETTE["orange"], zorder=5)
    ax_d.set(xlim=(sweep.grid[0], sweep.grid[-1]), ylim=(0.0, top))
    ax_d.set_xlabel(r"$x_t/\sqrt{\bar\alpha_t}$ (data units; o class $c$, x other)", fontsize=_FONTS["labels"])
    ax_d.set_ylabel("density", fontsize=_FONTS["labels"])
    ax_d.legend(fontsize=_FONTS["legend"], loc="upper center")
    ax_w.plot(sweep.ws, sweep.w1, "-o", color=PALETTE["blue"], lw=2)
    (marker,) = ax_w.plot([sweep.ws[0]], [sweep.w1[0]], "o", ms=14, mfc="none", mew=2.5, color=PALETTE["vermillion"])
    ax_w.set_xlabel("guidance scale $w$", fontsize=_FONTS["labels"])
    ax_w.set_ylabel("$W_1$(guided, tilted)", fontsize=_FONTS["labels"])
    ax_w.set_ylim(0.0, 1.1 * float(sweep.w1.max()) + 1e-9)
    for ax in (ax_d, ax_w):
        ax.tick_params(labelsize=_FONTS["ticks"])
    title = ax_d.set_title(" ", loc="left", fontsize=_FONTS["title"])
    fig.canvas.draw()
    fig.set_layout_engine("none")
    return GuidanceArtists(fig, ax_d, ax_w, bars, line, marker, title, edges)


def _hist(samples: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Density histogram of every row of ``samples`` (the largest bar over all rows, for the y-limit)."""
    rows = np.atleast_2d(samples)
    width = np.diff(edges)
    return np.array([np.histogram(r, bins=edges)[0] / (r.size * width) for r in rows])


def update_guidance(artists: GuidanceArtists, sweep: GuidanceSweep, w: float) -> None:
    """Slider callback: the histogram, tilted density, marker and title for one w of ``sweep``, existing artists only.

    Chapter: Conditioning and guidance.
    """
    k = sweep.index(w)
    artists.bars.set_data(_hist(sweep.samples[k], artists.edges)[0])
    artists.line.set_ydata(sweep.tilted[k])
    artists.marker.set_data([sweep.ws[k]], [sweep.w1[k]])
    artists.title.set_text(f"$w$ = {sweep.ws[k]:g}: $W_1$ = {sweep.w1[k]:.2f}")


def guidance_animation(sweep: GuidanceSweep, artists: GuidanceArtists, *, interval: int = 800) -> FuncAnimation:
    """Kernel-free twin of the guidance slider: the same callback, one frame per w of the sweep (same chapter)."""

    def draw(i: int):
        update_guidance(artists, sweep, sweep.ws[i])
        return artists.bars, artists.line, artists.marker, artists.title

    return FuncAnimation(artists.fig, draw, frames=len(sweep.ws), interval=interval, blit=False)
