"""Kernel-free figures: closed forms recomputed in the reader's browser as sliders move (no Python kernel).

Each function returns an HTML snippet (a ``<div class="kf-figure">`` with its sliders, an SVG and the inline script
``js/kernel_free.js``) that works on the static website, in a notebook's output and offline. The script evaluates the
same formulas as the package in float64; the browser test (``tests/test_site.py``) compares its numbers with it.
The sampler playground (``<div class="sp-figure">``, script ``js/sampler_playground.js``) runs the six samplers of
``du.sample`` on the exact denoiser of a 1-D dataset; ``tests/test_playground.py`` compares its particles with it.
The guidance playground (``<div class="gp-figure">``, ``js/guidance_playground.js`` on top of the sampler playground's
script) runs them on the exact classifier-free-guided denoiser of a labelled 1-D dataset
(``tests/test_guidance_playground.py``).
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import math
from functools import cache
from importlib import resources

import torch
from IPython.display import HTML

from ..core._validate import check_int, check_positive, check_tensor
from ..core.data import DataScaler
from ..core.metrics import wasserstein_1d
from ..core.mixture import empirical_distribution
from ..core.samplers import GRIDS, METHODS, alpha_bars64, ode_limit_1d
from ..core.schedules import NoiseSchedule
from .plotting import PALETTE, PALETTE_DARK

__all__ = ["BETA_VALUES", "GUIDANCE_SCALES", "PLAYGROUND_ETAS", "PLAYGROUND_STEPS", "SLIDER_RANGES", "fixed_factor_html",
           "guidance_playground_html", "marginal_html", "playground_start", "sampler_playground_html"]

SCHEDULES = ("linear", "cosine", "constant")
# (low, high, step) of the sliders; the live ipywidgets explorer of the fixed-factor chain uses the same ranges.
SLIDER_RANGES = {"a": (0.5, 0.995, 0.005), "b": (0.05, 1.5, 0.05)}
# The values a beta slider stops at (log-spaced, 1-1.2-1.5-2-2.5-3-4-5-6-8 per decade), written as decimals so that
# 0.04 is the float 0.04 and not 10**-1.4: every value a chapter names (0.01, 0.02, 0.04, 0.15, 0.5) is one of them.
# The kernel-free figure and the live explorer share them; a value passed in that is not listed is added.
BETA_VALUES = tuple(
    float(f"{m}e{e}") for e in range(-4, 0) for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8) if float(f"{m}e{e}") <= 0.5
)
# Colours of the figures on a light and on a dark page (the site's dark mode, JupyterLab's dark theme). Every line
# and text colour has a contrast of at least 3:1 against its background (tests/test_browser_figures.py measures it).
THEMES = {
    "light": {"bg": "#ffffff", "fg": "#222832", "axis": "#5c636e", "grey": "#767676",
              "blue": PALETTE["blue"], "vermillion": PALETTE["vermillion"]},
    "dark": {"bg": "#121212", "fg": "#e6e6e6", "axis": "#a0a7b0", "grey": "#9e9e9e",
             "blue": PALETTE_DARK["blue"], "vermillion": PALETTE_DARK["vermillion"]},
}
_ids = itertools.count()


@cache
def _script() -> str:
    """The figure library, read once from the package."""
    return resources.files(__package__).joinpath("js/kernel_free.js").read_text(encoding="utf-8")


def _check_grid(grid: tuple[float, float, int]) -> list[float]:
    """A (low, high, points) triple with low < high and at least 2 points."""
    if not (isinstance(grid, (tuple, list)) and len(grid) == 3):
        raise TypeError(f"grid must be a (low, high, points) triple, got {grid!r}")
    low, high = float(grid[0]), float(grid[1])
    points = check_int("grid points", grid[2], low=2, high=20001)
    if not low < high:
        raise ValueError(f"grid must have low < high, got {low} and {high}")
    return [low, high, points]


def _slider(name: str, label: str, value: object, **extra) -> dict:
    """A range control for ``name`` from SLIDER_RANGES; raise naming ``name`` when ``value`` lies outside it."""
    low, high, step = SLIDER_RANGES[name]
    value = check_positive(name, value)
    if not low <= value <= high:
        raise ValueError(f"{name} must lie in [{low:g}, {high:g}] (the slider's range), got {value}")
    return {"name": name, "label": label, "min": low, "max": high, "step": step, "value": value, **extra}


def beta_values(value: float, low: float = BETA_VALUES[0], high: float = BETA_VALUES[-1]) -> list[float]:
    """The listed beta values in [low, high], with ``value`` added if it is not one of them (exactly as passed)."""
    value = check_positive("beta", value)
    if not low <= value <= high:
        raise ValueError(f"beta must lie in [{low:g}, {high:g}] (the slider's range), got {value}")
    return sorted({v for v in BETA_VALUES if low <= v <= high} | {value})


def _figure(kind: str, config: dict, alt: str) -> HTML:
    """The HTML of one figure: container with its JSON config, then the script that mounts it."""
    fig_id = f"kf-{kind}-{next(_ids)}"
    config = {"kind": kind, "colors": THEMES, **config}
    return HTML(
        f'<div class="kf-figure" id="{fig_id}" role="figure" aria-label="{html.escape(alt)}" '
        f"data-config='{html.escape(json.dumps(config), quote=True)}'></div>\n"
        f"<script>\n{_script()}\nwindow.KernelFree.mount(document.getElementById({json.dumps(fig_id)}));\n</script>"
    )


def marginal_html(
    data: torch.Tensor,
    *,
    T: int = 1000,
    schedule: str = "linear",
    t: int = 100,
    beta: float = 0.01,
    grid: tuple[float, float, int] = (-20.0, 20.0, 801),
    ymax: float = 0.45,
) -> HTML:
    """q_t(x) with sliders for t, the schedule and a constant beta, recomputed in the browser (chapter: An example diffusion).

    ``data`` is the 1-D dataset (repeats become weights, as in :func:`marginal_density`); the schedules are the
    package's ``NoiseSchedule.linear(T)``, ``.cosine(T)`` and ``.constant(T, beta)`` with their default parameters.
    """
    check_tensor("data", data, min_ndim=1, max_ndim=1)
    T = check_int("T", T, low=1, high=5000)
    t = check_int("t", t, low=0, high=T)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    values = beta_values(beta)
    beta_slider = {"name": "beta", "label": "β", "min": values[0], "max": values[-1], "values": values,
                   "value": float(beta), "log": True, "visible_if": {"schedule": "constant"}}
    ymax = check_positive("ymax", ymax)
    points, weights = empirical_distribution(data.detach().to("cpu", torch.float64))
    controls = [
        {"name": "t", "label": "t", "min": 0, "max": T, "step": 1, "value": t, "integer": True},
        {"name": "schedule", "label": "schedule", "options": list(SCHEDULES), "value": schedule},
        beta_slider,
    ]
    config = {"T": T, "points": points.tolist(), "weights": weights.tolist(), "grid": _check_grid(grid),
              "ymax": ymax, "controls": controls}
    alt = (f"Interactive plot of the marginal density q_t(x) of the forward chain for the data points "
           f"{', '.join(f'{p:g}' for p in points.tolist())}, next to alpha-bar_t of the chosen schedule; "
           "sliders set t, the schedule and beta.")
    return _figure("marginal", config, alt)


def fixed_factor_html(
    x0: float = 5.0,
    *,
    T: int = 60,
    a: float = 0.9,
    b: float = 0.4,
    t: int = 10,
    grid: tuple[float, float, int] = (-10.0, 10.0, 801),
    ylim: float = 10.0,
    ymax: float = 1.0,
) -> HTML:
    """Mean and variance of x_t = a x_{t-1} + b eps with sliders for a, b, t, computed in the browser (chapter: A chain with a fixed factor)."""
    x0 = float(x0)
    if not abs(x0) < float("inf"):
        raise ValueError(f"x0 must be a finite number, got {x0}")
    T = check_int("T", T, low=1, high=5000)
    t = check_int("t", t, low=0, high=T)
    controls = [
        _slider("a", "a", a),
        _slider("b", "b", b),
        {"name": "t", "label": "t", "min": 0, "max": T, "step": 1, "value": t, "integer": True},
    ]
    config = {"T": T, "x0": x0, "grid": _check_grid(grid), "ylim": check_positive("ylim", ylim),
              "ymax": check_positive("ymax", ymax), "controls": controls}
    alt = (f"Interactive plot of the chain x_t = a x_(t-1) + b eps from x_0 = {x0:g}: the mean plus and minus two "
           "standard deviations over t, and the density of x_t next to its limit; sliders set a, b and t.")
    return _figure("fixed_factor", config, alt)


# ---- the sampler playground (chapter: Samplers compared) -------------------------------------------------------------
# The step counts the playground's slider stops at (the number field beside it takes any count in 1..T), and its eta
# values (exact decimals: 0.05, not 0.05000000000000001).
PLAYGROUND_STEPS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400, 500,
                    600, 800, 1000)
PLAYGROUND_ETAS = tuple(round(0.05 * k, 2) for k in range(21))
# The six methods' colours (with a marker shape and a dash each in the figure), on a light and on a dark page.
PLAYGROUND_THEMES = {
    mode: {**colors, **{k: palette[k] for k in ("orange", "green", "purple")}}
    for (mode, colors), palette in zip(THEMES.items(), (PALETTE, PALETTE_DARK))
}
_METHOD_LABELS = {"ddpm": "DDPM (ancestral)", "ddim": "DDIM", "euler": "Euler (ODE)", "heun": "Heun (ODE)",
                  "dpmpp_2m": "DPM-Solver++(2M)", "euler_maruyama": "Euler–Maruyama (SDE)"}
_GRID_LABELS = {"uniform": "uniform in t", "karras": "Karras (ρ = 7)", "logsnr": "uniform in log-SNR"}


@cache
def _playground_script() -> str:
    """The sampler playground's script, read once from the package."""
    return resources.files(__package__).joinpath("js/sampler_playground.js").read_text(encoding="utf-8")


def playground_start(num_particles: int, seed: int) -> torch.Tensor:
    """The playground's x_T: (N, 1) standard normals in float64 from a CPU generator seeded with ``seed`` (chapter: Samplers compared)."""
    num_particles = check_int("num_particles", num_particles, low=1, high=20_000)
    seed = check_int("seed", seed, low=0, high=2**31 - 1)
    return torch.randn((num_particles, 1), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def playground_args(
    data: torch.Tensor,
    *,
    T: int,
    num_particles: int,
    seed: int,
    method: str,
    steps: int,
    grid: str,
    eta: float,
    xlim: tuple[float, float],
    bins: int,
) -> dict:
    """The sampler playground's settings, checked (each error names its argument), shared with its live twin.

    Returns the data points as float64 on the CPU and the settings as plain Python numbers (chapter: Samplers compared).
    """
    check_tensor("data", data, min_ndim=1, max_ndim=1)
    points = data.detach().to("cpu", torch.float64)
    if not 1 <= points.numel() <= 64:
        raise ValueError(f"data must hold between 1 and 64 points, got {points.numel()}")
    T = check_int("T", T, low=1, high=5000)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if grid not in GRIDS:
        raise ValueError(f"grid must be one of {GRIDS}, got {grid!r}")
    steps = check_int("steps", steps, low=1, high=T)
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not math.isfinite(float(eta)):
        raise TypeError(f"eta must be a finite real number, got {eta!r}")
    eta = float(eta)
    if eta not in PLAYGROUND_ETAS:
        raise ValueError(f"eta must be one of the slider's values 0, 0.05, ..., 1, got {eta}")
    if eta > 0 and method != "ddim":
        raise ValueError(f"eta applies to method='ddim' only, got eta={eta} with method={method!r}")
    num_particles = check_int("num_particles", num_particles, low=1, high=20_000)
    seed = check_int("seed", seed, low=0, high=2**31 - 1)
    if not (isinstance(xlim, (tuple, list)) and len(xlim) == 2):
        raise TypeError(f"xlim must be a (low, high) pair, got {xlim!r}")
    low, high = float(xlim[0]), float(xlim[1])
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"xlim must be finite with low < high, got {xlim!r}")
    bins = check_int("bins", bins, low=10, high=1000)
    return {"points": points, "T": T, "num_particles": num_particles, "seed": seed, "method": method, "steps": steps,
            "grid": grid, "eta": eta, "xlim": (low, high), "bins": bins}


def sampler_playground_html(
    data: torch.Tensor,
    *,
    T: int = 1000,
    num_particles: int = 10_000,
    seed: int = 0,
    method: str = "ddim",
    steps: int = 10,
    grid: str = "uniform",
    eta: float = 0.0,
    xlim: tuple[float, float] = (-2.5, 2.5),
    bins: int = 100,
    ymax: float = 0.3,
) -> HTML:
    """The six samplers of ``du.sample`` on the exact denoiser of ``data``, run in the browser (chapter: Samplers compared).

    ``data`` holds the K points of a 1-D dataset (equal weights) in the units the sampler works in (for the book's
    dataset: standardised as the trained models see it). The schedule is ``NoiseSchedule.linear(T)`` in float64; the
    page gets alpha_bar_t exactly and the starting noise x_T = :func:`playground_start` (``num_particles``, ``seed``)
    as float64 bytes. The reader picks the method, the number of steps, eta (DDIM) and the time grid, and sees the
    histogram of the samples against the data, the NFE and the exact W1 to the data, with the W1-versus-NFE curves
    of all six methods on that grid (computed in the background). For the ODE samplers the particles are those of
    ``du.sample(du.ExactDenoiser(data[:, None], schedule), schedule, xT, ...)``; the stochastic samplers use the
    page's own seeded noise.
    """
    args = playground_args(data, T=T, num_particles=num_particles, seed=seed, method=method, steps=steps, grid=grid,
                           eta=eta, xlim=xlim, bins=bins)
    points, T, steps, num_particles, seed = (args[k] for k in ("points", "T", "steps", "num_particles", "seed"))
    xT = playground_start(num_particles, seed)
    schedule = NoiseSchedule.linear(T, dtype=torch.float64)
    ab = alpha_bars64(schedule)
    limit = wasserstein_1d(ode_limit_1d(xT, points, float(ab[T])), points)
    stops = sorted({s for s in PLAYGROUND_STEPS if s <= T} | {steps})
    controls = [
        {"name": "method", "label": "sampler", "options": [[m, _METHOD_LABELS[m]] for m in METHODS], "value": method},
        {"name": "grid", "label": "grid", "options": [[g, _GRID_LABELS[g]] for g in GRIDS], "value": grid},
        {"name": "steps", "label": "steps", "values": stops, "min": 1, "max": T, "value": steps, "integer": True},
        {"name": "eta", "label": "$η$", "values": list(PLAYGROUND_ETAS), "min": 0.0, "max": 1.0, "value": args["eta"]},
    ]
    n = f"{num_particles:,}".replace(",", "\u202f")
    note = (f"Exact denoiser of the {points.numel()} data points, linear schedule with $T$ = {T}, the same {n} "
            f"starting points $x_T$ (seed {seed}) for every setting. Dashed line: the $W_1$ that the exact ODE solution "
            f"reaches from these $x_T$ (each particle ends on the data point of its quantile of $q_T$), the unevenness "
            f"of {n} particles among {points.numel()} points that no number of steps removes. The ODE samplers (DDIM "
            "with $η$ = 0, Euler, Heun, DPM-Solver++) give the particles du.sample gives; DDPM, Euler–Maruyama and "
            "DDIM with $η$ > 0 draw their noise from this page's own generator, not torch's.")
    config = {
        "T": T, "points": points.tolist(), "alpha_bars": ab.tolist(), "rho": 7.0, "seed": seed,
        "xT": base64.b64encode(xT.reshape(-1).numpy().astype("<f8").tobytes()).decode("ascii"),
        "xlim": list(args["xlim"]), "bins": args["bins"], "ymax": check_positive("ymax", ymax), "ode_limit": float(limit),
        "controls": controls, "note": note,
    }
    alt = (f"Interactive sampler playground: the histogram of {num_particles} samples of the chosen sampler against "
           f"the {points.numel()} data points, and the Wasserstein distance W1 to the data against the number of "
           "denoiser calls for six samplers; controls set the sampler, the time grid, the number of steps and eta.")
    fig_id = f"sp-figure-{next(_ids)}"
    config["colors"] = PLAYGROUND_THEMES
    return HTML(
        f'<div class="sp-figure" id="{fig_id}" role="figure" aria-label="{html.escape(alt)}" '
        f"data-config='{html.escape(json.dumps(config), quote=True)}'></div>\n"
        f"<script>\n{_playground_script()}\nwindow.SamplerPlayground.mount(document.getElementById({json.dumps(fig_id)}));\n</script>"
    )


# ---- the guidance playground (chapter: Conditioning and guidance) ---------------------------------------------------
# The guidance scales the w slider stops at, -1 (unconditional), 0 (conditional), ..., 8 in steps of 1/4 (exact
# decimals); the number field beside it takes any w between the first and the last stop.
GUIDANCE_SCALES = tuple(0.25 * k for k in range(-4, 33))


@cache
def _guidance_script() -> str:
    """The guidance playground's script (it runs on the sampler playground's), read once from the package."""
    return resources.files(__package__).joinpath("js/guidance_playground.js").read_text(encoding="utf-8")


def _real(name: str, value: object) -> float:
    """A finite real number (not a bool), else a TypeError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def guidance_playground_html(
    data: torch.Tensor,
    labels: torch.Tensor,
    schedule: NoiseSchedule,
    xT: torch.Tensor,
    *,
    label: int = 0,
    w: float = 1.0,
    w_values: tuple[float, ...] = GUIDANCE_SCALES,
    method: str = "ddim",
    steps: int = 20,
    grid: str = "uniform",
    class_names: tuple[str, ...] | None = None,
    scaler: DataScaler | None = None,
    seed: int = 0,
    xlim: tuple[float, float] | None = None,
    bins: int = 100,
    ymax: float | None = None,
) -> HTML:
    """Classifier-free guidance with the exact denoisers of a labelled 1-D point cloud, run in the browser (chapter: Conditioning and guidance).

    ``data`` (K,) or (K, 1) and ``labels`` (K,) in 0..C-1 as for :class:`~diffusion_utils.core.guidance.
    ExactConditionalDenoiser` (equal weights); ``schedule`` any NoiseSchedule; ``xT`` (N,) or (N, 1) the starting
    noise, embedded as float64 bytes. The reader picks the class, the guidance scale w (a slider over ``w_values``;
    ``w`` is added to them), the sampler, the time grid and the number of steps, and sees the histogram of the
    samples against the class's points with three numbers: the share of samples whose nearest data point is in the
    class, their spread (standard deviation, N - 1) and their W1 to the class's points; the two last also against w
    (computed in the background). For the ODE samplers the particles are those of ``du.sample(du.guided(
    du.ExactConditionalDenoiser(data, labels, schedule), label, w), schedule, xT, ...)``; DDPM and Euler-Maruyama
    use the page's own seeded noise (``seed``). With a ``scaler`` the denoiser and the samplers work on
    ``scaler.encode(data)`` (``xT`` in those units) and the page shows ``scaler.decode`` of the samples, its numbers in
    data units.
    """
    from ..core.guidance import _check_label, _check_labels

    check_tensor("data", data, min_ndim=1, max_ndim=2)
    if data.ndim == 2 and data.shape[1] != 1:
        raise ValueError(f"data must be 1-D points, shape (K,) or (K, 1), got {tuple(data.shape)}")
    points = data.detach().reshape(-1).to("cpu", torch.float64)
    if not 1 <= points.numel() <= 64:
        raise ValueError(f"data must hold between 1 and 64 points, got {points.numel()}")
    labels, num_classes = _check_labels(labels, data.reshape(-1, 1))
    labels = labels.to("cpu")
    sizes = torch.bincount(labels, minlength=num_classes)
    if bool((sizes == 0).any()):
        raise ValueError(f"labels must use every class 0..{num_classes - 1}; class {int(sizes.argmin())} has no point")
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule, got {type(schedule).__name__}")
    T = check_int("schedule's T", schedule.T, low=1, high=5000)
    check_tensor("xT", xT, min_ndim=1, max_ndim=2)
    if xT.ndim == 2 and xT.shape[1] != 1:
        raise ValueError(f"xT must be 1-D starting points, shape (N,) or (N, 1), got {tuple(xT.shape)}")
    start = xT.detach().reshape(-1).to("cpu", torch.float64)
    if not 2 <= start.numel() <= 20_000:
        raise ValueError(f"xT must hold between 2 and 20000 starting points, got {start.numel()}")
    label = _check_label(label, num_classes)
    if not isinstance(w_values, (tuple, list)) or len(w_values) < 2:
        raise TypeError(f"w_values must be a tuple of at least 2 guidance scales, got {w_values!r}")
    stops = [_real("w_values", v) for v in w_values]
    if any(b <= a for a, b in itertools.pairwise(stops)):
        raise ValueError("w_values must increase strictly (the stops of the w slider)")
    w = _real("w", w)
    if not stops[0] <= w <= stops[-1]:
        raise ValueError(f"w must lie in [{stops[0]:g}, {stops[-1]:g}] (the slider's range), got {w}")
    stops = sorted(set(stops) | {w})
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if grid not in GRIDS:
        raise ValueError(f"grid must be one of {GRIDS}, got {grid!r}")
    steps = check_int("steps", steps, low=1, high=T)
    if class_names is None:
        class_names = tuple(f"class {c}" for c in range(num_classes))
    if (not isinstance(class_names, (tuple, list)) or len(class_names) != num_classes
            or not all(isinstance(n, str) and n.strip() for n in class_names)):
        raise TypeError(f"class_names must be {num_classes} non-empty strings (one per class), got {class_names!r}")
    if scaler is not None:
        if not isinstance(scaler, DataScaler):
            raise TypeError(f"scaler must be a DataScaler or None, got {type(scaler).__name__}")
        if not isinstance(scaler.shift, float) and len(scaler.shift) != 1:
            raise ValueError(f"scaler must map 1-D data (one shift), got shift {scaler.shift!r}")
    seed = check_int("seed", seed, low=0, high=2**31 - 1)
    if xlim is None:
        pad = 0.1 * max(float(points.max() - points.min()), 1.0)
        xlim = (float(points.min()) - pad, float(points.max()) + pad)
    if not (isinstance(xlim, (tuple, list)) and len(xlim) == 2):
        raise TypeError(f"xlim must be a (low, high) pair, got {xlim!r}")
    low, high = float(xlim[0]), float(xlim[1])
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"xlim must be finite with low < high, got {xlim!r}")
    bins = check_int("bins", bins, low=10, high=1000)
    ymax = None if ymax is None else check_positive("ymax", ymax)

    ab = alpha_bars64(schedule)
    model_ab = schedule.alpha_bars.detach().to("cpu", torch.float64)  # what ExactConditionalDenoiser reads
    spreads = [float(points[labels == c].std(unbiased=False)) for c in range(num_classes)]
    step_stops = sorted({s for s in PLAYGROUND_STEPS if s <= T} | {steps})
    controls = [
        {"name": "label", "label": "class", "options": [[str(c), n] for c, n in enumerate(class_names)],
         "value": str(label)},
        {"name": "w", "label": "$w$", "values": stops, "min": stops[0], "max": stops[-1], "value": w},
        {"name": "method", "label": "sampler", "options": [[m, _METHOD_LABELS[m]] for m in METHODS], "value": method},
        {"name": "grid", "label": "grid", "options": [[g, _GRID_LABELS[g]] for g in GRIDS], "value": grid},
        {"name": "steps", "label": "steps", "values": step_stops, "min": 1, "max": T, "value": steps, "integer": True},
    ]
    n = f"{start.numel():,}".replace(",", "\u202f")
    note = (f"Exact conditional and unconditional denoisers of the {points.numel()} labelled points, guided as "
            "$ε_w$ = $ε_∅$ + (1 + $w$)($ε_c$ − $ε_∅$): $w$ = 0 samples the class, $w$ = −1 ignores it. Schedule with "
            f"$T$ = {T}, the same {n} starting points $x_T$ for every setting; NFE counts guided evaluations (two "
            "denoiser evaluations each). The panel against $w$: $W_1$ to the class's points and the spread for this "
            "sampler, grid and step count; horizontal dashed line: the spread of the class's points themselves. The ODE samplers "
            "(DDIM, Euler, Heun, DPM-Solver++) give the particles du.sample gives; DDPM and Euler–Maruyama draw their "
            "noise from this page's own generator, not torch's.")
    config = {
        "T": T, "points": points.tolist(), "labels": labels.tolist(), "class_names": list(class_names),
        "class_spread": spreads, "alpha_bars": ab.tolist(), "rho": 7.0, "seed": seed,
        "xT": base64.b64encode(start.numpy().astype("<f8").tobytes()).decode("ascii"),
        "xlim": [low, high], "bins": bins, "ymax": ymax, "controls": controls, "note": note,
        "colors": PLAYGROUND_THEMES,
    }
    if not torch.equal(model_ab, ab):  # a float32 schedule: the denoiser reads its rounded alpha_bar_t
        config["model_alpha_bars"] = model_ab.tolist()
    if scaler is not None:  # samples in model units, shown as x * scale + shift (DataScaler.decode)
        shift = scaler.shift if isinstance(scaler.shift, float) else scaler.shift[0]
        config["model_points"] = scaler.encode(points).tolist()
        config["decode"] = [scaler.scale, shift]
        sign = "−" if shift >= 0 else "+"
        config["note"] += (f" The denoisers and samplers work in standardised units (x {sign} {abs(shift):.4g})/"
                           f"{scaler.scale:.4g}; histogram and numbers are in data units.")
    alt = (f"Interactive guidance playground: the histogram of {start.numel()} guided samples of the chosen class "
           f"against that class's data points (of {points.numel()} labelled points), and the W1 to the class and the "
           "spread of the samples against the guidance scale w; controls set the class, w, the sampler, the time "
           "grid and the number of steps.")
    fig_id = f"gp-figure-{next(_ids)}"
    return HTML(
        f'<div class="gp-figure" id="{fig_id}" role="figure" aria-label="{html.escape(alt)}" '
        f"data-config='{html.escape(json.dumps(config), quote=True)}'></div>\n"
        f"<script>\n{_playground_script()}\n{_guidance_script()}\n"
        f"window.GuidancePlayground.mount(document.getElementById({json.dumps(fig_id)}));\n</script>"
    )
