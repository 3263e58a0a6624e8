"""Flow matching on a finite dataset: the exact marginal velocity of the linear interpolant (home chapter: Flow matching).

The interpolant is x_t = (1 - t) x_0 + t eps with t in [0, 1] (t = 1 is pure noise: larger t is noisier, as in the
rest of the book) and its conditional velocity is dx_t/dt = eps - x_0. Dividing by s_t = sqrt((1 - t)^2 + t^2) turns
x_t into a variance-preserving x with alpha_bar = (1 - t)^2 / s_t^2, so the exact quantities come from
:mod:`~diffusion_utils.core.scores`.
"""

from __future__ import annotations

import numbers

import torch

from ._validate import check_same_device, check_tensor, is_concrete
from .scores import mixture_denoiser

__all__ = ["interpolant_alpha_bar", "marginal_velocity"]


def _check_t(t: object, x: torch.Tensor) -> torch.Tensor:
    """t as a (N, 1) tensor of x's dtype and device, every value in (0, 1]."""
    if isinstance(t, torch.Tensor):
        if not t.is_floating_point():
            raise TypeError(f"t must be a float or a floating-point tensor, got dtype {t.dtype}")
        if t.ndim > 1 or (t.ndim == 1 and t.shape[0] != x.shape[0]):
            raise ValueError(f"t must be a float or a tensor of shape ({x.shape[0]},), got shape {tuple(t.shape)}")
        check_same_device("t", t, "x", x)
        tt = t.to(x.dtype)
    elif isinstance(t, numbers.Real) and not isinstance(t, bool):
        tt = torch.tensor(float(t), dtype=x.dtype, device=x.device)
    else:
        raise TypeError(f"t must be a float or a tensor, got {type(t).__name__}")
    if is_concrete(tt) and not bool(((tt > 0) & (tt <= 1)).all()):
        raise ValueError("t must lie in (0, 1] (t = 0 is the data itself, where the velocity field is not defined)")
    return tt.expand(x.shape[0])[:, None]


def interpolant_alpha_bar(t: float | torch.Tensor) -> float | torch.Tensor:
    """The alpha_bar of x_t / s_t for the linear interpolant: (1 - t)^2 / ((1 - t)^2 + t^2) (chapter: Flow matching)."""
    return (1 - t) ** 2 / ((1 - t) ** 2 + t**2)


def marginal_velocity(
    x: torch.Tensor, data: torch.Tensor, t: float | torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """E[eps - x_0 | x_t = x] for x_t = (1 - t) x_0 + t eps, x_0 from the weighted point cloud (chapter: Flow matching).

    ``x`` is (N, d), ``data`` (K, d), ``t`` a float or a tensor of shape (N,) in (0, 1], ``weights`` (K,) default
    uniform. With m = E[x_0 | x_t = x], eps = (x - (1 - t) x_0) / t gives the velocity (x - m) / t.
    """
    check_tensor("x", x, min_ndim=2, max_ndim=2)
    tt = _check_t(t, x)
    s = torch.sqrt((1 - tt) ** 2 + tt**2)
    # For t below ~1e-8 the ratio rounds to 1 (the data itself); keep it just below, where the posterior is exact.
    alpha_bar = (((1 - tt) / s) ** 2)[:, 0].clamp(max=1 - torch.finfo(x.dtype).eps)
    m = mixture_denoiser(x / s, data, alpha_bar, weights)
    return (x - m) / tt
