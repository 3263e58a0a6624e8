"""Figures, slider callbacks and kernel-free animation twins; tensors reach the CPU only here."""

from __future__ import annotations

import base64
import html
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.collections import LineCollection

from ..core._validate import check_int
from ..core.data import DataScaler
from ..core.forward import FixedFactorChain, forward_chain
from ..core.mixture import marginal_density, mixture_density
from ..core.schedules import NoiseSchedule

__all__ = [
    "PALETTE",
    "PALETTE_DARK",
    "FixedFactorArtists",
    "ForwardHistogram",
    "HistogramArtists",
    "ReverseHistogram",
    "animation_html",
    "fixed_factor_figure",
    "histogram_animation",
    "histogram_figure",
    "plot_density_heatmap",
    "plot_paths",
    "save_gif",
    "to_numpy",
    "update_fixed_factor",
    "update_histogram",
]

# Okabe-Ito colours (distinguishable with every common colour-vision deficiency), with orange and purple darkened so
# that every line has a contrast of at least 3:1 on white (the figures' background, in the site's dark mode too) and on
# a dark page (#121212): Okabe-Ito's own orange #E69F00 is 2.25:1 on white, its purple #CC79A7 3.06:1.
PALETTE = {"blue": "#0072B2", "orange": "#B57800", "green": "#009E73", "vermillion": "#D55E00", "purple": "#B9669A"}
# For drawing on a dark background (the kernel-free figures in dark mode): Okabe-Ito's sky blue replaces the blue,
# which is only 3.6:1 on #121212 and less over the light band it sits on.
PALETTE_DARK = {**PALETTE, "blue": "#56B4E9"}


def to_numpy(x: torch.Tensor) -> np.ndarray:
    """Detach, move to the CPU and convert: the one plotting boundary of the package (all chapters)."""
    return x.detach().to("cpu").numpy()


def plot_paths(ax: plt.Axes, traj: torch.Tensor, highlight: Sequence[int] = (0, 1), *, max_paths: int = 400) -> dict:
    """Particle paths x_t over t, their mean +- 3 sd across particles, and highlighted paths (chapter: An example diffusion)."""
    paths = to_numpy(traj)
    if paths.ndim != 2:
        raise ValueError(f"traj must have shape (T+1, N) for 1-D data, got {paths.shape}")
    t = np.arange(paths.shape[0])
    shown = paths[:, :max_paths]
    segments = np.stack([np.broadcast_to(t, shown.T.shape), shown.T], axis=-1)
    lines = LineCollection(segments, colors=PALETTE["blue"], alpha=0.08, linewidths=0.8, label="all particles")
    ax.add_collection(lines)
    mean, sd = paths.mean(axis=1), paths.std(axis=1)
    (mean_line,) = ax.plot(t, mean, "--", color=PALETTE["vermillion"], lw=2.5, label=r"particle mean $\pm 3$ sd")
    ax.plot(t, mean + 3 * sd, "--", color=PALETTE["vermillion"], lw=1)
    ax.plot(t, mean - 3 * sd, "--", color=PALETTE["vermillion"], lw=1)
    picked = ax.plot(t, paths[:, list(highlight)], color=PALETTE["orange"], lw=1.5)
    picked[0].set_label("two particles")
    ax.set_xlim(0, t[-1])
    ax.autoscale_view(scalex=False)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("$x_t$")
    legend = ax.legend(loc="upper right", fontsize=9)
    for handle in legend.legend_handles:
        handle.set_alpha(1.0)
    return {"paths": lines, "mean": mean_line, "highlight": picked}


def plot_density_heatmap(
    ax: plt.Axes, grid: torch.Tensor, density: torch.Tensor, times: torch.Tensor, *, vmax_quantile: float = 0.99
) -> plt.cm.ScalarMappable:
    """Heat map of q_t(x) over (t, x), colours clipped at a high quantile (chapter: An example diffusion)."""
    dens = to_numpy(density)
    ts, xs = to_numpy(times), to_numpy(grid)
    vmax = float(np.quantile(dens, vmax_quantile))
    image = ax.pcolormesh(ts, xs, dens.T, shading="nearest", cmap="viridis", vmin=0.0, vmax=vmax, rasterized=True)
    ax.set_xlabel("time step $t$")
    ax.set_ylabel("$x$")
    return image


@dataclass
class ForwardHistogram:
    """Particles of the forward chain (CPU copy) and the exact q_t on a grid (chapter: An example diffusion)."""

    data: torch.Tensor
    schedule: NoiseSchedule
    grid: torch.Tensor
    particles: np.ndarray  # (T+1, N): the plotting boundary's copy of the trajectory

    @classmethod
    def simulate(
        cls,
        data: torch.Tensor,
        schedule: NoiseSchedule,
        grid: torch.Tensor,
        num_particles: int,
        generator: torch.Generator | None = None,
    ) -> ForwardHistogram:
        """Draw ``num_particles`` starting points uniformly from ``data`` and run the chain on data's device."""
        if isinstance(num_particles, bool) or not isinstance(num_particles, int) or num_particles < 1:
            raise ValueError(f"num_particles must be an int >= 1, got {num_particles!r}")
        idx = torch.randint(data.numel(), (num_particles,), generator=generator, device=data.device)
        traj = forward_chain(data[idx], schedule, generator)
        return cls(data=data, schedule=schedule, grid=grid, particles=to_numpy(traj))

    def frame(self, t: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Particles at time t and the exact density q_t on the grid (None at t = 0, where q_0 has no density)."""
        density = None if t == 0 else to_numpy(marginal_density(self.grid, self.data, self.schedule, t))
        return self.particles[t], density

    def title(self, t: int) -> str:
        """The frame's title: at t = 0 the particles are the data themselves."""
        return f"t = {t}: the data themselves (point masses)" if t == 0 else f"t = {t}"


@dataclass(frozen=True)
class ReverseHistogram:
    """Particles of the reverse chain in data units and the exact q_t they should follow (chapter: Ancestral sampling).

    ``frame(t)`` has the interface of :class:`ForwardHistogram`, so the slider callback and the animation twin serve both.
    """

    data: torch.Tensor  # (K,) data points in model units
    schedule: NoiseSchedule
    grid: torch.Tensor  # in data units
    scaler: DataScaler
    particles: np.ndarray  # (T+1, N) in data units

    @classmethod
    def from_path(
        cls, path: torch.Tensor, data: torch.Tensor, schedule: NoiseSchedule, grid: torch.Tensor, scaler: DataScaler
    ) -> ReverseHistogram:
        """``path`` is a sampler trajectory (T+1, N, 1) in model units; ``data`` the training points (K, 1) in model units."""
        if path.ndim != 3 or path.shape[2] != 1 or path.shape[0] != schedule.T + 1:
            raise ValueError(f"path must have shape (T+1, N, 1) = ({schedule.T + 1}, N, 1), got {tuple(path.shape)}")
        return cls(data[:, 0], schedule, grid, scaler, to_numpy(scaler.decode(path[:, :, 0])))

    def frame(self, t: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Particles at time t (data units) and the exact q_t mapped to data units (None at t = 0)."""
        if t == 0:
            return self.particles[0], None
        density = marginal_density(self.scaler.encode(self.grid), self.data, self.schedule, t) / self.scaler.scale
        return self.particles[t], to_numpy(density)

    def title(self, t: int) -> str:
        """The frame's title: at t = 0 the particles are the generated samples, not the data."""
        return f"t = {t}: the generated samples" if t == 0 else f"t = {t}"


class HistogramArtists(NamedTuple):
    """The artists a histogram frame updates in place (chapter: An example diffusion)."""

    fig: plt.Figure
    ax: plt.Axes
    bars: object  # matplotlib StepPatch
    curve: plt.Line2D
    title: object
    edges: np.ndarray
    autoscale: bool = False  # True: each update sets the y-axis to fit the bars and the curve


# Font sizes (points) of the histogram frames: drawn 6 inches wide, a frame stays legible when a phone shows it
# 340 px wide (14 pt ticks become 11 px) and is large on a projector.
FRAME_FONTS = {"ticks": 14, "labels": 15, "title": 15, "legend": 13}
# Axis tops in steps (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten): an autoscaled axis moves in jumps.
_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceil(value: float) -> float:
    """The smallest 1-1.2-1.5-2-2.5-3-4-5-6-8 times a power of ten that is >= value (> 0)."""
    if not value > 0 or not np.isfinite(value):
        raise ValueError(f"value must be a positive finite number, got {value}")
    magnitude = 10.0 ** np.floor(np.log10(value))
    return float(next(round(m * magnitude, 12) for m in _NICE if m * magnitude >= value * (1 - 1e-12)))


def histogram_figure(
    grid: torch.Tensor,
    edges: np.ndarray | torch.Tensor | Sequence[float],
    *,
    ylim: float | None = 0.6,
    figsize: tuple[float, float] = (6.0, 4.2),
) -> HistogramArtists:
    """An empty histogram-vs-density figure whose artists :func:`update_histogram` fills (chapter: An example diffusion).

    ``ylim=None`` scales the y-axis to each frame (the reverse chain: a flat bell at t = T, sharp peaks at t = 0).
    """
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    edges = to_numpy(edges).astype(float) if isinstance(edges, torch.Tensor) else np.asarray(edges, dtype=float)
    bars = ax.stairs(np.zeros(len(edges) - 1), edges, fill=True, color=PALETTE["blue"], alpha=0.45, label="histogram of particles")
    xs = to_numpy(grid)
    (curve,) = ax.plot(xs, np.zeros_like(xs), color=PALETTE["vermillion"], lw=2.5, label="exact $q_t(x)$")
    ax.set_xlim(edges[0], edges[-1])
    # An autoscaled axis is laid out with wide tick labels (0.000 ... 0.012), so that no later scale runs out of it.
    ax.set_ylim(0, 0.012 if ylim is None else ylim)
    ax.set_xlabel("$x$", fontsize=FRAME_FONTS["labels"])
    ax.set_ylabel("density", fontsize=FRAME_FONTS["labels"])
    ax.tick_params(labelsize=FRAME_FONTS["ticks"])
    # Below the axes, not over the bars: the data's peaks reach every corner of the axes at some t.
    fig.legend(handles=[bars, curve], loc="outside lower center", ncol=2, frameon=False, fontsize=FRAME_FONTS["legend"])
    title = ax.set_title(" ", loc="left", fontsize=FRAME_FONTS["title"])
    # The axes never move, so lay the figure out once instead of on every slider update (about 40 % of a redraw).
    fig.canvas.draw()
    fig.set_layout_engine("none")
    if ylim is None:
        ax.set_ylim(0, 0.6)
    return HistogramArtists(fig, ax, bars, curve, title, edges, ylim is None)


def update_histogram(
    artists: HistogramArtists, samples: np.ndarray, density: np.ndarray | None, t: int, *, title: str | None = None
) -> None:
    """Slider callback: new bar heights and density curve for time t, existing artists only (chapter: An example diffusion).

    ``title`` defaults to "t = ..." (the movies' ``title(t)`` says what the particles are at t = 0).
    """
    heights, _ = np.histogram(samples, bins=artists.edges, density=True)
    artists.bars.set_data(heights)
    if density is None:
        artists.curve.set_visible(False)
    else:
        artists.curve.set_ydata(density)
        artists.curve.set_visible(True)
    artists.title.set_text(f"t = {t}" if title is None else title)
    if artists.autoscale:
        top = max(float(heights.max(initial=0.0)), float(np.max(density)) if density is not None else 0.0)
        artists.ax.set_ylim(0, nice_ceil(1.08 * top) if top > 0 else 1.0)


def histogram_animation(
    movie: ForwardHistogram | ReverseHistogram, artists: HistogramArtists, times: Sequence[int], *, interval: int = 80
) -> FuncAnimation:
    """Kernel-free twin of the live slider: the same callback, one frame per time (chapter: An example diffusion)."""
    times = [int(t) for t in times]

    def draw(i: int):
        update_histogram(artists, *movie.frame(times[i]), times[i], title=movie.title(times[i]))
        return artists.bars, artists.curve, artists.title

    return FuncAnimation(artists.fig, draw, frames=len(times), interval=interval, blit=False)


# matplotlib's player draws its buttons with Font Awesome 4 from a CDN; plain characters need no font download.
_PLAYER_ICONS = {
    "fa fa-minus": "\u2212", "fa fa-fast-backward": "|\u25c0\u25c0", "fa fa-step-backward": "|\u25c0",
    "fa fa-play fa-flip-horizontal": "\u25c0", "fa fa-pause": "\u2759\u2759", "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u25b6|", "fa fa-fast-forward": "\u25b6\u25b6|", "fa fa-plus": "+",
}


# Scoped to the player's own class: the frame scales to the width of the page (never wider than drawn), buttons and
# radio labels are 44 px touch targets and wrap onto a second row on a phone instead of running out of the box.
_PLAYER_CSS = """<style>
.animation.du-player{display:block;max-width:100%;text-align:center}
.du-player img{display:block;max-width:100%;height:auto;margin:0 auto}
.du-player .anim-controls{display:flex;flex-direction:column;align-items:center;max-width:100%}
.du-player input[type=range].anim-slider{width:min(100%,40rem);height:44px;margin:0 auto}
.du-player .anim-buttons{display:flex;flex-wrap:wrap;justify-content:center;gap:4px;margin:4px 0}
.du-player .anim-buttons button{width:44px;height:44px;padding:0;font-size:16px;line-height:1}
.du-player .anim-state{display:flex;flex-wrap:wrap;justify-content:center;align-items:center;gap:0 1rem}
.du-player .anim-state input{width:20px;height:20px;margin:0 .375rem 0 0}
.du-player .anim-state label{display:inline-flex;align-items:center;min-height:44px;margin:0}
</style>
"""


def _quantize_png(data: bytes, colors: int) -> bytes:
    """A PNG re-encoded with a palette of ``colors`` colours (a plot frame has few): about a quarter of the bytes."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


def animation_html(anim: FuncAnimation, alt: str, *, dpi: float = 120, colors: int | None = 128) -> str:
    """The animation as a self-contained HTML player (play, step, slider) with alt text on its frame (chapter: An example diffusion).

    Unlike ``anim.to_jshtml()`` the player loads nothing from other hosts (its button icons are plain characters),
    its slider has an accessible name, and it fits any width: the frame, drawn at ``dpi`` (120: a 6-inch figure is
    720 px, sharp on a projector), shrinks with the page, and the controls wrap. ``colors`` re-encodes each frame
    with a palette of that many colours (None keeps matplotlib's PNGs), which keeps the page light.
    """
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt must be a non-empty description of the animation")
    if not (isinstance(dpi, (int, float)) and 10 <= dpi <= 600):
        raise ValueError(f"dpi must be a number in [10, 600], got {dpi!r}")
    if colors is not None:
        colors = check_int("colors", colors, low=2, high=256)
    with plt.rc_context({"savefig.dpi": dpi}):
        player = anim.to_jshtml(default_mode="once")
    if colors is not None:

        def smaller(match: re.Match) -> str:
            data = base64.b64decode(match.group(2).replace("\\\n", ""))
            return f'{match.group(1)}"data:image/png;base64,{base64.b64encode(_quantize_png(data, colors)).decode()}"'

        player = re.sub(r'(frames\[\d+\] = )"data:image/png;base64,([^"]*)"', smaller, player)
    player = re.sub(r"<link[^>]*font-awesome[^>]*>", "", player)
    for icon, text in _PLAYER_ICONS.items():
        player = player.replace(f'<i class="{icon}"></i>', f'<span aria-hidden="true">{text}</span>')
    player = player.replace('<div class="animation">', '<div class="animation du-player">', 1)
    player = player.replace('class="anim-slider"', 'class="anim-slider" aria-label="animation frame"', 1)
    return _PLAYER_CSS + player.replace("<img id=", f'<img alt="{html.escape(alt)}" id=', 1)


def save_gif(anim: FuncAnimation, path: str | os.PathLike, fps: int = 15) -> str:
    """Write an animation as a GIF for slides (Pillow, no ffmpeg needed); returns the path (chapter: An example diffusion)."""
    path = os.fspath(path)
    anim.save(path, writer=PillowWriter(fps=fps))
    return path


class FixedFactorArtists(NamedTuple):
    """Artists of the fixed-factor figure: band over time (left), q(x_t | x_0) at one t (right) (chapter: A chain with a fixed factor)."""

    fig: plt.Figure
    ax_time: plt.Axes
    ax_density: plt.Axes
    band: object
    mean: plt.Line2D
    paths: LineCollection
    marker: object
    density: plt.Line2D
    stationary: plt.Line2D
    grid: np.ndarray
    T: int


def fixed_factor_figure(T: int, grid: torch.Tensor, *, figsize: tuple[float, float] = (10, 3.8)) -> FixedFactorArtists:
    """Empty two-panel figure for the chain x_t = a x_{t-1} + b eps_t (chapter: A chain with a fixed factor)."""
    T = check_int("T", T, low=1)
    fig, (ax_time, ax_density) = plt.subplots(1, 2, figsize=figsize, layout="constrained", gridspec_kw={"width_ratios": [3, 2]})
    band = ax_time.fill_between([0, T], [0, 0], [0, 0], color=PALETTE["blue"], alpha=0.2, label=r"mean $\pm 2$ sd")
    (mean,) = ax_time.plot([], [], color=PALETTE["blue"], lw=2, label=r"$\mathbb{E}[x_t \mid x_0] = a^t x_0$")
    paths = LineCollection([], colors=PALETTE["orange"], linewidths=1, alpha=0.8, label="simulated paths")
    ax_time.add_collection(paths)
    marker = ax_time.axvline(0, color="0.3", ls=":", lw=1)
    ax_time.set_xlim(0, T)
    ax_time.set_xlabel("time step $t$")
    ax_time.set_ylabel("$x_t$")
    ax_time.legend(loc="upper right", fontsize=8)
    xs = to_numpy(grid)
    (density,) = ax_density.plot(xs, np.zeros_like(xs), color=PALETTE["blue"], lw=2, label=r"$q(x_t \mid x_0)$")
    (stationary,) = ax_density.plot(xs, np.zeros_like(xs), "--", color=PALETTE["vermillion"], lw=1.5, label=r"$t \to \infty$")
    ax_density.set_xlim(xs[0], xs[-1])
    ax_density.set_xlabel("$x_t$")
    ax_density.set_ylabel("density")
    ax_density.legend(loc="upper right", fontsize=8)
    return FixedFactorArtists(fig, ax_time, ax_density, band, mean, paths, marker, density, stationary, xs, T)


def update_fixed_factor(
    artists: FixedFactorArtists, chain: FixedFactorChain, x0: float, t: int, *, num_paths: int = 5, seed: int = 0
) -> None:
    """Slider callback for (a, b, t): closed-form band, seeded paths, densities at t (chapter: A chain with a fixed factor)."""
    T = artists.T
    t = check_int("t", t, low=0, high=T)
    start = torch.full((num_paths,), float(x0))
    steps = torch.arange(T + 1)[:, None]
    mean, var = chain.marginal(start[:1], steps)
    mean, sd = to_numpy(mean[:, 0]), np.sqrt(to_numpy(var[:, 0]))
    ts = np.arange(T + 1)
    artists.band.set_verts([np.concatenate([np.column_stack([ts, mean - 2 * sd]), np.column_stack([ts[::-1], (mean + 2 * sd)[::-1]])])])
    artists.mean.set_data(ts, mean)
    paths = to_numpy(chain.simulate(start, T, torch.Generator().manual_seed(seed)))
    artists.paths.set_segments([np.column_stack([ts, paths[:, i]]) for i in range(num_paths)])
    artists.marker.set_xdata([t, t])
    reach = max(abs(float(x0)), 3 * float(np.sqrt(chain.stationary_variance))) * 1.15
    artists.ax_time.set_ylim(-reach, reach)
    grid = torch.as_tensor(artists.grid)
    if t == 0:
        artists.density.set_visible(False)
    else:
        m_t, v_t = chain.marginal(torch.tensor([float(x0)]), t)
        artists.density.set_ydata(to_numpy(mixture_density(grid, m_t, v_t)))
        artists.density.set_visible(True)
    stationary = mixture_density(grid, torch.zeros(1), torch.tensor([chain.stationary_variance]))
    artists.stationary.set_ydata(to_numpy(stationary))
    top = max(float(artists.stationary.get_ydata().max()), float(artists.density.get_ydata().max()) if t else 0.0)
    artists.ax_density.set_ylim(0, 1.1 * top)
    artists.ax_density.set_title(f"$a = {chain.a:.3f}$, $b = {chain.b:.3f}$, $t = {t}$", fontsize=10)
