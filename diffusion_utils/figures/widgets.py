"""Live ipywidgets sliders around the plotting callbacks (need a running kernel; the site shows the twins)."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display

from ..core._validate import check_int
from ..core.data import DataScaler
from ..core.forward import FixedFactorChain
from ..core.metrics import wasserstein_1d
from ..core.reverse import ExactDenoiser
from ..core.samplers import GRIDS, METHODS, alpha_bars64, ode_limit_1d, sample
from ..core.schedules import NoiseSchedule
from .browser_figures import (
    PLAYGROUND_ETAS,
    PLAYGROUND_STEPS,
    SLIDER_RANGES,
    beta_values,
    playground_args,
    playground_start,
)
from .guidance_figures import GuidanceSweep, guidance_figure, update_guidance
from .noise_figures import EtaSweep, eta_figure, update_eta
from .plotting import (
    PALETTE,
    ForwardHistogram,
    ReverseHistogram,
    fixed_factor_figure,
    histogram_figure,
    nice_ceil,
    to_numpy,
    update_fixed_factor,
    update_histogram,
)
from .score_figures import ScoreField, score_field_figure, update_score_field
from .straight_figures import StraightFrame, straight_figure, straight_frame, update_straight

__all__ = [
    "SamplerArtists",
    "eta_explorer",
    "fixed_factor_explorer",
    "guidance_explorer",
    "histogram_explorer",
    "reverse_explorer",
    "sampler_explorer",
    "sampler_figure",
    "score_field_explorer",
    "step_slider",
    "straight_explorer",
    "update_sampler",
]

# A slider takes the row's width (not ipywidgets' 124 px track: 8 steps per pixel for T = 1000); its name gets
# 5.5em, the - / + buttons are 40 x 36 px.
_STYLE = {"description_width": "5.5em"}


def _range(name: str) -> dict[str, float]:
    """min/max/step of a slider, shared with the kernel-free figure of the same chapter."""
    return dict(zip(("min", "max", "step"), SLIDER_RANGES[name]))


def step_slider(slider: widgets.Widget, steps: int) -> None:
    """Move ``slider`` by ``steps`` of its steps, clamped to its range (the - / + buttons of every explorer's chapter).

    The value stays on the slider's grid (min + k step, rounded to 12 digits: 0.905, not 0.9050000000000001), so the
    figure callback sees the same numbers as when the slider is dragged.
    """
    if isinstance(slider, widgets.SelectionSlider):
        slider.index = min(max(slider.index + steps, 0), len(slider.options) - 1)
        return
    k = round((slider.value - slider.min) / slider.step) + steps
    value = slider.min + k * slider.step
    value = min(max(value, slider.min), slider.max)
    slider.value = round(value) if isinstance(slider, widgets.IntSlider) else round(value, 12)


def _on_step(slider: widgets.Widget, steps: int, _button: widgets.Button) -> None:
    """Button callback: one step of ``slider``."""
    step_slider(slider, steps)


def _row(slider: widgets.Widget, name: str) -> widgets.HBox:
    """A slider across the row with - and + buttons, and a number box for a long integer slider."""
    slider.layout = widgets.Layout(flex="1 1 16em", min_width="12em", width="auto")
    slider.style = _STYLE
    parts: list[widgets.Widget] = [slider]
    for text, steps, verb in (("\u2212", -1, "decrease"), ("+", 1, "increase")):
        button = widgets.Button(description=text, tooltip=f"{verb} {name} by one step",
                                layout=widgets.Layout(width="40px", height="36px", padding="0"))
        button.on_click(partial(_on_step, slider, steps))
        parts.append(button)
    if isinstance(slider, widgets.IntSlider) and (slider.max - slider.min) / slider.step > 100:
        box = widgets.BoundedIntText(value=slider.value, min=slider.min, max=slider.max, step=slider.step,
                                     description="", tooltip=f"{name}: type a value",
                                     layout=widgets.Layout(width="6.5em"))
        widgets.link((slider, "value"), (box, "value"))
        parts.append(box)
    row = widgets.Layout(display="flex", flex_flow="row wrap", align_items="center", width="100%", max_width="52rem")
    return widgets.HBox(parts, layout=row)


def _panel(show, controls: dict[str, widgets.Widget], artists) -> widgets.VBox:
    """One row per slider above the output that ``show`` draws into.

    ``.controls`` maps the names to the sliders and ``.artists`` exposes the figure's artists (for tests, and for
    readers who want to restyle the figure).
    """
    rows = [_row(slider, name) for name, slider in controls.items()]
    box = widgets.VBox([*rows, widgets.interactive_output(show, controls)])
    box.controls = controls
    box.artists = artists
    return box


def histogram_explorer(
    data: torch.Tensor,
    *,
    T: int = 200,
    beta: float = 0.04,
    num_particles: int = 2000,
    seed: int = 0,
    grid: torch.Tensor | None = None,
    bins: int = 64,
) -> widgets.Widget:
    """Sliders for t, the number of particles and a constant beta over the histogram figure (chapter: An example diffusion).

    Moving t only updates the artists; changing N or beta re-runs the chain on ``data``'s device (same seed). The beta
    slider stops at the listed values of ``browser_figures.BETA_VALUES`` from 0.001 to 0.5 (0.01, 0.04, 0.15, ...)
    and at ``beta`` itself, exactly as passed.
    """
    grid = torch.linspace(-16, 16, 3201, device=data.device) if grid is None else grid
    artists = histogram_figure(grid, np.linspace(float(grid[0]), float(grid[-1]), bins + 1))
    plt.close(artists.fig)  # shown through the output widget only
    cache: dict[tuple[int, float], ForwardHistogram] = {}

    def movie_for(n: int, b: float) -> ForwardHistogram:
        if (n, b) not in cache:
            cache.clear()
            generator = torch.Generator(device=data.device).manual_seed(seed)
            cache[(n, b)] = ForwardHistogram.simulate(data, NoiseSchedule.constant(T, b, device=data.device), grid, n, generator)
        return cache[(n, b)]

    def show(t: int, num_particles: int, beta: float) -> None:
        movie = movie_for(num_particles, beta)
        update_histogram(artists, *movie.frame(t), t, title=f"{movie.title(t)}, β = {beta:g}")
        display(artists.fig)

    controls = {
        "t": widgets.IntSlider(value=0, min=0, max=T, step=1, description="t", continuous_update=True),
        "num_particles": widgets.SelectionSlider(
            options=sorted({100, 300, 1000, 2000, 5000, 20000, num_particles}), value=num_particles, description="particles"
        ),
        "beta": widgets.SelectionSlider(options=[(f"{v:g}", v) for v in beta_values(beta, 1e-3, 0.5)], value=beta,
                                        description="β"),
    }
    return _panel(show, controls, artists)


def fixed_factor_explorer(x0: float = 5.0, *, T: int = 60, grid: torch.Tensor | None = None) -> widgets.Widget:
    """Sliders for a, b and t over the fixed-factor figure (chapter: A chain with a fixed factor)."""
    grid = torch.linspace(-10, 10, 801) if grid is None else grid
    artists = fixed_factor_figure(T, grid)
    plt.close(artists.fig)

    def show(a: float, b: float, t: int) -> None:
        update_fixed_factor(artists, FixedFactorChain(a, b), x0, t)
        display(artists.fig)

    controls = {
        "a": widgets.FloatSlider(value=0.9, **_range("a"), description="a", readout_format=".3f"),
        "b": widgets.FloatSlider(value=0.4, **_range("b"), description="b"),
        "t": widgets.IntSlider(value=10, min=0, max=T, description="t"),
    }
    return _panel(show, controls, artists)


def reverse_explorer(movie: ReverseHistogram, *, bins: int = 80, ylim: float | None = None) -> widgets.Widget:
    """A t slider over the reverse chain's histogram and the exact q_t (chapter: Ancestral sampling).

    The trajectory is already sampled; moving t only updates the artists. t runs from T (noise) down to 0 (samples).
    The y-axis follows each t (``ylim=None``): the bell at t = T is about a tenth as tall as the peaks at t = 0.
    """
    grid = movie.grid
    artists = histogram_figure(grid, np.linspace(float(grid[0]), float(grid[-1]), bins + 1), ylim=ylim)
    plt.close(artists.fig)
    T = movie.schedule.T

    def show(t: int) -> None:
        update_histogram(artists, *movie.frame(t), t, title=movie.title(t))
        display(artists.fig)

    controls = {"t": widgets.IntSlider(value=T, min=0, max=T, step=1, description="t", continuous_update=True)}
    return _panel(show, controls, artists)


def score_field_explorer(field: ScoreField, *, t: int = 100) -> widgets.Widget:
    """A t slider over the exact and the learned 2-D score field, drawn as arrows (chapter: Scores and Tweedie).

    Each move computes one frame (the exact score at the arrows and one network call) and updates the existing arrows
    and samples with :func:`~diffusion_utils.figures.score_figures.update_score_field`.
    """
    T = field.schedule.T
    t = check_int("t", t, low=1, high=T)
    artists = score_field_figure(field)
    plt.close(artists.fig)

    def show(t: int) -> None:
        update_score_field(artists, field.frame(t))
        display(artists.fig)

    controls = {"t": widgets.IntSlider(value=t, min=1, max=T, step=1, description="t", continuous_update=True)}
    return _panel(show, controls, artists)


# ---- the sampler explorer (chapter: Samplers compared): the live twin of browser_figures.sampler_playground_html ----
# Colour, marker and line style per method (the colour-blind palette, never colour alone; dashed = stochastic).
SAMPLER_STYLES = {
    "ddpm": (PALETTE["orange"], "s", "--"),
    "ddim": (PALETTE["blue"], "o", "-"),
    "euler": (PALETTE["green"], "^", "-"),
    "heun": (PALETTE["purple"], "D", "-"),
    "dpmpp_2m": (PALETTE["vermillion"], "v", "-"),
    "euler_maruyama": ("#767676", "P", "--"),
}
SAMPLER_NAMES = {"ddpm": "DDPM", "ddim": "DDIM", "euler": "Euler", "heun": "Heun", "dpmpp_2m": "DPM-Solver++(2M)",
                 "euler_maruyama": "Euler–Maruyama"}


class SamplerArtists(NamedTuple):
    """The artists of the sampler figure that :func:`update_sampler` changes (chapter: Samplers compared)."""

    fig: plt.Figure
    ax_hist: plt.Axes
    ax_w1: plt.Axes
    bars: object  # matplotlib StepPatch: share of the particles per bin
    curves: dict  # method -> Line2D of W1 against NFE
    current: plt.Line2D  # ring around this setting's point
    title: object
    edges: np.ndarray


def sampler_figure(points: np.ndarray, edges: np.ndarray, limit: float, T: int) -> SamplerArtists:
    """Histogram of samples against the data's point masses (left), W1 to the data against NFE (right), empty.

    ``limit`` is the W1 the exact ODE solution reaches from the same x_T (dashed line); chapter: Samplers compared.
    """
    points = np.asarray(points, dtype=float)
    edges = np.asarray(edges, dtype=float)
    fig, (ax_h, ax_w) = plt.subplots(1, 2, figsize=(10.0, 4.6), layout="constrained", width_ratios=(3, 2))
    bars = ax_h.stairs(np.zeros(len(edges) - 1), edges, fill=True, color=PALETTE["blue"], alpha=0.45,
                       label="particles $x_0$ (share per bin)")
    share = 1.0 / len(points)
    stems = ax_h.vlines(points, 0.0, share, color=PALETTE["vermillion"], lw=2.5, label=f"data (share 1/{len(points)} each)")
    ax_h.plot(points, np.full(len(points), share), "o", color=PALETTE["vermillion"], ms=6)
    ax_h.set_xlim(edges[0], edges[-1])
    ax_h.set_ylim(0.0, 0.3)
    ax_h.set_xlabel("$x_0$", fontsize=14)
    ax_h.set_ylabel("share of particles", fontsize=14)
    (line,) = ax_w.plot([1.0, 2.0 * T], [limit, limit], ":", color="black", lw=1.5, label="exact ODE limit")
    curves = {}
    for m, (color, mark, style) in SAMPLER_STYLES.items():
        (curves[m],) = ax_w.plot([], [], style, marker=mark, color=color, lw=1.75, ms=6, label=SAMPLER_NAMES[m])
    (current,) = ax_w.plot([], [], "o", ms=15, mfc="none", mec="black", mew=2, label="this setting")
    ax_w.set_xscale("log")
    ax_w.set_yscale("log")
    ax_w.set_xlim(1.0, 2.0 * T)
    ax_w.set_ylim(1e-3, 10.0)
    ax_w.set_xlabel("NFE (denoiser calls)", fontsize=14)
    ax_w.set_ylabel("$W_1$ to the data", fontsize=14)
    for ax in (ax_h, ax_w):
        ax.tick_params(labelsize=13)
    fig.legend(handles=[bars, stems, *curves.values(), line, current], loc="outside lower center", ncol=5,
               frameon=False, fontsize=12)
    title = ax_h.set_title(" ", loc="left", fontsize=13)
    fig.canvas.draw()
    fig.set_layout_engine("none")
    return SamplerArtists(fig, ax_h, ax_w, bars, curves, current, title, edges)


def update_sampler(
    artists: SamplerArtists,
    samples: np.ndarray,
    curves: dict[str, list[tuple[int, float]]],
    current: tuple[int, float],
    *,
    title: str,
) -> None:
    """Callback of the sampler explorer: new bars, W1 curves and ring, existing artists only (chapter: Samplers compared).

    ``samples`` are the particles x_0 (N,); ``curves`` maps a method to its (NFE, W1) points so far; ``current`` is
    this setting's (NFE, W1).
    """
    samples = np.asarray(samples, dtype=float)
    counts, _ = np.histogram(samples, bins=artists.edges)
    share = counts / max(1, samples.size)
    artists.bars.set_data(share)
    artists.ax_hist.set_ylim(0.0, max(0.3, nice_ceil(1.05 * float(share.max(initial=0.0))) if share.any() else 0.3))
    values = [current[1]]
    for m, line in artists.curves.items():
        points = sorted(curves.get(m, []))
        line.set_data([p[0] for p in points], [p[1] for p in points])
        values += [p[1] for p in points]
    artists.current.set_data([current[0]], [current[1]])
    low, high = min(values), max(values)
    artists.ax_w1.set_ylim(10.0 ** min(-3, np.floor(np.log10(0.8 * low))), 10.0 ** max(1, np.ceil(np.log10(1.25 * high))))
    artists.title.set_text(title)


def sampler_explorer(
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
) -> widgets.Widget:
    """Live twin of the sampler playground: ``du.sample`` on the exact denoiser of ``data`` (chapter: Samplers compared).

    The same controls and starting points x_T as :func:`~diffusion_utils.figures.browser_figures.sampler_playground_html`;
    sampling runs on ``data``'s device (float64, float32 on MPS). The ODE samplers give the browser figure's
    particles; DDPM, Euler-Maruyama and DDIM with eta > 0 draw torch noise (a generator seeded with seed + 1). Every
    setting tried adds its point to the W1-versus-NFE curves of the current grid.
    """
    args = playground_args(data, T=T, num_particles=num_particles, seed=seed, method=method, steps=steps, grid=grid,
                           eta=eta, xlim=xlim, bins=bins)
    device = data.device
    dtype = torch.float32 if device.type == "mps" else torch.float64
    points = args["points"]
    xT = playground_start(args["num_particles"], args["seed"]).to(device, dtype)
    schedule = NoiseSchedule.linear(args["T"], device=device, dtype=dtype)
    model = ExactDenoiser(points.to(device, dtype)[:, None], schedule)
    limit = float(wasserstein_1d(ode_limit_1d(xT, points, float(alpha_bars64(schedule)[-1])), points))
    edges = np.linspace(*args["xlim"], args["bins"] + 1)
    artists = sampler_figure(points.numpy(), edges, limit, args["T"])
    plt.close(artists.fig)
    memo: dict[tuple[str, str, float, int], tuple[int, float]] = {}

    def show(method: str, grid: str, steps: int, eta: float) -> None:
        eta = eta if method == "ddim" else 0.0
        generator = torch.Generator(device=device).manual_seed(args["seed"] + 1)
        result = sample(model, schedule, xT, method=method, steps=steps, grid=grid, eta=eta, generator=generator)
        x = to_numpy(result.samples[:, 0]).astype(float)
        w1 = float(wasserstein_1d(torch.from_numpy(x), points))
        memo[(method, grid, eta, steps)] = (result.nfe, w1)
        curves: dict[str, list[tuple[int, float]]] = {}
        for (m, g, e, _s), point in memo.items():
            if g == grid and (m != "ddim" or e == eta):
                curves.setdefault(m, []).append(point)
        what = f"{SAMPLER_NAMES[method]}{f' (η = {eta:g})' if method == 'ddim' else ''}, {steps} steps, {grid} grid"
        update_sampler(artists, x, curves, (result.nfe, w1), title=f"{what}: NFE = {result.nfe}, W₁ = {w1:.3g}")
        display(artists.fig)

    stops = sorted({s for s in PLAYGROUND_STEPS if s <= args["T"]} | {args["steps"]})
    controls = {
        "method": widgets.Dropdown(options=[(SAMPLER_NAMES[m], m) for m in METHODS], value=args["method"],
                                   description="sampler", style=_STYLE),
        "grid": widgets.Dropdown(options=list(GRIDS), value=args["grid"], description="grid", style=_STYLE),
        "steps": widgets.SelectionSlider(options=stops, value=args["steps"], description="steps"),
        "eta": widgets.SelectionSlider(options=list(PLAYGROUND_ETAS), value=args["eta"], description="η",
                                       disabled=args["method"] != "ddim"),
    }
    controls["method"].observe(partial(_enable_eta, controls["eta"]), names="value")
    row = widgets.Layout(display="flex", flex_flow="row wrap", align_items="center", width="100%", max_width="52rem")
    rows = [widgets.HBox([controls[k]], layout=row) for k in ("method", "grid")]
    rows += [_row(controls["steps"], "steps"), _row(controls["eta"], "η")]
    box = widgets.VBox([*rows, widgets.interactive_output(show, controls)])
    box.controls = controls
    box.artists = artists
    box.results = memo
    return box


def _enable_eta(eta: widgets.Widget, change: dict) -> None:
    """The eta slider works for DDIM only."""
    eta.disabled = change["new"] != "ddim"


def eta_explorer(
    model: ExactDenoiser | torch.nn.Module,
    schedule: NoiseSchedule,
    xT: torch.Tensor,
    points: np.ndarray | tuple[float, ...],
    *,
    steps: int = 200,
    seed: int = 0,
    num_paths: int = 20,
    scaler: DataScaler | None = None,
    edges: np.ndarray | None = None,
) -> widgets.Widget:
    """A DDIM eta slider: paths from one x_T and the samples' shares (chapter: Noise, determinism and the start).

    Every eta runs :meth:`~diffusion_utils.figures.noise_figures.EtaSweep.simulate` once from the same ``xT`` (N, 1) with
    the same noise draws (``seed``) and keeps the result; :func:`~diffusion_utils.figures.noise_figures.update_eta` redraws
    the existing artists. ``points`` are the data points in data units (``scaler`` decodes the model's units),
    ``edges`` the histogram's bin edges (default: width 1, centred on the integers, over the range of the eta = 0
    run and the points).
    """
    runs: dict[float, EtaSweep] = {}

    def run(eta: float) -> EtaSweep:
        key = round(float(eta), 12)
        if key not in runs:
            runs[key] = EtaSweep.simulate(model, schedule, xT, (key,), steps=steps, seed=seed, num_paths=num_paths,
                                          scaler=scaler)
        return runs[key]

    first = run(0.0)
    points = np.asarray(points, dtype=float).ravel()
    if edges is None:
        low = min(float(first.paths.min()), float(first.samples.min()), float(points.min()))
        high = max(float(first.paths.max()), float(first.samples.max()), float(points.max()))
        pad = 0.15 * (high - low)
        edges = np.arange(np.floor(low - pad) - 0.5, np.ceil(high + pad) + 1.0, 1.0)
    artists = eta_figure(first.times, edges, points, num_paths=num_paths)
    plt.close(artists.fig)

    def show(eta: float) -> None:
        sweep = run(eta)
        update_eta(artists, sweep.paths[0], sweep.samples[0], sweep.etas[0])
        display(artists.fig)

    controls = {"eta": widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.1, description="η",
                                           readout_format=".1f", continuous_update=False)}
    box = _panel(show, controls, artists)
    box.runs = runs
    return box


def straight_explorer(
    points: torch.Tensor,
    x1: torch.Tensor,
    spreads: tuple[float, ...],
    *,
    spread: float | None = None,
    steps: int = 200,
    num_paths: int = 12,
) -> widgets.Widget:
    """A slider over the data's spread: exact interpolant and VP paths with their chords (chapter: Straight paths and few steps).

    Each spread (data = spread * ``points``, (K, 1)) is integrated once from the same ``x1`` (N, 1) with
    :func:`~diffusion_utils.figures.straight_figures.straight_frame` and kept; moving the slider redraws the existing
    artists with :func:`~diffusion_utils.figures.straight_figures.update_straight`.
    """
    options = sorted({float(s) for s in spreads})
    if not options:
        raise ValueError("spreads must hold at least one value")
    start = options[len(options) // 2] if spread is None else float(spread)
    if start not in options:
        raise ValueError(f"spread must be one of spreads {options}, got {spread}")
    frames: dict[float, StraightFrame] = {}
    artists = straight_figure(num_paths)
    plt.close(artists.fig)

    def show(spread: float) -> None:
        if spread not in frames:
            frames[spread] = straight_frame(points, spread, x1, steps=steps, num_paths=num_paths)
        update_straight(artists, frames[spread])
        display(artists.fig)

    controls = {"spread": widgets.SelectionSlider(options=[(f"{v:g}", v) for v in options], value=start,
                                                  description="spread ζ")}
    box = _panel(show, controls, artists)
    box.frames = frames
    return box


def guidance_explorer(sweep: GuidanceSweep, *, bins: int = 120) -> widgets.Widget:
    """A guidance-scale slider over the w of ``sweep``: the guided ODE's samples against the tilted density.

    Chapter: Conditioning and guidance. Nothing is recomputed: every position of the slider is a w of the sweep, and
    :func:`~diffusion_utils.figures.guidance_figures.update_guidance` redraws the existing artists.
    """
    artists = guidance_figure(sweep, bins=bins)
    plt.close(artists.fig)

    def show(w: float) -> None:
        update_guidance(artists, sweep, w)
        display(artists.fig)

    controls = {"w": widgets.SelectionSlider(options=[(f"{w:g}", w) for w in sweep.ws], value=sweep.ws[0],
                                             description="w", continuous_update=False)}
    return _panel(show, controls, artists)
