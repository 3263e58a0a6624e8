"""The book's two trained denoisers as one call each, so later chapters and tests rebuild them (home chapter: Training a denoiser)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .data import DataScaler, toy_dataset, two_moons
from .device import default_device
from .models import Denoiser
from .schedules import NoiseSchedule
from .training import train_denoiser

__all__ = ["TrainedModel", "train_toy_1d", "train_two_moons"]


class TrainedModel(NamedTuple):
    """A trained noise predictor with what it was trained on (chapter: Training a denoiser)."""

    model: nn.Module
    schedule: NoiseSchedule
    scaler: DataScaler  #: model units = scaler.encode(data units)
    data: torch.Tensor  #: training data in data units, (N, d)
    losses: torch.Tensor  #: loss of every training step, on the CPU


def _fit(data: torch.Tensor, *, T: int, hidden: int, steps: int, lr: float, seed: int, progress: bool) -> TrainedModel:
    schedule = NoiseSchedule.linear(T, device=data.device)
    scaler = DataScaler.fit(data)
    model = Denoiser(data.shape[1], T, hidden=hidden, generator=torch.Generator().manual_seed(seed), device=data.device)
    generator = torch.Generator(device=data.device).manual_seed(seed)
    losses = train_denoiser(
        model, scaler.encode(data), schedule, steps=steps, lr=lr, generator=generator, progress=progress
    )
    return TrainedModel(model, schedule, scaler, data, losses)


def train_toy_1d(
    device: torch.device | str | None = None, *, seed: int = 0, steps: int = 6000, progress: bool = False
) -> TrainedModel:
    """D = {-15, -5, 1, 10} standardised, linear schedule T = 1000, MLP 128 x 3, Adam 1e-2 (chapter: Training a denoiser)."""
    device = default_device() if device is None else torch.device(device)
    return _fit(toy_dataset(device)[:, None], T=1000, hidden=128, steps=steps, lr=1e-2, seed=seed, progress=progress)


def train_two_moons(
    device: torch.device | str | None = None,
    *,
    seed: int = 0,
    num_points: int = 8000,
    steps: int = 4000,
    progress: bool = False,
) -> TrainedModel:
    """Two moons (``num_points`` drawn with ``seed``), same recipe as the 1-D model (chapter: Training a denoiser)."""
    device = default_device() if device is None else torch.device(device)
    data = two_moons(num_points, generator=torch.Generator(device=device).manual_seed(seed), device=device)
    return _fit(data, T=1000, hidden=128, steps=steps, lr=1e-2, seed=seed + 1, progress=progress)
