"""Labelled point clouds: exact class posteriors, conditional denoisers and guidance (home chapter: Conditioning and guidance).

A labelled dataset is data (K, d) with labels (K,) in 0..C-1. Conditioning on a class c keeps the points of that
class, so every exact quantity comes from :mod:`~diffusion_utils.core.scores` applied to a subset. Models that are
conditioned take a label y (N,) in 0..C, where y = C is the *null label*: no condition, the unconditional model.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from itertools import pairwise

import torch
from torch import nn

from ._validate import check_generator, check_int, check_positive, check_same_device, check_tensor
from .models import Denoiser, sinusoidal_embedding
from .schedules import NoiseSchedule, check_schedule
from .scores import mixture_denoiser, mixture_log_density, mixture_posterior, mixture_score
from .training import diffusion_loss, fit

__all__ = [
    "ConditionalDenoiser",
    "ExactConditionalDenoiser",
    "GuidedModel",
    "class_posterior",
    "conditional_score",
    "guided",
    "guided_flow",
    "tilted_log_density",
    "train_conditional",
]


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


def tilted_log_density(
    x: torch.Tensor,
    data: torch.Tensor,
    labels: torch.Tensor,
    label: int,
    w: float,
    alpha_bar: float | torch.Tensor,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """(1 + w) log q_t(x | c) - w log q_t(x), unnormalised, (N,) (chapter: Conditioning and guidance).

    The log of the "tilted" density q_t(x | c)^(1+w) q_t(x)^(-w) up to its normalising constant; its gradient in x is
    the guided score (1 + w) grad log q_t(x | c) - w grad log q_t(x). ``w`` a finite number, ``alpha_bar`` as in
    :func:`class_posterior`.
    """
    labels, num_classes = _check_labels(labels, data)
    mask = labels == _check_label(label, num_classes)
    if isinstance(w, bool) or not isinstance(w, numbers.Real) or not float("-inf") < float(w) < float("inf"):
        raise TypeError(f"w must be a finite number (guidance scale; 0 = conditional), got {w!r}")
    log_c = mixture_log_density(x, data[mask], alpha_bar, _subset_weights(weights, mask))
    log_u = mixture_log_density(x, data, alpha_bar, weights)
    return (1.0 + float(w)) * log_c - float(w) * log_u


def _ve_guided_score(
    u: torch.Tensor, gamma: float, data: torch.Tensor, mask: torch.Tensor, w: float, weights: torch.Tensor | None
) -> torch.Tensor:
    """(1 + w) grad log p_gamma(u | c) - w grad log p_gamma(u) for u = x_t / sqrt(alpha_bar), gamma^2 = (1 - ab) / ab."""
    ab = 1.0 / (1.0 + gamma * gamma)
    x = u * ab**0.5
    s_c = mixture_score(x, data[mask], ab, _subset_weights(weights, mask))
    s_u = mixture_score(x, data, ab, weights)
    return ab**0.5 * ((1.0 + w) * s_c - w * s_u)


def guided_flow(
    u: torch.Tensor,
    data: torch.Tensor,
    labels: torch.Tensor,
    label: int,
    w: float,
    gammas: torch.Tensor,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """The exact guided probability-flow ODE of a labelled point cloud, solved with Heun (chapter: Conditioning and guidance).

    Works in the variable u = x_t / sqrt(alpha_bar) against gamma = sqrt((1 - alpha_bar) / alpha_bar), where the flow is
    du/dgamma = -gamma * [(1 + w) grad log p_gamma(u | c) - w grad log p_gamma(u)] and p_gamma = data * N(0, gamma^2 I).
    ``u`` (N, d) are the particles at ``gammas[0]``; ``gammas`` is a decreasing 1-D grid of noise levels > 0 (CPU
    floats); returns the particles at ``gammas[-1]``, (N, d). Every step calls the exact scores twice (Heun).
    """
    check_tensor("u", u, min_ndim=2, max_ndim=2)
    check_tensor("data", data, min_ndim=2, max_ndim=2)
    check_same_device("data", data, "u", u)
    labels, num_classes = _check_labels(labels, data)
    mask = labels == _check_label(label, num_classes)
    if isinstance(w, bool) or not isinstance(w, numbers.Real) or not float("-inf") < float(w) < float("inf"):
        raise TypeError(f"w must be a finite number (guidance scale; 0 = conditional), got {w!r}")
    if not isinstance(gammas, torch.Tensor) or gammas.ndim != 1 or gammas.numel() < 2:
        raise TypeError("gammas must be a 1-D tensor of at least two noise levels")
    grid = [float(g) for g in gammas.detach().cpu()]
    if not all(a > b > 0.0 for a, b in pairwise(grid)):
        raise ValueError("gammas must be positive and strictly decreasing (from the noisiest level to the least noisy)")
    w = float(w)
    for g0, g1 in pairwise(grid):
        d0 = -g0 * _ve_guided_score(u, g0, data, mask, w, weights)
        pred = u + (g1 - g0) * d0
        d1 = -g1 * _ve_guided_score(pred, g1, data, mask, w, weights)
        u = u + 0.5 * (g1 - g0) * (d0 + d1)
    return u


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


def _check_y(y: object, xt: torch.Tensor, num_classes: int) -> torch.Tensor:
    """y as (N,) integer labels in 0..C on xt's device (C = null label)."""
    if not isinstance(y, torch.Tensor) or y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise TypeError("y must be an integer tensor of labels, one per sample")
    if y.shape != xt.shape[:1]:
        raise ValueError(f"y must have shape ({xt.shape[0]},), one label per sample, got {tuple(y.shape)}")
    check_same_device("y", y, "xt", xt)
    if y.device.type != "meta" and not bool(((y >= 0) & (y <= num_classes)).all()):
        raise ValueError(f"y must lie in 0..{num_classes} (classes 0..{num_classes - 1}, null label {num_classes})")
    return y


class ConditionalDenoiser(Denoiser):
    """The MLP noise predictor eps_theta(x_t, t, y) with a label y in 0..C, C the null label (chapter: Conditioning and guidance).

    A :class:`~diffusion_utils.core.models.Denoiser` whose time features get a learned embedding of the label added:
    the first layer sees sinusoidal(t) + E[y], so the label shifts its pre-activations. Row C of E is the null label's
    (no condition). All weights, E included, are drawn from ``generator`` on the CPU, so a seed gives the same network
    on every device.
    """

    def __init__(
        self,
        dim: int,
        T: int,
        num_classes: int,
        *,
        hidden: int = 128,
        depth: int = 3,
        embed_dim: int = 32,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        num_classes = check_int("num_classes", num_classes, low=1)
        super().__init__(dim, T, hidden=hidden, depth=depth, embed_dim=embed_dim, generator=generator)
        if self.embed_dim % 2:
            raise ValueError(f"embed_dim must be even (cosine and sine pairs of the time embedding), got {embed_dim}")
        self.num_classes = num_classes
        self.label_embedding = nn.Embedding(num_classes + 1, self.embed_dim)
        with torch.no_grad():  # N(0, 1/2): the size of a cosine or sine feature
            self.label_embedding.weight.normal_(0.0, 0.5**0.5, generator=generator)
        if device is not None:
            self.to(device)

    @property
    def null_label(self) -> int:
        """The label meaning "no condition": C."""
        return self.num_classes

    def forward(self, xt: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Predicted noise for x_t (N, dim) at integer times t (N,) given labels y (N,) in 0..C."""
        if xt.ndim != 2 or xt.shape[1] != self.dim:
            raise ValueError(f"xt must have shape (N, {self.dim}), got {tuple(xt.shape)}")
        if t.shape != xt.shape[:1]:
            raise ValueError(f"t must have shape ({xt.shape[0]},), one time per sample, got {tuple(t.shape)}")
        _check_y(y, xt, self.num_classes)
        features = sinusoidal_embedding(t, self.embed_dim, self.max_period) + self.label_embedding(y)
        return self.net(torch.cat([xt, features.to(xt.dtype)], dim=-1))


def train_conditional(
    model: nn.Module,
    data: torch.Tensor,
    labels: torch.Tensor,
    schedule: NoiseSchedule,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 2e-3,
    p_uncond: float = 0.1,
    generator: torch.Generator | None = None,
    progress: bool = True,
) -> torch.Tensor:
    """The simple loss with label dropout, trained by :func:`~diffusion_utils.core.training.fit` (chapter: Conditioning and guidance).

    Each step draws a batch of (x_0, y) pairs, replaces each label by the null label ``model.null_label`` with
    probability ``p_uncond`` (so one network learns the conditional and the unconditional noise), then takes the loss
    of :func:`~diffusion_utils.core.training.diffusion_loss` with that label. Returns the loss of every step on the CPU.
    """
    check_tensor("data", data, min_ndim=2, max_ndim=2)
    labels, num_classes = _check_labels(labels, data)
    check_schedule(schedule, "data", data)
    check_generator(generator, data, "data")
    steps = check_int("steps", steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    lr = check_positive("lr", lr)
    if isinstance(p_uncond, bool) or not isinstance(p_uncond, numbers.Real):
        raise TypeError(f"p_uncond must be a number in [0, 1] (share of null labels), got {p_uncond!r}")
    p_uncond = float(p_uncond)
    if not 0.0 <= p_uncond <= 1.0:
        raise ValueError(f"p_uncond must be a probability in [0, 1] (share of null labels), got {p_uncond!r}")
    null = getattr(model, "null_label", None)
    if not isinstance(null, int):
        raise TypeError("model must be a conditional network with a null_label (e.g. ConditionalDenoiser)")
    if num_classes > null:
        raise ValueError(f"labels must lie in 0..{null - 1} (the model's classes), got a label {num_classes - 1}")
    if getattr(model, "T", schedule.T) != schedule.T:
        raise ValueError(f"model was built for T={model.T} steps but schedule has T={schedule.T}; use the same T")
    params = list(model.parameters())
    if params and params[0].device != data.device:
        raise ValueError(f"model is on {params[0].device} but data is on {data.device}; move the model with .to()")

    def batch_loss(k: int) -> torch.Tensor:
        idx = torch.randint(data.shape[0], (batch_size,), generator=generator, device=data.device)
        drop = torch.rand(batch_size, generator=generator, device=data.device) < p_uncond
        y = torch.where(drop, null, labels[idx])
        return diffusion_loss(lambda xt, t: model(xt, t, y), data[idx], schedule, generator)

    return fit(model, batch_loss, steps=steps, lr=lr, progress=progress)
