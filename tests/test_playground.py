"""The sampler playground (chapter: Samplers compared): its HTML and embedded numbers, its live twin, and in headless
Chromium its particles against du.sample.

The browser tests (marker ``browser``) need Chromium but not the built site: they write a small page holding just the
figure into a temporary folder and open it from disk. For every ODE sampler, time grid and a few step counts the
page's float64 particles must equal ``du.sample`` on the exact denoiser to 1e-9, its time grids must equal
``du.time_grid``, and one update (10 000 particles, 50 steps) must take under 100 ms.
Screenshots at 390 and 1366 px, light and dark, go to _build/screenshots/figures/playground-*.png.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import diffusion_utils as du
from diffusion_utils.core.samplers import ode_limit_1d
from diffusion_utils.figures.browser_figures import (
    PLAYGROUND_ETAS,
    PLAYGROUND_STEPS,
    PLAYGROUND_THEMES,
    playground_start,
)

F64 = torch.float64
ODE_METHODS = ("ddim", "euler", "heun", "dpmpp_2m")


@pytest.fixture(scope="module")
def data() -> torch.Tensor:
    """The book's dataset standardised as the trained models see it (mean 0, sd 1), in float64."""
    scaler = du.DataScaler.fit(du.toy_dataset(device="cpu"))
    return scaler.encode(du.toy_dataset(device="cpu", dtype=F64))


@pytest.fixture(scope="module")
def schedule() -> du.NoiseSchedule:
    return du.NoiseSchedule.linear(1000, dtype=F64)


def _config(snippet: str) -> dict:
    return json.loads(html.unescape(re.search(r"data-config='([^']*)'", snippet).group(1)))


def _start(cfg: dict) -> torch.Tensor:
    """x_T as the page decodes it: little-endian float64 bytes."""
    raw = np.frombuffer(base64.b64decode(cfg["xT"]), dtype="<f8")
    return torch.from_numpy(raw.copy())[:, None]


# ---- the HTML and its numbers ---------------------------------------------------------------------------------------


def test_playground_embeds_the_exact_numbers(data, schedule):
    snippet = du.sampler_playground_html(data, num_particles=500, seed=3, method="heun", steps=25, grid="karras").data
    cfg = _config(snippet)
    assert cfg["alpha_bars"] == du.alpha_bars64(schedule).tolist(), "alpha_bar_t to the last bit (repr round-trips)"
    assert cfg["points"] == data.tolist() and cfg["T"] == 1000 and cfg["rho"] == 7.0
    xT = _start(cfg)
    assert xT.shape == (500, 1) and torch.equal(xT, playground_start(500, 3))
    assert torch.equal(xT, torch.randn((500, 1), generator=torch.Generator().manual_seed(3), dtype=F64))
    limit = du.wasserstein_1d(ode_limit_1d(xT, data, float(schedule.alpha_bars[-1])), data)
    assert cfg["ode_limit"] == float(limit) and 0.0 < cfg["ode_limit"] < 0.1
    controls = {c["name"]: c for c in cfg["controls"]}
    assert [o[0] for o in controls["method"]["options"]] == list(du.METHODS) and controls["method"]["value"] == "heun"
    assert [o[0] for o in controls["grid"]["options"]] == list(du.GRIDS) and controls["grid"]["value"] == "karras"
    assert controls["steps"]["value"] == 25 and controls["steps"]["values"] == list(PLAYGROUND_STEPS)
    assert controls["eta"]["values"][:3] == [0.0, 0.05, 0.1] and controls["eta"]["values"][-1] == 1.0
    assert all(float(repr(v)) == v and v == round(v, 2) for v in PLAYGROUND_ETAS)
    assert "window.SamplerPlayground.mount" in snippet and "function predictEps" in snippet
    assert 'class="sp-figure"' in snippet and 'role="figure"' in snippet and "aria-label=" in snippet
    assert "http" not in snippet.replace("http://www.w3.org/2000/svg", ""), "nothing fetched from anywhere"


def test_playground_default_weight_and_unlisted_steps(data):
    snippet = du.sampler_playground_html(data, steps=37).data
    assert len(snippet.encode()) < 250_000, "10 000 float64 start values as base64, the script and alpha_bar"
    cfg = _config(snippet)
    assert _start(cfg).shape == (10_000, 1)
    steps = {c["name"]: c for c in cfg["controls"]}["steps"]
    assert 37 in steps["values"] and steps["values"] == sorted(steps["values"]), "a step count passed in is a stop"


def test_playground_colours_have_contrast():
    """Every colour the figure draws with is at least 3:1 against its background, light and dark."""

    def luminance(hex_colour: str) -> float:
        c = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    for mode, colours in PLAYGROUND_THEMES.items():
        bg = luminance(colours["bg"])
        for key in ("fg", "axis", "grey", "blue", "vermillion", "orange", "green", "purple"):
            hi, lo = sorted((luminance(colours[key]), bg), reverse=True)
            assert (hi + 0.05) / (lo + 0.05) >= 3.0, (mode, key)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"T": 0}, ValueError, "T"),
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 1001}, ValueError, "steps"),
        ({"method": "plms"}, ValueError, "method"),
        ({"grid": "cosine"}, ValueError, "grid"),
        ({"eta": 0.5, "method": "euler"}, ValueError, "eta"),
        ({"eta": 0.33}, ValueError, "eta"),
        ({"eta": -0.05}, ValueError, "eta"),
        ({"eta": "0"}, TypeError, "eta"),
        ({"num_particles": 0}, ValueError, "num_particles"),
        ({"num_particles": 50_000}, ValueError, "num_particles"),
        ({"seed": -1}, ValueError, "seed"),
        ({"xlim": (1.0, -1.0)}, ValueError, "xlim"),
        ({"xlim": (0.0,)}, TypeError, "xlim"),
        ({"bins": 5}, ValueError, "bins"),
        ({"ymax": 0.0}, ValueError, "ymax"),
    ],
)
def test_playground_rejects_bad_input(data, kwargs, error, match):
    with pytest.raises(error, match=match):
        du.sampler_playground_html(data, **kwargs)


def test_playground_rejects_bad_data():
    with pytest.raises(ValueError, match="data"):
        du.sampler_playground_html(torch.zeros(2, 1, dtype=F64))
    with pytest.raises(ValueError, match="data"):
        du.sampler_playground_html(torch.tensor([0.0, float("nan")]))
    with pytest.raises(ValueError, match="data"):
        du.sampler_playground_html(torch.zeros(65))
    with pytest.raises(TypeError, match="data"):
        du.sampler_playground_html([0.0, 1.0])


def test_exact_ode_ends_on_the_quantile_points(data, schedule):
    """The 1-D flow keeps the particles' order: an accurate ODE solve sends each x_T to the data point of its
    quantile of q_T, as ode_limit_1d says (the dashed line of the figure is the W1 of that limit)."""
    xT = playground_start(2000, 0)
    limit = ode_limit_1d(xT, data, float(schedule.alpha_bars[-1]))
    assert set(limit.tolist()) == set(data.tolist())
    model = du.ExactDenoiser(data[:, None], schedule)
    x = du.sample(model, schedule, xT, method="dpmpp_2m", steps=100, grid="logsnr").samples[:, 0]
    assert torch.equal((x[:, None] - data[None]).abs().argmin(1), (limit[:, None] - data[None]).abs().argmin(1))
    assert float((x - limit).abs().max()) < 1e-9
    order = torch.argsort(xT[:, 0])
    assert bool((limit[order].diff() >= 0).all()), "the limit map is monotone"
    with pytest.raises(ValueError, match="alpha_bar_T"):
        ode_limit_1d(xT, data, 1.0)


# ---- the live twin ----------------------------------------------------------------------------------------------------


def test_sampler_explorer_callback_headless(data, schedule):
    from diffusion_utils.figures.widgets import sampler_explorer, update_sampler

    box = sampler_explorer(data, num_particles=400, seed=2, method="euler", steps=5)
    c = box.controls
    assert c["eta"].disabled and set(c) == {"method", "grid", "steps", "eta"}
    c["method"].value = "dpmpp_2m"
    c["grid"].value = "logsnr"
    c["steps"].value = 20  # each change re-samples and updates the existing artists
    art = box.artists
    expected = du.sample(du.ExactDenoiser(data[:, None], schedule), schedule, playground_start(400, 2),
                         method="dpmpp_2m", steps=20, grid="logsnr")
    counts, _ = np.histogram(expected.samples[:, 0].numpy(), bins=art.edges)
    np.testing.assert_allclose(art.bars.get_data().values, counts / 400, atol=0)
    w1 = float(du.wasserstein_1d(expected.samples[:, 0], data))
    assert art.title.get_text() == f"DPM-Solver++(2M), 20 steps, logsnr grid: NFE = 20, W₁ = {w1:.3g}"
    nfe, shown = art.current.get_data()
    assert list(nfe) == [20] and math.isclose(shown[0], w1, rel_tol=1e-12)
    nfes, w1s = art.curves["dpmpp_2m"].get_data()
    assert list(nfes) == [5, 20] and w1s[0] == box.results[("dpmpp_2m", "logsnr", 0.0, 5)][1], "this grid's points"
    assert box.results[("dpmpp_2m", "uniform", 0.0, 5)][1] != w1s[0]
    c["steps"].value = 50
    assert list(art.curves["dpmpp_2m"].get_data()[0]) == [5, 20, 50]
    c["method"].value = "ddim"
    assert not c["eta"].disabled
    c["eta"].value = 0.5  # stochastic DDIM: torch noise, seeded
    assert box.results[("ddim", "logsnr", 0.5, 50)][0] == 50
    n_children = len(art.ax_hist.get_children())
    update_sampler(art, np.zeros(10), {"heun": [(9, 0.5), (1, 0.9)]}, (9, 0.5), title="t")
    assert len(art.ax_hist.get_children()) == n_children, "the callback adds no artists"
    assert list(art.curves["heun"].get_data()[0]) == [1, 9] and art.ax_hist.get_ylim()[1] == 1.2
    plt.close("all")


# ---- in the browser ---------------------------------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
DESKTOP = {"width": 1366, "height": 900, "deviceScaleFactor": 1, "mobile": False}
FIG = 'document.querySelector(".sp-figure")'
# The particles, NFE, W1 and time grid of one setting, computed at once by the page.
RUN = f"""((settings) => {{
  const r = {FIG}.sp.set(settings);
  return {{x: Array.from(r.samples), nfe: r.nfe, w1: r.w1, times: r.times, settings: r.settings}};
}})"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory, data):
    """Headless Chromium and a page holding only the playground (10 000 particles), opened from disk."""
    from browser import Chromium
    from test_site import require_chromium

    folder = tmp_path_factory.mktemp("playground")
    snippet = du.sampler_playground_html(data, steps=10).data
    page_file = folder / "playground.html"
    page_file.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sampler playground</title>'
        "<style>body{margin:0;padding:12px;font-family:sans-serif}html[data-theme=dark] body{background:#121212}"
        f"main{{max-width:900px;margin:auto}}</style></head><body><main>{snippet}</main></body></html>",
        encoding="utf-8",
    )
    chromium = Chromium(require_chromium())
    yield chromium, page_file
    chromium.close()


def _open(browser, metrics: dict, *, wait_idle: bool = False):
    chromium, page_file = browser
    page = chromium.page()
    page.send("Emulation.setDeviceMetricsOverride", **metrics)
    page.send("Emulation.setTouchEmulationEnabled", enabled=metrics["mobile"])
    page.metrics = metrics
    page.goto(page_file.as_uri())
    page.wait_for(f"{FIG}.sp && {FIG}.sp.result")
    if wait_idle:
        page.wait_for(f"{FIG}.sp.idle", timeout=180)
    return page


@pytest.mark.browser
def test_browser_ode_samplers_equal_du_sample(browser, data, schedule):
    """DDIM (eta = 0), Euler, Heun, DPM-Solver++(2M) on every grid: the page's float64 particles are du.sample's."""
    page = _open(browser, DESKTOP)
    model = du.ExactDenoiser(data[:, None], schedule)
    xT = playground_start(10_000, 0)
    worst = 0.0
    try:
        for method in ODE_METHODS:
            for grid in du.GRIDS:
                for steps in (1, 7, 50):
                    got = page.js(f"({RUN})({json.dumps({'method': method, 'grid': grid, 'steps': steps, 'eta': 0})})")
                    want = du.sample(model, schedule, xT, method=method, steps=steps, grid=grid)
                    x = torch.tensor(got["x"], dtype=F64)
                    diff = float((x - want.samples[:, 0]).abs().max())
                    worst = max(worst, diff)
                    where = (method, grid, steps)
                    assert diff <= 1e-9, (*where, diff)
                    assert got["nfe"] == want.nfe, where
                    assert got["times"] == du.time_grid(schedule, steps, grid).tolist(), where
                    assert math.isclose(got["w1"], float(du.wasserstein_1d(want.samples[:, 0], data)),
                                        rel_tol=1e-12, abs_tol=1e-15), where
        assert not page.errors, page.errors
    finally:
        page.close()
    print(f"\nlargest |browser - du.sample| over 36 ODE runs of 10 000 particles: {worst:.1e}")


@pytest.mark.browser
def test_browser_time_grids(browser, schedule):
    """The page's time grids are du.time_grid's (rounding half to even, nearest training time, nudging): every step
    count up to 150, every 7th beyond, and every stop of the slider."""
    counts = sorted({*range(1, 151), *range(151, 1001, 7), *PLAYGROUND_STEPS})
    page = _open(browser, DESKTOP)
    try:
        grids = page.js(f"""((counts) => {{ const g = {FIG}.sp.timeGrid, out = {{}};
          for (const name of ["uniform", "karras", "logsnr"]) out[name] = counts.map((s) => Array.from(g(s, name)));
          return out; }})({json.dumps(counts)})""")
    finally:
        page.close()
    for grid in du.GRIDS:
        bad = [s for s, got in zip(counts, grids[grid]) if got != du.time_grid(schedule, s, grid).tolist()]
        assert not bad, (grid, bad[:10])


@pytest.mark.browser
def test_browser_stochastic_samplers_and_w1(browser, data, schedule):
    """DDPM, Euler-Maruyama and DDIM with eta > 0 draw the page's noise: finite particles, the right NFE, the W1
    of du.wasserstein_1d, and a distribution close to du.sample's (same settings, torch's noise)."""
    page = _open(browser, DESKTOP)
    model = du.ExactDenoiser(data[:, None], schedule)
    xT = playground_start(10_000, 0)
    try:
        for method, eta, steps in (("ddpm", 0, 200), ("euler_maruyama", 0, 200), ("ddim", 0.5, 100)):
            got = page.js(f"({RUN})({json.dumps({'method': method, 'grid': 'uniform', 'steps': steps, 'eta': eta})})")
            x = torch.tensor(got["x"], dtype=F64)
            assert bool(torch.isfinite(x).all()) and got["nfe"] == steps
            assert math.isclose(got["w1"], float(du.wasserstein_1d(x, data)), rel_tol=1e-12)
            g = torch.Generator().manual_seed(1)
            want = du.sample(model, schedule, xT, method=method, steps=steps, eta=eta, generator=g).samples[:, 0]
            assert float(du.wasserstein_1d(x, want)) < 0.05, (method, "not the sampler's distribution")
            again = page.js(f"({RUN})({json.dumps({'method': method, 'grid': 'uniform', 'steps': steps, 'eta': eta})})")
            assert again["x"] == got["x"], "the page's noise is seeded: the same setting gives the same particles"
        assert not page.errors, page.errors
    finally:
        page.close()


@pytest.mark.browser
def test_browser_update_is_fast(browser):
    """One update (sampler, W1, histogram and both panels redrawn) for 10 000 particles and 50 steps < 100 ms."""
    page = _open(browser, DESKTOP)
    try:
        timings = page.js(f"""(() => {{
          const sp = {FIG}.sp, out = {{}};
          for (const method of ["ddim", "euler", "heun", "dpmpp_2m", "ddpm", "euler_maruyama"]) {{
            const whole = [], sampler = [];
            for (let k = 0; k < 7; k++) {{
              const t0 = performance.now();
              sp.set({{method, steps: 50, grid: k % 2 ? "karras" : "uniform", eta: 0}});
              whole.push(performance.now() - t0); sampler.push(sp.result.ms);
            }}
            out[method] = {{whole, sampler, nfe: sp.result.nfe}};
          }}
          return out; }})()""")
        assert not page.errors, page.errors
    finally:
        page.close()
    lines = []
    for method, t in timings.items():
        whole, sampler = statistics.median(t["whole"][1:]), statistics.median(t["sampler"][1:])
        lines.append(f"  {method:15s} NFE {t['nfe']:3d}: update {whole:6.1f} ms (sampler + W1 {sampler:6.1f} ms)")
        assert whole < 100, (method, t)
    print("\nmedian of 6 updates, 10 000 particles, 50 steps, headless Chromium:\n" + "\n".join(lines))


@pytest.mark.browser
def test_browser_controls_and_background_curves(browser, data, schedule):
    """The controls drive the figure (select, + button, number field, eta only for DDIM); the background fills the
    W1-versus-NFE curves of all six methods on the current grid with the package's numbers (ODE methods)."""
    page = _open(browser, DESKTOP, wait_idle=True)
    try:
        done = page.js(f"""(() => Array.from({FIG}.sp.memo.values()).map((v) => [v.method, v.grid, v.eta, v.steps, v.nfe, v.w1]))()""")
        steps_per_method = {}
        for method, grid, _eta, steps, _nfe, _w1 in done:
            if grid == "uniform":
                steps_per_method.setdefault(method, set()).add(steps)
        assert set(steps_per_method) == set(du.METHODS)
        assert all({1, 2, 3, 5, 10, 20, 50, 100, 200} <= s for s in steps_per_method.values()), steps_per_method
        model = du.ExactDenoiser(data[:, None], schedule)
        xT = playground_start(10_000, 0)
        for method, grid, _eta, steps, nfe, w1 in done:
            if method in ODE_METHODS and steps in (3, 20):
                want = du.sample(model, schedule, xT, method=method, steps=steps, grid=grid)
                assert nfe == want.nfe and math.isclose(w1, float(du.wasserstein_1d(want.samples[:, 0], data)),
                                                        rel_tol=1e-9), (method, steps)
        flush = "new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))"
        control = f"((name) => {FIG}.querySelector(`.sp-control[data-name=\"${{name}}\"]`))"
        page.js(f"""(() => {{ const s = {control}("method").querySelector("select");
          s.value = "heun"; s.dispatchEvent(new Event("change")); }})()""")
        page.js(flush)
        heun = page.js(f"({{settings: {FIG}.sp.result.settings, eta: !{control}('eta').hidden}})")
        page.js(f"""{control}("steps").querySelector('.sp-step[data-step="1"]').click()""")
        page.js(flush)
        plus = page.js(f"{FIG}.sp.result.settings")
        page.js(f"""(() => {{ const n = {control}("steps").querySelector(".sp-number");
          n.value = "37"; n.dispatchEvent(new Event("change")); }})()""")
        page.js(flush)
        typed = page.js(f"{FIG}.sp.result")
        page.js(f"""(() => {{ const s = {control}("method").querySelector("select");
          s.value = "ddim"; s.dispatchEvent(new Event("change")); }})()""")
        page.js(flush)
        eta_visible = page.js(f"!{control}('eta').hidden")
        assert not page.errors, page.errors
    finally:
        page.close()
    assert heun["settings"] == {"method": "heun", "grid": "uniform", "steps": 10, "eta": 0} and not heun["eta"]
    assert plus["steps"] == 12, "+ goes to the next stop"
    assert typed["settings"]["steps"] == 37 and typed["nfe"] == 73, "any step count can be typed in"
    assert eta_visible


LAYOUT = f"""(() => {{
  const fig = {FIG}, box = (e) => {{ const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }};
  const visible = (e) => e.getClientRects().length > 0;
  const controls = Array.from(fig.querySelectorAll(".sp-control")).filter(visible).flatMap((row) =>
    Array.from(row.querySelectorAll("input, button, select")).map((c) => ({{
      row: row.dataset.name, tag: c.tagName.toLowerCase(), box: box(c),
      label: c.getAttribute("aria-label") || (c.labels && c.labels.length ? c.labels[0].textContent : "")}})));
  const svgs = Array.from(fig.querySelectorAll(".sp-panel > svg")).map((svg) => ({{box: box(svg),
    scale: svg.getBoundingClientRect().width / svg.viewBox.baseVal.width,
    px: Math.min(...Array.from(svg.querySelectorAll("text")).filter((t) => t.textContent.trim())
      .map((t) => parseFloat(getComputedStyle(t).fontSize)))}}));
  const texts = Array.from(fig.querySelectorAll(".sp-legend span, .sp-info, .sp-note, .sp-name, select, .sp-number"))
    .filter(visible).map((e) => parseFloat(getComputedStyle(e).fontSize));
  const inside = Array.from(fig.querySelectorAll(".sp-panel > svg")).map((svg) => {{
    const b = svg.getBoundingClientRect(), within = (r) => r.left >= b.left - 1 && r.right <= b.right + 1
      && r.top >= b.top - 1 && r.bottom <= b.bottom + 1;
    return Array.from(svg.querySelectorAll("text, :scope > circle")).filter((n) => !within(n.getBoundingClientRect()))
      .map((n) => n.textContent || n.tagName);
  }}).flat();
  const info = fig.querySelector(".sp-info");
  return {{fig: box(fig), scroll: [fig.scrollWidth, fig.clientWidth], viewport: innerWidth, controls, svgs,
           smallest: Math.min(...texts), outside: inside, infoScroll: [info.scrollWidth, info.clientWidth]}};
}})()"""
# Settings at the ends of the ranges: all particles near 0 (one tall bar), particles far outside the axis and the
# largest W1 (one Euler-Maruyama step), the largest NFE (Heun, 1000 steps), stochastic DDIM.
EXTREMES = [{"method": "ddim", "steps": 1, "grid": "uniform", "eta": 0},
            {"method": "euler_maruyama", "steps": 1, "grid": "karras", "eta": 0},
            {"method": "heun", "steps": 1000, "grid": "logsnr", "eta": 0},
            {"method": "ddim", "steps": 3, "grid": "uniform", "eta": 1}]

COLOURS = f"""(() => {{
  const fig = {FIG}, bg = getComputedStyle(fig).backgroundColor, out = [];
  const add = (what, sel, prop) => fig.querySelectorAll(sel).forEach((n) => out.push([what, getComputedStyle(n)[prop]]));
  add("text", ".sp-panel svg text", "fill"); add("axes", ".sp-axis", "stroke"); add("bars", ".sp-plot .sp-bars", "stroke");
  add("data stems", ".sp-plot .sp-stems", "stroke"); add("curves", ".sp-plot .sp-curve", "stroke");
  add("markers", ".sp-plot .sp-mark", "fill"); add("limit", ".sp-plot .sp-limit", "stroke");
  add("ring", ".sp-panel svg > .sp-current", "stroke"); add("summary", ".sp-info", "color"); add("note", ".sp-note", "color");
  add("buttons", ".sp-step", "borderTopColor"); add("names", ".sp-name", "color");
  return {{bg, items: out}};
}})()"""


def _rgb(colour: str) -> tuple[float, ...]:
    inner = colour[colour.index("(") + 1 : colour.rindex(")")].replace("/", ",").replace(" ", ",")
    return tuple(float(p) for p in inner.split(",") if p)[:3]


def _contrast(a, b) -> float:
    def lum(rgb):
        c = [v / 255 for v in rgb]
        c = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.browser
def test_browser_phone_and_desktop_layout_contrast_and_shots(browser):
    """390 px: controls stacked, 44 px touch targets with names, panels stacked, nothing wider than the screen;
    1366 px: panels side by side at their drawn size; every line and text >= 3:1 in light and dark mode."""
    from test_site import SITE

    shots = Path(os.environ.get("BOOK_SHOTS_DIR", SITE.parent / "screenshots")) / "figures"
    for name, metrics in (("phone", PHONE), ("desktop", DESKTOP)):
        page = _open(browser, metrics, wait_idle=True)
        try:
            layout = page.js(LAYOUT)
            x, _y, w, _h = layout["fig"]
            assert x >= 0 and x + w <= layout["viewport"] + 0.5 and layout["scroll"][0] <= layout["scroll"][1] + 1
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
                assert len(rows) == 2 and rows[1] - rows[0] >= 44, "the two selects on rows of their own"
            else:
                bottoms = [svg["box"][1] + svg["box"][3] for svg in (left, right)]
                assert abs(bottoms[0] - bottoms[1]) < 2 and right["box"][0] > left["box"][0] + left["box"][2] - 1
            for svg in layout["svgs"]:
                assert 0.99 < svg["scale"] < 1.01 and svg["px"] * 0.8 >= 11 - 0.1, (name, svg)
            assert layout["smallest"] >= 13, (name, layout["smallest"])
            for settings in EXTREMES:
                page.js(f"{FIG}.sp.set({json.dumps(settings)}).nfe")
                extreme = page.js(LAYOUT)
                assert not extreme["outside"], (name, settings, "outside its SVG", extreme["outside"])
                assert extreme["infoScroll"][0] <= extreme["infoScroll"][1] + 1, (name, settings, "summary overflows")
                assert extreme["scroll"][0] <= extreme["scroll"][1] + 1, (name, settings, "figure overflows")
            page.js(f"{FIG}.sp.set({json.dumps(EXTREMES[1])}).nfe")
            page.screenshot(shots / f"playground-{name}-extreme.png")
            page.js(f"{FIG}.sp.set({{method: 'dpmpp_2m', steps: 20, grid: 'logsnr', eta: 0}}).nfe")
            page.wait_for(f"{FIG}.sp.idle", timeout=180)
            for mode in ("light", "dark"):
                page.js(f"document.documentElement.dataset.theme = {json.dumps(mode)}")
                colours = page.js(COLOURS)
                bg = _rgb(colours["bg"])
                low = {(what, c) for what, c in colours["items"] if _contrast(_rgb(c), bg) < 3.0}
                assert not low, (name, mode, colours["bg"], low)
                page.pump(0.2)
                page.screenshot(shots / f"playground-{name}-{mode}.png")
            assert not page.errors, page.errors
        finally:
            page.close()


@pytest.mark.browser
def test_browser_no_request_leaves_the_page(browser):
    from browser import Chromium, netlog_requests
    from test_site import require_chromium

    _chromium, page_file = browser
    own = Chromium(require_chromium())
    try:
        page = own.page()
        page.goto(page_file.as_uri())
        page.wait_for(f"{FIG}.sp && {FIG}.sp.result")
        page.js(f"{FIG}.sp.set({{method: 'ddpm', steps: 20, grid: 'logsnr', eta: 0}}).nfe")
        page.pump(1.0)
        requests, errors, failed = list(page.requests), list(page.errors), list(page.failed)
        page.close()
    finally:
        events = own.close()
    assert requests == [page_file.as_uri()], requests
    assert not errors and not failed, (errors, failed)
    page_requests = [url for url, initiator in netlog_requests(events) if initiator != "not an origin"]
    assert all(url.startswith("file:") for url in page_requests), page_requests
