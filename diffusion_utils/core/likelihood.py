"""The probability-flow ODE in half log-SNR and exact log-likelihoods along it (home chapter: Continuous time).

With lambda = log(sqrt(ab) / sqrt(1 - ab)) (ab = alpha_bar, so ab = sigmoid(2 lambda)) as the time variable, the
probability-flow ODE of the variance-preserving SDE reads

    dx/dlambda = v(x, lambda) = (1 - ab) (x + score(x, ab)),

whatever the schedule beta(tau): a schedule only decides how fast tau walks along lambda. Transported densities obey
the instantaneous change of variables d log p(x(lambda)) / dlambda = -div v = -(1 - ab) (d + div score), so

    log q_start(x) = log q_end(x_end) + integral from lambda_start to lambda_end of (1 - ab) (d + div score) dlambda.

Everything runs on the device and in the dtype of ``x``; the grid of noise levels is a host constant (float64).
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch

from ._validate import check_tensor, is_concrete
from .schedules import NoiseSchedule

__all__ = ["LikelihoodResult", "logsnr_grid", "model_score", "ode_log_likelihood", "probability_flow"]

#: score_fn(x, alpha_bar) -> grad_x log q(x) at noise level alpha_bar (a Python float in (0, 1)), shape of x.
ScoreFn = Callable[[torch.Tensor, float], torch.Tensor]
#: The ODE solvers: classical Runge-Kutta (4th order, also calls the score half-way in lambda) and Heun (2nd
#: order, calls the score at the grid's noise levels only).
SOLVERS = ("rk4", "heun")


class LikelihoodResult(NamedTuple):
    """What :func:`ode_log_likelihood` returns (chapter: Continuous time)."""

    log_density: torch.Tensor  #: log q_start(x) = prior_log_density + delta, (N,)
    prior_log_density: torch.Tensor  #: log prior(x_end) at the last noise level, (N,)
    delta: torch.Tensor  #: log q_start(x) - log q_end(x_end): the integral of the divergence, (N,)
    x_end: torch.Tensor  #: where the ODE carried x, (N, d)
    nfe: int  #: score evaluations made (each with its divergence)


def _lam(ab: float) -> float:
    """Half log-SNR of one noise level."""
    return 0.5 * (math.log(ab) - math.log1p(-ab))


def _ab(lam: float) -> float:
    """alpha_bar = sigmoid(2 lambda), stable for either sign."""
    return 1.0 / (1.0 + math.exp(-2.0 * lam)) if lam >= 0 else math.exp(2.0 * lam) / (1.0 + math.exp(2.0 * lam))


def _check_level(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie in the open interval (0, 1), got {value!r}")
    return value


def logsnr_grid(alpha_bar_from: float, alpha_bar_to: float, steps: int) -> torch.Tensor:
    """Noise levels ab from ``alpha_bar_from`` to ``alpha_bar_to``, equally spaced in lambda (chapter: Continuous time).

    Both ends in (0, 1) and distinct; either direction. Returns a float64 host tensor of shape (steps+1,) whose ends
    are exactly the two arguments.
    """
    a = _check_level("alpha_bar_from", alpha_bar_from)
    b = _check_level("alpha_bar_to", alpha_bar_to)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if a == b:
        raise ValueError(f"alpha_bar_from and alpha_bar_to must differ, got {a!r} twice")
    lam = torch.linspace(_lam(a), _lam(b), int(steps) + 1, dtype=torch.float64)
    out = torch.sigmoid(2.0 * lam)
    out[0], out[-1] = a, b
    return out


def _check_grid(alpha_bars: object, *, decreasing: bool) -> list[float]:
    """A strictly monotone 1-D grid of noise levels in (0, 1) as Python floats."""
    if isinstance(alpha_bars, torch.Tensor):
        if not alpha_bars.is_floating_point() or alpha_bars.ndim != 1:
            raise TypeError(
                f"alpha_bars must be a 1-D floating-point tensor, got dtype {alpha_bars.dtype} and shape "
                f"{tuple(alpha_bars.shape)}"
            )
        if not is_concrete(alpha_bars):
            raise ValueError("alpha_bars must hold values (build the grid on the host, e.g. with logsnr_grid)")
        values = alpha_bars.detach().to("cpu", torch.float64).tolist()
    elif isinstance(alpha_bars, Sequence) and not isinstance(alpha_bars, str):
        values = [_check_level("alpha_bars[k]", v) for v in alpha_bars]
    else:
        raise TypeError(f"alpha_bars must be a 1-D tensor or a sequence of floats, got {type(alpha_bars).__name__}")
    if len(values) < 2:
        raise ValueError(f"alpha_bars must hold at least two noise levels (one step), got {len(values)}")
    if not all(0.0 < v < 1.0 for v in values):
        raise ValueError("alpha_bars must lie in the open interval (0, 1): ab = 1 is the data, ab = 0 pure noise")
    diffs = [b - a for a, b in itertools.pairwise(values)]
    if decreasing and not all(dv < 0 for dv in diffs):
        raise ValueError("alpha_bars must decrease strictly: from the noise level of x towards the prior's")
    if not decreasing and not (all(dv < 0 for dv in diffs) or all(dv > 0 for dv in diffs)):
        raise ValueError("alpha_bars must be strictly monotone (decreasing: towards noise; increasing: towards data)")
    return values


def _check_solver(method: object) -> str:
    if method not in SOLVERS:
        raise ValueError(f"method must be one of {SOLVERS}, got {method!r}")
    return method  # type: ignore[return-value]


def _check_score_fn(score_fn: object) -> None:
    if not callable(score_fn):
        raise TypeError(f"score_fn must be callable as score_fn(x, alpha_bar), got {type(score_fn).__name__}")


def _score(score_fn: ScoreFn, x: torch.Tensor, ab: float) -> torch.Tensor:
    s = score_fn(x, ab)
    if not isinstance(s, torch.Tensor) or s.shape != x.shape:
        got = tuple(s.shape) if isinstance(s, torch.Tensor) else type(s).__name__
        raise ValueError(f"score_fn must return a tensor of x's shape {tuple(x.shape)}, got {got}")
    return s


def _score_and_div(score_fn: ScoreFn, x: torch.Tensor, ab: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The score and its exact divergence sum_i d s_i / d x_i (autograd, one backward pass per dimension)."""
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        s = _score(score_fn, xg, ab)
        if not s.requires_grad:
            raise ValueError("score_fn must be differentiable in x: its divergence is taken by autograd")
        d = x.shape[1]
        div = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for i in range(d):
            (g,) = torch.autograd.grad(s[:, i].sum(), xg, retain_graph=i < d - 1)
            div = div + g[:, i].to(x.dtype)
    return s.detach().to(x.dtype), div


def _integrate(
    score_fn: ScoreFn, x: torch.Tensor, grid: list[float], method: str, with_div: bool, keep_path: bool
) -> tuple[torch.Tensor, torch.Tensor | None, int, list[torch.Tensor] | None]:
    """RK4 or Heun in lambda on (x, l) with dx/dlambda = (1-ab)(x + s), dl/dlambda = (1-ab)(d + div s)."""
    d = x.shape[1]
    calls = 0

    def rates(y: torch.Tensor, ab: float) -> tuple[torch.Tensor, torch.Tensor | None]:
        nonlocal calls
        calls += 1
        if with_div:
            s, div = _score_and_div(score_fn, y, ab)
            return (1.0 - ab) * (y + s), (1.0 - ab) * (d + div)
        with torch.no_grad():
            s = _score(score_fn, y, ab).to(y.dtype)
        return (1.0 - ab) * (y + s), None

    delta = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device) if with_div else None
    path = [x] if keep_path else None
    lams = [_lam(ab) for ab in grid]
    for k in range(len(grid) - 1):
        h = lams[k + 1] - lams[k]
        ab0, ab1 = grid[k], grid[k + 1]
        v1, l1 = rates(x, ab0)
        if method == "heun":
            v2, l2 = rates(x + h * v1, ab1)
            x = x + 0.5 * h * (v1 + v2)
            if with_div:
                delta = delta + 0.5 * h * (l1 + l2)
        else:
            abm = _ab(0.5 * (lams[k] + lams[k + 1]))
            v2, l2 = rates(x + 0.5 * h * v1, abm)
            v3, l3 = rates(x + 0.5 * h * v2, abm)
            v4, l4 = rates(x + h * v3, ab1)
            x = x + (h / 6.0) * (v1 + 2.0 * v2 + 2.0 * v3 + v4)
            if with_div:
                delta = delta + (h / 6.0) * (l1 + 2.0 * l2 + 2.0 * l3 + l4)
        if path is not None:
            path.append(x)
    return x, delta, calls, path


def probability_flow(
    score_fn: ScoreFn,
    x: torch.Tensor,
    alpha_bars: torch.Tensor | Sequence[float],
    *,
    method: str = "rk4",
    trajectory: bool = False,
) -> torch.Tensor:
    """Carry x along the probability-flow ODE dx/dlambda = (1 - ab)(x + score) over a grid of noise levels.

    Home chapter: Continuous time. ``x`` (N, d) lives at noise level ``alpha_bars[0]``; ``alpha_bars`` is a strictly
    monotone 1-D tensor (or sequence) of noise levels in (0, 1), decreasing to go towards noise and increasing to go
    towards data, e.g. :func:`logsnr_grid`; one solver step per interval (``method`` "rk4" or "heun").
    ``score_fn(x, alpha_bar)`` returns the score at a float noise level. Returns x at ``alpha_bars[-1]``, (N, d), or
    with ``trajectory=True`` the time-major path (len(alpha_bars), N, d).
    """
    _check_score_fn(score_fn)
    check_tensor("x", x, min_ndim=2, max_ndim=2)
    grid = _check_grid(alpha_bars, decreasing=False)
    method = _check_solver(method)
    if not isinstance(trajectory, bool):
        raise TypeError(f"trajectory must be a bool, got {type(trajectory).__name__}")
    x_end, _, _, path = _integrate(score_fn, x.detach(), grid, method, with_div=False, keep_path=trajectory)
    return torch.stack(path) if path is not None else x_end


def _standard_normal_log_density(x: torch.Tensor) -> torch.Tensor:
    return -0.5 * (x**2).sum(-1) - 0.5 * x.shape[1] * math.log(2 * math.pi)


def ode_log_likelihood(
    score_fn: ScoreFn,
    x: torch.Tensor,
    alpha_bars: torch.Tensor | Sequence[float],
    *,
    prior: Callable[[torch.Tensor], torch.Tensor] | None = None,
    method: str = "rk4",
) -> LikelihoodResult:
    """log q(x) at noise level ``alpha_bars[0]`` by the instantaneous change of variables (chapter: Continuous time).

    The probability-flow ODE carries each row of ``x`` (N, d) up the strictly decreasing grid ``alpha_bars`` (noise
    levels in (0, 1), e.g. :func:`logsnr_grid` or a slice of ``alpha_bars64(schedule)``) while the exact divergence
    of the score (autograd, d backward passes) is integrated alongside:
    log q(x) = log prior(x_end) + integral of (1 - ab)(d + div score) dlambda. ``score_fn(x, alpha_bar)`` must act row
    by row and be differentiable in x; ``prior(x_end)`` returns (N,) log-densities at ``alpha_bars[-1]`` (default:
    the standard normal N(0, I), what a sampler starts from). ``method`` "rk4" or "heun". Runs on x's device and dtype
    (use float64 to check against closed forms).
    """
    _check_score_fn(score_fn)
    check_tensor("x", x, min_ndim=2, max_ndim=2)
    grid = _check_grid(alpha_bars, decreasing=True)
    method = _check_solver(method)
    if prior is not None and not callable(prior):
        raise TypeError(f"prior must be None (standard normal) or callable as prior(x_end), got {type(prior).__name__}")
    x_end, delta, calls, _ = _integrate(score_fn, x.detach(), grid, method, with_div=True, keep_path=False)
    assert delta is not None
    if prior is None:
        prior_log = _standard_normal_log_density(x_end)
    else:
        with torch.no_grad():
            prior_log = prior(x_end)
        if not isinstance(prior_log, torch.Tensor) or prior_log.shape != (x.shape[0],):
            got = tuple(prior_log.shape) if isinstance(prior_log, torch.Tensor) else type(prior_log).__name__
            raise ValueError(f"prior must return one log-density per sample, shape ({x.shape[0]},), got {got}")
        prior_log = prior_log.to(x.dtype)
    return LikelihoodResult(prior_log + delta, prior_log, delta, x_end, calls)


def model_score(model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], schedule: NoiseSchedule) -> ScoreFn:
    """score_fn(x, ab) = -eps_theta(x, t) / sqrt(1 - ab) of a noise predictor (chapter: Continuous time).

    The time t fed to ``model(x, t)`` is where the schedule's half log-SNR reaches that of ``ab``, interpolated
    linearly between the integer times (exactly t at ab = alpha_bar_t, fractional in between, which a sinusoidal
    time embedding accepts); ``ab`` must lie in [alpha_bar_T, alpha_bar_1]. ``x`` is fed in the model's dtype and
    the score returned in x's.
    """
    if not callable(model):
        raise TypeError(f"model must be callable as model(x_t, t), got {type(model).__name__}")
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    model_T = getattr(model, "T", None)
    if model_T is not None and int(model_T) != schedule.T:
        raise ValueError(f"model was built for T={int(model_T)} steps but schedule has T={schedule.T}; use the same T")
    from .samplers import alpha_bars64  # local import: samplers imports reverse, which is heavier

    ab64 = alpha_bars64(schedule)
    lam = 0.5 * (torch.log(ab64[1:]) - torch.log1p(-ab64[1:]))  # lambda_t for t = 1..T, decreasing
    lam_up = lam.flip(0).tolist()  # increasing: t = T..1
    T = schedule.T
    params = list(getattr(model, "parameters", list)())
    model_dtype = params[0].dtype if params else None

    def time_of(ab: float) -> float:
        target = _lam(_check_level("alpha_bar", ab))
        lo, hi = lam_up[0], lam_up[-1]
        tol = 1e-9 * max(1.0, abs(lo), abs(hi))
        if not lo - tol <= target <= hi + tol:
            raise ValueError(
                f"alpha_bar must lie in [alpha_bar_T, alpha_bar_1] = [{float(ab64[T]):.6g}, {float(ab64[1]):.6g}] "
                f"(the times the model knows), got {ab!r}"
            )
        if T == 1:
            return 1.0
        k = min(max(bisect.bisect_left(lam_up, target), 1), T - 1)
        a, b = lam_up[k - 1], lam_up[k]  # the half log-SNRs of times T - k + 1 and T - k
        frac = min(1.0, max(0.0, (target - a) / (b - a)))
        t = (T - k + 1) - frac
        return float(round(t)) if abs(t - round(t)) < 1e-9 else t

    def score_fn(x: torch.Tensor, ab: float) -> torch.Tensor:
        t = time_of(ab)
        if t == round(t):  # a training time: an integer tensor, as samplers pass it
            times = torch.full((x.shape[0],), round(t), dtype=torch.long, device=x.device)
        else:
            times = torch.full((x.shape[0],), t, dtype=torch.float64, device=x.device)
        xin = x if model_dtype is None else x.to(model_dtype)
        eps = model(xin, times)
        if not isinstance(eps, torch.Tensor) or eps.shape != x.shape:
            got = tuple(eps.shape) if isinstance(eps, torch.Tensor) else type(eps).__name__
            raise ValueError(f"model must return a noise prediction of x's shape {tuple(x.shape)}, got {got}")
        return -eps.to(x.dtype) / math.sqrt(1.0 - ab)

    return score_fn
