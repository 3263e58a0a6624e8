"""Samplers behind one interface: DDPM, DDIM, Euler, Heun, DPM-Solver++(2M), Euler-Maruyama (home chapter: Samplers compared).

Every method takes an opaque noise predictor ``model(x, t)`` (a trained network, the exact denoiser, or a wrapper
that counts calls), called only at integer times t in 1..T of the training grid, and reports the calls it made.
A sampler walks down a time grid T = t_0 > t_1 > ... > t_n = 0 (``n`` = ``steps``); the last step lands on the
data (alpha_bar_0 = 1). Per-time constants are computed once in float64 on the host.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable
from typing import NamedTuple

import torch

from ._validate import check_generator, check_int, check_positive, check_tensor, is_concrete
from .reverse import _check_model
from .schedules import NoiseSchedule, check_schedule

__all__ = ["GRIDS", "METHODS", "SampleResult", "alpha_bars64", "ddim_invert", "ode_limit_1d", "sample", "time_grid"]

METHODS = ("ddpm", "ddim", "euler", "heun", "dpmpp_2m", "euler_maruyama")
GRIDS = ("uniform", "karras", "logsnr")
#: The methods that are deterministic (eta = 0): an ODE solver's result depends on x_T only.
ODE_METHODS = ("ddim", "euler", "heun", "dpmpp_2m")

NoisePredictor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class SampleResult(NamedTuple):
    """What a sampler returns (chapter: Samplers compared)."""

    samples: torch.Tensor  #: x_0, (N, d); with ``trajectory=True`` the path (steps+1, N, d), entry k at time_grid[k]
    nfe: int  #: the number of model calls actually made


def alpha_bars64(schedule: NoiseSchedule) -> torch.Tensor:
    """alpha_bar_t for t = 0..T in float64 on the host, from the schedule's betas (chapter: Samplers compared)."""
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    if schedule.betas.device.type == "meta":
        # Shape-only runs (device-leak tests): a plausible placeholder schedule, never shown to a reader.
        return torch.cumprod(1.0 - torch.linspace(0.0, 0.02, schedule.T + 1, dtype=torch.float64), 0)
    if schedule.betas.dtype == torch.float64:
        return schedule.alpha_bars.detach().to("cpu")
    return torch.cumprod(1.0 - schedule.betas.detach().to("cpu", torch.float64), dim=0)


def _nearest_times(schedule: NoiseSchedule, log_sigma: torch.Tensor) -> torch.Tensor:
    """The integer t in 1..T whose log sigma_t = log sqrt((1 - ab_t) / ab_t) is nearest to each target."""
    ab = alpha_bars64(schedule)[1:]
    table = 0.5 * (torch.log1p(-ab) - torch.log(ab))
    return (log_sigma[:, None] - table[None]).abs().argmin(dim=1) + 1


def time_grid(schedule: NoiseSchedule, steps: int, grid: str = "uniform", *, rho: float = 7.0) -> torch.Tensor:
    """The integer times T = t_0 > ... > t_{steps-1} >= 1 > t_steps = 0 a sampler visits, (steps+1,) on the host.

    ``grid="uniform"`` spaces them equally in t; ``"karras"`` spaces sigma_t^(1/rho) equally between sigma_T and
    sigma_1 (Karras et al. 2022, rho = 7), where sigma_t = sqrt((1 - ab_t) / ab_t); ``"logsnr"`` spaces the log-SNR
    equally between its values at T and 1. Targets are placed on the nearest training time, then nudged so that all
    are distinct (chapter: Samplers compared).
    """
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    T = schedule.T
    steps = check_int("steps", steps, low=1, high=T)
    if grid not in GRIDS:
        raise ValueError(f"grid must be one of {GRIDS}, got {grid!r}")
    rho = check_positive("rho", rho)
    if grid == "uniform":
        times = torch.round(torch.linspace(T, 0, steps + 1, dtype=torch.float64)).long()[:-1]
    else:
        ab = alpha_bars64(schedule)
        log_sig = 0.5 * (torch.log1p(-ab) - torch.log(ab))  # log sigma_t; entry 0 is -inf
        lo, hi = float(log_sig[1]), float(log_sig[T])
        u = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)
        if grid == "karras":
            r = 1.0 / float(rho)
            target = rho * torch.log(math.exp(hi * r) + u * (math.exp(lo * r) - math.exp(hi * r)))
        else:  # log-SNR = -2 log sigma, uniform
            target = hi + u * (lo - hi)
        times = _nearest_times(schedule, target)
        times[0] = T
    # Strictly decreasing, every time in 1..T, room left for the steps still to come.
    out = times.clone()
    for k in range(1, steps):
        out[k] = max(min(int(times[k]), int(out[k - 1]) - 1), steps - k)
    return torch.cat([out, out.new_zeros(1)])


def _check_eta(eta: object, method: str) -> float:
    if isinstance(eta, bool) or not isinstance(eta, numbers.Real) or not math.isfinite(float(eta)):
        raise TypeError(f"eta must be a finite real number, got {eta!r}")
    eta = float(eta)
    if eta < 0:
        raise ValueError(f"eta must be >= 0 (0: deterministic DDIM, 1: DDPM's posterior noise), got {eta}")
    if eta > 0 and method != "ddim":
        raise ValueError(f"eta applies to method='ddim' only, got eta={eta} with method={method!r}")
    return eta


class _Caller:
    """Calls the model at one integer time for every sample, checks its answer and counts the calls."""

    def __init__(self, model: NoisePredictor, n: int, device: torch.device) -> None:
        self.model, self.n, self.device, self.calls = model, n, device, 0

    def __call__(self, x: torch.Tensor, t: int) -> torch.Tensor:
        eps = self.model(x, torch.full((self.n,), t, dtype=torch.long, device=self.device))
        self.calls += 1
        if not isinstance(eps, torch.Tensor) or eps.shape != x.shape:
            got = tuple(eps.shape) if isinstance(eps, torch.Tensor) else type(eps).__name__
            raise ValueError(f"model must return a noise prediction of x's shape {tuple(x.shape)}, got {got}")
        return eps.to(x.dtype)


@torch.no_grad()
def sample(
    model: NoisePredictor,
    schedule: NoiseSchedule,
    xT: torch.Tensor,
    *,
    method: str,
    steps: int,
    generator: torch.Generator | None = None,
    eta: float = 0.0,
    grid: str = "uniform",
    trajectory: bool = False,
) -> SampleResult:
    """Draw x_0 from x_T with ``steps`` steps of ``method`` on the time grid ``grid`` (chapter: Samplers compared).

    Methods (each step from t to s < t; ab = alpha_bar, eps_hat = model(x, t), x0_hat = (x - sqrt(1-ab_t) eps_hat)/sqrt(ab_t)):

    - ``"ddpm"``: ancestral sampling with the respaced posterior q(x_s | x_t, x0_hat) (Ho et al. 2020; with
      steps = T it is :func:`~diffusion_utils.core.reverse.ancestral_sample`);
    - ``"ddim"``: x_s = sqrt(ab_s) x0_hat + sqrt(1 - ab_s - s2) eps_hat + s z with
      s2 = eta^2 (1-ab_s)/(1-ab_t) (1 - ab_t/ab_s) (Song et al. 2021a; eta = 1 is DDPM's noise);
    - ``"euler"``, ``"heun"``: Euler and Heun (Karras et al. 2022, Algorithm 1 with s(t) = sqrt(ab)) on the
      probability-flow ODE dx/dsigma = sqrt(ab) eps_hat - sigma ab x, sigma = sqrt((1-ab)/ab); Heun corrects every
      step but the last (to sigma = 0), so it makes 2 steps - 1 calls;
    - ``"dpmpp_2m"``: DPM-Solver++(2M) (Lu et al. 2022) in lambda = log(sqrt(ab)/sqrt(1-ab)) with the data
      prediction x0_hat, first order on its first and last step;
    - ``"euler_maruyama"``: Euler-Maruyama on the reverse-time SDE with B = log(ab_s/ab_t):
      x_s = x_t + (x_t/2 + score) B + sqrt(B) z, score = -eps_hat/sqrt(1-ab_t); no noise on the last step.

    ``model`` is called as model(x, t) with t an integer tensor of shape (N,); ``xT`` is (N, d) on the device where
    sampling runs; ``generator`` draws the noise of the stochastic methods there. With ``trajectory=True`` the
    samples are the time-major path (steps+1, N, d) at the times of :func:`time_grid`.
    """
    check_tensor("xT", xT, min_ndim=2, max_ndim=2)
    check_schedule(schedule, "xT", xT)
    _check_model(model, schedule)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    steps = check_int("steps", steps, low=1, high=schedule.T)
    eta = _check_eta(eta, method)
    if grid not in GRIDS:
        raise ValueError(f"grid must be one of {GRIDS}, got {grid!r}")
    check_generator(generator, xT, "xT")
    was_training = getattr(model, "training", False)
    if was_training:
        model.eval()
    times = time_grid(schedule, steps, grid).tolist()
    ab = alpha_bars64(schedule)
    call = _Caller(model, xT.shape[0], xT.device)
    path = [xT] if trajectory else None
    x = xT
    try:
        state: dict = {}
        for k in range(steps):
            t, s = times[k], times[k + 1]
            x = _STEPS[method](call, x, t, s, float(ab[t]), float(ab[s]), eta, generator, state)
            if path is not None:
                path.append(x)
    finally:
        if was_training:
            model.train()
    if is_concrete(x) and not bool(torch.isfinite(x).all()):
        raise ValueError("the sampler produced non-finite samples; check the model (its training) and the data scaling")
    return SampleResult(torch.stack(path) if path is not None else x, call.calls)


def _noise(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)


def _ddpm(call, x, t, s, ab_t, ab_s, eta, generator, state):
    """Ancestral step on the respaced chain: beta' = 1 - ab_t / ab_s, variance beta' (1 - ab_s) / (1 - ab_t)."""
    eps = call(x, t)
    beta = 1.0 - ab_t / ab_s
    out = torch.add(x, eps, alpha=-beta / math.sqrt(1.0 - ab_t)).mul_(1.0 / math.sqrt(1.0 - beta))
    if s > 0:
        out.add_(_noise(x, generator), alpha=math.sqrt(beta * (1.0 - ab_s) / (1.0 - ab_t)))
    return out


def _ddim(call, x, t, s, ab_t, ab_s, eta, generator, state):
    """x_s = sqrt(ab_s) x0_hat + sqrt(1 - ab_s - sigma^2) eps_hat + sigma z."""
    eps = call(x, t)
    x0 = torch.add(x, eps, alpha=-math.sqrt(1.0 - ab_t)).mul_(1.0 / math.sqrt(ab_t))
    var = eta**2 * (1.0 - ab_s) / (1.0 - ab_t) * (1.0 - ab_t / ab_s) if s > 0 else 0.0
    out = x0.mul_(math.sqrt(ab_s)).add_(eps, alpha=math.sqrt(max(0.0, 1.0 - ab_s - var)))
    if var > 0:
        out.add_(_noise(x, generator), alpha=math.sqrt(var))
    return out


def _sigma(ab: float) -> float:
    return math.sqrt((1.0 - ab) / ab)


def _drift(call, x, t, ab_t):
    """dx/dsigma of the probability-flow ODE in (x, sigma): sqrt(ab) eps_hat - sigma ab x."""
    return torch.add(x * (-_sigma(ab_t) * ab_t), call(x, t), alpha=math.sqrt(ab_t))


def _euler(call, x, t, s, ab_t, ab_s, eta, generator, state):
    return torch.add(x, _drift(call, x, t, ab_t), alpha=_sigma(ab_s) - _sigma(ab_t))


def _heun(call, x, t, s, ab_t, ab_s, eta, generator, state):
    h = _sigma(ab_s) - _sigma(ab_t)
    d = _drift(call, x, t, ab_t)
    pred = torch.add(x, d, alpha=h)
    if s == 0:
        return pred
    return torch.add(x, d.add_(_drift(call, pred, s, ab_s)), alpha=h / 2)


def _lam(ab: float) -> float:
    return 0.5 * (math.log(ab) - math.log1p(-ab))


def _dpmpp_2m(call, x, t, s, ab_t, ab_s, eta, generator, state):
    """x_s = (sigma_s / sigma_t) x - alpha_s expm1(-h) D, D = x0_hat or its 2nd-order multistep extrapolation."""
    eps = call(x, t)
    x0 = torch.add(x, eps, alpha=-math.sqrt(1.0 - ab_t)).mul_(1.0 / math.sqrt(ab_t))
    if s == 0:
        return x0
    h = _lam(ab_s) - _lam(ab_t)
    d = x0
    if "x0" in state:
        r = state["h"] / h
        d = torch.add(x0, state["x0"], alpha=-1.0).mul_(1.0 / (2.0 * r)).add_(x0)
    state["x0"], state["h"] = x0, h
    return torch.add(x * math.sqrt((1.0 - ab_s) / (1.0 - ab_t)), d, alpha=-math.sqrt(ab_s) * math.expm1(-h))


def _euler_maruyama(call, x, t, s, ab_t, ab_s, eta, generator, state):
    """x_s = x_t + (x_t / 2 + score) B + sqrt(B) z with B = log(ab_s / ab_t) and score = -eps_hat / sqrt(1 - ab_t)."""
    eps = call(x, t)
    b = math.log(ab_s / ab_t)
    out = torch.add(x * (1.0 + 0.5 * b), eps, alpha=-b / math.sqrt(1.0 - ab_t))
    if s > 0:
        out.add_(_noise(x, generator), alpha=math.sqrt(b))
    return out


_STEPS = {
    "ddpm": _ddpm,
    "ddim": _ddim,
    "euler": _euler,
    "heun": _heun,
    "dpmpp_2m": _dpmpp_2m,
    "euler_maruyama": _euler_maruyama,
}


@torch.no_grad()
def ddim_invert(
    model: NoisePredictor, schedule: NoiseSchedule, x: torch.Tensor, *, steps: int, grid: str = "uniform"
) -> SampleResult:
    """Run deterministic DDIM upwards, from x at the grid's smallest time t_{steps-1} to x_T (chapter: Continuous time).

    The grid is :func:`time_grid`'s, so ``sample(..., method="ddim", trajectory=True).samples[-2]`` fed here goes
    back to (approximately) its x_T: x_s = sqrt(ab_s) x0_hat + sqrt(1 - ab_s) eps_hat with eps_hat taken at the
    lower time t. ``x`` is (N, d); returns the x_T reached and the model calls made (steps - 1).
    """
    check_tensor("x", x, min_ndim=2, max_ndim=2)
    check_schedule(schedule, "x", x)
    _check_model(model, schedule)
    steps = check_int("steps", steps, low=1, high=schedule.T)
    times = time_grid(schedule, steps, grid).tolist()[:-1][::-1]  # t_{steps-1} < ... < t_0 = T
    ab = alpha_bars64(schedule)
    call = _Caller(model, x.shape[0], x.device)
    for t, s in itertools.pairwise(times):
        eps = call(x, t)
        x0 = torch.add(x, eps, alpha=-math.sqrt(1.0 - float(ab[t]))).mul_(1.0 / math.sqrt(float(ab[t])))
        x = x0.mul_(math.sqrt(float(ab[s]))).add_(eps, alpha=math.sqrt(1.0 - float(ab[s])))
    return SampleResult(x, call.calls)


def ode_limit_1d(xT: torch.Tensor, points: torch.Tensor, alpha_bar_T: float) -> torch.Tensor:
    """Where the exact probability-flow ODE takes each x_T of a 1-D point cloud: (N,) (chapter: Samplers compared).

    In one dimension the flow from T to 0 keeps the particles' order and pushes q_T onto the K equally weighted points,
    so it is the monotone map: x_T goes to the point whose quantile interval ((j-1)/K, j/K] holds F_T(x_T), where F_T
    is the CDF of q_T = mean_i N(sqrt(ab_T) x_i, 1 - ab_T). ``xT`` is (N,) or (N, 1), ``points`` (K,).
    """
    check_tensor("xT", xT, min_ndim=1, max_ndim=2)
    check_tensor("points", points, min_ndim=1, max_ndim=1)
    ab = check_positive("alpha_bar_T", alpha_bar_T)
    if not ab < 1.0:
        raise ValueError(f"alpha_bar_T must lie in (0, 1), got {ab}")
    x = xT.reshape(-1).to("cpu", torch.float64)
    pts = torch.sort(points.detach().to("cpu", torch.float64)).values
    cdf = torch.special.ndtr((x[:, None] - math.sqrt(ab) * pts[None]) / math.sqrt(1.0 - ab)).mean(dim=1)
    index = torch.ceil(cdf * pts.numel()).long().clamp(1, pts.numel()) - 1
    return pts[index]
