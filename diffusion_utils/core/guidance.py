"""Labelled point clouds: exact class posteriors, conditional denoisers and guidance (home chapter: Conditioning and guidance).

A labelled dataset is data (K, d) with labels (K,) in 0..C-1. Conditioning on a class c keeps the points of that
class, so every exact quantity comes from :mod:`~diffusion_utils.core.scores` applied to a subset. Models that are
conditioned take a label y (N,) in 0..C, where y = C is the *null label*: no condition, the unconditional model.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import torch

from ._validate import check_same_device, check_tensor
from .schedules import NoiseSchedule, check_schedule
from .scores import mixture_denoiser, mixture_posterior, mixture_score

__all__ = ["ExactConditionalDenoiser", "GuidedModel", "class_posterior", "conditional_score", "guided"]


def _check_labels(labels: object, data: torch.Tensor) -> tuple[torch.Tensor, int]:
    """labels as a (K,) integer tensor on data's device; returns it and the number of classes C = max + 1."""
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be a torch.Tensor of class indices, got {type(labels).__name__}")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(f"labels must be an integer tensor, got dtype {labels.dtype}")
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (one class per data point), got shape {tuple(labels.shape)}")
    check_same_device("labels", labels, "data", data)
    if labels.shape[0] != data.shape[0]:
        raise ValueError(f"labels must have one entry per data point ({data.shape[0]}), got {labels.shape[0]}")
    if labels.device.type == "meta":
        raise ValueError("labels must be concrete (the number of classes is read from them), not on the meta device")
    if labels.numel() == 0 or int(labels.min()) < 0:
        raise ValueError("labels must be integers >= 0 (class c of C classes is c in 0..C-1)")
    return labels.long(), int(labels.max()) + 1


def _check_label(label: object, num_classes: int, name: str = "label") -> int:
    if not isinstance(label, numbers.Integral) or isinstance(label, bool):
        raise TypeError(f"{name} must be an int in 0..{num_classes - 1}, got {label!r}")
    if not 0 <= int(label) < num_classes:
        raise ValueError(f"{name} must lie in 0..{num_classes - 1} (one of the {num_classes} classes), got {label}")
    return int(label)


def _subset_weights(weights: torch.Tensor | None, mask: torch.Tensor) -> torch.Tensor | None:
    return None if weights is None else weights[mask]


def class_posterior(
    x: torch.Tensor,
    data: torch.Tensor,
    labels: torch.Tensor,
    alpha_bar: float | torch.Tensor,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """p(c | x_t = x) for every sample and class, (N, C); rows sum to 1 (chapter: Conditioning and guidance).

    The sum of the data-point posteriors p(x_0 = x_i | x_t = x) over the points of each class; ``alpha_bar`` a float
    or (N,) tensor in [0, 1), ``weights`` (K,) default uniform (the class priors are the classes' total weights).
    """
    labels, num_classes = _check_labels(labels, data)
    post = mixture_posterior(x, data, alpha_bar, weights)
    out = torch.zeros(post.shape[0], num_classes, dtype=post.dtype, device=post.device)
    return out.index_add_(1, labels, post)


def conditional_score(
    x: torch.Tensor,
    data: torch.Tensor,
    labels: torch.Tensor,
    label: int,
    alpha_bar: float | torch.Tensor,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """grad_x log q_t(x | c): the mixture score of class ``label``'s points alone, (N, d) (chapter: Conditioning and guidance)."""
    labels, num_classes = _check_labels(labels, data)
    mask = labels == _check_label(label, num_classes)
    return mixture_score(x, data[mask], alpha_bar, _subset_weights(weights, mask))


class ExactConditionalDenoiser:
    """The best conditional noise predictor eps(x_t, t, y) of a labelled point cloud (chapter: Conditioning and guidance).

    ``y`` (N,) holds a class in 0..C-1 or the null label C (``self.null_label``), which predicts with all points: the
    unconditional :class:`~diffusion_utils.core.reverse.ExactDenoiser`. ``t`` (N,) are integer times in 1..T.
    """

    def __init__(
        self, data: torch.Tensor, labels: torch.Tensor, schedule: NoiseSchedule, weights: torch.Tensor | None = None
    ) -> None:
        check_tensor("data", data, min_ndim=2, max_ndim=2)
        check_schedule(schedule, "data", data)
        self.labels, self.num_classes = _check_labels(labels, data)
        if weights is not None:
            check_tensor("weights", weights, min_ndim=1, max_ndim=1)
            check_same_device("weights", weights, "data", data)
        self.data, self.weights, self.schedule = data, weights, schedule

    @property
    def T(self) -> int:
        """Number of steps of the schedule this denoiser is exact for."""
        return self.schedule.T

    @property
    def null_label(self) -> int:
        """The label meaning "no condition": C."""
        return self.num_classes

    def posterior_mean(self, xt: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """E[x_0 | x_t, y] for x_t (N, d), integer times t (N,) and labels y (N,) in 0..C."""
        if not isinstance(y, torch.Tensor) or y.is_floating_point() or y.dtype == torch.bool:
            raise TypeError("y must be an integer tensor of labels, one per sample")
        if y.shape != xt.shape[:1]:
            raise ValueError(f"y must have shape ({xt.shape[0]},), one label per sample, got {tuple(y.shape)}")
        check_same_device("y", y, "xt", xt)
        if not bool(((y >= 0) & (y <= self.num_classes)).all()):
            raise ValueError(
                f"y must lie in 0..{self.num_classes} (classes 0..{self.num_classes - 1}, null label {self.num_classes})"
            )
        ab = self.schedule.alpha_bars[t].to(xt.dtype)
        out = torch.empty_like(xt)
        for c in range(self.num_classes + 1):
            rows = y == c
            if c == self.num_classes:
                data, weights = self.data, self.weights
            else:
                keep = self.labels == c
                data, weights = self.data[keep], _subset_weights(self.weights, keep)
            if bool(rows.any()):
                out[rows] = mixture_denoiser(xt[rows], data, ab[rows], weights)
        return out

    def __call__(self, xt: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The noise prediction at (x_t, t) given label y."""
        ab = self.schedule.alpha_bars[t].to(xt.dtype)[:, None]
        return (xt - ab.sqrt() * self.posterior_mean(xt, t, y)) / (1.0 - ab).sqrt()


class GuidedModel:
    """Classifier-free guidance as an eps-predictor model(x, t) for :func:`~diffusion_utils.core.samplers.sample`.

    eps_w = (1 + w) eps(x, t, c) - w eps(x, t, null): w = 0 is the conditional model, w = -1 the unconditional one.
    One guided evaluation costs two evaluations of the conditional model per sample. With ``batched=True`` (default)
    they are one call on 2N rows, otherwise two calls on N rows; ``calls`` and ``rows`` count what was spent
    (chapter: Conditioning and guidance).
    """

    def __init__(
        self,
        model: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
        label: int,
        w: float,
        *,
        null_label: int,
        batched: bool = True,
    ) -> None:
        if not isinstance(null_label, numbers.Integral) or isinstance(null_label, bool) or null_label < 1:
            raise TypeError(f"null_label must be an int >= 1 (the number of classes C), got {null_label!r}")
        self.label = _check_label(label, int(null_label))
        if not isinstance(w, numbers.Real) or isinstance(w, bool) or not float("-inf") < float(w) < float("inf"):
            raise TypeError(f"w must be a finite number (guidance scale; 0 = conditional), got {w!r}")
        self.model, self.w, self.null_label, self.batched = model, float(w), int(null_label), bool(batched)
        self.calls = 0  #: calls of the conditional model
        self.rows = 0  #: rows evaluated by those calls (2 per sample per guided evaluation)
        self.T = getattr(model, "T", None)

    def __call__(self, xt: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The guided noise prediction at (x_t, t)."""
        n = xt.shape[0]
        y = torch.full((n,), self.label, dtype=torch.long, device=xt.device)
        null = torch.full((n,), self.null_label, dtype=torch.long, device=xt.device)
        if self.batched:
            out = self.model(torch.cat([xt, xt]), torch.cat([t, t]), torch.cat([y, null]))
            eps_c, eps_u = out[:n], out[n:]
            self.calls += 1
        else:
            eps_c, eps_u = self.model(xt, t, y), self.model(xt, t, null)
            self.calls += 2
        self.rows += 2 * n
        return eps_u + (1.0 + self.w) * (eps_c - eps_u)


def guided(
    model: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
    label: int,
    w: float,
    *,
    null_label: int | None = None,
    batched: bool = True,
) -> GuidedModel:
    """Classifier-free guidance of a conditional eps-model at scale ``w`` for class ``label`` (chapter: Conditioning and guidance).

    ``null_label`` defaults to ``model.null_label`` (as on :class:`ExactConditionalDenoiser`).
    """
    if null_label is None:
        null_label = getattr(model, "null_label", None)
        if null_label is None:
            raise TypeError("null_label is required for a model without a null_label attribute")
    return GuidedModel(model, label, w, null_label=null_label, batched=batched)
