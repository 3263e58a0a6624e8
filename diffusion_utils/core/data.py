"""The book's toy data, generated in code: the 1-D dataset D and two moons in 2-D (no downloads)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ._validate import check_int, check_positive, check_tensor
from .device import default_device

__all__ = ["DATASET", "TOY_LABELS", "DataScaler", "labelled_toy_1d", "labelled_two_moons", "toy_dataset", "two_moons"]

#: The lecture's dataset D = {-15, -5, 1, 10} (the seed notebook's code used [-15, 1, -5, 15] instead).
DATASET = (-15.0, -5.0, 1.0, 10.0)


def toy_dataset(device: torch.device | str | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """D = {-15, -5, 1, 10} as a 1-D tensor on ``device`` (default: :func:`default_device`) (chapter: An example diffusion)."""
    return torch.tensor(DATASET, dtype=dtype, device=default_device() if device is None else device)


#: Classes of the points of D in the labelled 1-D data: -15 and 1 are class 0, -5 and 10 are class 1 (interleaved).
TOY_LABELS = (0, 1, 0, 1)


def labelled_toy_1d(
    device: torch.device | str | None = None, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor]:
    """D = {-15, -5, 1, 10} as (4, 1) with interleaved classes (0, 1, 0, 1) (chapter: Conditioning and guidance).

    The classes alternate along the line, so no threshold separates them: each class has an outer point (-15, 10) and
    an inner one (1, -5) that sits next to the other class. Guidance pushes away from the other class, which spares the
    outer points and squeezes the inner ones: the split makes the classifier non-monotone and the loss of diversity
    under guidance visible as a shift of weight from the inner to the outer point of a class.
    """
    data = toy_dataset(device, dtype)[:, None]
    return data, torch.tensor(TOY_LABELS, dtype=torch.long, device=data.device)


def labelled_two_moons(
    n: int,
    noise: float = 0.08,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two moons with the moon of each point: points (n, 2) and labels (n,) (chapter: Conditioning and guidance).

    Label 0 is the upper moon (cos a, sin a), label 1 the lower one (1 - cos a, 1/2 - sin a). The random numbers are
    drawn exactly as in :func:`two_moons`, so the points are bitwise those of ``two_moons`` with the same generator.
    """
    n = check_int("n", n, low=1)
    noise = float(noise)
    if not noise >= 0.0 or noise == float("inf"):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    device = default_device() if device is None else torch.device(device)
    if generator is not None and generator.device.type != device.type:
        raise ValueError(f"generator is on {generator.device} but device is {device}; create it on the same device")
    angle = math.pi * torch.rand(n, generator=generator, device=device, dtype=dtype)
    inner = torch.rand(n, generator=generator, device=device, dtype=dtype) < 0.5
    x = torch.where(inner, 1.0 - torch.cos(angle), torch.cos(angle))
    y = torch.where(inner, 0.5 - torch.sin(angle), torch.sin(angle))
    points = torch.stack([x, y], dim=1)
    points = points + noise * torch.randn(points.shape, generator=generator, device=device, dtype=dtype)
    return points, inner.long()


def two_moons(
    n: int,
    noise: float = 0.08,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """n points (n, 2) on two interleaved half circles with Gaussian jitter ``noise`` (chapter: Training a denoiser).

    Each point picks a moon with probability 1/2 and an angle uniform in [0, pi]; drawn on ``device`` with ``generator``.
    The same draws as :func:`labelled_two_moons`, without the labels.
    """
    return labelled_two_moons(n, noise, generator=generator, device=device, dtype=dtype)[0]


@dataclass(frozen=True)
class DataScaler:
    """Affine map x -> (x - shift) / scale to put data at unit size, and back (chapter: Training a denoiser).

    ``shift`` is one number or one per coordinate (the last dimension); ``scale`` is one number for all coordinates,
    so the map keeps the data's shape (a circle stays a circle, isotropic noise stays isotropic).
    """

    shift: float | tuple[float, ...]
    scale: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", check_positive("scale", self.scale))
        shift = self.shift
        values = tuple(float(v) for v in shift) if isinstance(shift, (tuple, list)) else (float(shift),)
        if not values or not all(math.isfinite(v) for v in values):
            raise ValueError(f"shift must be a finite number or a non-empty tuple of finite numbers, got {shift!r}")
        object.__setattr__(self, "shift", values if isinstance(shift, (tuple, list)) else values[0])

    @classmethod
    def fit(cls, data: torch.Tensor) -> DataScaler:
        """Centre each coordinate at its mean; divide all by one sd, the root of the coordinates' mean variance.

        ``data`` is (N,) or (N, d); after the map every coordinate has mean 0 and the variances average to 1.
        """
        check_tensor("data", data, min_ndim=1, max_ndim=2)
        if data.shape[0] < 2:
            raise ValueError(f"data must hold at least two points to estimate a scale, got shape {tuple(data.shape)}")
        if data.ndim == 1:
            return cls(float(data.mean()), float(data.std(unbiased=False)))
        mean = data.mean(dim=0)
        scale = float(data.var(dim=0, unbiased=False).mean().sqrt())
        return cls(tuple(float(m) for m in mean), scale)

    def _shift(self, x: torch.Tensor) -> torch.Tensor | float:
        return self.shift if isinstance(self.shift, float) else torch.tensor(self.shift, dtype=x.dtype, device=x.device)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Data units -> model units."""
        return (x - self._shift(x)) / self.scale

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Model units -> data units."""
        return z * self.scale + self._shift(z)
