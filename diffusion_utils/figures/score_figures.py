"""The 2-D score field, exact and learned, as arrows: frames, the slider callback and its animation twin.

Home chapter: Scores and Tweedie. Tensors reach the CPU only here (as numpy arrays in a :class:`ScoreFrame`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.colors import ListedColormap, Normalize

from ..core._validate import check_int, check_positive, check_tensor
from ..core.schedules import NoiseSchedule, check_schedule
from ..core.scores import mixture_score
from .plotting import FRAME_FONTS, to_numpy

__all__ = ["ScoreField", "ScoreFieldArtists", "ScoreFrame", "score_field_animation", "score_field_figure",
           "update_score_field"]

# Arrows show the score's direction with one length (this share of a grid cell); colour shows its size, log10 |score|,
# over this many decades below the frame's largest exact value (the size spans orders of magnitude across x and t).
_ARROW = 0.8
_DECADES = 3.0
# Viridis without its palest yellows, which vanish on a white background.
_CMAP = ListedColormap(plt.get_cmap("viridis")(np.linspace(0.0, 0.85, 256)), name="viridis_dark")


class ScoreFrame(NamedTuple):
    """One time of the score field, on the CPU (chapter: Scores and Tweedie).

    ``exact`` and ``learned`` are the scores at the arrow tails, (M, 2); ``dots`` are samples of q_t, (n, 2).
    """

    t: int
    dots: np.ndarray
    exact: np.ndarray
    learned: np.ndarray


@dataclass(frozen=True)
class ScoreField:
    """Exact score of a 2-D point cloud and a network's -eps_theta / sqrt(1 - ab_t) on a grid (chapter: Scores and Tweedie).

    ``data`` (K, 2) are the training points in model units, ``model(x, t)`` the noise predictor, ``tails`` (M, 2) the
    arrow positions (a square grid of spacing ``spacing``), ``dots_x0`` and ``dots_noise`` (n, 2) fixed draws that
    give the samples sqrt(ab_t) x_0 + sqrt(1 - ab_t) eps of q_t shown under the arrows (the same draws at every t).
    """

    data: torch.Tensor
    model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    schedule: NoiseSchedule
    tails: torch.Tensor
    spacing: float
    dots_x0: torch.Tensor
    dots_noise: torch.Tensor

    @classmethod
    def build(
        cls,
        data: torch.Tensor,
        model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        schedule: NoiseSchedule,
        *,
        lim: float = 2.5,
        arrows: int = 20,
        num_dots: int = 1000,
        generator: torch.Generator | None = None,
    ) -> ScoreField:
        """A grid of ``arrows`` x ``arrows`` tails over [-lim, lim]^2 and ``num_dots`` seeded draws, on data's device."""
        check_tensor("data", data, min_ndim=2, max_ndim=2)
        if data.shape[1] != 2:
            raise ValueError(f"data must have shape (K, 2), got {tuple(data.shape)}")
        check_schedule(schedule, "data", data)
        if not callable(model):
            raise TypeError(f"model must be callable as model(x, t), got {type(model).__name__}")
        lim = check_positive("lim", lim)
        arrows = check_int("arrows", arrows, low=2, high=200)
        num_dots = check_int("num_dots", num_dots, low=0)
        axis = torch.linspace(-lim, lim, arrows, dtype=data.dtype, device=data.device)
        gx, gy = torch.meshgrid(axis, axis, indexing="xy")
        tails = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
        pick = torch.randint(data.shape[0], (num_dots,), generator=generator, device=data.device)
        noise = torch.randn(num_dots, 2, generator=generator, dtype=data.dtype, device=data.device)
        return cls(data, model, schedule, tails, 2 * lim / (arrows - 1), data[pick], noise)

    def scores(self, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(exact, learned) scores at the tails, each (M, 2), at integer time t in [1, T], on data's device."""
        t = check_int("t", t, low=1, high=self.schedule.T)
        ab = self.schedule.alpha_bars[t].to(self.data.dtype)
        exact = mixture_score(self.tails, self.data, ab)
        with torch.no_grad():
            eps = self.model(self.tails, torch.full((self.tails.shape[0],), t, device=self.tails.device))
        return exact, -eps.to(self.data.dtype) / (1 - ab).sqrt()

    def frame(self, t: int) -> ScoreFrame:
        """The scores at the tails and the samples of q_t at time t, as numpy arrays."""
        exact, learned = self.scores(t)
        ab = self.schedule.alpha_bars[t].to(self.data.dtype)
        dots = ab.sqrt() * self.dots_x0 + (1 - ab).sqrt() * self.dots_noise
        return ScoreFrame(t, to_numpy(dots), to_numpy(exact), to_numpy(learned))


class ScoreFieldArtists(NamedTuple):
    """The artists a score-field frame updates in place: two quivers, two dot clouds, the title (chapter: Scores and Tweedie)."""

    fig: plt.Figure
    ax_exact: plt.Axes
    ax_learned: plt.Axes
    exact: object  # matplotlib Quiver
    learned: object  # matplotlib Quiver
    dots_exact: object  # PathCollection
    dots_learned: object
    title: object
    colorbar: object
    arrow: float  # the length of every arrow, in data units


def score_field_figure(field: ScoreField, *, figsize: tuple[float, float] = (10.0, 6.2)) -> ScoreFieldArtists:
    """Two empty panels, exact (left) and learned (right) score, that :func:`update_score_field` fills (chapter: Scores and Tweedie)."""
    tails = to_numpy(field.tails)
    zeros = np.zeros(len(tails))
    empty = np.zeros((0, 2))
    lim = float(np.abs(tails).max()) + field.spacing
    fig, (ax_exact, ax_learned) = plt.subplots(1, 2, figsize=figsize, layout="constrained", sharex=True, sharey=True)
    quivers, clouds = [], []
    labels = (r"exact $\nabla_x \log q_t(x)$", r"network $-\epsilon_\theta(x, t)/\sqrt{1-\bar\alpha_t}$")
    norm = Normalize(-_DECADES, 0.0)
    for ax, label in zip((ax_exact, ax_learned), labels):
        clouds.append(ax.scatter(empty[:, 0], empty[:, 1], s=5, color="0.45", alpha=0.5, linewidths=0, rasterized=True))
        quivers.append(ax.quiver(tails[:, 0], tails[:, 1], zeros, zeros, zeros, cmap=_CMAP, norm=norm, angles="xy",
                                 scale_units="xy", scale=1.0, width=0.007, headwidth=3.5, headlength=4.0,
                                 headaxislength=3.5, pivot="middle"))
        ax.set_title(label, fontsize=FRAME_FONTS["title"])
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
        ax.set_xlabel("$x^{(1)}$", fontsize=FRAME_FONTS["labels"])
        ax.tick_params(labelsize=FRAME_FONTS["ticks"])
    ax_exact.set_ylabel("$x^{(2)}$", fontsize=FRAME_FONTS["labels"])
    colorbar = fig.colorbar(quivers[0], ax=[ax_exact, ax_learned], location="bottom", shrink=0.7, aspect=40)
    colorbar.set_label(r"$\log_{10}$ of the score's length (both panels)", fontsize=FRAME_FONTS["legend"])
    colorbar.ax.tick_params(labelsize=FRAME_FONTS["ticks"])
    title = fig.suptitle(" ", fontsize=FRAME_FONTS["title"])
    # The axes never move: lay the figure out once, not on every slider update.
    fig.canvas.draw()
    fig.set_layout_engine("none")
    return ScoreFieldArtists(fig, ax_exact, ax_learned, quivers[0], quivers[1], clouds[0], clouds[1], title, colorbar,
                             _ARROW * field.spacing)


def _arrows(scores: np.ndarray, length: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(U, V, C) of a quiver: each score's direction at the given length, colour log10 of its size (chapter: Scores and Tweedie).

    A zero score gets a zero arrow.
    """
    size = np.linalg.norm(scores, axis=1)
    safe = np.where(size > 0, size, 1.0)
    uv = scores / safe[:, None] * length
    return uv[:, 0], uv[:, 1], np.log10(np.where(size > 0, size, np.finfo(float).tiny))


def update_score_field(artists: ScoreFieldArtists, frame: ScoreFrame, *, title: str | None = None) -> None:
    """Slider callback: new arrows, colours and samples for one frame, existing artists only (chapter: Scores and Tweedie).

    The colour scale spans the three decades below the frame's largest exact score, in both panels; ``title`` defaults
    to "t = ...".
    """
    artists.exact.set_UVC(*_arrows(frame.exact, artists.arrow))
    artists.learned.set_UVC(*_arrows(frame.learned, artists.arrow))
    top = float(np.log10(max(float(np.linalg.norm(frame.exact, axis=1).max()), np.finfo(float).tiny)))
    for quiver in (artists.exact, artists.learned):
        quiver.set_clim(top - _DECADES, top)
    artists.dots_exact.set_offsets(frame.dots)
    artists.dots_learned.set_offsets(frame.dots)
    artists.title.set_text(f"t = {frame.t}" if title is None else title)


def score_field_animation(
    field: ScoreField, artists: ScoreFieldArtists, times: Sequence[int], *, interval: int = 400
) -> FuncAnimation:
    """Kernel-free twin of the live explorer: the same callback, one frame per time (chapter: Scores and Tweedie)."""
    frames = [field.frame(int(t)) for t in times]
    if not frames:
        raise ValueError("times must hold at least one time")

    def draw(i: int):
        update_score_field(artists, frames[i])
        return artists.exact, artists.learned, artists.title

    return FuncAnimation(artists.fig, draw, frames=len(frames), interval=interval, blit=False)
