"""The book's toy data, generated in code (home chapter: An example diffusion)."""

from __future__ import annotations

import torch

from .device import default_device

__all__ = ["DATASET", "toy_dataset"]

#: The lecture's dataset D = {-15, -5, 1, 10} (the seed notebook's code used [-15, 1, -5, 15] instead).
DATASET = (-15.0, -5.0, 1.0, 10.0)


def toy_dataset(device: torch.device | str | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """D = {-15, -5, 1, 10} as a 1-D tensor on ``device`` (default: :func:`default_device`) (chapter: An example diffusion)."""
    return torch.tensor(DATASET, dtype=dtype, device=default_device() if device is None else device)
