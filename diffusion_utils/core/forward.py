"""Forward chains x_t = c_t x_{t-1} + s_t eps_t and their closed-form marginals q(x_t | x_0)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._validate import check_generator, check_int, check_open_unit, check_positive, check_tensor, check_times
from .schedules import NoiseSchedule, check_schedule

__all__ = ["FixedFactorChain", "forward_chain", "marginal"]


def _check_broadcast(per_time: torch.Tensor, x0: torch.Tensor) -> None:
    """Times and data must broadcast: e.g. t of shape (K, 1) with x0 of shape (N,), or (N, 1) with (N, d)."""
    try:
        torch.broadcast_shapes(per_time.shape, x0.shape)
    except RuntimeError as err:
        raise ValueError(
            f"t of shape {tuple(per_time.shape)} does not broadcast against x0 of shape {tuple(x0.shape)}; "
            f"add trailing dimensions to t, e.g. t[:, None]"
        ) from err


def _simulate(
    x0: torch.Tensor, scale: torch.Tensor, noise_std: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    """Run x_t = scale[t] x_{t-1} + noise_std[t] eps_t for t = 1..T into one (T+1, *x0.shape) buffer."""
    T = scale.numel() - 1
    traj = torch.empty((T + 1, *x0.shape), dtype=x0.dtype, device=x0.device)
    traj[0] = x0
    # All noise in one call; then each row is turned in place from eps_t into x_t.
    torch.randn(traj[1:].shape, generator=generator, dtype=x0.dtype, device=x0.device, out=traj[1:])
    scale = scale.to(x0.dtype)
    noise_std = noise_std.to(x0.dtype)
    for t in range(1, T + 1):
        traj[t].mul_(noise_std[t]).addcmul_(traj[t - 1], scale[t])
    return traj


def forward_chain(
    x0: torch.Tensor, schedule: NoiseSchedule, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Simulate x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps_t; returns (T+1, *x0.shape), entry 0 is x0.

    Home chapter: An example diffusion. The result lives on ``x0``'s device, which must be the schedule's too.
    """
    check_tensor("x0", x0, min_ndim=1)
    check_schedule(schedule, "x0", x0)
    check_generator(generator, x0)
    return _simulate(x0, schedule.alphas.sqrt(), schedule.betas.sqrt(), generator)


def marginal(
    x0: torch.Tensor, schedule: NoiseSchedule, t: int | torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean sqrt(alpha_bar_t) x0 and variance 1 - alpha_bar_t of q(x_t | x_0) (chapter: A variance schedule).

    ``t`` is an int or an integer tensor in [0, T]; a tensor broadcasts against ``x0`` with torch's rules
    (for per-sample times on (N, d) data pass shape (N, 1)). Both outputs have the broadcast shape; the
    variance is exactly 0 at t = 0.
    """
    check_tensor("x0", x0)
    check_schedule(schedule, "x0", x0)
    t = check_times("t", t, high=schedule.T, device=schedule.device)
    alpha_bar = schedule.alpha_bars[t].to(x0.dtype)
    _check_broadcast(alpha_bar, x0)
    mean = alpha_bar.sqrt() * x0
    return mean, (1.0 - alpha_bar).expand(mean.shape)


@dataclass(frozen=True)
class FixedFactorChain:
    """The chain x_t = a x_{t-1} + b eps_t with constant 0 < a < 1 and noise scale b > 0 (chapter: A chain with a fixed factor)."""

    a: float
    b: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", check_open_unit("a", self.a))
        object.__setattr__(self, "b", check_positive("b", self.b))

    @classmethod
    def variance_preserving(cls, b: float) -> FixedFactorChain:
        """The choice a = sqrt(1 - b^2), for which q(x_t | x_0) = N(a^t x_0, 1 - a^{2t})."""
        b = check_open_unit("b", b)
        return cls(a=(1.0 - b**2) ** 0.5, b=b)

    @property
    def stationary_variance(self) -> float:
        """Limit of Var[x_t | x_0] as t grows: b^2 / (1 - a^2)."""
        return self.b**2 / (1.0 - self.a**2)

    def marginal(self, x0: torch.Tensor, t: int | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean a^t x_0 and variance b^2 (1 - a^{2t}) / (1 - a^2) of x_t given x_0; the variance is 0 at t = 0.

        ``t`` is an int or an integer tensor (any t >= 0) broadcasting against ``x0`` as in :func:`marginal`.
        """
        check_tensor("x0", x0)
        t = check_times("t", t, high=None, device=x0.device)
        a_t = torch.as_tensor(self.a, dtype=x0.dtype, device=x0.device) ** t
        _check_broadcast(a_t, x0)
        mean = a_t * x0
        var = self.b**2 * (1.0 - a_t**2) / (1.0 - self.a**2)
        return mean, var.expand(mean.shape)

    def simulate(self, x0: torch.Tensor, T: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Run the chain for T steps from x0; returns (T+1, *x0.shape) on x0's device, entry 0 is x0."""
        check_tensor("x0", x0, min_ndim=1)
        T = check_int("T", T, low=1)
        check_generator(generator, x0)
        scale = torch.full((T + 1,), self.a, dtype=x0.dtype, device=x0.device)
        noise_std = torch.full((T + 1,), self.b, dtype=x0.dtype, device=x0.device)
        return _simulate(x0, scale, noise_std, generator)
