"""The guidance playground (chapter: Conditioning and guidance): its HTML and embedded numbers, and in headless
Chromium its guided particles and numbers against du.sample(du.guided(du.ExactConditionalDenoiser(...), c, w), ...).

The browser tests (marker ``browser``) need Chromium but not the built site: they write a small page holding just the
figure into a temporary folder and open it from disk. For several classes, guidance scales, ODE samplers, grids and
step counts the page's float64 particles must equal du.sample's to 1e-10 and its three numbers (share in the class,
spread, W1 to the class) must be the package's; one update (10 000 particles, 50 steps) must take under 100 ms.
Screenshots at 390 and 1366 px, light and dark, go to _build/screenshots/figures/guidance-playground-*.png.
``GUIDANCE_RUN`` and ``check_guidance_run`` also serve the site test (tests/test_site.py) on the built chapter.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import math
import os
import re
import statistics
from pathlib import Path

import numpy as np
import pytest
import torch

import diffusion_utils as du
from diffusion_utils.figures.browser_figures import GUIDANCE_SCALES, PLAYGROUND_STEPS

F64 = torch.float64
ODE_METHODS = ("ddim", "euler", "heun", "dpmpp_2m")
N = 10_000


@pytest.fixture(scope="module")
def data() -> torch.Tensor:
    """The labelled 1-D data of the chapter: D = {-15, -5, 1, 10} as (4, 1) in float64."""
    return torch.tensor([-15.0, -5.0, 1.0, 10.0], dtype=F64)[:, None]


@pytest.fixture(scope="module")
def labels() -> torch.Tensor:
    """Interleaved classes: -15 and 1 are class 0, -5 and 10 class 1 (du.labelled_toy_1d's)."""
    return torch.tensor([0, 1, 0, 1])


@pytest.fixture(scope="module")
def schedule() -> du.NoiseSchedule:
    return du.NoiseSchedule.linear(1000, dtype=F64)


def start(n: int = N, seed: int = 0) -> torch.Tensor:
    return torch.randn((n, 1), generator=torch.Generator().manual_seed(seed), dtype=F64)


def _config(snippet: str) -> dict:
    return json.loads(html.unescape(re.search(r"data-config='([^']*)'", snippet).group(1)))


def _decode(b64: str) -> torch.Tensor:
    """x_T as the page decodes it: little-endian float64 bytes, (N, 1)."""
    return torch.from_numpy(np.frombuffer(base64.b64decode(b64), dtype="<f8").copy())[:, None]


def class_numbers(x: torch.Tensor, data: torch.Tensor, labels: torch.Tensor, label: int) -> dict:
    """The playground's three numbers computed by the package: how many samples have their nearest data point in
    class ``label`` (torch.argmin: the first on ties), their spread (torch.std, N - 1) and W1 to the class's points."""
    x, points = x.reshape(-1), data.reshape(-1)
    nearest = (x[:, None] - points[None]).abs().argmin(1)
    in_class = int((labels[nearest] == label).sum())
    return {"inClass": in_class, "share": in_class / x.numel(), "spread": float(x.std()),
            "w1": float(du.wasserstein_1d(x, points[labels == label]))}


# ---- the HTML and its numbers ---------------------------------------------------------------------------------------


def test_guidance_playground_embeds_the_exact_numbers(data, labels, schedule):
    xT = start(500, 3)
    snippet = du.guidance_playground_html(data, labels, schedule, xT, label=1, w=2.5, method="heun", steps=25,
                                          grid="karras", class_names=("left", "right")).data
    cfg = _config(snippet)
    assert cfg["alpha_bars"] == du.alpha_bars64(schedule).tolist(), "alpha_bar_t to the last bit (repr round-trips)"
    assert "model_alpha_bars" not in cfg, "a float64 schedule: the denoiser reads the same alpha_bar_t"
    assert cfg["points"] == [-15.0, -5.0, 1.0, 10.0] and cfg["labels"] == [0, 1, 0, 1] and cfg["T"] == 1000
    assert cfg["class_names"] == ["left", "right"] and cfg["rho"] == 7.0
    assert cfg["class_spread"] == [8.0, 7.5], "std of {-15, 1} and of {-5, 10} (the class distributions)"
    assert torch.equal(_decode(cfg["xT"]), xT)
    assert cfg["xlim"] == [-17.5, 12.5], "default: the data's range and 10 % of it on each side"
    controls = {c["name"]: c for c in cfg["controls"]}
    assert list(controls) == ["label", "w", "method", "grid", "steps"]
    assert controls["label"]["options"] == [["0", "left"], ["1", "right"]] and controls["label"]["value"] == "1"
    assert controls["w"]["value"] == 2.5 and controls["w"]["values"] == list(GUIDANCE_SCALES)
    assert controls["w"]["values"][:5] == [-1.0, -0.75, -0.5, -0.25, 0.0] and controls["w"]["max"] == 8.0
    assert [o[0] for o in controls["method"]["options"]] == list(du.METHODS) and controls["method"]["value"] == "heun"
    assert [o[0] for o in controls["grid"]["options"]] == list(du.GRIDS) and controls["grid"]["value"] == "karras"
    assert controls["steps"]["value"] == 25 and controls["steps"]["values"] == list(PLAYGROUND_STEPS)
    assert "window.GuidancePlayground.mount" in snippet and "function makeGuidedDenoiser" in snippet
    assert "window.SamplerPlayground = {" in snippet, "the samplers are the sampler playground's, inline"
    assert 'class="gp-figure"' in snippet and 'role="figure"' in snippet and "aria-label=" in snippet
    assert "sp-figure" not in snippet.split("<script>")[0], "not counted as a sampler playground by the site test"
    assert "http" not in snippet.replace("http://www.w3.org/2000/svg", ""), "nothing fetched from anywhere"


def test_guidance_playground_unlisted_w_float32_schedule_and_weight(data, labels):
    schedule32 = du.NoiseSchedule.linear(1000)
    snippet = du.guidance_playground_html(data.float(), labels, schedule32, start(N), w=1.1, steps=37).data
    assert len(snippet.encode()) < 300_000, "10 000 float64 start values as base64, both scripts and alpha_bar"
    cfg = _config(snippet)
    controls = {c["name"]: c for c in cfg["controls"]}
    assert 1.1 in controls["w"]["values"] and controls["w"]["values"] == sorted(controls["w"]["values"])
    assert 37 in controls["steps"]["values"], "a step count passed in is a stop"
    # float32 schedule: du.sample steps with alpha_bars64, the exact denoiser reads the float32 alpha_bar_t
    assert cfg["alpha_bars"] == du.alpha_bars64(schedule32).tolist()
    assert cfg["model_alpha_bars"] == schedule32.alpha_bars.double().tolist()
    assert cfg["model_alpha_bars"] != cfg["alpha_bars"]


def test_guidance_playground_with_a_scaler(data, labels, schedule):
    """With a DataScaler the page samples scaler.encode(data) and shows x * scale + shift, numbers in data units."""
    scaler = du.DataScaler.fit(data)
    cfg = _config(du.guidance_playground_html(data, labels, schedule, start(50), scaler=scaler).data)
    assert cfg["points"] == [-15.0, -5.0, 1.0, 10.0], "the data shown in data units"
    assert cfg["model_points"] == scaler.encode(data)[:, 0].tolist(), "the denoiser's points in model units"
    assert cfg["decode"] == [scaler.scale, scaler.shift[0]] and scaler.shift[0] == -2.25
    assert cfg["xlim"] == [-17.5, 12.5] and cfg["class_spread"] == [8.0, 7.5]
    assert "standardised units (x + 2.25)/9.093; histogram and numbers are in data units" in cfg["note"]
    with pytest.raises(TypeError, match="scaler"):
        du.guidance_playground_html(data, labels, schedule, start(50), scaler=(0.0, 1.0))
    with pytest.raises(ValueError, match="scaler"):
        du.guidance_playground_html(data, labels, schedule, start(50), scaler=du.DataScaler((0.0, 1.0), 2.0))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"label": 2}, ValueError, "label"),
        ({"label": "0"}, TypeError, "label"),
        ({"w": 8.5}, ValueError, "w"),
        ({"w": float("nan")}, TypeError, "w"),
        ({"w": True}, TypeError, "w"),
        ({"w_values": (1.0,)}, TypeError, "w_values"),
        ({"w_values": (0.0, 2.0, 1.0)}, ValueError, "w_values"),
        ({"w_values": (0.0, float("inf"))}, TypeError, "w_values"),
        ({"method": "plms"}, ValueError, "method"),
        ({"grid": "cosine"}, ValueError, "grid"),
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 1001}, ValueError, "steps"),
        ({"class_names": ("one",)}, TypeError, "class_names"),
        ({"class_names": ("a", "")}, TypeError, "class_names"),
        ({"seed": -1}, ValueError, "seed"),
        ({"xlim": (1.0, -1.0)}, ValueError, "xlim"),
        ({"xlim": (0.0,)}, TypeError, "xlim"),
        ({"bins": 5}, ValueError, "bins"),
        ({"ymax": 0.0}, ValueError, "ymax"),
    ],
)
def test_guidance_playground_rejects_bad_settings(data, labels, schedule, kwargs, error, match):
    with pytest.raises(error, match=match):
        du.guidance_playground_html(data, labels, schedule, start(20), **kwargs)


def test_guidance_playground_rejects_bad_data(data, labels, schedule):
    xT = start(20)
    cases = [
        ((torch.zeros(4, 2, dtype=F64), labels, schedule, xT), ValueError, "data"),
        ((data.reshape(-1).tolist(), labels, schedule, xT), TypeError, "data"),
        ((torch.zeros(65, 1, dtype=F64), torch.zeros(65, dtype=torch.long), schedule, xT), ValueError, "data"),
        ((data, labels.double(), schedule, xT), TypeError, "labels"),
        ((data, labels[:3], schedule, xT), ValueError, "labels"),
        ((data, torch.tensor([0, 2, 0, 2]), schedule, xT), ValueError, "labels"),
        ((data, labels, "linear", xT), TypeError, "schedule"),
        ((data, labels, schedule, torch.zeros(20, 2, dtype=F64)), ValueError, "xT"),
        ((data, labels, schedule, torch.zeros(1, 1, dtype=F64)), ValueError, "xT"),
        ((data, labels, schedule, torch.full((20, 1), float("nan"), dtype=F64)), ValueError, "xT"),
    ]
    for args, error, match in cases:
        with pytest.raises(error, match=match):
            du.guidance_playground_html(*args)


# ---- in the browser ---------------------------------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
DESKTOP = {"width": 1366, "height": 900, "deviceScaleFactor": 1, "mobile": False}
FIG = 'document.querySelector(".gp-figure")'
# The particles and numbers of one setting, computed at once by the page (FIG: the figure's element).
GUIDANCE_RUN = """((settings) => {
  const fig = FIG, first = fig.gp.result;
  const r = fig.gp.set(settings);
  return {config: JSON.parse(fig.dataset.config), first_nfe: first.nfe, x: Array.from(r.samples),
          shown: Array.from(r.shown), nfe: r.nfe,
          inClass: r.inClass, share: r.share, spread: r.spread, w1: r.w1, times: r.times, settings: r.settings,
          info: fig.querySelector(".sp-info").textContent,
          stroked: fig.querySelectorAll("svg path, svg line, svg polyline").length};
})"""
# The setting the site test computes on the built chapter.
SITE_SETTING = {"label": 1, "w": 3.0, "method": "dpmpp_2m", "steps": 20, "grid": "logsnr"}


def check_guidance_run(run: dict, setting: dict = SITE_SETTING, tol: float = 1e-10) -> float:
    """A page's run of ``setting`` (GUIDANCE_RUN) equals the package: particles to ``tol``, NFE, time grid, the three
    numbers and the summary line. The page's data, labels, x_T and scaler come from its config; the schedule is the
    linear one of its T in float64 (asserted). Returns the largest particle difference."""
    cfg = run["config"]
    schedule = du.NoiseSchedule.linear(cfg["T"], dtype=F64)
    assert torch.equal(torch.tensor(cfg["alpha_bars"], dtype=F64), du.alpha_bars64(schedule))
    data = torch.tensor(cfg["points"], dtype=F64)[:, None]
    labels = torch.tensor(cfg["labels"])
    xT = _decode(cfg["xT"])
    scaler = du.DataScaler(cfg["decode"][1], cfg["decode"][0]) if "decode" in cfg else None
    model_data = data if scaler is None else scaler.encode(data)
    if scaler is not None:
        assert cfg["model_points"] == model_data[:, 0].tolist()
    model = du.guided(du.ExactConditionalDenoiser(model_data, labels, schedule), setting["label"], setting["w"])
    want = du.sample(model, schedule, xT, method=setting["method"], steps=setting["steps"], grid=setting["grid"])
    got = torch.tensor(run["x"], dtype=F64)
    diff = float((got - want.samples[:, 0]).abs().max())
    assert diff <= tol, (setting, diff)
    assert run["nfe"] == want.nfe and run["settings"] == setting
    assert run["times"] == du.time_grid(schedule, setting["steps"], setting["grid"]).tolist()
    shown = want.samples if scaler is None else scaler.decode(want.samples)
    assert float((torch.tensor(run["shown"], dtype=F64) - shown[:, 0]).abs().max()) <= tol * (scaler.scale if scaler else 1)
    numbers = class_numbers(shown, data, labels, setting["label"])
    assert run["inClass"] == numbers["inClass"], (setting, run["inClass"], numbers["inClass"])
    for key in ("share", "spread", "w1"):
        assert math.isclose(run[key], numbers[key], rel_tol=1e-9, abs_tol=1e-9), (setting, key, run[key], numbers[key])
    n_text = f"{numbers['inClass']:,}".replace(",", "\u202f")
    assert f"{n_text} of {f'{xT.shape[0]:,}'.replace(',', chr(0x202F))} particles" in run["info"], run["info"]
    assert f"NFE = {want.nfe} guided evaluations" in run["info"], run["info"]
    shown = re.search(r"\(([0-9.]+) %\).* spread ([0-9.e+]+) .* W1 = ([0-9.e+]+) to ", run["info"])
    assert shown, run["info"]
    assert abs(float(shown[1]) - 100 * numbers["share"]) <= 0.05 + 1e-9
    for text, value in zip(shown.groups()[1:], (numbers["spread"], numbers["w1"])):
        assert abs(float(text) - value) <= 0.5 * 10 ** (math.floor(math.log10(max(abs(value), 1e-300))) - 2) + 1e-12, (text, value)
    assert run["first_nfe"] >= 1 and run["stroked"] > 0
    return diff


@pytest.fixture(scope="module")
def browser(tmp_path_factory, data, labels, schedule):
    """Headless Chromium and two pages holding only the playground (10 000 particles), opened from disk: "raw"
    samples the data as they are, "scaled" standardised with a DataScaler (as the chapter does)."""
    from browser import Chromium
    from test_site import require_chromium

    folder = tmp_path_factory.mktemp("guidance")
    pages = {}
    for name, scaler in (("raw", None), ("scaled", du.DataScaler.fit(data))):
        snippet = du.guidance_playground_html(data, labels, schedule, start(N), w=1.0, steps=20, scaler=scaler).data
        pages[name] = folder / f"guidance-{name}.html"
        pages[name].write_text(
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Guidance playground</title>'
            "<style>body{margin:0;padding:12px;font-family:sans-serif}html[data-theme=dark] body{background:#121212}"
            f"main{{max-width:900px;margin:auto}}</style></head><body><main>{snippet}</main></body></html>",
            encoding="utf-8",
        )
    chromium = Chromium(require_chromium())
    yield chromium, pages
    chromium.close()


def _open(browser, metrics: dict, *, wait_idle: bool = False, which: str = "raw"):
    chromium, pages = browser
    page_file = pages[which]
    page = chromium.page()
    page.send("Emulation.setDeviceMetricsOverride", **metrics)
    page.send("Emulation.setTouchEmulationEnabled", enabled=metrics["mobile"])
    page.metrics = metrics
    page.goto(page_file.as_uri())
    page.wait_for(f"{FIG}.gp && {FIG}.gp.result")
    if wait_idle:
        page.wait_for(f"{FIG}.gp.idle", timeout=120)
    return page


def _run(page, setting: dict) -> dict:
    return page.js(f"({GUIDANCE_RUN.replace('FIG', FIG)})({json.dumps(setting)})")


# (class, w, method, steps, grid): both classes, unconditional (w = -1), conditional (w = 0), weak and strong guidance
CASES = [
    (0, -1.0, "ddim", 10, "uniform"),
    (1, 0.0, "dpmpp_2m", 20, "logsnr"),
    (0, 1.0, "heun", 7, "karras"),
    (1, 2.5, "euler", 50, "uniform"),
    (0, 4.0, "dpmpp_2m", 5, "karras"),
    (1, 8.0, "ddim", 50, "logsnr"),
    (0, 0.5, "euler", 3, "logsnr"),
    (1, 3.0, "heun", 20, "uniform"),
    (0, 1.1, "ddim", 1, "karras"),  # a w typed in (not a stop), one step
]


@pytest.mark.browser
@pytest.mark.parametrize("which", ["raw", "scaled"])
def test_browser_guided_ode_samplers_equal_du_sample(browser, which):
    """DDIM (eta = 0), Euler, Heun, DPM-Solver++(2M): the page's float64 particles are du.sample's with the guided
    exact denoiser, and the numbers it shows are the package's (in data units on the standardised page)."""
    page = _open(browser, DESKTOP, which=which)
    worst = 0.0
    cases = CASES if which == "raw" else CASES[1::2]
    try:
        for label, w, method, steps, grid in cases:
            setting = {"label": label, "w": w, "method": method, "steps": steps, "grid": grid}
            worst = max(worst, check_guidance_run(_run(page, setting), setting))
        assert not page.errors, page.errors
    finally:
        page.close()
    print(f"\n{which}: largest |browser - du.sample| over {len(cases)} guided ODE runs of {N} particles: {worst:.1e}")


@pytest.mark.browser
def test_browser_site_check_on_a_standalone_page(browser):
    """What tests/test_site.py does on the built chapter, here on a page of our own: find the figure, wait for its
    first result, compute SITE_SETTING with GUIDANCE_RUN and compare it with the package (check_guidance_run)."""
    page = _open(browser, DESKTOP, which="scaled")
    try:
        assert page.js('document.querySelectorAll(".gp-figure").length') == 1
        assert page.js('document.querySelectorAll(".sp-figure").length') == 0, "not a sampler playground"
        fig = 'document.querySelectorAll(".gp-figure")[0]'
        page.wait_for(f"{fig}.gp && {fig}.gp.result", timeout=30)
        run = page.js(f"({GUIDANCE_RUN.replace('FIG', fig)})({json.dumps(SITE_SETTING)})")
        assert not page.errors, page.errors
    finally:
        page.close()
    assert "decode" in run["config"]
    check_guidance_run(run)


@pytest.mark.browser
def test_browser_stochastic_samplers(browser, data, labels, schedule):
    """DDPM and Euler-Maruyama draw the page's own noise: finite particles, the right NFE, the package's numbers of
    those particles, the same particles for the same setting, and a distribution close to du.sample's (torch noise)."""
    page = _open(browser, DESKTOP)
    try:
        for method, label, w in (("ddpm", 0, 1.0), ("euler_maruyama", 1, 2.0)):
            setting = {"label": label, "w": w, "method": method, "steps": 100, "grid": "uniform"}
            got = _run(page, setting)
            x = torch.tensor(got["x"], dtype=F64)
            assert bool(torch.isfinite(x).all()) and got["nfe"] == 100
            numbers = class_numbers(x, data, labels, label)
            assert got["inClass"] == numbers["inClass"]
            assert all(math.isclose(got[k], numbers[k], rel_tol=1e-12) for k in ("share", "spread", "w1"))
            model = du.guided(du.ExactConditionalDenoiser(data, labels, schedule), label, w)
            want = du.sample(model, schedule, start(N), method=method, steps=100,
                             generator=torch.Generator().manual_seed(1)).samples[:, 0]
            # 0.03 to 0.05 measured; a 5 % error in scale gives 0.5
            assert float(du.wasserstein_1d(x, want)) < 0.15, (method, "not the sampler's distribution")
            assert _run(page, setting)["x"] == got["x"], "the page's noise is seeded: same setting, same particles"
        assert not page.errors, page.errors
    finally:
        page.close()


@pytest.mark.browser
def test_browser_update_is_fast(browser):
    """One update (guided sampler, the three numbers, histogram and both panels redrawn) for 10 000 particles and
    50 steps < 100 ms, for every sampler."""
    page = _open(browser, DESKTOP)
    try:
        timings = page.js(f"""(() => {{
          const gp = {FIG}.gp, out = {{}};
          for (const method of ["ddim", "euler", "heun", "dpmpp_2m", "ddpm", "euler_maruyama"]) {{
            const whole = [], sampler = [];
            for (let k = 0; k < 7; k++) {{
              const t0 = performance.now();
              gp.set({{method, steps: 50, grid: k % 2 ? "karras" : "uniform", label: k % 2, w: 0.5 * k}});
              whole.push(performance.now() - t0); sampler.push(gp.result.ms);
            }}
            out[method] = {{whole, sampler, nfe: gp.result.nfe}};
          }}
          return out; }})()""")
        assert not page.errors, page.errors
    finally:
        page.close()
    lines = []
    for method, t in timings.items():
        whole, sampler = statistics.median(t["whole"][1:]), statistics.median(t["sampler"][1:])
        lines.append(f"  {method:15s} NFE {t['nfe']:3d}: update {whole:6.1f} ms (sampler + numbers {sampler:6.1f} ms)")
        assert whole < 100, (method, t)
    print("\nmedian of 6 updates, 10 000 particles, 50 steps, headless Chromium:\n" + "\n".join(lines))


@pytest.mark.browser
def test_browser_controls_and_background_curves(browser, data, labels, schedule):
    """The controls drive the figure (class select, w's + button and number field); the background computes the
    numbers at every stop of w for the current setting, with the package's values."""
    page = _open(browser, DESKTOP, wait_idle=True)
    try:
        curves = page.js(f"""(() => Array.from({FIG}.gp.memo.entries()).map(([k, m]) =>
          [k, Array.from(m.values()).map((v) => [v.w, v.share, v.spread, v.w1, v.nfe])]))()""")
        flush = "new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))"
        control = f"((name) => {FIG}.querySelector(`.sp-control[data-name=\"${{name}}\"]`))"
        page.js(f"""(() => {{ const s = {control}("label").querySelector("select");
          s.value = "1"; s.dispatchEvent(new Event("change")); }})()""")
        page.js(flush)
        picked = page.js(f"{FIG}.gp.result.settings")
        page.js(f"""{control}("w").querySelector('.sp-step[data-step="1"]').click()""")
        page.js(flush)
        plus = page.js(f"{FIG}.gp.result.settings")
        page.js(f"""(() => {{ const n = {control}("w").querySelector(".sp-number");
          n.value = "3.3"; n.dispatchEvent(new Event("change")); }})()""")
        page.js(flush)
        typed = page.js(f"({{settings: {FIG}.gp.result.settings, w1: {FIG}.gp.result.w1}})")
        assert not page.errors, page.errors
    finally:
        page.close()
    assert [k for k, _ in curves] == ["0|ddim|uniform|20"], "the starting setting's curve"
    points = {v[0]: v for v in curves[0][1]}
    assert sorted(points) == list(GUIDANCE_SCALES)
    model = du.ExactConditionalDenoiser(data, labels, schedule)
    for w in (-1.0, 0.0, 3.25, 8.0):
        want = du.sample(du.guided(model, 0, w), schedule, start(N), method="ddim", steps=20).samples
        numbers = class_numbers(want, data, labels, 0)
        _w, share, spread, w1, nfe = points[w]
        assert nfe == 20 and share == numbers["share"], w
        assert math.isclose(spread, numbers["spread"], rel_tol=1e-9) and math.isclose(w1, numbers["w1"], rel_tol=1e-9), w
    assert picked == {"label": 1, "w": 1.0, "method": "ddim", "grid": "uniform", "steps": 20}
    assert plus["w"] == 1.25, "+ goes to the next stop"
    assert typed["settings"]["w"] == 3.3, "any w in the range can be typed in"
    want = du.sample(du.guided(model, 1, 3.3), schedule, start(N), method="ddim", steps=20).samples
    assert math.isclose(typed["w1"], class_numbers(want, data, labels, 1)["w1"], rel_tol=1e-9)


# Settings at the ends of the ranges: one step without guidance (all particles near 0), one Euler-Maruyama step at
# w = 8 (particles far outside the axis), the largest NFE (Heun, 1000 steps), strong guidance in 3 steps.
EXTREMES = [{"label": 0, "w": -1.0, "method": "ddim", "steps": 1, "grid": "uniform"},
            {"label": 1, "w": 8.0, "method": "euler_maruyama", "steps": 1, "grid": "karras"},
            {"label": 0, "w": 8.0, "method": "heun", "steps": 1000, "grid": "logsnr"},
            {"label": 1, "w": 8.0, "method": "dpmpp_2m", "steps": 3, "grid": "uniform"}]


@pytest.mark.browser
def test_browser_phone_and_desktop_layout_contrast_and_shots(browser):
    """390 px: controls stacked, 44 px touch targets with names, panels stacked, nothing wider than the screen;
    1366 px: panels side by side at their drawn size; every line and text >= 3:1 in light and dark mode
    (the sampler playground's checks, on this figure)."""
    import test_playground as sp_test
    from test_site import SITE

    layout_js = sp_test.LAYOUT.replace('document.querySelector(".sp-figure")', FIG)
    colours_js = sp_test.COLOURS.replace('document.querySelector(".sp-figure")', FIG).replace(
        'return {bg, items: out};', 'add("other points", ".sp-plot .gp-other", "stroke"); return {bg, items: out};')
    assert layout_js != sp_test.LAYOUT and colours_js.count(FIG) == 1 and "gp-other" in colours_js
    shots = Path(os.environ.get("BOOK_SHOTS_DIR", SITE.parent / "screenshots")) / "figures"
    for name, metrics in (("phone", PHONE), ("desktop", DESKTOP)):
        page = _open(browser, metrics, wait_idle=True, which="scaled")
        try:
            layout = page.js(layout_js)
            x, _y, w, _h = layout["fig"]
            assert x >= 0 and x + w <= layout["viewport"] + 0.5 and layout["scroll"][0] <= layout["scroll"][1] + 1
            assert {c["row"] for c in layout["controls"]} == {"label", "w", "method", "grid", "steps"}
            for c in layout["controls"]:
                assert c["label"].strip(), (name, c)
                assert c["box"][0] + c["box"][2] <= layout["viewport"] + 0.5, (name, c)
                if name == "phone":
                    assert c["box"][3] >= 44 - 0.5, (name, c)
                    if c["tag"] == "button":
                        assert c["box"][2] >= 44 - 0.5, (name, c)
            left, right = layout["svgs"]
            if name == "phone":
                assert right["box"][1] >= left["box"][1] + left["box"][3] - 1, "panels stacked on a phone"
                rows = sorted({round(c["box"][1]) for c in layout["controls"] if c["tag"] == "select"})
                assert len(rows) == 3 and min(b - a for a, b in itertools.pairwise(rows)) >= 44, "a row per select"
            else:
                bottoms = [svg["box"][1] + svg["box"][3] for svg in (left, right)]
                assert abs(bottoms[0] - bottoms[1]) < 2 and right["box"][0] > left["box"][0] + left["box"][2] - 1
            for svg in layout["svgs"]:
                assert 0.99 < svg["scale"] < 1.01 and svg["px"] * 0.8 >= 11 - 0.1, (name, svg)
            assert layout["smallest"] >= 13, (name, layout["smallest"])
            for settings in EXTREMES if name == "phone" else EXTREMES[:2] + EXTREMES[3:]:  # 1999 NFE once
                page.js(f"{FIG}.gp.set({json.dumps(settings)}).nfe")
                extreme = page.js(layout_js)
                assert not extreme["outside"], (name, settings, "outside its SVG", extreme["outside"])
                assert extreme["infoScroll"][0] <= extreme["infoScroll"][1] + 1, (name, settings, "summary overflows")
                assert extreme["scroll"][0] <= extreme["scroll"][1] + 1, (name, settings, "figure overflows")
            page.js(f"{FIG}.gp.set({json.dumps(SITE_SETTING)}).nfe")
            page.wait_for(f"{FIG}.gp.idle", timeout=120)
            for mode in ("light", "dark"):
                page.js(f"document.documentElement.dataset.theme = {json.dumps(mode)}")
                colours = page.js(colours_js)
                bg = sp_test._rgb(colours["bg"])
                low = {(what, c) for what, c in colours["items"] if sp_test._contrast(sp_test._rgb(c), bg) < 3.0}
                assert not low, (name, mode, colours["bg"], low)
                assert any(what == "other points" for what, _c in colours["items"])
                page.pump(0.2)
                page.screenshot(shots / f"guidance-playground-{name}-{mode}.png")
            assert not page.errors, page.errors
        finally:
            page.close()


@pytest.mark.browser
def test_browser_no_request_leaves_the_page(browser):
    from browser import Chromium, netlog_requests
    from test_site import require_chromium

    page_file = browser[1]["scaled"]
    own = Chromium(require_chromium())
    try:
        page = own.page()
        page.goto(page_file.as_uri())
        page.wait_for(f"{FIG}.gp && {FIG}.gp.result")
        page.js(f"{FIG}.gp.set({{method: 'ddpm', steps: 20, grid: 'logsnr', label: 1, w: 2}}).nfe")
        page.pump(1.0)
        requests, errors, failed = list(page.requests), list(page.errors), list(page.failed)
        page.close()
    finally:
        events = own.close()
    assert requests == [page_file.as_uri()], requests
    assert not errors and not failed, (errors, failed)
    page_requests = [url for url, initiator in netlog_requests(events) if initiator != "not an origin"]
    assert all(url.startswith("file:") for url in page_requests), page_requests
