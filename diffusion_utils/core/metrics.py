"""Distances between sample sets: exact 1-D Wasserstein-1 and the sliced Wasserstein distance (home chapter: Ancestral sampling)."""

from __future__ import annotations

import torch

from ._validate import check_generator, check_int, check_same_device, check_tensor, is_concrete

__all__ = ["sliced_wasserstein", "wasserstein_1d"]


def _weights(name: str, w: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """Uniform weights by default; given weights must be >= 0, one per sample; they are normalised to sum 1."""
    if w is None:
        return torch.full_like(x, 1.0 / x.numel(), dtype=torch.float64)
    check_tensor(name, w, min_ndim=1, max_ndim=1)
    check_same_device(name, w, "samples", x)
    if w.shape != x.shape:
        raise ValueError(f"{name} must have one entry per sample ({x.numel()}), got {w.numel()}")
    if is_concrete(w) and (not bool((w >= 0).all()) or float(w.sum()) <= 0):
        raise ValueError(f"{name} must be >= 0 with a positive sum")
    w = w.to(torch.float64)
    return w / w.sum()


def wasserstein_1d(
    x: torch.Tensor, y: torch.Tensor, x_weights: torch.Tensor | None = None, y_weights: torch.Tensor | None = None
) -> torch.Tensor:
    """W1 between two weighted 1-D samples, exactly: the integral of |F_x - F_y| (chapter: Ancestral sampling).

    Sizes may differ (e.g. 10,000 samples against the 4 data points). Computed in float64; returns a 0-d tensor.
    """
    check_tensor("x", x, min_ndim=1, max_ndim=1)
    check_tensor("y", y, min_ndim=1, max_ndim=1)
    check_same_device("y", y, "x", x)
    if x.numel() == 0 or y.numel() == 0:
        raise ValueError("x and y must each hold at least one sample")
    wx, wy = _weights("x_weights", x_weights, x), _weights("y_weights", y_weights, y)
    x, y = x.to(torch.float64), y.to(torch.float64)
    xs, xi = torch.sort(x)
    ys, yi = torch.sort(y)
    cx = torch.cat([wx.new_zeros(1), torch.cumsum(wx[xi], 0)])
    cy = torch.cat([wy.new_zeros(1), torch.cumsum(wy[yi], 0)])
    points, _ = torch.sort(torch.cat([x, y]))
    left = points[:-1]
    # F at each gap between consecutive points: the cumulative weight of samples <= the gap's left end.
    fx = cx[torch.searchsorted(xs, left, right=True)]
    fy = cy[torch.searchsorted(ys, left, right=True)]
    return torch.sum(torch.abs(fx - fy) * torch.diff(points))


def sliced_wasserstein(
    x: torch.Tensor, y: torch.Tensor, num_projections: int = 256, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Mean W1 between 1-D projections of x (N, d) and y (M, d) on random unit directions (chapter: Ancestral sampling)."""
    check_tensor("x", x, min_ndim=2, max_ndim=2)
    check_tensor("y", y, min_ndim=2, max_ndim=2)
    check_same_device("y", y, "x", x)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {x.shape[1]} and {y.shape[1]}")
    num_projections = check_int("num_projections", num_projections, low=1)
    check_generator(generator, x, "x")
    dirs = torch.randn((num_projections, x.shape[1]), generator=generator, device=x.device, dtype=torch.float64)
    dirs = dirs / dirs.norm(dim=1, keepdim=True)
    px, py = x.to(torch.float64) @ dirs.T, y.to(torch.float64) @ dirs.T
    return torch.stack([wasserstein_1d(px[:, k], py[:, k]) for k in range(num_projections)]).mean()
