"""Densities of 1-D Gaussian mixtures, and q_t of a finite dataset as one (home chapter: An example diffusion)."""

from __future__ import annotations

import math

import torch

from ._validate import check_same_device, check_tensor, check_times, is_concrete
from .schedules import NoiseSchedule, check_schedule

__all__ = ["empirical_distribution", "marginal_density", "marginal_modes", "mixture_density"]

# Elements of one (batch, components, grid) block of log-densities: 2**22 float32 values are 16 MB.
_BLOCK_ELEMENTS = 2**22


def mixture_density(
    grid: torch.Tensor,
    means: torch.Tensor,
    variances: torch.Tensor | float,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Density of sum_k w_k N(mu_k, v_k) at every grid point, by log-sum-exp (chapter: An example diffusion).

    ``grid`` is (M,); ``means`` is (..., K); ``variances`` (> 0) and ``weights`` (>= 0, summing to 1 over K;
    default 1/K) broadcast against ``means``. Returns (..., M). Components are processed in blocks, so memory
    stays bounded however large K is.
    """
    check_tensor("grid", grid, min_ndim=1, max_ndim=1)
    check_tensor("means", means, min_ndim=1)
    check_same_device("means", means, "grid", grid)
    variances = torch.as_tensor(variances, dtype=means.dtype, device=means.device)
    check_tensor("variances", variances)
    if is_concrete(variances) and not bool((variances > 0).all()):
        raise ValueError(
            "variances must all be > 0 (a zero variance is a point mass, which has no density; at t = 0 use t >= 1)"
        )
    try:
        variances = variances.expand(means.shape)
    except RuntimeError as err:
        raise ValueError(f"variances of shape {tuple(variances.shape)} do not broadcast to means {tuple(means.shape)}") from err
    K = means.shape[-1]
    if weights is None:
        log_w = torch.full_like(means, -math.log(K))
    else:
        check_tensor("weights", weights)
        check_same_device("weights", weights, "means", means)
        try:
            weights = weights.to(means.dtype).expand(means.shape)
        except RuntimeError as err:
            raise ValueError(f"weights of shape {tuple(weights.shape)} do not broadcast to means {tuple(means.shape)}") from err
        if is_concrete(weights):
            if not bool((weights >= 0).all()):
                raise ValueError("weights must all be >= 0")
            if not torch.allclose(weights.sum(-1), torch.ones((), dtype=weights.dtype, device=weights.device), atol=1e-4):
                raise ValueError("weights must sum to 1 over the last (component) axis")
        log_w = torch.log(weights)
    # Per-component constant: log w_k - log(2 pi v_k) / 2; the grid-dependent part is -(x - mu_k)^2 / (2 v_k).
    log_const = log_w - 0.5 * torch.log(2 * math.pi * variances)
    batch = means.shape[:-1]
    M = grid.numel()
    step = max(1, _BLOCK_ELEMENTS // max(1, M * math.prod(batch)))
    total = torch.full((*batch, M), -math.inf, dtype=means.dtype, device=means.device)
    for k in range(0, K, step):
        mu = means[..., k : k + step, None]
        v = variances[..., k : k + step, None]
        block = log_const[..., k : k + step, None] - 0.5 * (grid - mu) ** 2 / v
        total = torch.logaddexp(total, torch.logsumexp(block, dim=-2))
    return total.exp()


def empirical_distribution(data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Distinct points of a 1-D dataset and their weights (repeats merged), sorted (chapter: An example diffusion)."""
    check_tensor("data", data, min_ndim=1, max_ndim=1)
    if data.numel() == 0:
        raise ValueError("data must hold at least one point")
    points, counts = torch.unique(data, sorted=True, return_counts=True)
    return points, counts.to(data.dtype) / data.numel()


def _marginal_mixture(
    grid: torch.Tensor, data: torch.Tensor, schedule: NoiseSchedule, t: int | torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Means (..., K), variance (..., 1) and weights (K,) of q_t as a mixture over the distinct data points."""
    check_tensor("grid", grid, min_ndim=1, max_ndim=1)
    check_schedule(schedule, "grid", grid)
    check_same_device("data", data, "grid", grid)
    points, weights = empirical_distribution(data)
    t = check_times("t", t, high=schedule.T, device=schedule.device)
    if isinstance(t, torch.Tensor):
        if t.ndim > 1:
            raise ValueError(f"t must be an int or a 1-D integer tensor, got shape {tuple(t.shape)}")
        if is_concrete(t) and t.numel() and int(t.min()) == 0:
            raise ValueError("t must lie in [1, T]: q_0 is a sum of point masses and has no density")
        alpha_bar = schedule.alpha_bars[t].to(grid.dtype)[..., None]
    else:
        if t == 0:
            raise ValueError("t must lie in [1, T]: q_0 is a sum of point masses and has no density")
        alpha_bar = schedule.alpha_bars[t].to(grid.dtype)[None]
    return alpha_bar.sqrt() * points.to(grid.dtype), 1.0 - alpha_bar, weights.to(grid.dtype)


def marginal_density(
    grid: torch.Tensor, data: torch.Tensor, schedule: NoiseSchedule, t: int | torch.Tensor
) -> torch.Tensor:
    """q_t(x) = sum_i w_i N(x; sqrt(alpha_bar_t) x_i, 1 - alpha_bar_t) for the empirical data distribution.

    Home chapter: An example diffusion. The mixture runs over the distinct data points (not over sampled
    particles). ``t`` is an int in [1, T] (returns (M,)) or a 1-D integer tensor of times (returns (len(t), M)).
    At t = 0 q_0 is a sum of point masses with no density, so t = 0 is refused.
    """
    means, variance, weights = _marginal_mixture(grid, data, schedule, t)
    return mixture_density(grid, means, variance, weights)


def marginal_modes(
    grid: torch.Tensor, data: torch.Tensor, schedule: NoiseSchedule, t: int | torch.Tensor
) -> torch.Tensor:
    """Where q_t has a mode: True at grid[j] when q_t' turns from + to - on [grid[j], grid[j+1]] (chapter: An example diffusion).

    Same arguments and output shape as :func:`marginal_density`; ``marginal_modes(...).sum(-1)`` counts the modes
    inside the grid. The sign of q_t'(x) = sum_i w_i N(x; m_i, v) (m_i - x) / v is evaluated with the largest
    component factored out, as in log-sum-exp, so it stays right where the densities themselves underflow.
    """
    means, variance, weights = _marginal_mixture(grid, data, schedule, t)
    batch = means.shape[:-1]
    flat_means, flat_var = means.reshape(-1, means.shape[-1]), variance.reshape(-1, 1)
    step = max(1, _BLOCK_ELEMENTS // max(1, grid.numel() * means.shape[-1]))
    masks = []
    for k in range(0, flat_means.shape[0], step):
        offset = grid - flat_means[k : k + step, :, None]  # x - m_i, (B, K, M)
        log_n = torch.log(weights)[:, None] - offset**2 / (2 * flat_var[k : k + step, :, None])
        scaled = (log_n - log_n.amax(dim=1, keepdim=True)).exp()  # the largest component is 1
        rising = (scaled * -offset).sum(dim=1) > 0  # sign of q_t'(x)
        mask = torch.zeros_like(rising)
        mask[:, :-1] = rising[:, :-1] & ~rising[:, 1:]
        masks.append(mask)
    return torch.cat(masks).reshape(*batch, grid.numel())
