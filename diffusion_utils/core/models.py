"""A small noise-prediction network eps_theta(x_t, t) with a sinusoidal time embedding (home chapter: Training a denoiser)."""

from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import nn

from ._validate import check_int, check_positive

__all__ = ["Denoiser", "sinusoidal_embedding"]


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Features cos(t w_k), sin(t w_k) with w_k = max_period^(-k / (dim/2)); (N,) -> (N, dim) (chapter: Training a denoiser)."""
    dim = check_int("dim", dim, low=2)
    if dim % 2:
        raise ValueError(f"dim must be even (cosine and sine pairs), got {dim}")
    check_positive("max_period", max_period)
    if not isinstance(t, torch.Tensor) or t.ndim != 1:
        raise TypeError("t must be a 1-D tensor of times, one per sample")
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.to(torch.float32)[:, None] * freqs
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


class Denoiser(nn.Module):
    """MLP predicting the noise in x_t from (x_t, embedding of t) (chapter: Training a denoiser).

    ``dim`` is the data dimension, ``T`` the number of diffusion steps it serves (checked by the sampler).
    Weights are drawn from ``generator`` on the CPU, so a seed gives the same network on every device.
    """

    def __init__(
        self,
        dim: int = 1,
        T: int = 1000,
        *,
        hidden: int = 128,
        depth: int = 3,
        embed_dim: int = 32,
        max_period: float = 10_000.0,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.dim = check_int("dim", dim, low=1)
        self.T = check_int("T", T, low=1)
        self.embed_dim = check_int("embed_dim", embed_dim, low=2)
        self.max_period = check_positive("max_period", max_period)
        check_int("hidden", hidden, low=1)
        check_int("depth", depth, low=1)
        if generator is not None and (not isinstance(generator, torch.Generator) or generator.device.type != "cpu"):
            raise TypeError("generator must be a CPU torch.Generator or None (weights are drawn on the CPU, then moved)")
        sizes = [dim + embed_dim] + [hidden] * depth
        layers: list[nn.Module] = []
        for n_in, n_out in pairwise(sizes):
            layers += [nn.Linear(n_in, n_out), nn.SiLU()]
        layers.append(nn.Linear(hidden, dim))
        self.net = nn.Sequential(*layers)
        with torch.no_grad():
            for layer in self.net:
                if isinstance(layer, nn.Linear):
                    bound = 1.0 / math.sqrt(layer.in_features)  # PyTorch's default range, from our generator
                    layer.weight.uniform_(-bound, bound, generator=generator)
                    layer.bias.uniform_(-bound, bound, generator=generator)
        if device is not None:
            self.to(device)

    def forward(self, xt: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Predicted noise for x_t of shape (N, dim) at integer times t of shape (N,)."""
        if xt.ndim != 2 or xt.shape[1] != self.dim:
            raise ValueError(f"xt must have shape (N, {self.dim}), got {tuple(xt.shape)}")
        if t.shape != xt.shape[:1]:
            raise ValueError(f"t must have shape ({xt.shape[0]},), one time per sample, got {tuple(t.shape)}")
        features = sinusoidal_embedding(t, self.embed_dim, self.max_period).to(xt.dtype)
        return self.net(torch.cat([xt, features], dim=-1))
