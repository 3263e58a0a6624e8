"""Variance schedules beta_t, alpha_t and alpha-bar_t, indexed by the math's t (home chapter: A variance schedule)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from ._validate import check_int, check_open_unit, check_positive, check_same_device

__all__ = ["NoiseSchedule", "check_schedule"]


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """Per-step variances of the forward chain; arrays have length T+1 with entry t for time t (chapter: A variance schedule).

    ``betas[0] == 0`` and ``alpha_bars[0] == 1`` so that x_0 is the data itself.
    """

    betas: torch.Tensor
    alphas: torch.Tensor = field(init=False, repr=False)
    alpha_bars: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        betas = self.betas
        if not isinstance(betas, torch.Tensor) or betas.ndim != 1 or not betas.is_floating_point():
            raise TypeError("betas must be a 1-D floating-point torch.Tensor of length T+1")
        if betas.numel() < 2:
            raise ValueError(f"betas must have length T+1 with T >= 1, got length {betas.numel()}")
        if betas.device.type != "meta":
            if float(betas[0]) != 0.0:
                raise ValueError(f"betas[0] must be 0 (x_0 is the data), got {float(betas[0])!r}")
            inner = betas[1:]
            if not bool(torch.isfinite(inner).all()) or not bool(((inner > 0) & (inner < 1)).all()):
                raise ValueError("betas[1:] must lie in the open interval (0, 1)")
        alphas = 1.0 - betas
        # The cumulative product is taken in float64 on the CPU (MPS has no float64): in float32,
        # T = 1000 steps would lose digits of alpha_bar_T.
        host = betas if betas.device.type == "meta" else betas.detach().cpu()
        alpha_bars = torch.cumprod(1.0 - host.double(), dim=0).to(device=betas.device, dtype=betas.dtype)
        object.__setattr__(self, "alphas", alphas)
        object.__setattr__(self, "alpha_bars", alpha_bars)

    @property
    def T(self) -> int:
        """Number of forward steps."""
        return self.betas.numel() - 1

    @property
    def device(self) -> torch.device:
        """Device of the schedule's arrays."""
        return self.betas.device

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> NoiseSchedule:
        """The same schedule with its arrays on another device and/or dtype."""
        return NoiseSchedule(self.betas.to(device=device, dtype=dtype))

    def log_snr(self) -> torch.Tensor:
        """Signal-to-noise ratio log(alpha_bar_t / (1 - alpha_bar_t)) per t; entry 0 is +inf (no noise yet)."""
        ab = self.alpha_bars
        return torch.log(ab) - torch.log1p(-ab)

    @classmethod
    def from_betas(cls, betas, *, device=None, dtype: torch.dtype = torch.float32) -> NoiseSchedule:
        """Schedule from beta_1, ..., beta_T (a sequence or 1-D tensor of length T, each in (0, 1))."""
        steps = torch.as_tensor(betas).detach().to("cpu", torch.float64)
        if steps.ndim != 1 or steps.numel() < 1:
            raise ValueError(f"betas must be a non-empty 1-D sequence of beta_1..beta_T, got shape {tuple(steps.shape)}")
        full = torch.cat([steps.new_zeros(1), steps])
        return cls(full.to(device=device, dtype=dtype))

    @classmethod
    def constant(cls, T: int, beta: float, *, device=None, dtype: torch.dtype = torch.float32) -> NoiseSchedule:
        """beta_t = beta for t = 1..T."""
        T = check_int("T", T, low=1)
        beta = check_open_unit("beta", beta)
        return cls.from_betas(torch.full((T,), beta, dtype=torch.float64), device=device, dtype=dtype)

    @classmethod
    def linear(
        cls, T: int, beta_start: float = 1e-4, beta_end: float = 0.02, *, device=None, dtype: torch.dtype = torch.float32
    ) -> NoiseSchedule:
        """beta_t from beta_start (t = 1) to beta_end (t = T) in equal steps (Ho et al. 2020)."""
        T = check_int("T", T, low=1)
        beta_start = check_open_unit("beta_start", beta_start)
        beta_end = check_open_unit("beta_end", beta_end)
        return cls.from_betas(torch.linspace(beta_start, beta_end, T, dtype=torch.float64), device=device, dtype=dtype)

    @classmethod
    def cosine(
        cls, T: int, s: float = 0.008, max_beta: float = 0.999, *, device=None, dtype: torch.dtype = torch.float32
    ) -> NoiseSchedule:
        """alpha_bar_t proportional to cos^2(pi/2 (t/T + s)/(1 + s)), beta_t capped at max_beta (Nichol & Dhariwal 2021)."""
        T = check_int("T", T, low=1)
        s = check_positive("s", s)
        max_beta = check_open_unit("max_beta", max_beta)
        t = torch.arange(T + 1, dtype=torch.float64)
        f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
        alpha_bar = f / f[0]
        betas = (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(min=1e-12, max=max_beta)
        return cls.from_betas(betas, device=device, dtype=dtype)

    def __repr__(self) -> str:
        return f"NoiseSchedule(T={self.T}, device={self.device}, dtype={self.betas.dtype})"


def check_schedule(schedule: object, ref_name: str, ref: torch.Tensor) -> NoiseSchedule:
    """Require a NoiseSchedule on the same device as the tensor ``ref_name``; raise naming ``schedule``."""
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    check_same_device("schedule", schedule.betas, ref_name, ref)
    return schedule
