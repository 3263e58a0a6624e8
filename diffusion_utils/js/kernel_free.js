// Kernel-free figures: the closed forms of Part I evaluated in the reader's browser (no Python kernel).
// Loaded inline by diffusion_utils.browser_figures; each figure is a <div class="kf-figure"> whose JSON config
// names its kind, controls and data. The numbers follow the package line by line (float64 throughout):
//   schedules.NoiseSchedule.{constant,linear,cosine} -> alphaBars; mixture.marginal_density -> mixtureDensity;
//   forward.FixedFactorChain.marginal -> fixedFactorMarginal.  The browser test compares them with the package.
(function () {
  "use strict";
  if (window.KernelFree) return;
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
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) ticks.push(+v.toFixed(10));
    return ticks;
  }
  // One axes box: scales, ticks, labels, a clip path; returns helpers to draw polylines into it.
  function axes(svg, box, xlim, ylim, labels, uid) {
    const [x0, y0, w, h] = box;
    const sx = (x) => x0 + (x - xlim[0]) / (xlim[1] - xlim[0]) * w;
    const sy = (y) => y0 + h - (y - ylim[0]) / (ylim[1] - ylim[0]) * h;
    const g = el("g", { "font-size": 13, "font-family": "sans-serif", fill: "#333" }, svg);
    el("rect", { x: x0, y: y0, width: w, height: h, fill: "none", stroke: "#444" }, g);
    for (const v of niceTicks(xlim[0], xlim[1], 6)) {
      el("line", { x1: sx(v), x2: sx(v), y1: y0 + h, y2: y0 + h + 4, stroke: "#444" }, g);
      el("text", { x: sx(v), y: y0 + h + 16, "text-anchor": "middle" }, g).textContent = v;
    }
    for (const v of niceTicks(ylim[0], ylim[1], 4)) {
      el("line", { x1: x0 - 4, x2: x0, y1: sy(v), y2: sy(v), stroke: "#444" }, g);
      el("text", { x: x0 - 6, y: sy(v) + 4, "text-anchor": "end" }, g).textContent = v;
    }
    el("text", { x: x0 + w / 2, y: y0 + h + 36, "text-anchor": "middle", "font-size": 14 }, g).textContent = labels[0];
    el("text", { x: x0 - 44, y: y0 + h / 2, "text-anchor": "middle", "font-size": 14, transform: `rotate(-90 ${x0 - 44} ${y0 + h / 2})` }, g)
      .textContent = labels[1];
    const clip = el("clipPath", { id: uid }, el("defs", {}, svg));
    el("rect", { x: x0, y: y0, width: w, height: h }, clip);
    const plot = el("g", { "clip-path": `url(#${uid})` }, svg);
    const pathOf = (xs, ys) => Array.from(xs, (x, i) => `${i ? "L" : "M"}${sx(x).toFixed(2)},${sy(ys[i]).toFixed(2)}`).join("");
    return {
      sx, sy, g, plot,
      line(style) { return el("path", { fill: "none", "stroke-width": 2, ...style }, plot); },
      setLine(node, xs, ys) { node.setAttribute("d", pathOf(xs, ys)); },
      setBand(node, xs, lo, hi) {
        const back = Array.from(xs).reverse(), top = Array.from(hi).reverse();
        node.setAttribute("d", pathOf(xs, lo) + back.map((x, i) => `L${sx(x).toFixed(2)},${sy(top[i]).toFixed(2)}`).join("") + "Z");
      },
    };
  }
  function legend(svg, x, y, items) {
    items.forEach(([label, style], i) => {
      el("line", { x1: x, x2: x + 22, y1: y + 16 * i, y2: y + 16 * i, "stroke-width": 2, ...style }, svg);
      el("text", { x: x + 28, y: y + 16 * i + 4, "font-size": 13, "font-family": "sans-serif" }, svg).textContent = label;
    });
  }

  // ---- controls -----------------------------------------------------------------------------------------------
  function buildControls(root, controls, onChange) {
    const bar = document.createElement("div");
    bar.className = "kf-controls";
    bar.style.cssText = "display:flex;flex-wrap:wrap;gap:0.4em 1.8em;align-items:center;font:14px sans-serif;margin:0.4em 0";
    const inputs = {};
    for (const c of controls) {
      const label = document.createElement("label");
      label.className = "kf-control";
      label.dataset.name = c.name;
      label.style.cssText = "display:inline-flex;align-items:center;gap:0.5em";
      const text = document.createElement("span");
      text.textContent = c.label + " ";
      label.appendChild(text);
      let input;
      if (c.options) {
        input = document.createElement("select");
        for (const o of c.options) {
          const opt = document.createElement("option");
          opt.value = o; opt.textContent = o; input.appendChild(opt);
        }
        input.value = c.value;
      } else {
        input = document.createElement("input");
        input.type = "range";
        // A log slider moves log10 of the value in equal steps.
        const conv = c.log ? Math.log10 : (v) => v;
        input.min = conv(c.min); input.max = conv(c.max); input.step = c.step; input.value = conv(c.value);
      }
      input.name = c.name;
      input.setAttribute("aria-label", c.label);
      const readout = document.createElement("output");
      readout.style.cssText = "min-width:3.5em;font-variant-numeric:tabular-nums";
      label.appendChild(input);
      label.appendChild(readout);
      bar.appendChild(label);
      inputs[c.name] = { input, readout, spec: c };
      input.addEventListener("input", onChange);
      input.addEventListener("change", onChange);
    }
    root.appendChild(bar);
    return function read() {
      const values = {};
      for (const [name, { input, readout, spec }] of Object.entries(inputs)) {
        let v = spec.options ? input.value : parseFloat(input.value);
        if (spec.log) v = 10 ** v;
        if (spec.integer) v = Math.round(v);
        values[name] = v;
        readout.textContent = spec.options ? "" : (spec.integer ? String(v) : v.toPrecision(3));
      }
      for (const { input, spec } of Object.values(inputs)) {
        if (spec.visible_if) {
          const [key, want] = Object.entries(spec.visible_if)[0];
          input.parentElement.style.display = values[key] === want ? "" : "none";
        }
      }
      return values;
    };
  }

  // ---- the two figures ----------------------------------------------------------------------------------------
  const figures = {};

  // q_t(x) for the empirical data distribution (left) and alpha-bar_t of the chosen schedule (right).
  figures.marginal = function (root, cfg, svg) {
    const grid = linspace(cfg.grid[0], cfg.grid[1], cfg.grid[2]);
    const T = cfg.T;
    const left = axes(svg, [62, 28, 400, 220], [cfg.grid[0], cfg.grid[1]], [0, cfg.ymax], ["x", "q_t(x)"], root.id + "-l");
    const right = axes(svg, [540, 28, 200, 220], [0, T], [0, 1], ["t", "ᾱ_t"], root.id + "-r");
    const normal = left.line({ stroke: cfg.colors.grey, "stroke-dasharray": "5 4", "stroke-width": 1.5 });
    left.setLine(normal, grid, grid.map((x) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI)));
    const curve = left.line({ stroke: cfg.colors.blue });
    const stems = el("g", { stroke: cfg.colors.blue, "stroke-width": 3 }, left.plot);
    const abLine = right.line({ stroke: cfg.colors.vermillion });
    const dot = el("circle", { r: 4, fill: cfg.colors.vermillion }, right.plot);
    legend(svg, 355, 46, [["q_t(x)", { stroke: cfg.colors.blue }], ["N(0, 1)", { stroke: cfg.colors.grey, "stroke-dasharray": "5 4" }]]);
    const info = el("text", { x: 62, y: 16, "font-size": 13, "font-family": "sans-serif" }, svg);
    const ts = linspace(0, T, T + 1);
    return function draw(v) {
      const params = { beta: v.beta };
      const ab = alphaBars(v.schedule, T, params);
      const t = v.t, abt = ab[t];
      right.setLine(abLine, ts, ab);
      dot.setAttribute("cx", right.sx(t)); dot.setAttribute("cy", right.sy(abt));
      stems.replaceChildren();
      let density = null;
      if (t === 0) { // q_0 is a sum of point masses: draw them as stems of height w_i / (grid step) capped by the axis
        curve.setAttribute("d", "");
        cfg.points.forEach((x) => el("line", { x1: left.sx(x), x2: left.sx(x), y1: left.sy(0), y2: left.sy(cfg.ymax) }, stems));
      } else {
        density = marginalDensity(grid, cfg.points, cfg.weights, abt);
        left.setLine(curve, grid, density);
      }
      info.textContent = `${v.schedule} schedule, t = ${t}: ᾱ_t = ${abt.toPrecision(4)}, ` +
        `mean factor √ᾱ_t = ${Math.sqrt(abt).toPrecision(4)}, noise variance 1 − ᾱ_t = ${(1 - abt).toPrecision(4)}` +
        (t === 0 ? " (point masses at the data)" : "");
      return { t, alpha_bars: Array.from(ab), grid: Array.from(grid), density: density && Array.from(density) };
    };
  };

  // The chain x_t = a x_{t-1} + b eps: mean +- 2 sd over t (left), q(x_t | x_0) and the limit (right).
  figures.fixed_factor = function (root, cfg, svg) {
    const grid = linspace(cfg.grid[0], cfg.grid[1], cfg.grid[2]);
    const T = cfg.T, x0 = cfg.x0;
    const ts = linspace(0, T, T + 1);
    const reach = cfg.ylim;
    const left = axes(svg, [62, 28, 400, 220], [0, T], [-reach, reach], ["time step t", "x_t"], root.id + "-l");
    const right = axes(svg, [540, 28, 200, 220], [cfg.grid[0], cfg.grid[1]], [0, cfg.ymax], ["x_t", "density"], root.id + "-r");
    const band = el("path", { fill: cfg.colors.blue, "fill-opacity": 0.2, stroke: "none" }, left.plot);
    const meanLine = left.line({ stroke: cfg.colors.blue });
    const marker = el("line", { stroke: "#555", "stroke-dasharray": "2 3" }, left.plot);
    const density = right.line({ stroke: cfg.colors.blue });
    const limit = right.line({ stroke: cfg.colors.vermillion, "stroke-dasharray": "6 4", "stroke-width": 1.5 });
    legend(svg, 320, 46, [["mean a^t x_0", { stroke: cfg.colors.blue }], ["± 2 sd", { stroke: cfg.colors.blue, "stroke-opacity": 0.3, "stroke-width": 8 }]]);
    legend(svg, 630, 46, [["q(x_t | x_0)", { stroke: cfg.colors.blue }], ["t → ∞", { stroke: cfg.colors.vermillion, "stroke-dasharray": "6 4" }]]);
    const info = el("text", { x: 62, y: 16, "font-size": 13, "font-family": "sans-serif" }, svg);
    return function draw(v) {
      const { a, b, t } = v;
      const means = new Float64Array(T + 1), variances = new Float64Array(T + 1);
      for (let s = 0; s <= T; s++) { const m = fixedFactorMarginal(a, b, x0, s); means[s] = m.mean; variances[s] = m.variance; }
      const sd = variances.map(Math.sqrt);
      left.setBand(band, ts, means.map((m, i) => m - 2 * sd[i]), means.map((m, i) => m + 2 * sd[i]));
      left.setLine(meanLine, ts, means);
      marker.setAttribute("x1", left.sx(t)); marker.setAttribute("x2", left.sx(t));
      marker.setAttribute("y1", left.sy(-reach)); marker.setAttribute("y2", left.sy(reach));
      const stationary = b * b / (1 - a * a);
      const limitDensity = mixtureDensity(grid, [0], stationary, [1]);
      right.setLine(limit, grid, limitDensity);
      let atT = null;
      if (t === 0) density.setAttribute("d", "");
      else { atT = mixtureDensity(grid, [means[t]], variances[t], [1]); right.setLine(density, grid, atT); }
      info.textContent = `a = ${a.toFixed(3)}, b = ${b.toFixed(3)}, t = ${t}: mean ${means[t].toPrecision(4)}, ` +
        `variance ${variances[t].toPrecision(4)}, limit variance b²/(1 − a²) = ${stationary.toPrecision(4)}`;
      return { t, means: Array.from(means), variances: Array.from(variances), stationary,
               grid: Array.from(grid), density: atT && Array.from(atT), limit_density: Array.from(limitDensity) };
    };
  };

  function mount(root) {
    if (root.kf) return root.kf;
    const cfg = JSON.parse(root.dataset.config);
    const svg = el("svg", { viewBox: "0 0 760 300", style: "width:100%;max-width:900px;height:auto", role: "img", "aria-label": root.getAttribute("aria-label") || "" });
    el("title", {}, svg).textContent = root.getAttribute("aria-label") || "";
    let draw = null;
    const kf = { result: null, redraws: 0 };
    const update = () => { const settings = read(); kf.result = { ...draw(settings), settings }; };
    const read = buildControls(root, cfg.controls, () => { update(); kf.redraws += 1; });
    root.appendChild(svg);
    draw = figures[cfg.kind](root, cfg, svg);
    update();
    root.kf = kf;
    return kf;
  }

  window.KernelFree = { mount, alphaBars, betasFor, mixtureDensity, marginalDensity, fixedFactorMarginal, linspace };
})();
