"""Straight paths and few steps: path curvature, DDIM as the flow-matching Euler step, reflow (home chapter: Straight paths and few steps).

Two ways to write the same noising: the variance-preserving (VP) variable x = sqrt(ab) x_0 + sqrt(1 - ab) eps and the
linear interpolant z = (1 - t) x_0 + t eps, t in [0, 1] (t = 1 is noise). They carry the same information:
z = nu_t x with nu_t = sqrt((1 - t)^2 + t^2) and ab = (1 - t)^2 / nu_t^2, and in DDIM's variables
y = x / sqrt(ab) = z / (1 - t), gamma = sqrt((1 - ab) / ab) = t / (1 - t). This module converts between them, integrates a
velocity field on any time grid, measures how straight a path is, and builds one round of reflow.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from ._validate import check_int, check_same_device, check_tensor, is_concrete
from .device import default_device
from .flows import _integrate
from .samplers import SampleResult
from .schedules import NoiseSchedule

if TYPE_CHECKING:
    from .flows import TrainedFlow

__all__ = [
    "CLOCKS",
    "SlicedW1",
    "clock_euler",
    "integrate_flow",
    "interpolant_to_vp",
    "nfe_to_reach",
    "path_curvature",
    "reflow_pairs",
    "schedule_flow_times",
    "train_reflow_moons",
    "vp_to_interpolant",
]

VelocityField = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
EpsField = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

#: Clocks u in which :func:`clock_euler` steps x: gamma itself, the interpolant's t, the cosine clock.
CLOCKS = ("gamma", "interpolant", "cosine")


# --- path curvature -------------------------------------------------------------------------------------------------


def path_curvature(path: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    """Per-sample curvature of time-major paths (n+1, N, d) read at ``times`` (n+1,) (chapter: Straight paths and few steps).

    kappa = max_k ||x(u_k) - c(u_k)|| / ell, where c(u) = x_start + r (x_end - x_start), r = (u - u_start) /
    (u_end - u_start), moves uniformly along the chord between the path's end points, and ell = sum_k ||x_{k+1} - x_k||
    is the length of the path (>= the chord). kappa = 0 exactly when the particle moves along a straight line at a
    constant speed in the clock u (then Euler steps in u, one included, are exact); kappa = 0 for a path that never
    moves.
    Returns (N,) in x's dtype.
    """
    check_tensor("path", path, min_ndim=3, max_ndim=3)
    check_tensor("times", times, min_ndim=1, max_ndim=1)
    if path.shape[0] < 2:
        raise ValueError(f"path must hold at least two points in time (shape (n+1, N, d), n >= 1), got {tuple(path.shape)}")
    if times.shape[0] != path.shape[0]:
        raise ValueError(f"times must have one entry per point of the path ({path.shape[0]}), got {times.shape[0]}")
    check_same_device("times", times, "path", path)
    u = times.to(path.dtype)
    if is_concrete(u):
        steps = torch.diff(u)
        if not (bool((steps > 0).all()) or bool((steps < 0).all())):
            raise ValueError("times must be strictly monotone (increasing or decreasing)")
    r = ((u - u[0]) / (u[-1] - u[0]))[:, None, None]
    chord = path[0] + r * (path[-1] - path[0])
    deviation = (path - chord).norm(dim=-1).amax(dim=0)
    length = torch.diff(path, dim=0).norm(dim=-1).sum(dim=0)
    return torch.where(length > 0, deviation / torch.where(length > 0, length, 1.0), 0.0)


# --- the two variables ----------------------------------------------------------------------------------------------


def _level(name: str, value: object, x: torch.Tensor, *, low: float, high: float) -> torch.Tensor:
    """A float or an (N,) tensor as an (N, 1) tensor of x's dtype, every value in [low, high]."""
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a float or a floating-point tensor, got dtype {value.dtype}")
        if value.ndim > 1 or (value.ndim == 1 and value.shape[0] != x.shape[0]):
            raise ValueError(f"{name} must be a float or a tensor of shape ({x.shape[0]},), got {tuple(value.shape)}")
        check_same_device(name, value, "x", x)
        v = value.to(x.dtype)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        v = torch.tensor(float(value), dtype=x.dtype, device=x.device)
    else:
        raise TypeError(f"{name} must be a float or a tensor, got {type(value).__name__}")
    if is_concrete(v) and not bool(((v >= low) & (v <= high)).all()):
        raise ValueError(f"{name} must lie in [{low:g}, {high:g}], got values outside it")
    return v.expand(x.shape[0])[:, None]


def interpolant_to_vp(z: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """The VP variable x = z / nu_t of the interpolant's z at time t in [0, 1], nu_t = sqrt((1-t)^2 + t^2) (chapter: Straight paths and few steps).

    Its noise level is alpha_bar = (1 - t)^2 / nu_t^2 (:func:`~diffusion_utils.core.flows.interpolant_alpha_bar`).
    """
    check_tensor("z", z, min_ndim=2, max_ndim=2)
    tt = _level("t", t, z, low=0.0, high=1.0)
    return z / torch.sqrt((1 - tt) ** 2 + tt**2)


def vp_to_interpolant(x: torch.Tensor, alpha_bar: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(z, t): the interpolant's z = x / (sqrt(ab) + sqrt(1 - ab)) at t = gamma / (1 + gamma) (chapter: Straight paths and few steps).

    For x = sqrt(ab) x_0 + sqrt(1 - ab) eps this is z = (1 - t) x_0 + t eps with t = sqrt(1 - ab) / (sqrt(ab) +
    sqrt(1 - ab)), so z = nu_t x. ``x`` is (N, d), ``alpha_bar`` a float or an (N,) tensor in [0, 1]; t is (N,).
    """
    check_tensor("x", x, min_ndim=2, max_ndim=2)
    ab = _level("alpha_bar", alpha_bar, x, low=0.0, high=1.0)
    a, b = ab.sqrt(), (1 - ab).sqrt()
    return x / (a + b), (b / (a + b))[:, 0]


def schedule_flow_times(schedule: NoiseSchedule, times: torch.Tensor) -> torch.Tensor:
    """The interpolant times t = gamma_t / (1 + gamma_t) of a chain's integer times, float64 on the host (chapter: Straight paths and few steps).

    ``times`` are integers in 0..T (e.g. :func:`~diffusion_utils.core.samplers.time_grid`); t = 0 at the chain's t = 0.
    """
    from .samplers import alpha_bars64

    if not isinstance(times, torch.Tensor) or times.ndim != 1:
        raise TypeError(f"times must be a 1-D tensor of integer times of the chain, got {type(times).__name__}")
    if times.is_floating_point() or times.dtype == torch.bool:
        raise TypeError(f"times must be integer times of the chain, got dtype {times.dtype}")
    idx = times.detach().to("cpu", torch.long)
    if bool(((idx < 0) | (idx > schedule.T)).any()):
        raise ValueError(f"times must lie in 0..{schedule.T}")
    ab = alpha_bars64(schedule)[idx]
    a, b = ab.sqrt(), (1 - ab).sqrt()
    return b / (a + b)


# --- integrating a velocity field on any grid -----------------------------------------------------------------------


@torch.no_grad()
def integrate_flow(
    model: VelocityField,
    z: torch.Tensor,
    times: torch.Tensor,
    *,
    method: str = "euler",
    trajectory: bool = False,
) -> SampleResult:
    """Euler or Heun for dz/dt = model(z, t) along the float times t_0 > ... > t_n (chapter: Straight paths and few steps).

    The same steps as :func:`~diffusion_utils.core.flows.sample_flow` (Heun: Euler on a last step to t = 0, so
    2 n - 1 calls), on any decreasing grid in [0, 1], e.g. one that starts below 1. ``times`` (n+1,) on any device;
    model is called with t a float tensor (N,) of z's dtype on z's device.
    """
    check_tensor("z", z, min_ndim=2, max_ndim=2)
    check_tensor("times", times, min_ndim=1, max_ndim=1)
    if not callable(model):
        raise TypeError(f"model must be callable as model(z, t), got {type(model).__name__}")
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun', got {method!r}")
    grid = times.detach().to("cpu", torch.float64).tolist()
    if len(grid) < 2 or any(b >= a for a, b in itertools.pairwise(grid)) or grid[-1] < 0 or grid[0] > 1:
        raise ValueError("times must hold at least two values, strictly decreasing, in [0, 1]")
    return _integrate(model, z, grid, method, trajectory, "z")


# --- Euler on the VP variable in a chosen clock ---------------------------------------------------------------------


def _clock(clock: str, gamma: float) -> tuple[float, float]:
    """(u, dgamma/du) of the clock at noise level gamma."""
    if clock == "gamma":
        return gamma, 1.0
    if clock == "interpolant":  # gamma = u / (1 - u)
        u = gamma / (1 + gamma)
        return u, 1.0 / (1 - u) ** 2
    # cosine: alpha_bar = cos^2(pi u / 2), gamma = tan(pi u / 2)
    u = 2.0 / math.pi * math.atan(gamma)
    return u, math.pi / 2 * (1 + gamma**2)


@torch.no_grad()
def clock_euler(eps_model: EpsField, x: torch.Tensor, gammas: torch.Tensor, *, clock: str) -> SampleResult:
    """Euler's method for the VP probability-flow ODE in x with the time variable ``clock`` (chapter: Straight paths and few steps).

    On every clock u the ODE is dx/du = (dgamma/du) (sqrt(ab) eps_hat - gamma ab x), ab = 1 / (1 + gamma^2); one
    step from gamma_k to gamma_{k+1} is x + (u_{k+1} - u_k) (dgamma/du)(u_k) (...). ``clock`` is "gamma" (Karras's
    Euler, :func:`~diffusion_utils.core.samplers.sample`'s "euler"), "interpolant" (u = gamma / (1 + gamma)) or
    "cosine" (ab = cos^2(pi u / 2)). ``eps_model(x, alpha_bar)`` takes alpha_bar as an (N,) tensor; ``gammas``
    (n+1,) strictly decreasing to 0 (the last step lands on the data).
    """
    check_tensor("x", x, min_ndim=2, max_ndim=2)
    check_tensor("gammas", gammas, min_ndim=1, max_ndim=1)
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {CLOCKS}, got {clock!r}")
    if not callable(eps_model):
        raise TypeError(f"eps_model must be callable as eps_model(x, alpha_bar), got {type(eps_model).__name__}")
    g = gammas.detach().to("cpu", torch.float64).tolist()
    if len(g) < 2 or any(b >= a for a, b in itertools.pairwise(g)) or g[-1] < 0 or not math.isfinite(g[0]):
        raise ValueError("gammas must hold at least two finite values, strictly decreasing, >= 0")
    n = x.shape[0]
    for gamma, nxt in itertools.pairwise(g):
        ab = 1.0 / (1.0 + gamma**2)
        eps = eps_model(x, torch.full((n,), ab, dtype=x.dtype, device=x.device)).to(x.dtype)
        drift = torch.add(x * (-gamma * ab), eps, alpha=math.sqrt(ab))
        u, rate = _clock(clock, gamma)
        x = torch.add(x, drift, alpha=(_clock(clock, nxt)[0] - u) * rate)
    return SampleResult(x, len(g) - 1)


# --- reflow ---------------------------------------------------------------------------------------------------------


@torch.no_grad()
def reflow_pairs(
    model: VelocityField, x1: torch.Tensor, *, method: str = "heun", steps: int = 50
) -> torch.Tensor:
    """The model's own coupling: x_0 = the ODE's end point from each noise row x_1 (chapter: Straight paths and few steps).

    Integrates the model from t = 1 to 0 with :func:`integrate_flow` on ``steps`` uniform steps; returns x_0 (N, d).
    Training a new velocity field on the pairs (x_0, x_1), ``train_velocity(..., noise=x1)``, is one round of reflow
    (Liu et al. 2023).
    """
    check_tensor("x1", x1, min_ndim=2, max_ndim=2)
    steps = check_int("steps", steps, low=1)
    times = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)
    return integrate_flow(model, x1, times, method=method).samples


def train_reflow_moons(
    device: torch.device | str | None = None,
    *,
    seed: int = 0,
    num_pairs: int = 8000,
    pair_steps: int = 50,
    steps: int = 2000,
    lr: float = 2e-3,
    progress: bool = False,
    cache: bool = True,
) -> TrainedFlow:
    """One round of reflow on the two-moons flow model (chapter: Straight paths and few steps).

    Draws ``num_pairs`` noise rows x_1 (seed ``seed``), sends each through the trained flow model of
    :func:`~diffusion_utils.core.flows.train_flow_moons` (Heun, ``pair_steps`` steps) to its x_0, and trains a copy of
    that model (warm start) on the coupled pairs for ``steps`` Adam steps. Returns a ``TrainedFlow`` whose ``data``
    are the x_0 of the pairs in data units; kept in the trained-model cache like the other recipes.
    """
    from .flows import TrainedFlow, VelocityNet, train_flow_moons, train_velocity
    from .recipes import _SOURCES, TrainedModel, _cached

    seed = check_int("seed", seed, low=0, high=2**63 - 2)
    num_pairs = check_int("num_pairs", num_pairs, low=2)
    pair_steps = check_int("pair_steps", pair_steps, low=1)
    steps = check_int("steps", steps, low=1)
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 < float(lr) < math.inf:
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    device = default_device() if device is None else torch.device(device)
    hidden = 128

    def train() -> TrainedModel:
        flow = train_flow_moons(device, progress=progress)
        gen = torch.Generator(device=device).manual_seed(seed)
        x1 = torch.randn(num_pairs, 2, generator=gen, device=device)
        x0 = reflow_pairs(flow.model, x1, method="heun", steps=pair_steps)
        model = VelocityNet(2, hidden=hidden, generator=torch.Generator().manual_seed(seed), device=device)
        model.load_state_dict(flow.model.state_dict())
        losses = train_velocity(model, x0, noise=x1, steps=steps, lr=float(lr), generator=gen, progress=progress)
        return TrainedModel(model, NoiseSchedule.linear(1000, device=device), flow.scaler, flow.scaler.decode(x0), losses)

    def build(model_args: dict, generator: torch.Generator) -> VelocityNet:
        return VelocityNet(model_args["dim"], hidden=model_args["hidden"], generator=generator)

    args = {"seed": seed, "num_pairs": num_pairs, "pair_steps": pair_steps, "steps": steps, "lr": float(lr),
            "hidden": hidden, "base": "train_flow_moons()"}
    out = _cached("train_reflow_moons", args, device, train, model_args={"dim": 2, "T": 1000, "hidden": hidden},
                  seed=seed, cache=cache, progress=progress, build=build,
                  sources=(*_SOURCES, "flows.py", "straight.py"))
    return TrainedFlow(out.model, out.scaler, out.data, out.losses)


# --- measuring few-step samplers ------------------------------------------------------------------------------------


class SlicedW1:
    """Sliced W1 to a fixed reference with fixed directions, for samples of the reference's size (chapter: Straight paths and few steps).

    The same number as :func:`~diffusion_utils.core.metrics.sliced_wasserstein` with a generator seeded alike (the same
    ``num_projections`` directions): with equal sample sizes the 1-D W1 is the mean gap between sorted projections,
    so the reference is sorted once. ``reference`` is (N, d); call with samples (N, d) on its device.
    """

    def __init__(self, reference: torch.Tensor, num_projections: int = 128, generator: torch.Generator | None = None) -> None:
        check_tensor("reference", reference, min_ndim=2, max_ndim=2)
        num_projections = check_int("num_projections", num_projections, low=1)
        dirs = torch.randn((num_projections, reference.shape[1]), generator=generator, device=reference.device,
                           dtype=torch.float64)
        self.directions = dirs / dirs.norm(dim=1, keepdim=True)
        self.sorted = torch.sort(reference.to(torch.float64) @ self.directions.T, dim=0).values

    def __call__(self, samples: torch.Tensor) -> float:
        """Sliced W1 between ``samples`` and the reference."""
        check_tensor("samples", samples, min_ndim=2, max_ndim=2)
        if samples.shape != (self.sorted.shape[0], self.directions.shape[1]):
            raise ValueError(f"samples must have the reference's shape {(self.sorted.shape[0], self.directions.shape[1])},"
                             f" got {tuple(samples.shape)}")
        check_same_device("samples", samples, "reference", self.sorted)
        projected = torch.sort(samples.to(torch.float64) @ self.directions.T, dim=0).values
        return float((projected - self.sorted).abs().mean())


def nfe_to_reach(tried: list[tuple[int, float]], target: float) -> int | None:
    """The first NFE of ``tried`` (pairs (NFE, W1), sorted by NFE) from which every W1 is <= target; None if none.

    Chapter: Straight paths and few steps.
    """
    pairs = sorted(tried)
    for k, (calls, _) in enumerate(pairs):
        if all(w <= target for _, w in pairs[k:]):
            return int(calls)
    return None
