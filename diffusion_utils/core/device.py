"""The one place where a default device is chosen (home chapter: Introduction)."""

from __future__ import annotations

import os

import torch

ENV_VAR = "DIFFUSION_UTILS_DEVICE"


def default_device() -> torch.device:
    """CUDA if available, else MPS, else CPU; ``$DIFFUSION_UTILS_DEVICE`` overrides (chapter: Introduction)."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        try:
            return torch.device(override)
        except RuntimeError as err:
            raise ValueError(
                f"{ENV_VAR}={override!r} is not a torch device string (e.g. 'cpu', 'cuda', 'cuda:1', 'mps')"
            ) from err
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
