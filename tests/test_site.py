"""The built website in a real browser: every page of _build/html opened in headless Chromium.

Every page is opened three times: over HTTP at desktop width (1366x900: the content checks, the page's weight with
the cache off, equations, the menu button collapsing the sidebar), over HTTP on a phone (390x844 with mobile
emulation: nothing scrolls sideways, the visible menu button opens the chapter list, progress bars keep bar and
text), and from disk (file://) with a dark colour-scheme preference (no errors, math typeset, dark theme followed,
text contrast; contrast of the browser-drawn figures' lines is printed). `tools/test.sh` builds the site first and
sets BOOK_SITE_TEST=required, so there a missing site or a missing Chromium fails; a bare `pytest tests` without a
built site skips this module. Screenshots of every page at both widths (and dark ones of the chapters) go to
_build/screenshots/ beside the site's html/ folder (file names end in -390, -1366, -1366-dark).
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from browser import Chromium, SiteServer, find_chromium, is_external, netlog_requests
from test_guidance_playground import GUIDANCE_RUN, SITE_SETTING, check_guidance_run

import diffusion_utils as du

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("BOOK_SITE_DIR", ROOT / "_build" / "html")).resolve()  # another edition: BOOK_SITE_DIR=...
SHOTS = SITE.parent / "screenshots"  # _build/screenshots for _build/html
PHONE, DESKTOP = (390, 844), (1366, 900)
MAX_PAGE_BYTES = 5_000_000
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


LAYOUT = """
(() => {
  const W = document.documentElement.clientWidth;
  const column = document.querySelector("article.bd-article");
  const scrolls = (el, axis) => {
    const style = getComputedStyle(el);
    return axis === "y" ? ["auto", "scroll"].includes(style.overflowY) && el.scrollHeight > el.clientHeight
                        : ["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth;
  };
  const equations = Array.from(document.querySelectorAll('mjx-container[display="true"]')).map((m) => {
    const box = m.closest("div.math") || m.parentElement, r = m.getBoundingClientRect();
    const tex = (box.querySelector("mjx-assistive-mml, math") || box).textContent.slice(0, 60);
    return {vertical: scrolls(m, "y") || scrolls(box, "y"), horizontal: scrolls(m, "x") || scrolls(box, "x"),
            width: Math.round(m.scrollWidth), box: Math.round(m.clientWidth), right: Math.round(r.right),
            section: (m.closest("section[id]") || {}).id || "", tex};
  });
  const progress = Array.from(document.querySelectorAll(".static-widget")).map((w) => {
    const bar = w.querySelector("progress"), r = w.getBoundingClientRect();
    return {bar: bar ? Math.round(bar.getBoundingClientRect().width) : 0, value: bar ? bar.value : null,
            text: w.textContent.trim(), right: Math.round(r.right), height: Math.round(r.height)};
  });
  return {width: W, scrollWidth: document.documentElement.scrollWidth, equations, progress,
          column: column ? Math.round(column.getBoundingClientRect().width) : 0};
})()
"""

VISIBLE_TOGGLE = """
(() => {
  const b = Array.from(document.querySelectorAll(".primary-toggle"))
    .find((e) => e.getBoundingClientRect().width > 0 && getComputedStyle(e).visibility !== "hidden");
  if (!b) return null;
  b.scrollIntoView({block: "nearest"});
  const r = b.getBoundingClientRect();
  return {x: r.x + r.width / 2, y: r.y + r.height / 2, first: b === document.querySelector(".primary-toggle")};
})()
"""

# The chapter list a reader sees: the open sidebar dialog (narrow screens) or the sidebar itself.
CHAPTER_LIST = """
(() => {
  const dialog = document.getElementById("pst-primary-sidebar-modal");
  const sidebar = document.getElementById("pst-primary-sidebar");
  const shown = (el) => {
    const r = el.getBoundingClientRect(), style = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth && style.visibility !== "hidden"
      && +style.opacity > 0.5;
  };
  const links = (root) => Array.from(root.querySelectorAll("nav a.reference.internal")).filter(shown)
    .map((a) => a.textContent.trim());
  const article = document.querySelector(".bd-article-container");
  return {dialogOpen: !!(dialog && dialog.open), dialogShown: !!(dialog && dialog.open && shown(dialog)),
          dialogLinks: dialog && dialog.open ? links(dialog) : [],
          sidebarHidden: !!(sidebar && sidebar.classList.contains("pst-sidebar-hidden")),
          sidebarShown: !!(sidebar && shown(sidebar)), sidebarLinks: sidebar ? links(sidebar) : [],
          article: article ? Math.round(article.getBoundingClientRect().width) : 0};
})()
"""

# Dark mode: the theme followed, text contrast of the page chrome, and the browser-drawn figures' line contrast.
DARK = """
(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const text = (sel) => {
    const el = document.querySelector(sel);
    return el ? +ratio(rgb(getComputedStyle(el).color).slice(0, 3), background(el)).toFixed(2) : null;
  };
  const lines = [];
  document.querySelectorAll(".kf-figure svg [stroke]").forEach((el) => {
    const stroke = getComputedStyle(el).stroke;
    if (!stroke || stroke === "none" || el.closest("defs")) return;
    const bg = background(el.closest("svg"));
    lines.push({stroke, ratio: +ratio(rgb(stroke).slice(0, 3), bg).toFixed(2)});
  });
  return {theme: document.documentElement.dataset.theme, mode: document.documentElement.dataset.mode,
          body: text("article.bd-article p") || text("article.bd-article"), sidebar: text(".bd-sidebar-primary a"),
          header: text(".bd-header-article"), lines};
})()
"""


# Sphinx's search has listed its results (and fetched their snippets, where it can).
SEARCH_DONE = ('typeof Search !== "undefined" && Search._pulse_status === -1'
               ' && document.querySelectorAll("#search-results li").length > 0')
SNIPPETS_DONE = 'Array.from(document.querySelectorAll("#search-results li")).every((li) => li.querySelector("p.context"))'


# The sampler playground on a built page: mounted with a result, then one deterministic setting computed at once.
PLAYGROUND_RUN = """(() => {
  const fig = FIG, first = fig.sp.result;
  const r = fig.sp.set({method: "dpmpp_2m", steps: 20, grid: "logsnr", eta: 0});
  return {config: JSON.parse(fig.dataset.config), first_nfe: first.nfe, x: Array.from(r.samples), nfe: r.nfe,
          w1: r.w1, stroked: fig.querySelectorAll("svg path, svg line, svg polyline").length};
})()"""


def _open(page, url: str) -> dict:
    """Load a page, wait for MathJax and the widgets, and return the VISIT report."""
    page.goto(url)
    report = page.js(VISIT)
    if report["widget_views"]:
        page.wait_for(WIDGETS_RENDERED, timeout=30)
    report["widgets_rendered"] = bool(page.js(WIDGETS_RENDERED))
    return report


def _shot(page_path: str, suffix: str) -> Path:
    return SHOTS / (page_path.replace("/", "__").replace(".html", "") + f"-{suffix}.png")


def _toggle_and_read(page, tap: bool) -> dict:
    """Press the visible menu button as a reader does (a tap on a phone, a click on a desktop); the chapter list."""
    where = page.js(VISIBLE_TOGGLE)
    if where is None:
        return {"button": False}
    (page.tap if tap else page.click)(where["x"], where["y"])
    page.pump(0.1)
    page.wait_for('document.getAnimations().every((a) => a.playState !== "running")', timeout=5)  # the slide
    return {"button": True, "first": where["first"], **page.js(CHAPTER_LIST)}


def _desktop(page, server, page_path: str) -> dict:
    """Desktop width over HTTP, cache off: the content checks, weight, layout, screenshot, then the menu button."""
    page.send("Network.setCacheDisabled", cacheDisabled=True)
    page.emulate(*DESKTOP)
    url = server.url + page_path + ("?q=diffusion" if page_path == "search.html" else "")
    report = _open(page, url)
    report["animations"] = page.js(SCRUB)
    report["kernel_free"] = []
    for index in range(page.js('document.querySelectorAll(".kf-figure").length')):
        kind = page.js(f'JSON.parse(document.querySelectorAll(".kf-figure")[{index}].dataset.config).kind')
        settings = MARGINAL_SETTINGS if kind == "marginal" else FIXED_FACTOR_SETTINGS
        for s in settings:
            report["kernel_free"].append(page.js(f"({MOVE})({index}, {json.dumps(s)})"))
    report["playground"] = []
    for index in range(page.js('document.querySelectorAll(".sp-figure").length')):
        fig = f'document.querySelectorAll(".sp-figure")[{index}]'
        page.wait_for(f"{fig}.sp && {fig}.sp.result", timeout=30)
        report["playground"].append(page.js(PLAYGROUND_RUN.replace("FIG", fig)))
    report["guidance_playground"] = []
    for index in range(page.js('document.querySelectorAll(".gp-figure").length')):
        fig = f'document.querySelectorAll(".gp-figure")[{index}]'
        page.wait_for(f"{fig}.gp && {fig}.gp.result", timeout=30)
        run = f"({GUIDANCE_RUN.replace('FIG', fig)})({json.dumps(SITE_SETTING)})"
        report["guidance_playground"].append(page.js(run))
    if page_path == "search.html":
        page.wait_for(SEARCH_DONE, timeout=30)
        try:  # each result's snippet arrives with its own fetch, after the list is complete
            page.wait_for(SNIPPETS_DONE, timeout=15)
        except TimeoutError:
            pass  # the test names the results without a snippet
        report["search"] = page.js('Array.from(document.querySelectorAll("#search-results li"))'
                                   '.map((li) => !!li.querySelector("p.context"))')
    page.pump(0.5)  # late errors (asynchronous scripts), fonts
    report["layout"] = page.js(LAYOUT)
    report["weight"] = page.weight
    report["heaviest"] = sorted(page.received.items(), key=lambda kv: -kv[1])[:3]
    page.screenshot(_shot(page_path, str(DESKTOP[0])))
    before = page.js(CHAPTER_LIST)
    collapsed = _toggle_and_read(page, tap=False)
    expanded = _toggle_and_read(page, tap=False)
    report["menu"] = {"before": before, "collapsed": collapsed, "expanded": expanded}
    report.update(errors=page.errors, failed=page.failed, requests=page.requests)
    return report


def _phone(page, server, page_path: str) -> dict:
    """Phone width over HTTP (mobile emulation, touch): layout, screenshot, then a tap on the menu button."""
    page.emulate(*PHONE, mobile=True)
    report = _open(page, server.url + page_path)
    page.pump(0.3)
    report["layout"] = page.js(LAYOUT)
    page.screenshot(_shot(page_path, str(PHONE[0])))
    report["menu"] = _toggle_and_read(page, tap=True)
    page.pump(0.2)
    report.update(errors=page.errors, failed=page.failed)
    return report


def _disk(page, server, page_path: str) -> dict:
    """From disk (file://), as a reader who double-clicks index.html does, with a dark colour-scheme preference."""
    page.emulate(*DESKTOP, dark=True)
    report = _open(page, (SITE / page_path).as_uri() + ("?q=diffusion" if page_path == "search.html" else ""))
    if page_path == "search.html":
        page.wait_for(SEARCH_DONE, timeout=30)
    page.pump(0.3)
    dark = page.js(DARK)
    if page_path.startswith(("book/forward/", "book/reverse/")):
        page.screenshot(_shot(page_path, f"{DESKTOP[0]}-dark"))
    return {"typeset": report.get("typeset", 0), "math": report["math"], "errors": page.errors,
            "failed": page.failed, "requests": [u for u in page.requests if is_external(u, server.url)],
            "dark": dark, "search_note": page.js('!!document.querySelector(".file-search-note")')}


def require_site(built: bool) -> None:
    """Fail (under tools/test.sh, BOOK_SITE_TEST=required) or skip when the built site is missing."""
    if not built:
        if REQUIRED:
            pytest.fail(f"no built site at {SITE}: tools/test.sh builds it before the tests")
        pytest.skip(f"no built site at {SITE} (run bash tools/build.sh, or the whole tools/test.sh)")


def require_chromium() -> str:
    """The Chromium binary; fail (under tools/test.sh) or skip without one."""
    binary = find_chromium()
    if binary is None:
        if REQUIRED:
            pytest.fail("Chromium not found (Debian: apt-get install chromium; or set CHROMIUM=/path/to/chrome)")
        pytest.skip("Chromium not found")
    return binary


@pytest.fixture(scope="module")
def visits():
    """Open every page at desktop and phone width over HTTP and from disk in dark mode; return the reports."""
    pages = _pages()
    require_site(bool(pages))
    server = SiteServer(SITE)
    browser = Chromium(require_chromium())
    reports: dict[str, dict] = {page_path: {} for page_path in pages}
    seconds = {"desktop": 0.0, "phone": 0.0, "disk": 0.0}
    visit = {"desktop": _desktop, "phone": _phone, "disk": _disk}

    def run(job: tuple[str, str]) -> tuple[str, str, dict, float]:
        page_path, mode = job
        start = time.monotonic()
        page = browser.page()
        try:
            return page_path, mode, visit[mode](page, server, page_path), time.monotonic() - start
        finally:
            page.close()

    try:
        # Two tabs at a time (each tab is focused by emulation, so none is throttled as a background tab): the
        # visits are independent, and the two cores render two pages in about the time of one and a half.
        jobs = [(page_path, mode) for mode in visit for page_path in pages]
        with ThreadPoolExecutor(max_workers=2) as pool:
            for page_path, mode, report, spent in pool.map(run, jobs):
                seconds[mode] += spent
                if mode == "desktop":
                    reports[page_path].update(report)
                else:
                    reports[page_path]["phone" if mode == "phone" else "from_disk"] = report
    finally:
        netlog = browser.close()
        server.close()
    print("\nsite visits, seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()))
    return {"pages": reports, "netlog": netlog_requests(netlog), "site": server.url}


def test_every_page_loads_without_errors(visits):
    problems = {p: r["errors"] + r["failed"] + r["error_outputs"] + r["phone"]["errors"] + r["phone"]["failed"]
                for p, r in visits["pages"].items()
                if r["errors"] or r["failed"] or r["error_outputs"] or r["phone"]["errors"] or r["phone"]["failed"]}
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


def test_progress_bars_are_static_and_keep_bar_and_text(visits):
    """Finished training progress bars (tqdm widgets) are drawn as static HTML (tools/offline_assets.py): bar and
    counts visible at both widths, inside the column on a phone. A widget view the site cannot draw statically
    still renders from its embedded state (then, and only then, the page loads the widget manager)."""
    with_bars = {p: r for p, r in visits["pages"].items() if r["layout"]["progress"]}
    assert {"book/reverse/training.html", "book/reverse/sampling.html"} <= set(with_bars), sorted(with_bars)
    for page, r in with_bars.items():
        for width, layout in ((DESKTOP[0], r["layout"]), (PHONE[0], r["phone"]["layout"])):
            for bar in layout["progress"]:
                assert bar["bar"] >= 100 and bar["value"] == 1, (page, width, bar)
                assert "100%" in bar["text"] and "/" in bar["text"], (page, width, bar)
                assert bar["right"] <= width, (page, width, bar)
    for page, r in visits["pages"].items():
        manager = any("widgets/embed-amd.js" in u for u in r["requests"])
        assert manager == bool(r["widget_views"]), (page, "widget manager loaded without a widget to draw"
                                                    if manager else "widget views without the manager")
        assert r["widgets_rendered"], page


def test_page_weight(visits):
    """Every page, with everything it loads (cache off), stays under 5 MB (the search page, which fetches the pages it
    finds, under 15 MB)."""
    print("\npage weights (bytes received, cache off; the three largest files):")
    for page, r in sorted(visits["pages"].items(), key=lambda kv: -kv[1]["weight"]):
        heaviest = ", ".join(f"{u.rsplit('/', 1)[-1].split('?')[0]} {n / 1e6:.2f}" for u, n in r["heaviest"])
        print(f"  {r['weight'] / 1e6:5.2f} MB  {page}  ({heaviest})")
    # The search page also fetches every page that matches the test's query, to show a snippet of each (Sphinx's
    # searchtools): its weight grows with the book, and each page it fetches is held to the limit on its own.
    limit = {"search.html": 3 * MAX_PAGE_BYTES}
    heavy = {p: r["weight"] for p, r in visits["pages"].items() if r["weight"] >= limit.get(p, MAX_PAGE_BYTES)}
    assert not heavy, heavy
    assert all(r["weight"] > 10_000 for r in visits["pages"].values()), "weights not measured"


def test_no_page_scrolls_sideways_on_a_phone(visits):
    """At 390 px nothing widens the page (the layout viewport grows with a page that overflows, so compare the
    document's scrollWidth with 390); a display equation wider than the phone scrolls inside its own box."""
    wide = {p: r["phone"]["layout"]["scrollWidth"] for p, r in visits["pages"].items()
            if r["phone"]["layout"]["scrollWidth"] > PHONE[0]}
    assert not wide, wide
    for page, r in visits["pages"].items():
        for eq in r["phone"]["layout"]["equations"]:
            assert eq["right"] <= PHONE[0] and (eq["width"] <= eq["box"] + 1 or eq["horizontal"]), (page, eq)


def test_no_spurious_equation_scrollbars(visits):
    """No display equation shows a vertical scrollbar (at either width), and at desktop width none is wider than
    the text column."""
    for page, r in visits["pages"].items():
        for width, layout in ((DESKTOP[0], r["layout"]), (PHONE[0], r["phone"]["layout"])):
            tall = [eq for eq in layout["equations"] if eq["vertical"]]
            assert not tall, (page, width, tall[:3])
        wide = [eq for eq in r["layout"]["equations"] if eq["horizontal"] or eq["width"] > eq["box"] + 1]
        assert not wide, (page, "wider than the text column at 1366 px", wide)


def test_menu_button_opens_the_chapter_list_on_a_phone(visits):
    """A tap on the visible menu button (not the hidden one the theme binds, pydata-sphinx-theme#2451) opens the
    sidebar dialog with the chapter links."""
    chapters = len(_chapter_pages())
    for page, r in visits["pages"].items():
        menu = r["phone"]["menu"]
        assert menu["button"] and not menu["first"], (page, "no visible menu button", menu)
        assert menu["dialogShown"], (page, "the chapter list did not open", menu)
        assert len(menu["dialogLinks"]) >= chapters, (page, menu["dialogLinks"])


def test_menu_button_collapses_the_sidebar_on_a_desktop(visits):
    """At 1366 px the visible menu button hides the chapter list and the text column widens; a second click brings
    both back."""
    for page, r in visits["pages"].items():
        before, collapsed, expanded = r["menu"]["before"], r["menu"]["collapsed"], r["menu"]["expanded"]
        assert before["sidebarShown"] and len(before["sidebarLinks"]) >= len(_chapter_pages()), (page, before)
        assert collapsed["button"] and collapsed["sidebarHidden"] and not collapsed["sidebarShown"], (page, collapsed)
        assert not collapsed["dialogOpen"], (page, "a dialog opened on a desktop", collapsed)
        assert collapsed["article"] > before["article"] + 100, (page, before["article"], collapsed["article"])
        assert expanded["sidebarShown"] and expanded["article"] < collapsed["article"] - 100, (page, expanded)


def test_dark_mode_follows_the_reader(visits):
    """With a dark colour-scheme preference every page turns dark on a first visit (no console error: checked from
    disk, where the same pages load without errors), and text keeps a contrast of at least 4.5:1. The contrast of
    the browser-drawn figures' lines is printed (the figures' own test holds them to 3:1)."""
    print("\ndark mode, contrast (text on its background; figure lines on the figure's background):")
    for page, r in visits["pages"].items():
        dark = r["from_disk"]["dark"]
        assert dark["theme"] == "dark" and dark["mode"] == "auto", (page, dark)
        for part in ("body", "sidebar", "header"):
            assert dark[part] is None or dark[part] >= 4.5, (page, part, dark[part])
        if dark["lines"]:
            lines = sorted({(line["stroke"], line["ratio"]) for line in dark["lines"]}, key=lambda x: x[1])
            print(f"  {page}: text {dark['body']}:1; lines " + ", ".join(f"{c} {q}:1" for c, q in lines))


def test_search_works_served_and_says_what_it_needs_from_disk(visits):
    """Served, search lists results with text snippets; from disk it lists results (without snippets, which the
    browser cannot fetch there), logs no error and says that snippets need the site served."""
    r = visits["pages"]["search.html"]
    assert r["search"] and all(r["search"]), r["search"]
    assert r["from_disk"]["search_note"] and not r["from_disk"]["errors"], r["from_disk"]


def test_animation_twins_scrub(visits):
    animations = {p: r["animations"] for p, r in visits["pages"].items() if r["animations"]}
    expected = {"book/forward/example.html", "book/reverse/sampling.html", "book/scores/tweedie.html",
                "book/scores/noise.html", "book/guidance/guidance.html", "book/guidance/straight_paths.html"}
    assert expected <= set(animations), set(animations)
    for page, found in animations.items():
        for a in found:
            # Parts III-IV's twins step through a few chosen values (10 times t, 6 values of eta, values of w, seven
            # spreads); Parts I-II's through t.
            assert a["frames"] >= 6 and a["stepChanged"] and a["stepValue"] == 1 and a["endChanged"], (page, a)
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
        # plain Markdown (tools/plain_notebooks.py): no MyST directive or role left for Jupyter or Colab to show raw
        text = "\n".join("".join(c["source"]) for c in executed["cells"] if c["cell_type"] == "markdown")
        assert not re.search(r"^\s*(`{3,}|:{3,})\s*\{|\{[\w:-]+\}`", text, re.MULTILINE), notebook


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


def test_sampler_playground_on_its_page_equals_the_package(visits):
    """The playground on the built Samplers page mounts, draws, and its DPM-Solver++(2M) result (20 steps, log-SNR
    grid, from the page's embedded x_T) equals du.sample with the exact denoiser in float64; the playground's own
    test (tests/test_playground.py) covers every method, grid, the timing and the layout."""
    runs = {page: r["playground"] for page, r in visits["pages"].items() if r.get("playground")}
    assert list(runs) == ["book/scores/samplers.html"], list(runs)
    (run,) = runs["book/scores/samplers.html"]
    from diffusion_utils.figures.browser_figures import playground_start

    cfg = run["config"]
    assert run["first_nfe"] >= 1 and run["stroked"] > 0 and run["nfe"] == 20
    schedule = du.NoiseSchedule.linear(cfg["T"], dtype=torch.float64)
    assert torch.equal(torch.tensor(cfg["alpha_bars"], dtype=torch.float64), du.alpha_bars64(schedule))
    points = torch.tensor(cfg["points"], dtype=torch.float64)[:, None]
    xT = playground_start(len(run["x"]), cfg["seed"])
    expected = du.sample(du.ExactDenoiser(points, schedule), schedule, xT, method="dpmpp_2m", steps=20, grid="logsnr")
    got = torch.tensor(run["x"], dtype=torch.float64)
    assert (got - expected.samples[:, 0]).abs().max() < 1e-9
    assert abs(run["w1"] - float(du.wasserstein_1d(got, points[:, 0]))) < 1e-9


def test_guidance_playground_on_its_page_equals_the_package(visits):
    """The guidance playground on the built Conditioning and guidance page mounts, draws, and its guided
    DPM-Solver++(2M) run (class 1, w = 3, 20 steps, log-SNR grid) equals du.sample with the exact guided denoiser in
    float64, its numbers and summary line included; tests/test_guidance_playground.py covers the rest."""
    runs = {page: r["guidance_playground"] for page, r in visits["pages"].items() if r.get("guidance_playground")}
    assert list(runs) == ["book/guidance/guidance.html"], list(runs)
    (run,) = runs["book/guidance/guidance.html"]
    check_guidance_run(run)
