"""Exact scores, denoisers and log-densities of a noised point cloud, at any noise level (home chapter: Scores and Tweedie).

For data points x_1..x_K with weights w_i, the noisy marginal at noise level alpha_bar is the Gaussian mixture
q(x) = sum_i w_i N(x; sqrt(alpha_bar) x_i, (1 - alpha_bar) I). Everything here is computed from the posterior
weights p(i | x) (a softmax, stable for far-away x), in the dtype and on the device of ``x``.
"""

from __future__ import annotations

import math
import numbers

import torch

from ._validate import check_same_device, check_tensor, is_concrete

__all__ = ["mixture_denoiser", "mixture_log_density", "mixture_posterior", "mixture_score"]

# Elements of one (chunk, K, d) block of differences: 2**22 float64 values are 32 MB.
_BLOCK_ELEMENTS = 2**22


def _check_alpha_bar(alpha_bar: object, x: torch.Tensor) -> torch.Tensor:
    """alpha_bar as a (N, 1) tensor of x's dtype and device, every value in [0, 1)."""
    if isinstance(alpha_bar, torch.Tensor):
        if not alpha_bar.is_floating_point():
            raise TypeError(f"alpha_bar must be a float or a floating-point tensor, got dtype {alpha_bar.dtype}")
        if alpha_bar.ndim > 1 or (alpha_bar.ndim == 1 and alpha_bar.shape[0] != x.shape[0]):
            raise ValueError(
                f"alpha_bar must be a float or a tensor of shape ({x.shape[0]},), one per sample, "
                f"got shape {tuple(alpha_bar.shape)}"
            )
        check_same_device("alpha_bar", alpha_bar, "x", x)
        ab = alpha_bar.to(x.dtype)
    elif isinstance(alpha_bar, numbers.Real) and not isinstance(alpha_bar, bool):
        ab = torch.tensor(float(alpha_bar), dtype=x.dtype, device=x.device)
    else:
        raise TypeError(f"alpha_bar must be a float or a tensor, got {type(alpha_bar).__name__}")
    if is_concrete(ab) and not bool(((ab >= 0) & (ab < 1)).all()):
        raise ValueError(
            "alpha_bar must lie in [0, 1) (alpha_bar = 1 is the data itself: a sum of point masses with no score)"
        )
    return ab.expand(x.shape[0])[:, None]


def _check_cloud(
    x: torch.Tensor, data: torch.Tensor, weights: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate x (N, d) against data (K, d); return data in x's dtype and the log-weights (K,), normalised."""
    check_tensor("x", x, min_ndim=2, max_ndim=2)
    check_tensor("data", data, min_ndim=2, max_ndim=2)
    check_same_device("data", data, "x", x)
    if data.shape[1] != x.shape[1]:
        raise ValueError(f"x and data must have the same dimension d, got x {tuple(x.shape)} and data {tuple(data.shape)}")
    if data.shape[0] == 0:
        raise ValueError("data must hold at least one point")
    data = data.to(x.dtype)
    if weights is None:
        return data, torch.full((data.shape[0],), -math.log(data.shape[0]), dtype=x.dtype, device=x.device)
    check_tensor("weights", weights, min_ndim=1, max_ndim=1)
    check_same_device("weights", weights, "x", x)
    if weights.shape[0] != data.shape[0]:
        raise ValueError(f"weights must have one entry per data point ({data.shape[0]}), got {weights.shape[0]}")
    weights = weights.to(x.dtype)
    if is_concrete(weights) and (not bool((weights >= 0).all()) or float(weights.sum()) <= 0):
        raise ValueError("weights must be >= 0 with a positive sum (they are normalised to sum 1)")
    return data, torch.log(weights) - torch.log(weights.sum())


def _logits(x: torch.Tensor, data: torch.Tensor, log_w: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """log w_i - |x - sqrt(ab) x_i|^2 / (2 (1 - ab)) for every sample and data point, (N, K), in chunks of N."""
    K, d = data.shape
    step = max(1, _BLOCK_ELEMENTS // max(1, K * d))
    out = []
    for n in range(0, x.shape[0], step):
        a = ab[n : n + step]
        sq = ((x[n : n + step, None, :] - a[:, :, None].sqrt() * data[None]) ** 2).sum(-1)
        out.append(log_w - 0.5 * sq / (1.0 - a))
    return torch.cat(out) if out else x.new_zeros((0, K))


def _weights(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over the data points (the last axis), taken on the transpose: the same numbers, about twice as fast
    for few data points (K = 4) and many samples."""
    return torch.softmax(logits.T, dim=0).T


def mixture_posterior(
    x: torch.Tensor, data: torch.Tensor, alpha_bar: float | torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """p(x_0 = x_i | x_t = x) for every sample and data point, (N, K); rows sum to 1 (chapter: Scores and Tweedie).

    ``x`` is (N, d), ``data`` (K, d), ``alpha_bar`` a float or a tensor of shape (N,) in [0, 1); ``weights`` (K,)
    default uniform (normalised to sum 1).
    """
    data, log_w = _check_cloud(x, data, weights)
    ab = _check_alpha_bar(alpha_bar, x)
    return _weights(_logits(x, data, log_w, ab))


def mixture_denoiser(
    x: torch.Tensor, data: torch.Tensor, alpha_bar: float | torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """E[x_0 | x_t = x] = sum_i p(i | x) x_i, (N, d): the best denoiser in squared error (chapter: Scores and Tweedie)."""
    data, log_w = _check_cloud(x, data, weights)
    ab = _check_alpha_bar(alpha_bar, x)
    return _weights(_logits(x, data, log_w, ab)) @ data


def mixture_score(
    x: torch.Tensor, data: torch.Tensor, alpha_bar: float | torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """grad_x log sum_i w_i N(x; sqrt(ab) x_i, (1 - ab) I) = (sqrt(ab) E[x_0 | x] - x) / (1 - ab), (N, d).

    Home chapter: Scores and Tweedie. ``x`` (N, d), ``data`` (K, d), ``alpha_bar`` a float or an (N,) tensor in
    [0, 1), ``weights`` (K,) default uniform. Exact in the dtype of ``x`` (float64 on the CPU for checks).
    """
    data, log_w = _check_cloud(x, data, weights)
    ab = _check_alpha_bar(alpha_bar, x)
    mean = _weights(_logits(x, data, log_w, ab)) @ data
    return (ab.sqrt() * mean - x) / (1.0 - ab)


def mixture_log_density(
    x: torch.Tensor, data: torch.Tensor, alpha_bar: float | torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """log q(x) of the noised point cloud in d dimensions, (N,), by log-sum-exp (chapter: Scores and Tweedie)."""
    data, log_w = _check_cloud(x, data, weights)
    ab = _check_alpha_bar(alpha_bar, x)
    d = x.shape[1]
    return torch.logsumexp(_logits(x, data, log_w, ab), dim=-1) - 0.5 * d * torch.log(2 * math.pi * (1.0 - ab[:, 0]))
