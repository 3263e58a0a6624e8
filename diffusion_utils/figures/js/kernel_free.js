// Kernel-free figures: the closed forms of Part I evaluated in the reader's browser (no Python kernel).
// Loaded inline by diffusion_utils.browser_figures; each figure is a <div class="kf-figure"> whose JSON config
// names its kind, controls, colours and data. The numbers follow the package line by line (float64 throughout):
//   schedules.NoiseSchedule.{constant,linear,cosine} -> alphaBars; mixture.marginal_density -> mixtureDensity;
//   forward.FixedFactorChain.marginal -> fixedFactorMarginal.  The browser test compares them with the package.
// Layout: controls (one 44 px row per slider, with - / + buttons and a number field), a one-line summary, and two
// SVG panels drawn at their on-screen size (so 13-16 px text stays 13-16 px), side by side or, below 560 px, stacked.
(function () {
  "use strict";
  const VERSION = 2;
  if (window.KernelFree && window.KernelFree.version === VERSION) return;
  const SVG = "http://www.w3.org/2000/svg";

  // ---- numerics ---------------------------------------------------------------------------------------------
  function cumprod1m(betas) { // alpha_bar_t = prod_{s<=t} (1 - beta_s), entry 0 = 1
    const ab = new Float64Array(betas.length);
    let p = 1.0;
    for (let t = 0; t < betas.length; t++) { p *= 1.0 - betas[t]; ab[t] = p; }
    return ab;
  }
  function betasFor(kind, T, params) { // length T+1 with betas[0] = 0, as NoiseSchedule
    const b = new Float64Array(T + 1);
    if (kind === "constant") {
      for (let t = 1; t <= T; t++) b[t] = params.beta;
    } else if (kind === "linear") {
      const lo = params.beta_start ?? 1e-4, hi = params.beta_end ?? 0.02;
      for (let t = 1; t <= T; t++) b[t] = T === 1 ? lo : lo + (hi - lo) * (t - 1) / (T - 1);
    } else if (kind === "cosine") {
      const s = params.s ?? 0.008, cap = params.max_beta ?? 0.999;
      const f = (t) => Math.cos((t / T + s) / (1 + s) * Math.PI / 2) ** 2;
      const f0 = f(0);
      for (let t = 1; t <= T; t++) {
        const beta = 1 - (f(t) / f0) / (f(t - 1) / f0);
        b[t] = Math.min(Math.max(beta, 1e-12), cap);
      }
    } else {
      throw new Error("unknown schedule " + kind);
    }
    return b;
  }
  function alphaBars(kind, T, params) { return cumprod1m(betasFor(kind, T, params)); }

  function mixtureDensity(grid, means, variance, weights) { // sum_i w_i N(x; m_i, v), log-sum-exp per x
    const out = new Float64Array(grid.length);
    const logNorm = -0.5 * Math.log(2 * Math.PI * variance);
    const logW = weights.map(Math.log);
    const terms = new Float64Array(means.length);
    for (let j = 0; j < grid.length; j++) {
      let top = -Infinity;
      for (let i = 0; i < means.length; i++) {
        const d = grid[j] - means[i];
        terms[i] = logW[i] + logNorm - 0.5 * d * d / variance;
        if (terms[i] > top) top = terms[i];
      }
      let sum = 0;
      for (let i = 0; i < means.length; i++) sum += Math.exp(terms[i] - top);
      out[j] = Math.exp(top + Math.log(sum));
    }
    return out;
  }
  function marginalDensity(grid, points, weights, alphaBar) { // q_t for the empirical data distribution
    const scale = Math.sqrt(alphaBar);
    return mixtureDensity(grid, points.map((x) => scale * x), 1 - alphaBar, weights);
  }
  function fixedFactorMarginal(a, b, x0, t) { // mean a^t x0, variance b^2 (1 - a^{2t}) / (1 - a^2)
    const at = a ** t;
    return { mean: at * x0, variance: b * b * (1 - at * at) / (1 - a * a) };
  }
  function linspace(lo, hi, n) {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * i / (n - 1);
    return out;
  }
  function maxOf(values) { let m = -Infinity; for (const v of values) if (v > m) m = v; return m; }
  // The smallest 1-1.2-1.5-2-2.5-3-4-5-6-8 x 10^k at or above v: axis tops that move in steps, not continuously.
  function niceCeil(v) {
    const mag = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * mag >= v * (1 - 1e-12)) return +(m * mag).toPrecision(6);
    return 10 * mag;
  }

  // ---- text: a^t x_0 as a with superscript t, x with subscript 0; one-letter names in italics ----------------
  // Returns runs {text, italic, shift} (shift -1 subscript, +1 superscript). Braces group: x_{t-1}.
  function mathRuns(s) {
    const runs = [];
    const push = (text, italic, shift) => {
      const last = runs[runs.length - 1];
      if (last && last.italic === italic && last.shift === shift) last.text += text;
      else runs.push({ text, italic, shift });
    };
    const plain = (str, shift) => {
      const re = /(\p{L}\p{M}*)+|[^\p{L}]+/gu;
      for (const m of str.matchAll(re)) {
        const isWord = /\p{L}/u.test(m[0]);
        const letters = isWord ? Array.from(m[0].normalize("NFC")).length : 0;
        push(m[0], isWord && letters === 1, shift);
      }
    };
    let i = 0;
    while (i < s.length) {
      const j = s.slice(i).search(/[_^]/);
      if (j < 0) { plain(s.slice(i), 0); break; }
      plain(s.slice(i, i + j), 0);
      const shift = s[i + j] === "_" ? -1 : 1;
      let k = i + j + 1, group;
      if (s[k] === "{") { const end = s.indexOf("}", k); group = s.slice(k + 1, end); k = end + 1; }
      else { const ch = Array.from(s.slice(k))[0] || ""; group = ch; k += ch.length; }
      plain(group, shift);
      i = k;
    }
    return runs;
  }
  function mathHTML(parent, s) { // into an HTML element: <i>, <sub>, <sup>
    for (const r of mathRuns(s)) {
      let node = document.createTextNode(r.text);
      if (r.italic) { const i = document.createElement("i"); i.appendChild(node); node = i; }
      if (r.shift) { const w = document.createElement(r.shift < 0 ? "sub" : "sup"); w.appendChild(node); node = w; }
      parent.appendChild(node);
    }
    return parent;
  }
  function mathSVG(textNode, s, fontSize) { // into an SVG <text>: tspans shifted by dy (Firefox has no baseline-shift)
    let level = 0;
    for (const r of mathRuns(s)) {
      const attrs = {};
      if (r.italic) attrs["font-style"] = "italic";
      const want = r.shift * 0.35 * fontSize;
      if (want !== level) { attrs.dy = (level - want).toFixed(2); level = want; }
      if (r.shift) attrs["font-size"] = (0.8 * fontSize).toFixed(1);
      el("tspan", attrs, textNode).textContent = r.text;
    }
    if (level) el("tspan", { dy: level.toFixed(2) }, textNode).textContent = "\u200b";
    return textNode;
  }
  const textWidth = (s, fontSize) => 0.6 * fontSize * mathRuns(s).reduce((n, r) => n + Array.from(r.text).length * (r.shift ? 0.8 : 1), 0);
  function fmt(x, digits) { // toPrecision without exponents: 1.2·10^-7 as a superscript
    if (x !== 0 && Math.abs(x) < 1e-4) {
      const e = Math.floor(Math.log10(Math.abs(x)));
      return `${(x / 10 ** e).toPrecision(digits - 1)}·10^{${e}}`.replace(/-/g, "−");
    }
    return x.toPrecision(digits).replace(/-/g, "−");
  }

  // ---- a very small SVG plotter -----------------------------------------------------------------------------
  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }
  function niceTicks(lo, hi, count) {
    const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
    const ticks = [];
    for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step) ticks.push(+v.toFixed(10));
    return ticks;
  }
  const tickText = (v) => String(v).replace(/-/g, "−");

  // One axes box filling an SVG of width x height CSS pixels: margins from the tick labels' widths, ticks, axis
  // labels, a clip path; returns helpers to draw paths into it.
  function axes(svg, size, xlim, ylim, labels, uid) {
    const { width, height, font } = size;
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    const xt = niceTicks(xlim[0], xlim[1], width < 300 ? 4 : 6), yt = niceTicks(ylim[0], ylim[1], 4);
    const yTickW = Math.max(...yt.map((v) => textWidth(tickText(v), font)));
    const left = Math.ceil(yTickW + 10 + 1.9 * font);
    const right = Math.ceil(Math.max(10, textWidth(tickText(xt[xt.length - 1]), font) / 2 + 4));
    const top = Math.ceil(0.6 * font), bottom = Math.ceil(3.4 * font);
    const x0 = left, y0 = top, w = width - left - right, h = height - top - bottom;
    const sx = (x) => x0 + (x - xlim[0]) / (xlim[1] - xlim[0]) * w;
    const sy = (y) => y0 + h - (y - ylim[0]) / (ylim[1] - ylim[0]) * h;
    const g = el("g", { "font-size": font, "font-family": "sans-serif", class: "kf-text" }, svg);
    el("rect", { x: x0, y: y0, width: w, height: h, fill: "none", class: "kf-axis" }, g);
    for (const v of xt) {
      el("line", { x1: sx(v), x2: sx(v), y1: y0 + h, y2: y0 + h + 5, class: "kf-axis" }, g);
      el("text", { x: sx(v), y: y0 + h + 6 + font, "text-anchor": "middle" }, g).textContent = tickText(v);
    }
    for (const v of yt) {
      el("line", { x1: x0 - 5, x2: x0, y1: sy(v), y2: sy(v), class: "kf-axis" }, g);
      el("text", { x: x0 - 7, y: sy(v) + 0.35 * font, "text-anchor": "end" }, g).textContent = tickText(v);
    }
    mathSVG(el("text", { x: x0 + w / 2, y: height - 0.7 * font, "text-anchor": "middle" }, g), labels[0], font);
    const ly = 1.15 * font, lx = y0 + h / 2;
    mathSVG(el("text", { x: ly, y: lx, "text-anchor": "middle", transform: `rotate(-90 ${ly} ${lx})` }, g), labels[1], font);
    const clip = el("clipPath", { id: uid }, el("defs", {}, svg));
    el("rect", { x: x0, y: y0, width: w, height: h }, clip);
    const plot = el("g", { "clip-path": `url(#${uid})`, class: "kf-plot" }, svg);
    const pathOf = (xs, ys) => Array.from(xs, (x, i) => `${i ? "L" : "M"}${sx(x).toFixed(2)},${sy(ys[i]).toFixed(2)}`).join("");
    return {
      sx, sy, plot, box: [x0, y0, w, h],
      line(cls, d) { return el("path", { fill: "none", class: cls, d: d || "" }, plot); },
      pathOf,
      band(cls, xs, lo, hi) {
        const back = Array.from(xs).reverse(), top2 = Array.from(hi).reverse();
        const d = pathOf(xs, lo) + back.map((x, i) => `L${sx(x).toFixed(2)},${sy(top2[i]).toFixed(2)}`).join("") + "Z";
        return el("path", { class: cls, d }, plot);
      },
    };
  }
  // An HTML legend above a panel: [label, swatch class, kind ("line" | "band" | "dot")].
  function legend(parent, items) {
    const box = document.createElement("div");
    box.className = "kf-legend";
    for (const [label, cls, kind] of items) {
      const item = document.createElement("span");
      item.className = "kf-key";
      const sw = el("svg", { width: 26, height: 12, "aria-hidden": "true", focusable: "false" }, item);
      if (kind === "band") el("rect", { x: 1, y: 1, width: 24, height: 10, class: cls }, sw);
      else if (kind === "dot") el("circle", { cx: 13, cy: 6, r: 4, class: cls }, sw);
      else el("line", { x1: 1, x2: 25, y1: 6, y2: 6, class: cls }, sw);
      item.appendChild(mathHTML(document.createElement("span"), label));
      box.appendChild(item);
    }
    parent.appendChild(box);
    return box;
  }

  // ---- style: injected once per document, so the figures look the same on the site and in a notebook ----------
  const CSS = `
.kf-figure{--kf-bg:var(--kf-light-bg);--kf-fg:var(--kf-light-fg);--kf-axis:var(--kf-light-axis);--kf-grey:var(--kf-light-grey);
 --kf-blue:var(--kf-light-blue);--kf-red:var(--kf-light-vermillion);
 background:var(--kf-bg);color:var(--kf-fg);font-size:15px;line-height:1.4;
 padding:.5rem;border-radius:.25rem;max-width:100%;box-sizing:border-box;text-align:left}
html[data-theme=dark] .kf-figure,body[data-jp-theme-light=false] .kf-figure{--kf-bg:var(--kf-dark-bg);--kf-fg:var(--kf-dark-fg);
 --kf-axis:var(--kf-dark-axis);--kf-grey:var(--kf-dark-grey);--kf-blue:var(--kf-dark-blue);--kf-red:var(--kf-dark-vermillion);color-scheme:dark}
html[data-theme=dark] .bd-content div.cell_output .text_html.text_html:has(> .kf-figure){background:transparent;padding:0}
.kf-figure *{box-sizing:border-box}
.kf-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,20rem),1fr));gap:.25rem 1.5rem;margin:0 0 .25rem}
.kf-control{display:flex;align-items:center;gap:.375rem;min-height:44px;margin:0}
.kf-control[hidden]{display:none}
.kf-control.kf-wide{grid-column:1/-1}
.kf-name{min-width:1.6em;flex:none}
.kf-control select{min-height:44px;min-width:8em;font:inherit;font-size:16px;color:inherit;background:var(--kf-bg);
 border:1px solid var(--kf-axis);border-radius:.25rem;padding:0 .5rem}
.kf-figure input[type=range]{-webkit-appearance:none;appearance:none;flex:1 1 6rem;min-width:4rem;height:44px;margin:0;
 background:transparent;cursor:pointer;touch-action:pan-y}
.kf-figure input[type=range]::-webkit-slider-runnable-track{height:6px;border-radius:3px;background:var(--kf-axis)}
.kf-figure input[type=range]::-moz-range-track{height:6px;border-radius:3px;background:var(--kf-axis)}
.kf-figure input[type=range]::-webkit-slider-thumb{-webkit-appearance:none;width:26px;height:26px;margin-top:-10px;
 border-radius:50%;background:var(--kf-blue);border:3px solid var(--kf-bg);box-shadow:0 0 0 1px var(--kf-blue)}
.kf-figure input[type=range]::-moz-range-thumb{width:20px;height:20px;border-radius:50%;background:var(--kf-blue);
 border:3px solid var(--kf-bg);box-shadow:0 0 0 1px var(--kf-blue)}
.kf-step{flex:none;width:44px;height:44px;padding:0;font:inherit;font-size:22px;line-height:1;color:inherit;
 background:var(--kf-bg);border:1px solid var(--kf-axis);border-radius:.25rem;cursor:pointer;touch-action:manipulation}
.kf-number{flex:none;width:5.5em;height:44px;padding:0 .375rem;font:inherit;font-size:16px;font-variant-numeric:tabular-nums;
 color:inherit;background:var(--kf-bg);border:1px solid var(--kf-axis);border-radius:.25rem}
.kf-figure :focus-visible{outline:2px solid var(--kf-blue);outline-offset:2px}
.kf-info{margin:.25rem 0;min-height:2.8em;font-size:15px;overflow-wrap:anywhere}
.kf-panels{display:flex;flex-wrap:wrap;align-items:flex-end;gap:.5rem 1rem}
.kf-panel{flex:1 1 100%;min-width:0}
.kf-figure:not(.kf-narrow) .kf-panel:first-child{flex:3 1 0}
.kf-figure:not(.kf-narrow) .kf-panel:last-child{flex:2 1 0}
.kf-panel svg{display:block;width:100%;height:auto;overflow:hidden}
.kf-legend{display:flex;flex-wrap:wrap;gap:0 1rem;font-size:14px;margin:0 0 .125rem}
.kf-key{display:inline-flex;align-items:center;gap:.375rem;white-space:nowrap}
.kf-figure sub,.kf-figure sup{font-size:80%;line-height:0}
.kf-text{fill:var(--kf-fg)}
.kf-axis{stroke:var(--kf-axis);stroke-width:1}
.kf-blue{stroke:var(--kf-blue);stroke-width:2.25}
.kf-red{stroke:var(--kf-red);stroke-width:2.25}
.kf-red-dashed{stroke:var(--kf-red);stroke-width:2;stroke-dasharray:7 4}
.kf-grey-dashed{stroke:var(--kf-grey);stroke-width:1.75;stroke-dasharray:6 4}
.kf-marker{stroke:var(--kf-fg);stroke-width:1.25;stroke-dasharray:2 3}
.kf-stems{stroke:var(--kf-blue);stroke-width:3}
.kf-band{fill:var(--kf-blue);fill-opacity:.2;stroke:none}
.kf-dot{fill:var(--kf-red);stroke:var(--kf-bg);stroke-width:1.5}
.kf-legend line.kf-stems{stroke-width:3}`;
  function injectStyle() {
    const id = "kf-style-" + VERSION;
    if (document.getElementById(id)) return;
    const style = document.createElement("style");
    style.id = id;
    style.textContent = CSS;
    (document.head || document.documentElement).appendChild(style);
  }

  // ---- controls -----------------------------------------------------------------------------------------------
  // A numeric control is a range input (name = the setting; a log slider holds log10 of the value and snaps to the
  // config's list of values, so that every advertised value is reached exactly), - and + buttons (one step; held
  // down they repeat) and a number field that takes any value in range. ``state`` holds the values drawn.
  function buildControls(root, controls, onChange) {
    const bar = document.createElement("div");
    bar.className = "kf-controls";
    const state = {}, rows = {};
    const uid = root.id;
    for (const c of controls) {
      const row = document.createElement("div");
      row.className = "kf-control";
      row.dataset.name = c.name;
      const name = document.createElement("label");
      name.className = "kf-name";
      mathHTML(name, c.label);
      row.appendChild(name);
      state[c.name] = c.value;
      if (c.options) {
        const select = document.createElement("select");
        select.name = c.name;
        select.id = name.htmlFor = `${uid}-${c.name}`;
        for (const o of c.options) {
          const opt = document.createElement("option");
          opt.value = o; opt.textContent = o; select.appendChild(opt);
        }
        select.value = c.value;
        const set = () => { state[c.name] = select.value; onChange(); };
        select.addEventListener("input", set);
        select.addEventListener("change", set);
        row.appendChild(select);
        rows[c.name] = { row, sync() { select.value = state[c.name]; } };
        bar.appendChild(row);
        continue;
      }
      const values = c.values ? [...c.values] : null;
      if (values && !values.includes(c.value)) { values.push(c.value); values.sort((p, q) => p - q); }
      const range = document.createElement("input");
      range.type = "range";
      range.name = c.name;
      range.id = name.htmlFor = `${uid}-${c.name}`;
      const minus = document.createElement("button"), plus = document.createElement("button");
      for (const [button, text, verb] of [[minus, "\u2212", "decrease"], [plus, "+", "increase"]]) {
        button.type = "button";
        button.className = "kf-step";
        button.textContent = text;
        button.setAttribute("aria-label", `${verb} ${c.label.replace(/[_^{}]/g, "")}`);
        button.dataset.step = verb === "increase" ? "1" : "-1";
      }
      const number = document.createElement("input");
      number.type = "number";
      number.className = "kf-number";
      number.min = c.min; number.max = c.max;
      number.step = values ? "any" : c.step;
      number.inputMode = c.integer ? "numeric" : "decimal";
      number.setAttribute("aria-label", `${c.label.replace(/[_^{}]/g, "")}, exact value`);
      if (values) { // log10 of the value, any position; snapped to the nearest listed value
        range.min = Math.log10(values[0]); range.max = Math.log10(values[values.length - 1]); range.step = "any";
      } else {
        range.min = c.min; range.max = c.max; range.step = c.step;
      }
      const nearest = (v) => values.reduce((best, x) => Math.abs(Math.log(x / v)) < Math.abs(Math.log(best / v)) ? x : best);
      const clamp = (v) => Math.min(c.max, Math.max(c.min, v));
      const show = (v) => (c.integer ? String(v) : String(+v.toPrecision(6)));
      const sync = () => {
        const v = state[c.name];
        range.value = values ? Math.log10(v) : v;
        number.value = show(v);
        range.setAttribute("aria-valuetext", `${c.label.replace(/[_^{}]/g, "")} = ${show(v)}`);
        minus.disabled = v <= c.min; plus.disabled = v >= c.max;
      };
      const fromRange = () => {
        let v = parseFloat(range.value);
        if (values) v = nearest(10 ** v);
        if (c.integer) v = Math.round(v);
        return v;
      };
      const stepBy = (k) => {
        const v = state[c.name];
        let next;
        if (values) { // the next listed value above (below) v; v itself may be unlisted (typed in)
          const above = values.filter((x) => x > v * (1 + 1e-12)), below = values.filter((x) => x < v * (1 - 1e-12));
          next = k > 0 ? (above.length ? above[0] : v) : (below.length ? below[below.length - 1] : v);
        } else {
          range.value = v; // the browser snaps to min + n step with decimal arithmetic (0.95, not 0.9500000001)
          if (k > 0) range.stepUp(); else range.stepDown();
          next = parseFloat(range.value);
          if (c.integer) next = Math.round(next);
        }
        if (next !== v) { state[c.name] = next; onChange(); }
      };
      range.addEventListener("input", () => { state[c.name] = fromRange(); onChange(); });
      if (values) range.addEventListener("keydown", (e) => {
        const k = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 3, PageDown: -3 }[e.key];
        if (e.key === "Home" || e.key === "End") {
          e.preventDefault();
          state[c.name] = e.key === "Home" ? values[0] : values[values.length - 1];
          onChange();
        } else if (k) {
          e.preventDefault();
          for (let n = 0; n < Math.abs(k); n++) stepBy(Math.sign(k));
        }
      });
      number.addEventListener("change", () => {
        const v = number.valueAsNumber;
        if (Number.isFinite(v)) {
          state[c.name] = c.integer ? Math.round(clamp(v)) : clamp(v);
          onChange();
        } else sync();
      });
      for (const button of [minus, plus]) { // click (mouse, touch, keyboard) steps once; holding repeats
        const k = +button.dataset.step;
        let timer = null, repeated = false;
        const stop = () => { clearTimeout(timer); clearInterval(timer); timer = null; };
        button.addEventListener("pointerdown", (e) => {
          if (e.button !== 0) return;
          repeated = false;
          stop();
          timer = setTimeout(() => { repeated = true; stepBy(k); timer = setInterval(() => stepBy(k), 60); }, 450);
        });
        for (const end of ["pointerup", "pointerleave", "pointercancel", "blur"]) button.addEventListener(end, stop);
        button.addEventListener("click", () => { if (repeated) { repeated = false; return; } stepBy(k); });
      }
      if ((c.max - c.min) / (c.step || 1) > 100 && !values) row.classList.add("kf-wide"); // a long slider gets a row of its own
      row.append(minus, range, plus, number);
      rows[c.name] = { row, sync };
      bar.appendChild(row);
    }
    root.appendChild(bar);
    return function read() {
      for (const { sync } of Object.values(rows)) sync();
      for (const c of controls) {
        if (c.visible_if) {
          const [key, want] = Object.entries(c.visible_if)[0];
          rows[c.name].row.hidden = state[key] !== want;
        }
      }
      return { ...state };
    };
  }

  // ---- the two figures ----------------------------------------------------------------------------------------
  // Each returns {legends: [left, right], draw(values, sizes)}; draw rebuilds both panels at their current size.
  const figures = {};

  // q_t(x) for the empirical data distribution (left) and alpha-bar_t of the chosen schedule (right).
  figures.marginal = function (root, cfg, panels, info) {
    const grid = linspace(cfg.grid[0], cfg.grid[1], cfg.grid[2]);
    const T = cfg.T;
    const ts = linspace(0, T, T + 1);
    const normal = grid.map((x) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI));
    legend(panels[0].legend, [["q_t(x)", "kf-blue", "line"], ["N(0, 1)", "kf-grey-dashed", "line"]]);
    legend(panels[1].legend, [["ᾱ_t of the schedule", "kf-red", "line"], ["current t", "kf-dot", "dot"]]);
    return function draw(v, sizes) {
      const ab = alphaBars(v.schedule, T, { beta: v.beta });
      const t = v.t, abt = ab[t];
      const density = t === 0 ? null : marginalDensity(grid, cfg.points, cfg.weights, abt);
      // The axis keeps the reader's scale (ymax) unless a sharper density needs more room.
      const ymax = density ? Math.max(cfg.ymax, niceCeil(1.05 * maxOf(density))) : cfg.ymax;
      const left = axes(panels[0].svg, sizes[0], [cfg.grid[0], cfg.grid[1]], [0, ymax], ["x", "q_t(x)"], root.id + "-l");
      left.line("kf-grey-dashed", left.pathOf(grid, normal));
      if (density) left.line("kf-blue", left.pathOf(grid, density));
      else { // q_0 is a sum of point masses: stems to the top of the axis
        const stems = el("g", { class: "kf-stems" }, left.plot);
        cfg.points.forEach((x) => el("line", { x1: left.sx(x), x2: left.sx(x), y1: left.sy(0), y2: left.sy(ymax) }, stems));
      }
      const right = axes(panels[1].svg, sizes[1], [0, T], [0, 1], ["t", "ᾱ_t"], root.id + "-r");
      right.line("kf-red", right.pathOf(ts, ab));
      // Not clipped: at t = 0 the dot sits on the axes' corner, and the margins leave room for all of it.
      el("circle", { r: 5, cx: right.sx(t), cy: right.sy(abt), class: "kf-dot" }, panels[1].svg);
      info.replaceChildren();
      mathHTML(info, `${v.schedule} schedule${v.schedule === "constant" ? `, β = ${v.beta}` : ""}, t = ${t}: ` +
        `ᾱ_t = ${fmt(abt, 4)}, mean factor √ᾱ_t = ${fmt(Math.sqrt(abt), 4)}, noise variance 1 − ᾱ_t = ${fmt(1 - abt, 4)}` +
        (t === 0 ? " (point masses at the data)" : ""));
      return { t, alpha_bars: Array.from(ab), grid: Array.from(grid), density: density && Array.from(density), ymax };
    };
  };

  // The chain x_t = a x_{t-1} + b eps: mean +- 2 sd over t (left), q(x_t | x_0) and the limit (right).
  figures.fixed_factor = function (root, cfg, panels, info) {
    const grid = linspace(cfg.grid[0], cfg.grid[1], cfg.grid[2]);
    const T = cfg.T, x0 = cfg.x0;
    const ts = linspace(0, T, T + 1);
    legend(panels[0].legend, [["mean a^t x_0", "kf-blue", "line"], ["± 2 sd", "kf-band", "band"], ["current t", "kf-marker", "line"]]);
    legend(panels[1].legend, [["q(x_t | x_0)", "kf-blue", "line"], ["limit, t → ∞", "kf-red-dashed", "line"]]);
    return function draw(v, sizes) {
      const { a, b, t } = v;
      const means = new Float64Array(T + 1), variances = new Float64Array(T + 1);
      for (let s = 0; s <= T; s++) { const m = fixedFactorMarginal(a, b, x0, s); means[s] = m.mean; variances[s] = m.variance; }
      const sd = variances.map(Math.sqrt);
      const lo = means.map((m, i) => m - 2 * sd[i]), hi = means.map((m, i) => m + 2 * sd[i]);
      // The band always fits: +-ylim, or more where the band is wider.
      const reach = Math.max(cfg.ylim, niceCeil(1.05 * Math.max(maxOf(hi), -Math.min(...lo))));
      const left = axes(panels[0].svg, sizes[0], [0, T], [-reach, reach], ["time step t", "x_t"], root.id + "-l");
      left.band("kf-band", ts, lo, hi);
      left.line("kf-blue", left.pathOf(ts, means));
      el("line", { x1: left.sx(t), x2: left.sx(t), y1: left.sy(-reach), y2: left.sy(reach), class: "kf-marker" }, left.plot);
      const stationary = b * b / (1 - a * a);
      const limitDensity = mixtureDensity(grid, [0], stationary, [1]);
      const atT = t === 0 ? null : mixtureDensity(grid, [means[t]], variances[t], [1]);
      const top = Math.max(maxOf(limitDensity), atT ? maxOf(atT) : 0);
      const ymax = Math.max(cfg.ymax, niceCeil(1.05 * top));
      const right = axes(panels[1].svg, sizes[1], [cfg.grid[0], cfg.grid[1]], [0, ymax], ["x_t", "density"], root.id + "-r");
      right.line("kf-red-dashed", right.pathOf(grid, limitDensity));
      if (atT) right.line("kf-blue", right.pathOf(grid, atT));
      info.replaceChildren();
      mathHTML(info, `a = ${a.toFixed(3)}, b = ${b.toFixed(3)}, t = ${t}: mean ${fmt(means[t], 4)}, ` +
        `variance ${fmt(variances[t], 4)}, limit variance b^2/(1 − a^2) = ${fmt(stationary, 4)}` +
        (t === 0 ? " (x_0 itself: no spread yet)" : ""));
      return { t, means: Array.from(means), variances: Array.from(variances), stationary,
               grid: Array.from(grid), density: atT && Array.from(atT), limit_density: Array.from(limitDensity), reach, ymax };
    };
  };

  // Panel sizes in CSS pixels from the figure's width: stacked below 560 px, else 3 : 2 side by side.
  function layout(root) {
    const width = Math.max(240, Math.floor(root.clientWidth - 16));
    const narrow = width < 560;
    root.classList.toggle("kf-narrow", narrow);
    // 14 px on a phone: sub- and superscripts (80 %) stay above 11 px
    const font = narrow ? 14 : Math.round(Math.min(16, Math.max(14, width / 52)));
    if (narrow) {
      const height = Math.round(Math.min(300, Math.max(210, 0.62 * width)));
      return [{ width, height, font }, { width, height, font }];
    }
    const gap = 16, height = Math.round(Math.min(330, Math.max(230, 0.36 * width)));
    const w0 = Math.floor(0.6 * (width - gap));
    return [{ width: w0, height, font }, { width: width - gap - w0, height, font }];
  }

  function mount(root) {
    if (root.kf) return root.kf;
    injectStyle();
    const cfg = JSON.parse(root.dataset.config);
    for (const [mode, colors] of Object.entries(cfg.colors)) {
      for (const [key, value] of Object.entries(colors)) root.style.setProperty(`--kf-${mode}-${key}`, value);
    }
    const alt = root.getAttribute("aria-label") || "";
    const kf = { result: null, redraws: 0, version: VERSION };
    let draw = null, settings = null, sizes = null;
    const update = () => { settings = read(); kf.result = { ...draw(settings, sizes), settings }; };
    const read = buildControls(root, cfg.controls, () => { update(); kf.redraws += 1; });
    const info = document.createElement("p");
    info.className = "kf-info";
    root.appendChild(info);
    const box = document.createElement("div");
    box.className = "kf-panels";
    const panels = ["left", "right"].map((side) => {
      const div = document.createElement("div");
      div.className = "kf-panel";
      const legendBox = document.createElement("div");
      div.appendChild(legendBox);
      const svg = el("svg", { role: "img", "aria-label": `${alt} (${side} panel)` }, div);
      box.appendChild(div);
      return { legend: legendBox, svg };
    });
    root.appendChild(box);
    sizes = layout(root);
    draw = figures[cfg.kind](root, cfg, panels, info);
    update();
    if (window.ResizeObserver) { // redraw at the new size (phone rotated, sidebar toggled, window resized)
      let last = root.clientWidth;
      new ResizeObserver(() => {
        if (Math.abs(root.clientWidth - last) < 2) return;
        last = root.clientWidth;
        sizes = layout(root);
        kf.result = { ...draw(settings, sizes), settings };
      }).observe(root);
    }
    root.kf = kf;
    return kf;
  }

  window.KernelFree = { version: VERSION, mount, alphaBars, betasFor, mixtureDensity, marginalDensity, fixedFactorMarginal,
                        linspace, niceCeil, mathRuns };
})();
