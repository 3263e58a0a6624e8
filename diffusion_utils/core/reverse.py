"""The reverse chain: the posterior q(x_{t-1} | x_t, x_0), DDPM steps and ancestral sampling (Part II)."""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from typing import NamedTuple

import torch

from ._validate import check_generator, check_same_device, check_tensor, check_times, is_concrete
from .schedules import NoiseSchedule, check_schedule
from .scores import mixture_denoiser

__all__ = [
    "ExactDenoiser",
    "ReverseCoefficients",
    "ancestral_sample",
    "ddpm_step",
    "posterior",
    "predict_x0",
    "reverse_coefficients",
]

#: A noise predictor: eps_hat = model(x_t, t) with x_t of shape (N, d) and t of shape (N,) (integers in 1..T).
NoisePredictor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

VARIANCES = ("posterior", "beta")


class ReverseCoefficients(NamedTuple):
    """Per-t constants of the reverse chain, float64 on the host, length T+1; entry 0 is NaN (chapter: The reverse posterior)."""

    coef_x0: torch.Tensor  #: sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t), the weight of x_0 in the posterior mean
    coef_xt: torch.Tensor  #: sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t), the weight of x_t
    posterior_var: torch.Tensor  #: beta-tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t; 0 at t = 1
    eps_coef: torch.Tensor  #: beta_t / sqrt(1 - alpha_bar_t), the weight of eps in the DDPM mean
    inv_sqrt_alpha: torch.Tensor  #: 1 / sqrt(alpha_t)
    beta: torch.Tensor  #: beta_t, the other common choice of reverse variance


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def reverse_coefficients(schedule: NoiseSchedule) -> ReverseCoefficients:
    """The posterior and DDPM-step constants of a schedule, computed once in float64 (chapter: The reverse posterior)."""
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    cached = _CACHE.get(schedule)
    if cached is not None:
        return cached
    if not is_concrete(schedule.betas):
        # A meta schedule has shapes but no values: NaN placeholders keep shape-only runs (device-leak tests) going.
        nan = torch.full((schedule.T + 1,), math.nan, dtype=torch.float64)
        return ReverseCoefficients(*(nan.clone() for _ in ReverseCoefficients._fields))
    beta = schedule.betas.detach().to("cpu", torch.float64)
    alpha_bar = torch.cumprod(1.0 - beta, dim=0)
    prev = torch.cat([alpha_bar.new_full((1,), math.nan), alpha_bar[:-1]])
    one_minus = 1.0 - alpha_bar
    one_minus[0] = math.nan  # x_0 has no noise: nothing to divide by, and no step to take
    coefs = ReverseCoefficients(
        coef_x0=prev.sqrt() * beta / one_minus,
        coef_xt=(1.0 - beta).sqrt() * (1.0 - prev) / one_minus,
        posterior_var=(1.0 - prev) / one_minus * beta,
        eps_coef=beta / one_minus.sqrt(),
        inv_sqrt_alpha=(1.0 - beta).rsqrt(),
        beta=beta.clone(),
    )
    coefs.beta[0] = math.nan
    _CACHE[schedule] = coefs
    return coefs


def _check_reverse_t(t: object, schedule: NoiseSchedule) -> int | torch.Tensor:
    """A reverse step needs 1 <= t <= T; t = 0 is x_0 itself and has no step before it."""
    t = check_times("t", t, high=schedule.T, device=schedule.device)
    low = int(t.min()) if isinstance(t, torch.Tensor) and is_concrete(t) and t.numel() else t
    if isinstance(low, int) and low < 1:
        raise ValueError(f"t must lie in [1, {schedule.T}] for a reverse step (x_0 has no step before it), got 0")
    return t


def posterior(
    x0: torch.Tensor, xt: torch.Tensor, schedule: NoiseSchedule, t: int | torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance of q(x_{t-1} | x_t, x_0) (chapter: The reverse posterior).

    The mean is coef_x0[t] x0 + coef_xt[t] xt, the variance beta-tilde_t; at t = 1 they are x0 and 0
    (alpha_bar_0 = 1: given x_0, x_0 is known). ``t`` is an int or an integer tensor in [1, T] that
    broadcasts against ``x0``/``xt``; the outputs have the broadcast shape and ``xt``'s dtype.
    """
    check_tensor("x0", x0)
    check_tensor("xt", xt)
    check_same_device("x0", x0, "xt", xt)
    check_schedule(schedule, "xt", xt)
    t = _check_reverse_t(t, schedule)
    coefs = reverse_coefficients(schedule)
    index = t.cpu() if isinstance(t, torch.Tensor) else t
    a, b, v = (c[index].to(device=xt.device, dtype=xt.dtype) for c in coefs[:3])
    try:
        mean = a * x0 + b * xt
    except RuntimeError as err:
        raise ValueError(
            f"x0 {tuple(x0.shape)}, xt {tuple(xt.shape)} and t {tuple(torch.as_tensor(index).shape)} do not broadcast"
        ) from err
    return mean, v.expand(mean.shape)


def predict_x0(xt: torch.Tensor, eps: torch.Tensor, schedule: NoiseSchedule, t: int | torch.Tensor) -> torch.Tensor:
    """Invert x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps for x_0 (chapter: The ELBO and the noise loss)."""
    check_tensor("xt", xt)
    check_tensor("eps", eps)
    check_same_device("eps", eps, "xt", xt)
    check_schedule(schedule, "xt", xt)
    t = _check_reverse_t(t, schedule)
    alpha_bar = schedule.alpha_bars[t].to(xt.dtype)
    return (xt - (1.0 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt()


def ddpm_step(
    xt: torch.Tensor,
    eps: torch.Tensor,
    t: int,
    schedule: NoiseSchedule,
    generator: torch.Generator | None = None,
    variance: str = "posterior",
) -> torch.Tensor:
    """One reverse step x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_t) + sigma_t z (chapter: Ancestral sampling).

    ``eps`` is the predicted noise at (x_t, t); sigma_t^2 is beta-tilde_t (``variance="posterior"``) or beta_t
    (``"beta"``); no noise is added at t = 1. The new noise z is drawn on ``xt``'s device with ``generator``.
    """
    check_tensor("xt", xt, min_ndim=1)
    if not isinstance(eps, torch.Tensor) or eps.shape != xt.shape:
        shape = tuple(eps.shape) if isinstance(eps, torch.Tensor) else type(eps).__name__
        raise ValueError(f"eps must be a tensor of xt's shape {tuple(xt.shape)}, got {shape}")
    check_same_device("eps", eps, "xt", xt)
    check_schedule(schedule, "xt", xt)
    if isinstance(t, torch.Tensor):
        raise TypeError("t must be a Python int for ddpm_step (one step moves every sample from t to t-1)")
    t = _check_reverse_t(t, schedule)
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    check_generator(generator, xt, "xt")
    return _step(xt, eps, t, reverse_coefficients(schedule), generator, variance)


def _step(
    xt: torch.Tensor,
    eps: torch.Tensor,
    t: int,
    coefs: ReverseCoefficients,
    generator: torch.Generator | None,
    variance: str,
) -> torch.Tensor:
    """The arithmetic of :func:`ddpm_step` with checked arguments (host floats, three fused in-place ops)."""
    out = torch.add(xt, eps, alpha=-float(coefs.eps_coef[t])).mul_(float(coefs.inv_sqrt_alpha[t]))
    if t > 1:
        var = float(coefs.posterior_var[t] if variance == "posterior" else coefs.beta[t])
        noise = torch.randn(xt.shape, generator=generator, dtype=xt.dtype, device=xt.device)
        out.add_(noise, alpha=math.sqrt(var))
    return out


def _model_mean(model: NoisePredictor, xt: torch.Tensor, t: int, coefs: ReverseCoefficients) -> torch.Tensor:
    """mu_theta(x_t, t) = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta(x_t, t)) / sqrt(alpha_t)."""
    eps_hat = model(xt, torch.full((xt.shape[0],), t, dtype=torch.long, device=xt.device))
    return (xt - float(coefs.eps_coef[t]) * eps_hat) * float(coefs.inv_sqrt_alpha[t])


def _check_model(model: object, schedule: NoiseSchedule) -> None:
    """A model trained for another number of steps would be asked about times it never saw."""
    if not callable(model):
        raise TypeError(f"model must be callable as model(x_t, t), got {type(model).__name__}")
    model_T = getattr(model, "T", None)
    if model_T is not None and int(model_T) != schedule.T:
        raise ValueError(f"model was built for T={int(model_T)} steps but schedule has T={schedule.T}; use the same T")


@torch.no_grad()
def ancestral_sample(
    model: NoisePredictor,
    schedule: NoiseSchedule,
    xT: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    variance: str = "posterior",
    trajectory: bool = False,
    progress: bool | str = False,
) -> torch.Tensor:
    """Run the reverse chain from x_T down to x_0 with ``model``'s noise predictions (chapter: Ancestral sampling).

    ``xT`` is (N, d) noise on the device where sampling runs (the model and schedule must be there too).
    Returns x_0 (N, d), or with ``trajectory=True`` the time-major (T+1, N, d) path whose entry t is x_t.
    ``progress`` shows a tqdm bar over the T steps (a string names it; off by default): a widget in a notebook, text
    elsewhere, as training's.
    """
    check_tensor("xT", xT, min_ndim=2, max_ndim=2)
    check_schedule(schedule, "xT", xT)
    _check_model(model, schedule)
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}, got {variance!r}")
    check_generator(generator, xT, "xT")
    if not isinstance(progress, (bool, str)):
        raise TypeError(f"progress must be a bool or a label (str), got {type(progress).__name__}")
    was_training = getattr(model, "training", False)
    if was_training:
        model.eval()
    coefs = reverse_coefficients(schedule)
    T = schedule.T
    path = torch.empty((T + 1, *xT.shape), dtype=xT.dtype, device=xT.device) if trajectory else None
    x = xT
    bar = None
    if progress:
        from tqdm.auto import tqdm

        label = progress if isinstance(progress, str) else "sampling"
        bar = tqdm(total=T, desc=label, unit="step", mininterval=0.5)
    try:
        for t in range(T, 0, -1):
            if path is not None:
                path[t] = x
            times = torch.full((xT.shape[0],), t, dtype=torch.long, device=xT.device)
            x = _step(x, model(x, times), t, coefs, generator, variance)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
        if was_training:
            model.train()
    if path is not None:
        path[0] = x
    if is_concrete(x) and not bool(torch.isfinite(x).all()):
        raise ValueError("model produced non-finite samples; check its training (loss curve) and the data scaling")
    return x if path is None else path


class ExactDenoiser:
    """The best possible noise predictor for a finite dataset: eps_hat = (x_t - sqrt(ab_t) E[x_0 | x_t]) / sqrt(1 - ab_t).

    E[x_0 | x_t] is the posterior mean over the data points, weighted by N(x_t; sqrt(ab_t) x_0, 1 - ab_t)
    (chapter: Ancestral sampling), computed by :func:`~diffusion_utils.core.scores.mixture_denoiser`, the package's one
    implementation. ``data`` is (K, d) on the schedule's device; ``weights`` (K,) default uniform.
    """

    def __init__(self, data: torch.Tensor, schedule: NoiseSchedule, weights: torch.Tensor | None = None) -> None:
        check_tensor("data", data, min_ndim=2, max_ndim=2)
        check_schedule(schedule, "data", data)
        if weights is not None:
            check_tensor("weights", weights, min_ndim=1, max_ndim=1)
            check_same_device("weights", weights, "data", data)
            if weights.shape[0] != data.shape[0]:
                raise ValueError(f"weights must have one entry per data point ({data.shape[0]}), got {weights.shape[0]}")
            if is_concrete(weights) and (not bool((weights >= 0).all()) or float(weights.sum()) <= 0):
                raise ValueError("weights must be >= 0 with a positive sum (they are normalised to sum 1)")
        self.data, self.weights, self.schedule = data, weights, schedule

    @property
    def T(self) -> int:
        """Number of steps of the schedule this denoiser is exact for."""
        return self.schedule.T

    def posterior_mean(self, xt: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """E[x_0 | x_t] for x_t of shape (N, d) at integer times t of shape (N,) in [1, T]."""
        return mixture_denoiser(xt, self.data, self.schedule.alpha_bars[t].to(xt.dtype), self.weights)

    def __call__(self, xt: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The noise prediction at (x_t, t); t in [1, T]."""
        ab = self.schedule.alpha_bars[t].to(xt.dtype)[:, None]
        return (xt - ab.sqrt() * self.posterior_mean(xt, t)) / (1.0 - ab).sqrt()
