"""The built website in a real browser: every page of _build/html opened in headless Chromium.

`tools/test.sh` builds the site first and sets BOOK_SITE_TEST=required, so there a missing site or a missing
Chromium fails; a bare `pytest tests` without a built site skips this module. Screenshots of every page go to
_build/screenshots/.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch
from browser import Chromium, SiteServer, find_chromium, is_external, netlog_requests

import diffusion_utils as du

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("BOOK_SITE_DIR", ROOT / "_build" / "html")).resolve()  # another edition: BOOK_SITE_DIR=...
SHOTS = ROOT / "_build" / "screenshots"
REQUIRED = os.environ.get("BOOK_SITE_TEST") == "required"


def _pages() -> list[str]:
    """Every HTML page of the site (not the assets under _static/, _sources/, ...)."""
    if not SITE.is_dir():
        return []
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html") if not p.relative_to(SITE).parts[0].startswith("_"))


def _chapter_pages() -> list[str]:
    """The chapters (notebooks): Part I and Part II."""
    return [p for p in _pages() if p.startswith(("book/forward/", "book/reverse/"))]


# Slider settings the kernel-free figures are moved to (beta is set on a log slider and read back).
MARGINAL_SETTINGS = [{"schedule": "linear", "t": 1}, {"schedule": "cosine", "t": 37},
                     {"schedule": "constant", "t": 500, "beta": 0.04}, {"schedule": "linear", "t": 1000}]
FIXED_FACTOR_SETTINGS = [{"a": 0.95, "b": 0.3, "t": 25}, {"a": 0.5, "b": 1.5, "t": 1},
                         {"a": 0.995, "b": 0.05, "t": 60}]

VISIT = """
(async () => {
  const out = {title: document.title};
  const math = document.querySelectorAll("span.math, div.math");
  out.math = math.length;
  if (math.length) {
    const t0 = Date.now();
    while (!(window.MathJax && MathJax.startup && MathJax.startup.promise) && Date.now() - t0 < 20000)
      await new Promise((r) => setTimeout(r, 50));
    await MathJax.startup.promise;
    out.typeset = Array.from(math).filter((m) => m.querySelector("mjx-container")).length;
    out.math_errors = document.querySelectorAll("mjx-merror").length;
    out.mathjax_src = Array.from(document.scripts).map((s) => s.src).filter((s) => s.includes("mathjax"));
  }
  out.error_outputs = Array.from(document.querySelectorAll(".output.stderr, .output.traceback, .output.error"))
    .map((e) => e.textContent.slice(0, 200));
  out.unlabelled_images = Array.from(document.querySelectorAll("article img"))
    .filter((img) => !img.alt || img.alt.endsWith(".png") || img.alt.endsWith(".svg")).map((img) => img.src);
  out.widget_views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  out.launch = Array.from(document.querySelectorAll("a")).map((a) => a.href)
    .filter((h) => /mybinder|colab|hub\\/user-redirect/.test(h));
  out.ipynb = Array.from(document.querySelectorAll("a")).map((a) => a.getAttribute("href") || "")
    .filter((h) => h.endsWith(".ipynb"));
  return out;
})()
"""

WIDGETS_RENDERED = """
Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'))
  .every((s) => s.parentElement.querySelector(".jupyter-widgets, .widget-box, .widget-hprogress, .widget-html"))
"""

SCRUB = """
(() => {
  return Array.from(document.querySelectorAll("div.animation")).map((anim) => {
    const img = anim.querySelector("img"), slider = anim.querySelector('input[type="range"]');
    const next = anim.querySelector('button[title="Next frame"]');
    const first = img.src;
    next.click();
    const afterStep = img.src, stepValue = slider.value;
    slider.value = slider.max;
    slider.dispatchEvent(new Event("input"));
    return {frames: +slider.max + 1, stepChanged: afterStep !== first, stepValue: +stepValue,
            endChanged: img.src !== afterStep, alt: img.alt};
  });
})()
"""

MOVE = """
((index, settings) => {
  const fig = document.querySelectorAll(".kf-figure")[index];
  const before = Array.from(fig.querySelectorAll("svg path")).map((p) => p.getAttribute("d")).join("|");
  const redraws = fig.kf.redraws;
  for (const [name, value] of Object.entries(settings)) {
    const input = fig.querySelector(`[name="${name}"]`);
    input.value = name === "beta" ? Math.log10(value) : value;
    input.dispatchEvent(new Event("input"));
  }
  const after = Array.from(fig.querySelectorAll("svg path")).map((p) => p.getAttribute("d")).join("|");
  return {changed: before !== after, redraws: fig.kf.redraws - redraws, config: JSON.parse(fig.dataset.config),
          result: fig.kf.result};
})
"""


def _open(page, url: str) -> dict:
    """Load a page, wait for MathJax and the widgets, and return the VISIT report."""
    page.goto(url)
    report = page.js(VISIT)
    if report["widget_views"]:
        page.wait_for(WIDGETS_RENDERED, timeout=30)
    report["widgets_rendered"] = bool(page.js(WIDGETS_RENDERED))
    return report


@pytest.fixture(scope="module")
def visits():
    """Open every page over HTTP and from disk; return per-page reports and the requests the browser made."""
    pages = _pages()
    if not pages:
        if REQUIRED:
            pytest.fail(f"no built site at {SITE}: tools/test.sh builds it before the tests")
        pytest.skip(f"no built site at {SITE} (run bash tools/build.sh, or the whole tools/test.sh)")
    binary = find_chromium()
    if binary is None:
        if REQUIRED:
            pytest.fail("Chromium not found (Debian: apt-get install chromium; or set CHROMIUM=/path/to/chrome)")
        pytest.skip("Chromium not found")
    server = SiteServer(SITE)
    browser = Chromium(binary)
    reports: dict[str, dict] = {}
    try:
        for page_path in pages:
            page = browser.page()
            try:
                report = _open(page, server.url + page_path)
                report["animations"] = page.js(SCRUB)
                report["kernel_free"] = []
                for index in range(page.js('document.querySelectorAll(".kf-figure").length')):
                    kind = page.js(f'JSON.parse(document.querySelectorAll(".kf-figure")[{index}].dataset.config).kind')
                    settings = MARGINAL_SETTINGS if kind == "marginal" else FIXED_FACTOR_SETTINGS
                    for s in settings:
                        report["kernel_free"].append(page.js(f"({MOVE})({index}, {json.dumps(s)})"))
                page.pump(0.5)  # late errors (asynchronous scripts)
                page.screenshot(SHOTS / page_path.replace("/", "__").replace(".html", ".png"))
                report.update(errors=page.errors, failed=page.failed, requests=page.requests)
                reports[page_path] = report
            finally:
                page.close()
        # The same pages opened from disk, as a reader who double-clicks index.html does.
        for page_path in pages:
            page = browser.page()
            try:
                report = _open(page, (SITE / page_path).as_uri())
                page.pump(0.3)
                reports[page_path]["from_disk"] = {
                    "typeset": report.get("typeset", 0), "math": report["math"], "errors": page.errors,
                    "failed": page.failed, "requests": [u for u in page.requests if is_external(u, server.url)]}
            finally:
                page.close()
    finally:
        netlog = browser.close()
        server.close()
    return {"pages": reports, "netlog": netlog_requests(netlog), "site": server.url}


def test_every_page_loads_without_errors(visits):
    problems = {p: r["errors"] + r["failed"] + r["error_outputs"] for p, r in visits["pages"].items()
                if r["errors"] or r["failed"] or r["error_outputs"]}
    assert not problems, json.dumps(problems, indent=1)
    assert set(_chapter_pages()) <= set(visits["pages"]) and len(_chapter_pages()) >= 8


def test_pages_opened_from_disk_work_too(visits):
    """file:// pages: no errors, math typeset (MathJax falls back to hidden MathML for speech), nothing fetched."""
    for page, r in visits["pages"].items():
        disk = r["from_disk"]
        assert not (disk["errors"] or disk["failed"] or disk["requests"]), (page, disk)
        assert disk["typeset"] == disk["math"], (page, disk["typeset"], disk["math"])


def test_no_requests_to_other_hosts(visits):
    """Zero requests to other hosts: what DevTools saw per page, and every page-initiated request in the net log."""
    site = visits["site"]
    from_pages = {p: [u for u in r["requests"] if is_external(u, site)] for p, r in visits["pages"].items()}
    assert not any(from_pages.values()), from_pages
    # Chromium's own traffic (update checks, accounts) has initiator "not an origin"; pages' requests have an origin
    # (the test server's, or "null" for file:// pages).
    page_initiated = [(u, i) for u, i in visits["netlog"] if i != "not an origin" and is_external(u, site)]
    assert not page_initiated, page_initiated
    local = [u for u, i in visits["netlog"] if not is_external(u, site) and u.startswith("http")]
    assert len(local) >= len(visits["pages"]), "the net log did not record the site's own requests"


def test_math_is_typeset_by_the_local_mathjax(visits):
    with_math = {p: r for p, r in visits["pages"].items() if r["math"]}
    assert len(with_math) >= 8
    for page, r in with_math.items():
        assert r["typeset"] == r["math"], (page, r["typeset"], r["math"])
        assert r["math_errors"] == 0, page
        local = [src for src in r["mathjax_src"] if src.startswith(visits["site"] + "_static/mathjax/tex-mml-chtml.js")]
        assert local, (page, "MathJax is not served by the site (was npm missing at set-up?)", r["mathjax_src"])
        assert all(src.startswith(visits["site"]) for src in r["mathjax_src"]), (page, r["mathjax_src"])


def test_embedded_widgets_render(visits):
    """Widget outputs (the training progress bars) render from their embedded state: no blank cells."""
    with_widgets = {p: r for p, r in visits["pages"].items() if r["widget_views"]}
    assert with_widgets, "expected the training chapters' progress bars as embedded widgets"
    assert all(r["widgets_rendered"] for r in with_widgets.values()), with_widgets.keys()


def test_animation_twins_scrub(visits):
    animations = {p: r["animations"] for p, r in visits["pages"].items() if r["animations"]}
    assert {"book/forward/example.html", "book/reverse/sampling.html"} <= set(animations)
    for page, found in animations.items():
        for a in found:
            assert a["frames"] > 10 and a["stepChanged"] and a["stepValue"] == 1 and a["endChanged"], (page, a)
            assert a["alt"], (page, "animation frame without alt text")


def test_images_have_alt_text(visits):
    missing = {p: r["unlabelled_images"] for p, r in visits["pages"].items() if r["unlabelled_images"]}
    assert not missing, missing


def test_launch_buttons_and_notebook_downloads(visits):
    for page in _chapter_pages():
        r = visits["pages"][page]
        assert any("mybinder.org" in h for h in r["launch"]), page
        assert any("colab.research.google.com" in h and h.endswith(".ipynb") for h in r["launch"]), page
        notebook = page.replace(".html", ".ipynb")
        assert any(h.endswith(notebook) for h in r["ipynb"]), (page, r["ipynb"])
        executed = json.loads((SITE / "_sources" / notebook).read_text())
        assert any(c.get("outputs") for c in executed["cells"] if c["cell_type"] == "code"), notebook


def _schedule(kind: str, T: int, beta: float) -> du.NoiseSchedule:
    """The package's schedule that the marginal figure's controls name, in float64."""
    if kind == "constant":
        return du.NoiseSchedule.constant(T, beta, dtype=torch.float64)
    return getattr(du.NoiseSchedule, kind)(T, dtype=torch.float64)


def test_kernel_free_figures_recompute_the_package_numbers(visits):
    moves = [m for r in visits["pages"].values() for m in r["kernel_free"]]
    kinds = {m["config"]["kind"] for m in moves}
    assert kinds == {"marginal", "fixed_factor"}, kinds
    for m in moves:
        assert m["changed"] and m["redraws"] >= 1, "the figure did not change when its sliders moved"
        cfg, res = m["config"], m["result"]
        f64 = torch.float64
        grid = torch.tensor(res["grid"], dtype=f64)
        assert torch.allclose(grid, torch.linspace(*cfg["grid"][:2], cfg["grid"][2], dtype=f64), rtol=0, atol=1e-12)
        t = res["t"]
        if cfg["kind"] == "marginal":
            kind, T = res["settings"]["schedule"], cfg["T"]
            schedule = _schedule(kind, T, res["settings"]["beta"])
            assert torch.allclose(torch.tensor(res["alpha_bars"], dtype=f64), schedule.alpha_bars, rtol=1e-10, atol=1e-15)
            # the dataset back from its distinct points and weights (count / n)
            n = round(1 / min(cfg["weights"]))
            counts = torch.tensor([round(w * n) for w in cfg["weights"]])
            assert torch.allclose(counts.double() / n, torch.tensor(cfg["weights"], dtype=f64))
            data = torch.tensor(cfg["points"], dtype=f64).repeat_interleave(counts)
            expected = du.marginal_density(grid, data, schedule, t)
            assert torch.allclose(torch.tensor(res["density"], dtype=f64), expected, rtol=1e-9, atol=1e-12), (kind, t)
        else:
            chain = du.FixedFactorChain(res["settings"]["a"], res["settings"]["b"])
            steps = torch.arange(cfg["T"] + 1)[:, None]
            mean, var = chain.marginal(torch.tensor([cfg["x0"]], dtype=f64), steps)
            assert torch.allclose(torch.tensor(res["means"], dtype=f64), mean[:, 0], rtol=1e-12, atol=1e-12)
            assert torch.allclose(torch.tensor(res["variances"], dtype=f64), var[:, 0], rtol=1e-12, atol=1e-12)
            assert math.isclose(res["stationary"], chain.stationary_variance, rel_tol=1e-12)
            expected = du.mixture_density(grid, mean[t], var[t])
            assert torch.allclose(torch.tensor(res["density"], dtype=f64), expected, rtol=1e-9, atol=1e-12)
