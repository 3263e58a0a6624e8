"""The DDIM eta figure: paths from one x_T and the samples' histogram, its slider callback and its animation twin.

Home chapter: Noise, determinism and where the chain starts. :class:`EtaSweep` runs DDIM at several eta from the same
starting points and the same noise draws; :func:`eta_figure` draws the empty figure, :func:`update_eta` (the slider
callback of :func:`~diffusion_utils.figures.widgets.eta_explorer`) fills it for one eta, and :func:`eta_animation` plays the
same callback over the sweep for the website.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation

from ..core._validate import check_int, check_tensor
from ..core.data import DataScaler
from ..core.samplers import sample, time_grid
from ..core.schedules import NoiseSchedule
from .plotting import PALETTE, to_numpy

__all__ = ["EtaArtists", "EtaSweep", "eta_animation", "eta_figure", "update_eta"]

# Font sizes (points): the figure is drawn 10 inches wide, so a phone shows it at about a third of that.
_FONTS = {"ticks": 13, "labels": 14, "title": 14, "legend": 13}


def _check_etas(etas: object) -> tuple[float, ...]:
    """A non-empty sequence of finite reals in [0, 1], as floats."""
    if isinstance(etas, (str, bytes)) or not isinstance(etas, Sequence) or len(etas) == 0:
        raise TypeError(f"etas must be a non-empty sequence of numbers in [0, 1], got {etas!r}")
    out = []
    for eta in etas:
        if isinstance(eta, bool) or not isinstance(eta, numbers.Real) or not math.isfinite(float(eta)):
            raise TypeError(f"etas must hold finite real numbers, got {eta!r}")
        if not 0.0 <= float(eta) <= 1.0:
            raise ValueError(f"etas must lie in [0, 1] (0: deterministic DDIM, 1: DDPM's noise), got {eta}")
        out.append(float(eta))
    return tuple(out)


class EtaSweep(NamedTuple):
    """DDIM samples and paths from one x_T at several eta, with the same noise draws (CPU copies, data units).

    Chapter: Noise, determinism and where the chain starts. Entry k of ``paths`` and ``samples`` belongs to ``etas[k]``.
    """

    etas: tuple[float, ...]
    times: np.ndarray  #: (steps+1,) the integer times T, ..., 0 of the sampler's grid
    paths: np.ndarray  #: (len(etas), steps+1, num_paths): the first num_paths particles along the grid
    samples: np.ndarray  #: (len(etas), N): every particle at t = 0

    @classmethod
    def simulate(
        cls,
        model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        schedule: NoiseSchedule,
        xT: torch.Tensor,
        etas: Sequence[float],
        *,
        steps: int,
        seed: int = 0,
        num_paths: int = 20,
        scaler: DataScaler | None = None,
    ) -> EtaSweep:
        """Run ``du.sample(method="ddim", eta=eta)`` from ``xT`` (N, 1) for every eta, each with a generator seeded
        by ``seed`` on xT's device (so every eta sees the same noise draws z, scaled by its own sigma); ``scaler``
        decodes to data units."""
        check_tensor("xT", xT, min_ndim=2, max_ndim=2)
        if xT.shape[1] != 1:
            raise ValueError(f"xT must have shape (N, 1): the figure draws 1-D paths, got {tuple(xT.shape)}")
        etas = _check_etas(etas)
        steps = check_int("steps", steps, low=1, high=schedule.T)
        seed = check_int("seed", seed, low=0, high=2**63 - 1)
        num_paths = check_int("num_paths", num_paths, low=1, high=xT.shape[0])
        paths, samples = [], []
        for eta in etas:
            generator = torch.Generator(device=xT.device).manual_seed(seed)
            path = sample(model, schedule, xT, method="ddim", steps=steps, eta=eta, generator=generator,
                          trajectory=True).samples[:, :, 0]
            if scaler is not None:
                path = scaler.decode(path)
            paths.append(to_numpy(path[:, :num_paths]))
            samples.append(to_numpy(path[-1]))
        return cls(etas, to_numpy(time_grid(schedule, steps)), np.stack(paths), np.stack(samples))

    def frame(self, eta: float) -> tuple[np.ndarray, np.ndarray]:
        """(paths (steps+1, num_paths), samples (N,)) of the sweep's entry for ``eta``."""
        for k, value in enumerate(self.etas):
            if math.isclose(value, float(eta), abs_tol=1e-9):
                return self.paths[k], self.samples[k]
        raise ValueError(f"eta must be one of the sweep's values {self.etas}, got {eta}")


class EtaArtists(NamedTuple):
    """The artists :func:`update_eta` changes (chapter: Noise, determinism and where the chain starts)."""

    fig: plt.Figure
    ax_paths: plt.Axes
    ax_hist: plt.Axes
    lines: list  #: one Line2D per drawn path
    bars: object  #: matplotlib StepPatch (horizontal): share of the samples per bin
    title: object
    edges: np.ndarray


def eta_figure(
    times: np.ndarray,
    edges: np.ndarray | Sequence[float],
    points: Sequence[float],
    *,
    num_paths: int = 20,
    figsize: tuple[float, float] = (10.0, 4.6),
) -> EtaArtists:
    """An empty figure: paths x_t against t (left) and the samples' share per bin beside the data's points (right).

    ``times`` are the sampler's grid (T..0), ``edges`` the bin edges in data units (shared y-axis), ``points`` the
    data points, drawn with their weight 1/K (chapter: Noise, determinism and where the chain starts).
    """
    times = np.asarray(times, dtype=float)
    edges = np.asarray(edges, dtype=float)
    points = np.asarray(points, dtype=float)
    num_paths = check_int("num_paths", num_paths, low=1)
    if times.ndim != 1 or times.size < 2 or edges.ndim != 1 or edges.size < 2 or points.ndim != 1 or points.size < 1:
        raise ValueError("times, edges and points must be 1-D arrays (at least 2, 2 and 1 values)")
    fig, (ax_p, ax_h) = plt.subplots(1, 2, figsize=figsize, layout="constrained", sharey=True, width_ratios=(2.6, 1))
    lines = [ax_p.plot(times, np.zeros_like(times), color=PALETTE["blue"], lw=1.2, alpha=0.75)[0]
             for _ in range(num_paths)]
    lines[0].set_label(f"{num_paths} particles, same $x_T$")
    ax_p.set_xlim(times[0], times[-1])  # T on the left: sampling runs left to right
    ax_p.set_ylim(edges[0], edges[-1])
    ax_p.set_xlabel("time step $t$ (sampling runs from $T$ to 0)", fontsize=_FONTS["labels"])
    ax_p.set_ylabel("$x_t$ (data units)", fontsize=_FONTS["labels"])
    bars = ax_h.stairs(np.zeros(edges.size - 1), edges, orientation="horizontal", fill=True, color=PALETTE["blue"],
                       alpha=0.5, label="samples $x_0$")
    share = 1.0 / points.size
    ax_h.plot(np.full(points.size, share), points, "o", ms=9, mfc="none", mew=2, color=PALETTE["vermillion"],
              label=f"data, weight 1/{points.size}")
    ax_h.set_xlim(0.0, 2.0 * share)
    ax_h.set_xlabel("share of samples", fontsize=_FONTS["labels"])
    for ax in (ax_p, ax_h):
        ax.tick_params(labelsize=_FONTS["ticks"])
    fig.legend(handles=[lines[0], bars, ax_h.lines[0]], loc="outside lower center", ncol=3, frameon=False,
               fontsize=_FONTS["legend"])
    title = ax_p.set_title(" ", loc="left", fontsize=_FONTS["title"])
    fig.canvas.draw()
    fig.set_layout_engine("none")  # the axes never move: lay out once
    return EtaArtists(fig, ax_p, ax_h, lines, bars, title, edges)


def update_eta(artists: EtaArtists, paths: np.ndarray, samples: np.ndarray, eta: float) -> None:
    """Slider callback: new paths, bar lengths and title for one eta, existing artists only.

    ``paths`` is (steps+1, P) with P at most the figure's number of lines, ``samples`` (N,) the particles at t = 0
    (chapter: Noise, determinism and where the chain starts).
    """
    paths = np.asarray(paths, dtype=float)
    samples = np.asarray(samples, dtype=float).ravel()
    if paths.ndim != 2 or paths.shape[1] > len(artists.lines):
        raise ValueError(f"paths must have shape (steps+1, P) with P <= {len(artists.lines)}, got {paths.shape}")
    if samples.size == 0:
        raise ValueError("samples must hold at least one particle")
    for k, line in enumerate(artists.lines):
        visible = k < paths.shape[1]
        if visible:
            line.set_ydata(paths[:, k])
        line.set_visible(visible)
    counts, _ = np.histogram(samples, bins=artists.edges)
    artists.bars.set_data(counts / samples.size)
    kind = "deterministic (DDIM)" if eta == 0 else ("DDPM's noise" if eta == 1 else "part of DDPM's noise")
    artists.title.set_text(f"η = {eta:g}: {kind}")


def eta_animation(sweep: EtaSweep, artists: EtaArtists, *, interval: int = 700) -> FuncAnimation:
    """Kernel-free twin of the eta slider: the same callback, one frame per eta of the sweep (same chapter)."""

    def draw(i: int):
        update_eta(artists, sweep.paths[i], sweep.samples[i], sweep.etas[i])
        return (*artists.lines, artists.bars, artists.title)

    return FuncAnimation(artists.fig, draw, frames=len(sweep.etas), interval=interval, blit=False)
