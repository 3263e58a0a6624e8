"""Flow matching on a finite dataset: exact velocity, conversions, loss, network, trainer, sampler (home chapter: Flow matching).

The interpolant is x_t = (1 - t) x_0 + t eps with t in [0, 1] (t = 1 is pure noise: larger t is noisier, as in the
rest of the book) and its conditional velocity is dx_t/dt = eps - x_0. Dividing by nu_t = sqrt((1 - t)^2 + t^2) turns
x_t into a variance-preserving x with alpha_bar = (1 - t)^2 / nu_t^2, so the exact quantities are those of
:mod:`~diffusion_utils.core.scores` (the posterior mean is computed here by one matrix product, faster for many points). The time t here is continuous; the chain's integer t of Parts I-III only enters
through alpha_bar.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn

from ._validate import check_generator, check_int, check_positive, check_same_device, check_tensor, is_concrete
from .data import DataScaler, toy_dataset, two_moons
from .device import default_device
from .models import Denoiser
from .samplers import SampleResult
from .schedules import NoiseSchedule
from .scores import _check_cloud
from .training import fit

__all__ = [
    "FLOW_GRIDS",
    "FLOW_METHODS",
    "ExactVelocity",
    "TrainedFlow",
    "VelocityNet",
    "eps_to_score",
    "eps_to_velocity",
    "eps_to_x0",
    "flow_matching_loss",
    "flow_time_grid",
    "interpolant_alpha_bar",
    "marginal_velocity",
    "sample_flow",
    "score_to_eps",
    "score_to_velocity",
    "train_flow_moons",
    "train_flow_toy_1d",
    "train_velocity",
    "velocity_to_eps",
    "velocity_to_score",
    "velocity_to_x0",
    "x0_eps_to_velocity",
    "x0_to_eps",
    "x0_to_velocity",
]

FLOW_METHODS = ("euler", "heun")
FLOW_GRIDS = ("uniform", "quadratic")
_BLOCK = 1 << 22  # rows x data points per matrix of logits (16 MiB in float32)

VelocityField = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check_level(name: str, value: object, x: torch.Tensor, *, low_open: bool, high_open: bool) -> torch.Tensor:
    """``value`` (a float or an (N,) tensor) as an (N, 1) tensor of x's dtype and device, every value in [0, 1]
    with the ends excluded as asked (the conversions divide by the level or by one minus it)."""
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a float or a floating-point tensor, got dtype {value.dtype}")
        if value.ndim > 1 or (value.ndim == 1 and value.shape[0] != x.shape[0]):
            raise ValueError(
                f"{name} must be a float or a tensor of shape ({x.shape[0]},), one per sample, got shape {tuple(value.shape)}"
            )
        check_same_device(name, value, "x", x)
        v = value.to(x.dtype)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        v = torch.tensor(float(value), dtype=x.dtype, device=x.device)
    else:
        raise TypeError(f"{name} must be a float or a tensor, got {type(value).__name__}")
    if is_concrete(v):
        ok = ((v > 0) if low_open else (v >= 0)) & ((v < 1) if high_open else (v <= 1))
        if not bool(ok.all()):
            interval = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
            raise ValueError(f"{name} must lie in {interval} for this conversion, got values outside it")
    return v.expand(x.shape[0])[:, None]


def _check_t(t: object, x: torch.Tensor) -> torch.Tensor:
    """t as a (N, 1) tensor of x's dtype and device, every value in (0, 1]."""
    if isinstance(t, torch.Tensor):
        if not t.is_floating_point():
            raise TypeError(f"t must be a float or a floating-point tensor, got dtype {t.dtype}")
        if t.ndim > 1 or (t.ndim == 1 and t.shape[0] != x.shape[0]):
            raise ValueError(f"t must be a float or a tensor of shape ({x.shape[0]},), got shape {tuple(t.shape)}")
        check_same_device("t", t, "x", x)
        tt = t.to(x.dtype)
    elif isinstance(t, numbers.Real) and not isinstance(t, bool):
        tt = torch.tensor(float(t), dtype=x.dtype, device=x.device)
    else:
        raise TypeError(f"t must be a float or a tensor, got {type(t).__name__}")
    if is_concrete(tt) and not bool(((tt > 0) & (tt <= 1)).all()):
        raise ValueError("t must lie in (0, 1] (t = 0 is the data itself, where the velocity field is not defined)")
    return tt.expand(x.shape[0])[:, None]


def _pair(name: str, a: torch.Tensor, x: torch.Tensor) -> None:
    check_tensor(name, a, min_ndim=2, max_ndim=2)
    if a.shape != x.shape:
        raise ValueError(f"{name} must have x's shape {tuple(x.shape)}, got {tuple(a.shape)}")
    check_same_device(name, a, "x", x)


def _x(x: torch.Tensor) -> torch.Tensor:
    return check_tensor("x", x, min_ndim=2, max_ndim=2)


# --- conversions, variance-preserving variable x = sqrt(ab) x_0 + sqrt(1 - ab) eps ---------------------------------


def eps_to_x0(eps: torch.Tensor, x: torch.Tensor, alpha_bar: float | torch.Tensor) -> torch.Tensor:
    """x_0 = (x - sqrt(1 - ab) eps) / sqrt(ab) for x = sqrt(ab) x_0 + sqrt(1 - ab) eps, ab in (0, 1] (chapter: Flow matching)."""
    _pair("eps", eps, _x(x))
    ab = _check_level("alpha_bar", alpha_bar, x, low_open=True, high_open=False)
    return (x - (1 - ab).sqrt() * eps) / ab.sqrt()


def x0_to_eps(x0: torch.Tensor, x: torch.Tensor, alpha_bar: float | torch.Tensor) -> torch.Tensor:
    """eps = (x - sqrt(ab) x_0) / sqrt(1 - ab), ab in [0, 1) (chapter: Flow matching)."""
    _pair("x0", x0, _x(x))
    ab = _check_level("alpha_bar", alpha_bar, x, low_open=False, high_open=True)
    return (x - ab.sqrt() * x0) / (1 - ab).sqrt()


def eps_to_score(eps: torch.Tensor, alpha_bar: float | torch.Tensor) -> torch.Tensor:
    """score = -eps / sqrt(1 - ab) (Tweedie: the score of q_t is -E[eps | x] / sqrt(1 - ab)), ab in [0, 1) (chapter: Flow matching)."""
    _x(eps)
    ab = _check_level("alpha_bar", alpha_bar, eps, low_open=False, high_open=True)
    return -eps / (1 - ab).sqrt()


def score_to_eps(score: torch.Tensor, alpha_bar: float | torch.Tensor) -> torch.Tensor:
    """eps = -sqrt(1 - ab) score, ab in [0, 1] (chapter: Flow matching)."""
    check_tensor("score", score, min_ndim=2, max_ndim=2)
    ab = _check_level("alpha_bar", alpha_bar, score, low_open=False, high_open=False)
    return -(1 - ab).sqrt() * score


# --- conversions, linear interpolant x = (1 - t) x_0 + t eps, v = eps - x_0 ----------------------------------------


def x0_eps_to_velocity(x0: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """v = eps - x_0, the velocity d x_t / dt of the interpolant (chapter: Flow matching)."""
    check_tensor("x0", x0, min_ndim=2, max_ndim=2)
    _pair("eps", eps, x0)
    return eps - x0


def velocity_to_x0(v: torch.Tensor, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """x_0 = x - t v for x = (1 - t) x_0 + t eps, t in [0, 1] (chapter: Flow matching)."""
    _pair("v", v, _x(x))
    tt = _check_level("t", t, x, low_open=False, high_open=False)
    return x - tt * v


def velocity_to_eps(v: torch.Tensor, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """eps = x + (1 - t) v, t in [0, 1] (chapter: Flow matching)."""
    _pair("v", v, _x(x))
    tt = _check_level("t", t, x, low_open=False, high_open=False)
    return x + (1 - tt) * v


def x0_to_velocity(x0: torch.Tensor, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """v = (x - x_0) / t, t in (0, 1] (chapter: Flow matching)."""
    _pair("x0", x0, _x(x))
    tt = _check_level("t", t, x, low_open=True, high_open=False)
    return (x - x0) / tt


def eps_to_velocity(eps: torch.Tensor, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """v = (eps - x) / (1 - t), t in [0, 1) (chapter: Flow matching)."""
    _pair("eps", eps, _x(x))
    tt = _check_level("t", t, x, low_open=False, high_open=True)
    return (eps - x) / (1 - tt)


def velocity_to_score(v: torch.Tensor, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Score of the interpolant's marginal p_t: -(x + (1 - t) v) / t, t in (0, 1] (chapter: Flow matching).

    Tweedie for x = (1 - t) x_0 + t eps: grad log p_t(x) = -E[eps | x] / t, and E[eps | x] = x + (1 - t) v.
    """
    _pair("v", v, _x(x))
    tt = _check_level("t", t, x, low_open=True, high_open=False)
    return -(x + (1 - tt) * v) / tt


def score_to_velocity(score: torch.Tensor, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """v = -(x + t score) / (1 - t), t in [0, 1): the probability-flow ODE of the interpolant (chapter: Flow matching)."""
    _pair("score", score, _x(x))
    tt = _check_level("t", t, x, low_open=False, high_open=True)
    return -(x + tt * score) / (1 - tt)


# --- exact velocity -------------------------------------------------------------------------------------------------


def interpolant_alpha_bar(t: float | torch.Tensor) -> float | torch.Tensor:
    """The alpha_bar of x_t / nu_t for the linear interpolant: (1 - t)^2 / ((1 - t)^2 + t^2) (chapter: Flow matching)."""
    return (1 - t) ** 2 / ((1 - t) ** 2 + t**2)


def marginal_velocity(
    x: torch.Tensor, data: torch.Tensor, t: float | torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """E[eps - x_0 | x_t = x] for x_t = (1 - t) x_0 + t eps, x_0 from the weighted point cloud (chapter: Flow matching).

    ``x`` is (N, d), ``data`` (K, d), ``t`` a float or a tensor of shape (N,) in (0, 1], ``weights`` (K,) default
    uniform. With m = E[x_0 | x_t = x], eps = (x - (1 - t) x_0) / t gives the velocity (x - m) / t.
    """
    check_tensor("x", x, min_ndim=2, max_ndim=2)
    tt = _check_t(t, x)
    s = torch.sqrt((1 - tt) ** 2 + tt**2)
    # For t below ~1e-8 the ratio rounds to 1 (the data itself); keep it just below, where the posterior is exact.
    alpha_bar = (((1 - tt) / s) ** 2)[:, 0].clamp(max=1 - torch.finfo(x.dtype).eps)
    m = _posterior_mean(x / s, data, alpha_bar[:, None], weights)
    return (x - m) / tt


def _posterior_mean(
    y: torch.Tensor, data: torch.Tensor, alpha_bar: torch.Tensor, weights: torch.Tensor | None
) -> torch.Tensor:
    """E[x_0 | y] for the VP variable y (N, d) at alpha_bar (N, 1): the number :func:`mixture_denoiser` gives.

    Same softmax over the data points, with the logits from one matrix product: |y - sqrt(ab) x_i|^2 = |y|^2 -
    2 sqrt(ab) y.x_i + ab |x_i|^2, and |y|^2 is the same for every i, so it drops out of the softmax. For thousands
    of points this is an order of magnitude faster than the difference of every pair (tests/test_flows.py compares).
    """
    data, log_w = _check_cloud(y, data, weights)
    half_sq = 0.5 * (data**2).sum(1)  # (K,)
    step = max(1, _BLOCK // max(1, data.shape[0]))
    out = []
    for n in range(0, y.shape[0], step):
        ab = alpha_bar[n : n + step]
        logits = (y[n : n + step] @ data.T).mul_(ab.sqrt() / (1.0 - ab)).sub_((ab / (1.0 - ab)) * half_sq)
        if weights is not None:
            logits.add_(log_w)  # uniform weights add the same constant to every logit
        out.append(torch.softmax(logits, dim=1) @ data)
    return torch.cat(out) if out else y.new_zeros((0, data.shape[1]))


class ExactVelocity:
    """The exact velocity field of a point cloud as a model: model(x, t) = E[eps - x_0 | x_t = x] (chapter: Flow matching).

    ``data`` is (K, d), ``weights`` (K,) default uniform; call with x (N, d) and float times t (N,) in (0, 1].
    """

    def __init__(self, data: torch.Tensor, weights: torch.Tensor | None = None) -> None:
        check_tensor("data", data, min_ndim=2, max_ndim=2)
        if weights is not None:
            check_tensor("weights", weights, min_ndim=1, max_ndim=1)
            check_same_device("weights", weights, "data", data)
            if weights.shape[0] != data.shape[0]:
                raise ValueError(
                    f"weights must have one entry per data point ({data.shape[0]}), got {weights.shape[0]}"
                )
        self.data, self.weights = data, weights

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The velocity at (x, t), (N, d)."""
        return marginal_velocity(x, self.data, t, self.weights)


# --- loss, network, trainer -----------------------------------------------------------------------------------------


def flow_matching_loss(
    model: VelocityField,
    x0: torch.Tensor,
    *,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Monte Carlo conditional flow-matching loss mean ||model(x_t, t) - (eps - x_0)||^2 on a batch (chapter: Flow matching).

    t = 1 - U[0, 1) lies in (0, 1]; x_t = (1 - t) x0 + t eps. ``noise`` (x0's shape) fixes eps row by row (a coupling,
    as reflow needs); otherwise eps ~ N(0, I) is drawn with ``generator``. The mean runs over rows and coordinates, as
    in :func:`~diffusion_utils.core.training.diffusion_loss`.
    """
    check_tensor("x0", x0, min_ndim=2, max_ndim=2)
    check_generator(generator, x0, "x0")
    if not callable(model):
        raise TypeError(f"model must be callable as model(x_t, t), got {type(model).__name__}")
    if noise is None:
        noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    else:
        check_tensor("noise", noise, min_ndim=2, max_ndim=2)
        if noise.shape != x0.shape:
            raise ValueError(f"noise must have x0's shape {tuple(x0.shape)}, got {tuple(noise.shape)}")
        check_same_device("noise", noise, "x0", x0)
    t = 1.0 - torch.rand(x0.shape[0], generator=generator, device=x0.device, dtype=x0.dtype)
    xt = (1 - t)[:, None] * x0 + t[:, None] * noise
    v = model(xt, t)
    if not isinstance(v, torch.Tensor) or v.shape != x0.shape:  # a (N,) answer would broadcast to (N, N) silently
        got = tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
        raise ValueError(f"model must return a velocity of x0's shape {tuple(x0.shape)}, got {got}")
    return torch.mean((v - (noise - x0)) ** 2)


class VelocityNet(Denoiser):
    """MLP velocity field v_theta(x, t), t in [0, 1] a float: the Denoiser network fed 1000 t (chapter: Flow matching).

    Same layers and seeded CPU initialisation as :class:`~diffusion_utils.core.models.Denoiser` with T = 1000, so its
    weights load into one and back.
    """

    def __init__(
        self,
        dim: int = 1,
        *,
        hidden: int = 128,
        depth: int = 3,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__(dim, 1000, hidden=hidden, depth=depth, generator=generator, device=device)

    def forward(self, xt: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Predicted velocity for x_t (N, dim) at float times t (N,) in [0, 1]."""
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            got = t.dtype if isinstance(t, torch.Tensor) else type(t).__name__
            raise TypeError(f"t must be a floating-point tensor of times in [0, 1], got {got}")
        return super().forward(xt, t * 1000.0)


def train_velocity(
    model: nn.Module,
    data: torch.Tensor,
    *,
    noise: torch.Tensor | None = None,
    steps: int,
    batch_size: int = 256,
    lr: float = 2e-3,
    generator: torch.Generator | None = None,
    progress: bool = True,
) -> torch.Tensor:
    """Fit a velocity field with :func:`~diffusion_utils.core.training.fit` on the flow-matching loss (chapter: Flow matching).

    ``data`` (N, d) on the model's device; with ``noise`` (same shape) row i is coupled to noise row i and batches
    index both (reflow); otherwise fresh noise is drawn. Returns the loss of every step on the CPU.
    """
    check_tensor("data", data, min_ndim=2, max_ndim=2)
    check_generator(generator, data, "data")
    steps = check_int("steps", steps, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    lr = check_positive("lr", lr)
    if noise is not None:
        check_tensor("noise", noise, min_ndim=2, max_ndim=2)
        if noise.shape != data.shape:
            raise ValueError(f"noise must have data's shape {tuple(data.shape)}, got {tuple(noise.shape)}")
        check_same_device("noise", noise, "data", data)
    params = list(model.parameters())
    if params and params[0].device != data.device:
        raise ValueError(f"model is on {params[0].device} but data is on {data.device}; move the model with .to()")

    def batch_loss(k: int) -> torch.Tensor:
        idx = torch.randint(data.shape[0], (batch_size,), generator=generator, device=data.device)
        eps = None if noise is None else noise[idx]
        return flow_matching_loss(model, data[idx], noise=eps, generator=generator)

    return fit(model, batch_loss, steps=steps, lr=lr, progress=progress)


# --- sampler --------------------------------------------------------------------------------------------------------


def flow_time_grid(steps: int, grid: str = "uniform") -> torch.Tensor:
    """Times 1 = t_0 > t_1 > ... > t_steps = 0, float64 on the host (chapter: Flow matching).

    ``"uniform"``: equal steps in t; ``"quadratic"``: t_k = (1 - k/steps)^2, finer near the data (t = 0).
    """
    steps = check_int("steps", steps, low=1)
    if grid not in FLOW_GRIDS:
        raise ValueError(f"grid must be one of {FLOW_GRIDS}, got {grid!r}")
    u = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)
    return u if grid == "uniform" else u**2


@torch.no_grad()
def sample_flow(
    model: VelocityField,
    x1: torch.Tensor,
    *,
    method: str = "euler",
    steps: int,
    grid: str = "uniform",
    trajectory: bool = False,
) -> SampleResult:
    """Integrate dx/dt = model(x, t) from t = 1 (x1, noise) down to t = 0 (chapter: Flow matching).

    ``"euler"``: x_s = x_t + (s - t) v(x_t, t); ``"heun"``: Karras et al.'s second-order step, the average of the
    slopes at x_t and at the Euler guess, Euler on the last step (to t = 0, where an exact field is undefined), so
    2 steps - 1 calls. ``model`` is called as model(x, t) with t a float tensor (N,) of x's dtype; ``nfe`` counts the
    calls. With ``trajectory=True`` the samples are the time-major path (steps+1, N, d) at :func:`flow_time_grid`.
    """
    check_tensor("x1", x1, min_ndim=2, max_ndim=2)
    if not callable(model):
        raise TypeError(f"model must be callable as model(x, t), got {type(model).__name__}")
    if method not in FLOW_METHODS:
        raise ValueError(f"method must be one of {FLOW_METHODS}, got {method!r}")
    return _integrate(model, x1, flow_time_grid(steps, grid).tolist(), method, trajectory, "x")


def _integrate(
    model: VelocityField, x1: torch.Tensor, times: list[float], method: str, trajectory: bool, name: str
) -> SampleResult:
    """Euler or Heun along the decreasing float ``times``, counting calls: the one integrator of the flow samplers
    (:func:`sample_flow` and :func:`~diffusion_utils.core.straight.integrate_flow`) (chapter: Flow matching)."""
    n = x1.shape[0]
    calls = 0

    def velocity(x: torch.Tensor, t: float) -> torch.Tensor:
        nonlocal calls
        v = model(x, torch.full((n,), t, dtype=x.dtype, device=x.device))
        calls += 1
        if not isinstance(v, torch.Tensor) or v.shape != x.shape:
            got = tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
            raise ValueError(f"model must return a velocity of {name}'s shape {tuple(x.shape)}, got {got}")
        return v.to(x.dtype)

    was_training = getattr(model, "training", False)
    if was_training:
        model.eval()
    path = [x1] if trajectory else None
    x = x1
    try:
        for t, s in itertools.pairwise(times):
            d = velocity(x, t)
            pred = torch.add(x, d, alpha=s - t)
            if method == "heun" and s > 0:
                # out of place: a model may return its input (or a view of it), which must stay untouched
                pred = torch.add(x, d + velocity(pred, s), alpha=(s - t) / 2)
            x = pred
            if path is not None:
                path.append(x)
    finally:
        if was_training:
            model.train()
    if is_concrete(x) and not bool(torch.isfinite(x).all()):
        raise ValueError(
            "the flow sampler produced non-finite samples; check the model (its training) and the data scaling"
        )
    return SampleResult(torch.stack(path) if path is not None else x, calls)


# --- cached recipes -------------------------------------------------------------------------------------------------


class TrainedFlow(NamedTuple):
    """A trained velocity field with what it was trained on (chapter: Flow matching)."""

    model: VelocityNet
    scaler: DataScaler  #: model units = scaler.encode(data units)
    data: torch.Tensor  #: training data in data units, (N, d)
    losses: torch.Tensor  #: loss of every training step, on the CPU


_T = 1000  # the time features' scale (VelocityNet feeds 1000 t to the Denoiser it is)


def _flow_recipe(
    recipe: str,
    args: dict,
    device: torch.device,
    make_data: Callable[[], torch.Tensor],
    *,
    hidden: int,
    steps: int,
    lr: float,
    seed: int,
    progress: bool,
    cache: bool,
) -> TrainedFlow:
    """Train (or load from the trained-model cache of :mod:`~diffusion_utils.core.recipes`) one velocity network."""
    # recipes imports the guidance module and the models; imported here to keep flows light
    from .recipes import _SOURCES, TrainedModel, _cached

    def train() -> TrainedModel:
        data = make_data()
        scaler = DataScaler.fit(data)
        model = VelocityNet(data.shape[1], hidden=hidden, generator=torch.Generator().manual_seed(seed), device=device)
        generator = torch.Generator(device=device).manual_seed(seed)
        losses = train_velocity(model, scaler.encode(data), steps=steps, lr=lr, generator=generator, progress=progress)
        # The cache's file layout stores a schedule with every model; a flow has none, so a placeholder (T = 1000).
        return TrainedModel(model, NoiseSchedule.linear(_T, device=device), scaler, data, losses)

    dim = 1 if recipe == "train_flow_toy_1d" else 2
    out = _cached(
        recipe,
        args,
        device,
        train,
        model_args={"dim": dim, "T": _T, "hidden": hidden},
        seed=seed,
        cache=cache,
        progress=progress,
        build=_build_velocity,
        sources=(*_SOURCES, "flows.py"),  # a change to this module's loss, network or recipes trains afresh
    )
    return TrainedFlow(out.model, out.scaler, out.data, out.losses)


def _build_velocity(model_args: dict, generator: torch.Generator) -> VelocityNet:
    """The untrained network a cached velocity model is loaded into, as the recipe built it."""
    return VelocityNet(
        model_args["dim"], hidden=model_args["hidden"], depth=model_args.get("depth", 3), generator=generator
    )


def _check_recipe(seed: object, steps: object, device: object) -> tuple[int, int, torch.device]:
    seed = check_int("seed", seed, low=0, high=2**63 - 2)
    steps = check_int("steps", steps, low=1)
    return seed, steps, default_device() if device is None else torch.device(device)


def train_flow_toy_1d(
    device: torch.device | str | None = None,
    *,
    seed: int = 0,
    steps: int = 4000,
    progress: bool = False,
    cache: bool = True,
) -> TrainedFlow:
    """Velocity MLP 128 x 3 on D = {-15, -5, 1, 10} standardised, Adam 1e-2, flow-matching loss (chapter: Flow matching).

    Same data and standardisation as :func:`~diffusion_utils.core.recipes.train_toy_1d`; kept in the trained-model
    cache like it.
    """
    seed, steps, device = _check_recipe(seed, steps, device)
    hidden, lr = 128, 1e-2
    args = {"seed": seed, "steps": steps, "hidden": hidden, "lr": lr, "loss": "flow_matching"}
    return _flow_recipe(
        "train_flow_toy_1d",
        args,
        device,
        lambda: toy_dataset(device)[:, None],
        hidden=hidden,
        steps=steps,
        lr=lr,
        seed=seed,
        progress=progress,
        cache=cache,
    )


def train_flow_moons(
    device: torch.device | str | None = None,
    *,
    seed: int = 0,
    num_points: int = 8000,
    steps: int = 4000,
    progress: bool = False,
    cache: bool = True,
) -> TrainedFlow:
    """Velocity MLP on two moons (``num_points`` drawn with ``seed``, as :func:`train_two_moons`) (chapter: Flow matching)."""
    seed, steps, device = _check_recipe(seed, steps, device)
    num_points = check_int("num_points", num_points, low=2)
    hidden, lr = 128, 1e-2
    args = {"seed": seed, "num_points": num_points, "steps": steps, "hidden": hidden, "lr": lr, "loss": "flow_matching"}

    def make_data() -> torch.Tensor:
        return two_moons(num_points, generator=torch.Generator(device=device).manual_seed(seed), device=device)

    return _flow_recipe(
        "train_flow_moons",
        args,
        device,
        make_data,
        hidden=hidden,
        steps=steps,
        lr=lr,
        seed=seed + 1,
        progress=progress,
        cache=cache,
    )
