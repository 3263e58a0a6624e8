"""The built site's figures in a real browser, at a phone's width and a projector's (headless Chromium).

tests/test_site.py checks that the kernel-free figures compute the package's numbers and that the animations scrub;
this module checks that a reader can use and read them:

* phone (390 x 844, mobile viewport): the two panels stack; every control is a 44 px touch target, rows do not
  overlap; text in the SVGs and around them is at least 11 px on screen; nothing is wider than the screen; the long
  t slider has - / + buttons and a number field that set exact values; the beta slider stops at the advertised
  values (0.04, 0.15, its maximum 0.5) exactly;
* desktop (1366 x 900): panels side by side, 13 px text or larger; the animation frames are shown at least 600 px wide
  and not blown up beyond the pixels they were drawn with;
* extreme slider settings at both widths: every label inside its SVG, every curve inside its axes (nothing cut off),
  the summary line inside the figure;
* contrast, light and dark mode: lines, text and controls of the kernel-free figures at least 3:1 against the
  figure's background (the ratios are written to _build/screenshots/figures/contrast.json);
* the animation players fit a phone's width (frame, slider and all buttons inside the page) and name their slider.

Screenshots of every figure at both widths (and in dark mode) go to _build/screenshots/figures/. Like test_site.py,
it skips without a built site or Chromium unless BOOK_SITE_TEST=required.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import os
from pathlib import Path

import pytest
from browser import Chromium, SiteServer
from test_site import SITE, require_chromium, require_site

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("BOOK_SHOTS_DIR", SITE.parent / "screenshots")) / "figures"  # _build/screenshots/figures
PAGES = {"example": "book/forward/example.html", "fixed_factor": "book/forward/fixed_factor.html",
         "sampling": "book/reverse/sampling.html"}
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
DESKTOP = {"width": 1366, "height": 900, "deviceScaleFactor": 1, "mobile": False}

# Slider settings at the ends of the ranges: sharp densities (b = 0.05, t = 1), wide bands (a = 0.995, b = 1.5), the
# largest beta, point masses at t = 0.
EXTREMES = {
    "marginal": [{"schedule": "constant", "beta": 0.5, "t": 0}, {"schedule": "linear", "t": 1},
                 {"schedule": "cosine", "t": 1000}, {"schedule": "constant", "beta": 0.0001, "t": 1000},
                 {"schedule": "constant", "beta": 0.5, "t": 1}],
    "fixed_factor": [{"a": 0.5, "b": 0.05, "t": 0}, {"a": 0.5, "b": 0.05, "t": 1}, {"a": 0.995, "b": 1.5, "t": 60},
                     {"a": 0.995, "b": 0.05, "t": 60}, {"a": 0.5, "b": 1.5, "t": 1}],
}

SET = """
((index, settings) => {
  const fig = document.querySelectorAll(".kf-figure")[index];
  for (const [name, value] of Object.entries(settings)) {
    const input = fig.querySelector(`[name="${name}"]`);
    input.value = name === "beta" ? Math.log10(value) : value;
    input.dispatchEvent(new Event("input"));
  }
  return fig.kf.result.settings;
})
"""

# Geometry of one figure: boxes in CSS pixels of the viewport; SVG contents in the SVG's user units as well.
LAYOUT = """
((index) => {
  const fig = document.querySelectorAll(".kf-figure")[index];
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; };
  const visible = (e) => e.getClientRects().length > 0;
  const rows = Array.from(fig.querySelectorAll(".kf-control")).filter(visible).map((row) => ({
    name: row.dataset.name, box: box(row),
    controls: Array.from(row.querySelectorAll("input, button, select")).map((c) => ({
      tag: c.tagName.toLowerCase(), type: c.type || "", box: box(c),
      label: c.getAttribute("aria-label") || (c.labels && c.labels.length ? c.labels[0].textContent : "")})),
  }));
  const svgs = Array.from(fig.querySelectorAll(".kf-panel > svg")).map((svg) => {
    const vb = svg.viewBox.baseVal, scale = svg.getBoundingClientRect().width / vb.width;
    const clip = svg.querySelector("clipPath rect");
    return {
      box: box(svg), scale,
      plot: ["x", "y", "width", "height"].map((k) => +clip.getAttribute(k)),
      size: [vb.width, vb.height],
      texts: Array.from(svg.querySelectorAll("text")).map((t) => ({
        text: t.textContent, box: box(t),
        px: Math.min(...[t, ...t.querySelectorAll("tspan")].filter((n) => n.textContent.trim())
                      .map((n) => parseFloat(getComputedStyle(n).fontSize))) * scale})),
      shapes: Array.from(svg.querySelectorAll(".kf-plot path, .kf-plot line")).map((p) => {
        const b = p.getBBox(); return {cls: p.getAttribute("class") || p.parentNode.getAttribute("class"),
                                       bbox: [b.x, b.y, b.width, b.height], empty: !p.getAttribute("d") && p.tagName === "path"};
      }),
      free: Array.from(svg.querySelectorAll(":scope > circle")).map((c) => {
        const b = c.getBBox(); return [b.x, b.y, b.width, b.height]; }),
    };
  });
  const htmlText = Array.from(fig.querySelectorAll(".kf-legend span, .kf-info, .kf-name, .kf-number, select, sub, sup"))
    .filter(visible).map((e) => ({text: (e.value || e.textContent).slice(0, 40), px: parseFloat(getComputedStyle(e).fontSize)}));
  const info = fig.querySelector(".kf-info");
  return {fig: box(fig), figScroll: [fig.scrollWidth, fig.clientWidth], viewport: [innerWidth, innerHeight],
          rows, svgs, htmlText, info: {box: box(info), scroll: [info.scrollWidth, info.clientWidth]}};
})
"""

# Computed colours of everything drawn, and the background they are drawn on (the first opaque ancestor).
COLOURS = """
((index) => {
  const fig = document.querySelectorAll(".kf-figure")[index];
  let e = fig, bg = "rgba(0, 0, 0, 0)";
  while (e && /rgba\\(.*, 0\\)$|transparent/.test(bg = getComputedStyle(e).backgroundColor)) e = e.parentElement;
  const out = {background: bg, items: []};
  const add = (what, node, prop) => out.items.push([what, getComputedStyle(node)[prop]]);
  const first = (sel) => fig.querySelector(sel);
  add("tick and axis labels (SVG text)", first(".kf-panel svg text"), "fill");
  add("axes (lines)", first(".kf-panel svg .kf-axis"), "stroke");
  for (const [what, sel] of [["blue curve", ".kf-plot .kf-blue"], ["vermillion curve", ".kf-plot .kf-red"],
                             ["vermillion dashed curve", ".kf-plot .kf-red-dashed"],
                             ["grey dashed N(0, 1)", ".kf-plot .kf-grey-dashed"], ["t marker", ".kf-plot .kf-marker"]]) {
    if (first(sel)) add(what, first(sel), "stroke");
  }
  if (first("svg > .kf-dot")) add("dot at t", first("svg > .kf-dot"), "fill");
  add("legend text", first(".kf-legend span"), "color");
  add("summary line", first(".kf-info"), "color");
  add("control names", first(".kf-name"), "color");
  add("number field text", first(".kf-number"), "color");
  add("step button text", first(".kf-step"), "color");
  add("control borders", first(".kf-step"), "borderTopColor");
  const band = first(".kf-band");
  if (band) out.band = [getComputedStyle(band).fill, +getComputedStyle(band).fillOpacity];
  return out;
})
"""

PLAYERS = """
(() => Array.from(document.querySelectorAll("div.animation")).map((anim) => {
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; };
  const img = anim.querySelector("img"), slider = anim.querySelector('input[type="range"]');
  const column = anim.closest("article") || document.body;
  return {player: box(anim), column: box(column), img: box(img), natural: [img.naturalWidth, img.naturalHeight],
          slider: box(slider), sliderName: slider.getAttribute("aria-label") || slider.labels?.[0]?.textContent || "",
          buttons: Array.from(anim.querySelectorAll("button")).map(box), scroll: [anim.scrollWidth, anim.clientWidth],
          viewport: innerWidth};
}))()
"""


def _srgb(colour: str) -> tuple[float, float, float, float]:
    """'rgb(1, 2, 3)' or 'rgba(1, 2, 3, 0.5)' -> (r, g, b, alpha) with channels in [0, 255]."""
    inner = colour[colour.index("(") + 1 : colour.rindex(")")].replace("/", ",").replace(" ", ",")
    parts = [float(p) for p in inner.split(",") if p]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1.0)


def _luminance(rgb) -> float:
    channels = [c / 255 for c in rgb[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b) -> float:
    """WCAG contrast ratio of two opaque colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _inside(inner, outer, tol: float = 1.0) -> bool:
    """Box (x, y, w, h) inner lies in box outer, to within tol."""
    x, y, w, h = inner
    X, Y, W, H = outer
    return x >= X - tol and y >= Y - tol and x + w <= X + W + tol and y + h <= Y + H + tol


def _shot(page, selector: str, index: int, path: Path) -> None:
    """PNG of one element (scrolled into view)."""
    x, y, w, h = page.js(f"""(() => {{ const e = document.querySelectorAll({json.dumps(selector)})[{index}];
        e.scrollIntoView({{block: "center"}}); const r = e.getBoundingClientRect();
        return [r.left, r.top + scrollY, r.width, r.height]; }})()""")
    page.pump(0.2)
    shot = page.send("Page.captureScreenshot", format="png",
                     clip={"x": max(0, x - 4), "y": max(0, y - 4), "width": w + 8, "height": h + 8, "scale": 1})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.fixture(scope="module")
def browser():
    require_site(all((SITE / p).is_file() for p in PAGES.values()))
    server, chromium = SiteServer(SITE), Chromium(require_chromium())
    yield server, chromium
    chromium.close()
    server.close()


def _open(browser, page_name: str, metrics: dict):
    server, chromium = browser
    page = chromium.page()
    page.send("Emulation.setDeviceMetricsOverride", **metrics)
    page.goto(server.url + PAGES[page_name])
    page.pump(0.3)  # ResizeObserver callbacks
    return page


@pytest.fixture(scope="module")
def measured(browser):
    """Both chapter pages with kernel-free figures at both widths: layouts at the start and at extreme settings,
    colours in light and dark mode, screenshots; the players of the three pages with animations."""
    out = {"figures": [], "players": {}, "colours": []}
    for width_name, metrics in (("phone", PHONE), ("desktop", DESKTOP)):
        for page_name in ("example", "fixed_factor", "sampling"):
            page = _open(browser, page_name, metrics)
            try:
                out["players"][(page_name, width_name)] = page.js(PLAYERS)
                for i in range(len(out["players"][(page_name, width_name)])):
                    _shot(page, "div.animation", i, SHOTS / f"{page_name}-animation{i}-{width_name}.png")
                count = page.js('document.querySelectorAll(".kf-figure").length')
                for index in range(count):
                    kind = page.js(f'JSON.parse(document.querySelectorAll(".kf-figure")[{index}].dataset.config).kind')
                    figure = {"page": page_name, "width": width_name, "kind": kind, "index": index,
                              "start": page.js(f"({LAYOUT})({index})"), "extremes": []}
                    _shot(page, ".kf-figure", index, SHOTS / f"{kind}-{width_name}.png")
                    for settings in EXTREMES[kind]:
                        applied = page.js(f"({SET})({index}, {json.dumps(settings)})")
                        figure["extremes"].append((applied, page.js(f"({LAYOUT})({index})")))
                    _shot(page, ".kf-figure", index, SHOTS / f"{kind}-{width_name}-extreme.png")
                    for mode in ("light", "dark"):
                        page.js(f"document.documentElement.dataset.theme = {json.dumps(mode)}")
                        colours = page.js(f"({COLOURS})({index})")
                        out["colours"].append({"kind": kind, "width": width_name, "mode": mode, **colours})
                        if mode == "dark" and width_name == "phone":
                            _shot(page, ".kf-figure", index, SHOTS / f"{kind}-{width_name}-dark.png")
                    page.js('document.documentElement.dataset.theme = "light"')
                    out["figures"].append(figure)
                assert not page.errors, page.errors
            finally:
                page.close()
    return out


def _figures(measured, width):
    found = [f for f in measured["figures"] if f["width"] == width]
    assert {f["kind"] for f in found} == {"marginal", "fixed_factor"}, found
    return found


def test_phone_figures_stack_fit_and_read(measured):
    for fig in _figures(measured, "phone"):
        layout = fig["start"]
        vw = layout["viewport"][0]
        x, _y, w, _h = layout["fig"]
        assert x >= 0 and x + w <= vw + 0.5, (fig["kind"], "figure wider than the phone", layout["fig"])
        assert layout["figScroll"][0] <= layout["figScroll"][1] + 1, (fig["kind"], "figure scrolls sideways")
        left, right = layout["svgs"]
        assert right["box"][1] >= left["box"][1] + left["box"][3] - 1, (fig["kind"], "panels not stacked on a phone")
        for svg in layout["svgs"]:
            assert svg["box"][2] >= 300, (fig["kind"], "panel narrower than the screen allows", svg["box"])
            small = [(t["text"], round(t["px"], 1)) for t in svg["texts"] if t["text"].strip() and t["px"] < 11]
            assert not small, (fig["kind"], "SVG text under 11 px on screen", small)
        small = [(t["text"], t["px"]) for t in layout["htmlText"] if t["px"] < 11]
        assert not small, (fig["kind"], "text under 11 px", small)


def test_phone_touch_targets(measured):
    """Every control at least 44 px tall (buttons 44 px square), rows 44 px or more apart, none overlapping."""
    for fig in _figures(measured, "phone"):
        rows = fig["start"]["rows"]
        assert rows, fig["kind"]
        for row in rows:
            assert row["box"][3] >= 44 - 0.5, (fig["kind"], row["name"], row["box"])
            for c in row["controls"]:
                assert c["box"][3] >= 44 - 0.5, (fig["kind"], row["name"], c)
                if c["tag"] == "button":
                    assert c["box"][2] >= 44 - 0.5, (fig["kind"], row["name"], c)
                assert c["box"][0] >= 0 and c["box"][0] + c["box"][2] <= fig["start"]["viewport"][0], (fig["kind"], c)
        tops = sorted(r["box"][1] for r in rows)
        assert all(b - a >= 44 - 0.5 for a, b in itertools.pairwise(tops)), (fig["kind"], "rows closer than 44 px", tops)
        boxes = [c["box"] for r in rows for c in r["controls"]]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                overlap_x = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
                overlap_y = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
                assert overlap_x <= 0.5 or overlap_y <= 0.5, (fig["kind"], "controls overlap", a, b)
        for row in rows:
            if row["name"] == "schedule":
                continue
            kinds = [(c["tag"], c["type"]) for c in row["controls"]]
            assert kinds == [("button", "button"), ("input", "range"), ("button", "button"), ("input", "number")], kinds
            assert all(c["label"] for c in row["controls"]), (fig["kind"], row["name"], "control without a name")


def test_desktop_panels_side_by_side(measured):
    for fig in _figures(measured, "desktop"):
        left, right = fig["start"]["svgs"]
        assert abs(left["box"][1] - right["box"][1]) < 2 and right["box"][0] > left["box"][0] + left["box"][2] - 1
        for svg in fig["start"]["svgs"]:
            assert 0.99 < svg["scale"] < 1.01, "the SVG is drawn at its size on screen"
            assert min(t["px"] for t in svg["texts"] if t["text"].strip()) >= 11.2 - 0.05  # 80 % of 14 px


def test_extreme_settings_stay_inside(measured):
    """Labels inside their SVG, curves inside their axes (none cut off), the summary inside the figure."""
    for fig in measured["figures"]:
        for settings, layout in fig["extremes"]:
            where = (fig["kind"], fig["width"], settings)
            for svg in layout["svgs"]:
                for t in svg["texts"]:
                    assert _inside(t["box"], svg["box"]), (*where, "text outside the SVG", t)
                for shape in svg["shapes"]:
                    if not shape["empty"]:
                        assert _inside(shape["bbox"], svg["plot"], tol=0.6), (*where, "curve cut off", shape, svg["plot"])
                for circle in svg["free"]:
                    assert _inside(circle, [0, 0, *svg["size"]]), (*where, "dot outside the SVG", circle)
            assert _inside(layout["info"]["box"], layout["fig"]), (*where, "summary outside the figure")
            assert layout["info"]["scroll"][0] <= layout["info"]["scroll"][1] + 1, (*where, "summary overflows")
            assert layout["figScroll"][0] <= layout["figScroll"][1] + 1, (*where, "figure overflows")


def test_contrast_in_light_and_dark_mode(measured):
    """Lines, text and control borders at least 3:1 against the figure's background; written to contrast.json."""
    report = []
    for entry in measured["colours"]:
        bg = _srgb(entry["background"])
        assert bg[3] == 1.0, entry["background"]
        ratios = {what: round(contrast(_srgb(colour), bg), 2) for what, colour in entry["items"]}
        if "band" in entry:  # the mean line drawn over the +-2 sd band: the band blended onto the background
            fill, opacity = _srgb(entry["band"][0]), entry["band"][1]
            blended = [opacity * f + (1 - opacity) * b for f, b in zip(fill[:3], bg[:3])]
            ratios["blue curve over the ±2 sd band"] = round(contrast(fill, blended), 2)
        report.append({"figure": entry["kind"], "width": entry["width"], "mode": entry["mode"],
                       "background": entry["background"], "ratios": ratios})
        low = {k: v for k, v in ratios.items() if v < 3.0}
        assert not low, (entry["kind"], entry["mode"], low)
    modes = {(r["figure"], r["mode"]) for r in report}
    assert modes == {(k, m) for k in ("marginal", "fixed_factor") for m in ("light", "dark")}
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "contrast.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    lines = [f'{r["figure"]:13s} {r["mode"]:5s} {k}: {v}' for r in report if r["width"] == "desktop"
             for k, v in r["ratios"].items()]
    print("\n".join(["contrast against the figure's background:", *lines]))


def test_step_buttons_number_field_and_exact_beta(browser):
    """The long t slider: + steps by one, the number field sets any t; beta stops at 0.04, 0.15 and 0.5 exactly."""
    page = _open(browser, "example", PHONE)
    try:
        result = page.js("""(() => {
          const fig = Array.from(document.querySelectorAll(".kf-figure"))
            .find((f) => JSON.parse(f.dataset.config).kind === "marginal");
          const row = (n) => fig.querySelector(`.kf-control[data-name="${n}"]`);
          const tap = (n, k) => row(n).querySelectorAll(".kf-step")[k > 0 ? 1 : 0].click();
          const settings = () => ({...fig.kf.result.settings});
          const out = {start: settings()};
          tap("t", 1); tap("t", 1); tap("t", -1); out.stepped = settings();
          const number = row("t").querySelector(".kf-number");
          number.value = "537"; number.dispatchEvent(new Event("change")); out.typed = settings();
          out.slider = +row("t").querySelector("input[type=range]").value;
          number.value = "5000"; number.dispatchEvent(new Event("change")); out.clamped = settings();
          const schedule = fig.querySelector('[name="schedule"]');
          schedule.value = "constant"; schedule.dispatchEvent(new Event("change"));
          out.betaVisible = !row("beta").hidden;
          tap("beta", 1); out.betaUp = settings().beta;
          tap("beta", -1); tap("beta", -1); out.betaDown = settings().beta;
          const range = row("beta").querySelector("input[type=range]");
          range.value = Math.log10(0.15); range.dispatchEvent(new Event("input")); out.beta015 = settings().beta;
          range.value = Math.log10(0.1497); range.dispatchEvent(new Event("input")); out.betaNear = settings().beta;
          range.value = range.max; range.dispatchEvent(new Event("input")); out.betaMax = settings().beta;
          out.plusDisabledAtMax = row("beta").querySelectorAll(".kf-step")[1].disabled;
          range.dispatchEvent(new KeyboardEvent("keydown", {key: "Home", bubbles: true})); out.betaHome = settings().beta;
          range.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowRight", bubbles: true}));
          out.betaArrow = settings().beta;
          out.valuetext = range.getAttribute("aria-valuetext");
          return out;
        })()""")
        assert result["start"]["t"] == 100 and result["start"]["beta"] == 0.04, result
        assert result["stepped"]["t"] == 101, result
        assert result["typed"]["t"] == 537 and result["slider"] == 537, result
        assert result["clamped"]["t"] == 1000, result
        assert result["betaVisible"], result
        assert (result["betaUp"], result["betaDown"]) == (0.05, 0.03), result
        assert result["beta015"] == 0.15 and result["betaNear"] == 0.15, result
        assert result["betaMax"] == 0.5 and result["plusDisabledAtMax"], result
        assert (result["betaHome"], result["betaArrow"]) == (0.0001, 0.00012), result
        assert "β = " in result["valuetext"], result
        assert not page.errors, page.errors
    finally:
        page.close()


def test_real_taps_hit_the_control_they_aim_at(browser):
    """A finger on a phone: tapping a's + button moves a by one step and nothing else; tapping near the left end of
    b's track moves b and nothing else (rows 44 px apart: a tap meant for one slider does not move its neighbour)."""
    page = _open(browser, "fixed_factor", PHONE)
    try:
        page.send("Emulation.setTouchEmulationEnabled", enabled=True)
        where = """((sel) => { const fig = document.querySelector(".kf-figure");
          const e = fig.querySelector(sel); e.scrollIntoView({block: "center"});
          const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })"""
        settings = 'document.querySelector(".kf-figure").kf.result.settings'

        def tap(x, y):
            page.send("Input.dispatchTouchEvent", type="touchStart", touchPoints=[{"x": x, "y": y}])
            page.send("Input.dispatchTouchEvent", type="touchEnd", touchPoints=[])
            page.pump(0.2)

        start = page.js(settings)
        x, y, w, h = page.js(f"({where})('.kf-control[data-name=\"a\"] .kf-step[data-step=\"1\"]')")
        tap(x + w / 2, y + h / 2)
        after_a = page.js(settings)
        x, y, w, h = page.js(f"({where})('.kf-control[data-name=\"b\"] input[type=range]')")
        tap(x + 6, y + h / 2 - 15)  # 15 px above the track's centre line: still inside b's 44 px row
        after_b = page.js(settings)
        assert start == {"a": 0.9, "b": 0.4, "t": 10}, start
        assert after_a == {"a": 0.905, "b": 0.4, "t": 10}, after_a
        assert after_b["a"] == 0.905 and after_b["t"] == 10 and after_b["b"] < 0.4, after_b
        assert not page.errors, page.errors
    finally:
        page.close()


def test_animation_players_fit_and_are_named(measured):
    players = measured["players"]
    assert players[("example", "phone")] and players[("sampling", "phone")], players.keys()
    for (page, width), found in players.items():
        for p in found:
            where = (page, width)
            assert p["sliderName"], (*where, "the animation slider has no accessible name")
            assert p["scroll"][0] <= p["scroll"][1] + 1, (*where, "player scrolls sideways", p["scroll"])
            assert _inside(p["player"], [0, -1e9, p["viewport"], 2e9]), (*where, "player wider than the screen", p)
            assert _inside(p["img"], p["player"]), (*where, "frame outside the player", p)
            for b in [p["slider"], *p["buttons"]]:
                assert _inside(b, p["player"]) and b[0] + b[2] <= p["viewport"], (*where, "control cut off", b)
            assert p["img"][2] <= p["natural"][0] + 0.5, (*where, "frame blown up beyond its pixels", p)
            if width == "desktop":
                assert p["img"][2] >= 600, (*where, "frame too small for a projector", p["img"])
            else:
                # the frame shrinks to the column; its 14 pt tick labels, drawn 6 inches wide, stay >= 11 px
                tick_px = 14 / 72 * p["natural"][0] / 6
                assert tick_px * p["img"][2] / p["natural"][0] >= 11 - 0.5, (*where, tick_px, p["img"])
                assert all(b[3] >= 44 - 0.5 for b in p["buttons"]), (*where, "buttons under 44 px")
                assert math.isclose(p["img"][2], min(p["natural"][0], p["player"][2]), abs_tol=1), (*where, p)
