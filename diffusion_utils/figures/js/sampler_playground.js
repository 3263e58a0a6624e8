// The sampler playground: the six samplers of diffusion_utils.samplers run in the reader's browser (no Python kernel)
// on the exact denoiser of a 1-D point cloud. Loaded inline by diffusion_utils.browser_figures.sampler_playground_html;
// each figure is a <div class="sp-figure"> whose JSON config holds the data points, alpha_bar_t (float64, exact),
// the starting noise x_T (float64, base64), the controls and the colours.
// The numbers follow the package line by line, in float64 and in the same order of operations:
//   samplers.time_grid -> timeGrid; reverse.ExactDenoiser / scores.mixture_denoiser -> predictEps (softmax with the
//   maximum subtracted); samplers._ddpm, _ddim, _euler, _heun, _dpmpp_2m, _euler_maruyama -> Runner.step;
//   metrics.wasserstein_1d -> w1.  The ODE samplers' particles equal du.sample's to rounding (tests/test_playground.py);
//   the stochastic ones draw their noise from this page's own seeded generator, not torch's.
// Layout: controls (one 44 px row each; the step count is a slider over round numbers with - / + buttons and a
// number field), a summary line, and two SVG panels drawn at their on-screen size, stacked below 560 px.
(function () {
  "use strict";
  const VERSION = 3;
  if (window.SamplerPlayground && window.SamplerPlayground.version === VERSION) return;
  const SVG = "http://www.w3.org/2000/svg";
  const METHODS = ["ddpm", "ddim", "euler", "heun", "dpmpp_2m", "euler_maruyama"];
  const STOCHASTIC = { ddpm: true, euler_maruyama: true };
  // Step counts of the background curves (every count the reader picks is added to them): ~2700 denoiser calls.
  const CURVE_STEPS = [1, 2, 3, 5, 10, 20, 50, 100, 200];

  // ---- numerics ---------------------------------------------------------------------------------------------
  function decodeFloat64(b64) { // little-endian float64 bytes, as numpy/torch write them
    const bin = atob(b64);
    const view = new DataView(new ArrayBuffer(bin.length));
    for (let i = 0; i < bin.length; i++) view.setUint8(i, bin.charCodeAt(i));
    const out = new Float64Array(bin.length >> 3);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
    return out;
  }
  function roundHalfEven(v) { // torch.round
    const f = Math.floor(v), d = v - f;
    if (d > 0.5) return f + 1;
    if (d < 0.5) return f;
    return f % 2 === 0 ? f : f + 1;
  }
  function linspace(start, end, n) { // torch.linspace's formula: the first half from start, the second from end
    const out = new Float64Array(n);
    if (n === 1) { out[0] = start; return out; }
    const step = (end - start) / (n - 1), half = Math.floor(n / 2);
    for (let i = 0; i < n; i++) out[i] = i < half ? start + step * i : end - step * (n - i - 1);
    return out;
  }
  const sigmaOf = (ab) => Math.sqrt((1.0 - ab) / ab); // samplers._sigma
  const lambdaOf = (ab) => 0.5 * (Math.log(ab) - Math.log1p(-ab)); // samplers._lam

  // samplers.time_grid: integer times T = t_0 > ... > t_{steps-1} >= 1 > t_steps = 0.
  function makeTimeGrid(ab, rho) {
    const T = ab.length - 1;
    const logSigma = new Float64Array(T + 1); // log sqrt((1 - ab_t) / ab_t); entry 0 is -inf
    for (let t = 0; t <= T; t++) logSigma[t] = 0.5 * (Math.log1p(-ab[t]) - Math.log(ab[t]));
    function nearest(target) { // argmin over t = 1..T of |target - logSigma[t]| (first on ties); logSigma increases
      let lo = 1, hi = T;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (logSigma[mid] < target) lo = mid + 1; else hi = mid; }
      let best = lo;
      if (lo > 1 && Math.abs(target - logSigma[lo - 1]) <= Math.abs(target - logSigma[lo])) best = lo - 1;
      return best;
    }
    return function timeGrid(steps, grid) {
      const times = new Int32Array(steps + 1);
      if (grid === "uniform") {
        const lin = linspace(T, 0, steps + 1);
        for (let k = 0; k < steps; k++) times[k] = roundHalfEven(lin[k]);
      } else {
        const lo = logSigma[1], hi = logSigma[T];
        const u = linspace(0.0, 1.0, steps);
        const r = 1.0 / rho, a = Math.exp(hi * r), b = Math.exp(lo * r) - Math.exp(hi * r);
        for (let k = 0; k < steps; k++) {
          const target = grid === "karras" ? rho * Math.log(a + u[k] * b) : hi + u[k] * (lo - hi);
          times[k] = nearest(target);
        }
        times[0] = T;
      }
      for (let k = 1; k < steps; k++) times[k] = Math.max(Math.min(times[k], times[k - 1] - 1), steps - k);
      times[steps] = 0;
      return times;
    };
  }

  // A small seeded generator (sfc32) and polar-method normals: the stochastic samplers' noise on this page.
  function normals(seed) {
    let a = 0x9e3779b9 | 0, b = 0x243f6a88 | 0, c = 0xb7e15162 | 0, d = seed | 0;
    const next = () => { // sfc32
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      return t >>> 0;
    };
    for (let i = 0; i < 15; i++) next();
    let spare = NaN;
    return function fill(z) { // Marsaglia's polar method
      let i = 0;
      if (spare === spare && z.length) { z[i++] = spare; spare = NaN; }
      while (i < z.length) {
        let u, v, s;
        do {
          u = next() * 4.656612873077393e-10 - 1; // uniform on [-1, 1) from 32 bits
          v = next() * 4.656612873077393e-10 - 1;
          s = u * u + v * v;
        } while (s >= 1 || s === 0);
        const f = Math.sqrt(-2 * Math.log(s) / s);
        z[i++] = u * f;
        if (i < z.length) z[i++] = v * f; else spare = v * f;
      }
    };
  }

  // The model: reverse.ExactDenoiser's eps_hat = (x - sqrt(ab) E[x_0 | x]) / sqrt(1 - ab) for every particle, with
  // E[x_0 | x] = softmax(log w_i - (x - sqrt(ab) x_i)^2 / 2 (1 - ab)) @ x_i as in scores.mixture_denoiser.
  function makeDenoiser(points, ab) {
    const K = points.length, logW = -Math.log(K), logits = new Float64Array(K);
    let calls = 0;
    // exp(z) of a logit minus the largest: 1 for the largest itself, 0 below -746 (where exp underflows anyway)
    const expShift = (z) => (z === 0 ? 1.0 : z < -746 ? 0.0 : Math.exp(z));
    // K <= 4 written out: the same operations in the same order. Fewer points are padded with log-weight -inf: their
    // logits are -inf, their exp 0, and adding those zeros leaves the sums exactly those over the K points.
    const pad = (i) => (i < K ? points[i] : 0.0), lw = (i) => (i < K ? logW : -Infinity);
    const p0 = pad(0), p1 = pad(1), p2 = pad(2), p3 = pad(3), w0 = lw(0), w1 = lw(1), w2 = lw(2), w3 = lw(3);
    function predictEps4(x, out, a, v, sv) {
      for (let n = 0; n < x.length; n++) {
        const xn = x[n];
        let d = xn - a * p0;
        const l0 = w0 - 0.5 * (d * d) / v;
        d = xn - a * p1;
        const l1 = w1 - 0.5 * (d * d) / v;
        d = xn - a * p2;
        const l2 = w2 - 0.5 * (d * d) / v;
        d = xn - a * p3;
        const l3 = w3 - 0.5 * (d * d) / v;
        let top = l0;
        if (l1 > top) top = l1;
        if (l2 > top) top = l2;
        if (l3 > top) top = l3;
        const e0 = expShift(l0 - top), e1 = expShift(l1 - top), e2 = expShift(l2 - top), e3 = expShift(l3 - top);
        const inv = 1 / (((e0 + e1) + e2) + e3);
        const mean = (((e0 * inv * p0) + e1 * inv * p1) + e2 * inv * p2) + e3 * inv * p3;
        out[n] = (xn - a * mean) / sv;
      }
    }
    function predictEps(x, out, t) {
      const abt = ab[t], a = Math.sqrt(abt), v = 1.0 - abt, sv = Math.sqrt(v);
      if (K <= 4) { predictEps4(x, out, a, v, sv); calls += 1; return; }
      for (let n = 0; n < x.length; n++) {
        const xn = x[n];
        let top = -Infinity;
        for (let i = 0; i < K; i++) {
          const d = xn - a * points[i];
          const l = logW - 0.5 * (d * d) / v;
          logits[i] = l;
          if (l > top) top = l;
        }
        let sum = 0.0;
        for (let i = 0; i < K; i++) {
          const z = logits[i] - top;
          const e = expShift(z);
          logits[i] = e;
          sum += e;
        }
        const inv = 1 / sum;
        let mean = 0.0;
        for (let i = 0; i < K; i++) mean += logits[i] * inv * points[i];
        out[n] = (xn - a * mean) / sv;
      }
      calls += 1;
    }
    return { predictEps, calls: () => calls, reset() { calls = 0; } };
  }

  // One run of a sampler, step by step (a background run is advanced in slices). Buffers are allocated once per
  // runner and reused: no allocation inside the steps.
  function makeRunner(cfg, ab, timeGrid) {
    const N = cfg.xT.length;
    const model = cfg.makeModel ? cfg.makeModel() : makeDenoiser(cfg.points, ab); // makeModel: another eps-model
    let x = new Float64Array(N), eps = new Float64Array(N), tmp = new Float64Array(N), d = new Float64Array(N);
    let x0prev = new Float64Array(N);
    const z = new Float64Array(N);
    let job = null;
    function start(method, steps, grid, eta, seed) {
      x.set(cfg.xT);
      model.reset();
      job = { method, steps, grid, eta, k: 0, times: timeGrid(steps, grid), hPrev: null,
              noise: STOCHASTIC[method] || (method === "ddim" && eta > 0) ? normals(seed) : null };
    }
    function step() { // samplers._STEPS[method](call, x, t, s, ab_t, ab_s, eta, ...)
      const { method, eta, times, k } = job;
      const t = times[k], s = times[k + 1], abt = ab[t], abs = ab[s];
      const n = N;
      if (method === "ddpm") {
        model.predictEps(x, eps, t);
        const beta = 1.0 - abt / abs;
        const c = -beta / Math.sqrt(1.0 - abt), scale = 1.0 / Math.sqrt(1.0 - beta);
        for (let i = 0; i < n; i++) x[i] = (x[i] + c * eps[i]) * scale;
        if (s > 0) {
          const sd = Math.sqrt(beta * (1.0 - abs) / (1.0 - abt));
          job.noise(z);
          for (let i = 0; i < n; i++) x[i] += sd * z[i];
        }
      } else if (method === "ddim") {
        model.predictEps(x, eps, t);
        const c = -Math.sqrt(1.0 - abt), inv = 1.0 / Math.sqrt(abt);
        const variance = s > 0 ? eta ** 2 * (1.0 - abs) / (1.0 - abt) * (1.0 - abt / abs) : 0.0;
        const sa = Math.sqrt(abs), se = Math.sqrt(Math.max(0.0, 1.0 - abs - variance));
        for (let i = 0; i < n; i++) x[i] = ((x[i] + c * eps[i]) * inv) * sa + se * eps[i];
        if (variance > 0) {
          const sd = Math.sqrt(variance);
          job.noise(z);
          for (let i = 0; i < n; i++) x[i] += sd * z[i];
        }
      } else if (method === "euler" || method === "heun") {
        const st = sigmaOf(abt), h = sigmaOf(abs) - st;
        model.predictEps(x, eps, t);
        const cx = -st * abt, ce = Math.sqrt(abt);
        if (method === "euler" || s === 0) {
          for (let i = 0; i < n; i++) x[i] = x[i] + h * (x[i] * cx + ce * eps[i]);
        } else {
          for (let i = 0; i < n; i++) { d[i] = x[i] * cx + ce * eps[i]; tmp[i] = x[i] + h * d[i]; }
          model.predictEps(tmp, eps, s);
          const cx2 = -sigmaOf(abs) * abs, ce2 = Math.sqrt(abs), h2 = h / 2;
          for (let i = 0; i < n; i++) x[i] = x[i] + h2 * (d[i] + (tmp[i] * cx2 + ce2 * eps[i]));
        }
      } else if (method === "dpmpp_2m") {
        model.predictEps(x, eps, t);
        const c = -Math.sqrt(1.0 - abt), inv = 1.0 / Math.sqrt(abt);
        const x0 = tmp;
        for (let i = 0; i < n; i++) x0[i] = (x[i] + c * eps[i]) * inv;
        if (s === 0) {
          x.set(x0);
        } else {
          const h = lambdaOf(abs) - lambdaOf(abt);
          const cx = Math.sqrt((1.0 - abs) / (1.0 - abt)), cd = -Math.sqrt(abs) * Math.expm1(-h);
          if (job.hPrev === null) {
            for (let i = 0; i < n; i++) x[i] = x[i] * cx + cd * x0[i];
          } else {
            const r = job.hPrev / h, w = 1.0 / (2.0 * r);
            for (let i = 0; i < n; i++) x[i] = x[i] * cx + cd * ((x0[i] - x0prev[i]) * w + x0[i]);
          }
          job.hPrev = h;
          tmp = x0prev; x0prev = x0; // keep this step's x0_hat for the next one
        }
      } else if (method === "euler_maruyama") {
        model.predictEps(x, eps, t);
        const b = Math.log(abs / abt);
        const cx = 1.0 + 0.5 * b, ce = -b / Math.sqrt(1.0 - abt);
        for (let i = 0; i < n; i++) x[i] = x[i] * cx + ce * eps[i];
        if (s > 0) {
          const sd = Math.sqrt(b);
          job.noise(z);
          for (let i = 0; i < n; i++) x[i] += sd * z[i];
        }
      } else {
        throw new Error("unknown method " + method);
      }
      job.k += 1;
    }
    return {
      start, step,
      done: () => job.k >= job.steps,
      run(method, steps, grid, eta, seed) { start(method, steps, grid, eta, seed); while (job.k < job.steps) step(); },
      samples: () => x,
      model,
      nfe: () => model.calls(),
      times: () => job.times,
      job: () => job,
    };
  }

  // metrics.wasserstein_1d(x, points): the integral of |F_x - F_D| over the sorted union of both samples, with
  // weights 1/N and 1/K accumulated as torch.cumsum does. ``sorted`` is scratch space of x's length.
  function w1(x, points, sorted) {
    sorted.set(x);
    sorted.sort();
    const N = sorted.length, K = points.length, wx = 1.0 / N, wy = 1.0 / K;
    let ix = 0, iy = 0, fx = 0.0, fy = 0.0, total = 0.0;
    let cur = Math.min(sorted[0], points[0]);
    for (;;) {
      while (ix < N && sorted[ix] <= cur) { fx += wx; ix++; }
      while (iy < K && points[iy] <= cur) { fy += wy; iy++; }
      if (ix >= N && iy >= K) break;
      const next = ix >= N ? points[iy] : iy >= K ? sorted[ix] : Math.min(sorted[ix], points[iy]);
      total += Math.abs(fx - fy) * (next - cur);
      cur = next;
    }
    return total;
  }

  // ---- text --------------------------------------------------------------------------------------------------
  // Runs {text, italic, shift} of a label: x_0 as x with subscript 0, one-letter names in italics.
  function mathRuns(s) {
    const runs = [];
    const push = (text, italic, shift) => {
      const last = runs[runs.length - 1];
      if (last && last.italic === italic && last.shift === shift) last.text += text;
      else runs.push({ text, italic, shift });
    };
    const plain = (str, shift) => {
      for (const m of str.matchAll(/(\p{L}\p{M}*)+|[^\p{L}]+/gu)) {
        const isWord = /\p{L}/u.test(m[0]);
        push(m[0], isWord && Array.from(m[0].normalize("NFC")).length === 1, shift);
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
  function mathHTML(parent, s) {
    for (const r of mathRuns(s)) {
      let node = document.createTextNode(r.text);
      if (r.italic) { const i = document.createElement("i"); i.appendChild(node); node = i; }
      if (r.shift) { const w = document.createElement(r.shift < 0 ? "sub" : "sup"); w.appendChild(node); node = w; }
      parent.appendChild(node);
    }
    return parent;
  }
  function richHTML(parent, s) { // plain text with $...$ math (x_0, W_1, eta) inside
    s.split("$").forEach((part, i) => { if (i % 2) mathHTML(parent, part); else if (part) parent.appendChild(document.createTextNode(part)); });
    return parent;
  }
  function mathSVG(textNode, s, fontSize) {
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
  function richSVG(textNode, s, fontSize) {
    s.split("$").forEach((part, i) => { if (i % 2) mathSVG(textNode, part, fontSize); else if (part) el("tspan", {}, textNode).textContent = part; });
    return textNode;
  }
  const textWidth = (s, fontSize) => 0.6 * fontSize * mathRuns(s).reduce((n, r) => n + Array.from(r.text).length * (r.shift ? 0.8 : 1), 0);
  const minus = (s) => s.replace(/-/g, "\u2212");
  function fmt(x, digits) { return minus(x.toPrecision(digits)); }
  const thousands = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");

  // ---- SVG ---------------------------------------------------------------------------------------------------
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
  function niceCeil(v) {
    const mag = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * mag >= v * (1 - 1e-12)) return +(m * mag).toPrecision(6);
    return 10 * mag;
  }
  // Axes filling an SVG of width x height CSS pixels; ``log`` = [x is log, y is log] (ticks at powers of ten).
  function axes(svg, size, xlim, ylim, labels, uid, log) {
    const { width, height, font } = size;
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    const decades = (lo, hi) => { const out = []; for (let e = Math.ceil(Math.log10(lo) - 1e-9); e <= Math.log10(hi) + 1e-9; e++) out.push(10 ** e); return out; };
    const label = (v) => minus(String(+v.toPrecision(6))); // -15 and 0.25 in full, 10 ** -3 as 0.001
    const xt = log[0] ? decades(...xlim) : niceTicks(xlim[0], xlim[1], width < 300 ? 4 : 6);
    const yt = log[1] ? decades(...ylim) : niceTicks(ylim[0], ylim[1], 4);
    const yTickW = Math.max(...yt.map((v) => textWidth(label(v), font)));
    const left = Math.ceil(yTickW + 10 + 1.9 * font);
    const right = Math.ceil(Math.max(10, textWidth(label(xt[xt.length - 1]), font) / 2 + 4));
    const top = Math.ceil(0.6 * font), bottom = Math.ceil(3.4 * font);
    const x0 = left, y0 = top, w = width - left - right, h = height - top - bottom;
    const fx = log[0] ? Math.log10 : (v) => v, fy = log[1] ? Math.log10 : (v) => v;
    const [ax0, ax1] = xlim.map(fx), [ay0, ay1] = ylim.map(fy);
    const sx = (v) => x0 + (fx(v) - ax0) / (ax1 - ax0) * w;
    const sy = (v) => y0 + h - (fy(v) - ay0) / (ay1 - ay0) * h;
    const g = el("g", { "font-size": font, "font-family": "sans-serif", class: "sp-text" }, svg);
    el("rect", { x: x0, y: y0, width: w, height: h, fill: "none", class: "sp-axis" }, g);
    for (const v of xt) {
      el("line", { x1: sx(v), x2: sx(v), y1: y0 + h, y2: y0 + h + 5, class: "sp-axis" }, g);
      el("text", { x: sx(v), y: y0 + h + 6 + font, "text-anchor": "middle" }, g).textContent = label(v);
    }
    for (const v of yt) {
      el("line", { x1: x0 - 5, x2: x0, y1: sy(v), y2: sy(v), class: "sp-axis" }, g);
      el("text", { x: x0 - 7, y: sy(v) + 0.35 * font, "text-anchor": "end" }, g).textContent = label(v);
    }
    richSVG(el("text", { x: x0 + w / 2, y: height - 0.7 * font, "text-anchor": "middle" }, g), labels[0], font);
    const ly = 1.15 * font, lx = y0 + h / 2;
    richSVG(el("text", { x: ly, y: lx, "text-anchor": "middle", transform: `rotate(-90 ${ly} ${lx})` }, g), labels[1], font);
    const clip = el("clipPath", { id: uid }, el("defs", {}, svg));
    el("rect", { x: x0, y: y0, width: w, height: h }, clip);
    const plot = el("g", { "clip-path": `url(#${uid})`, class: "sp-plot" }, svg);
    return { sx, sy, plot, box: [x0, y0, w, h] };
  }
  // Markers of the six methods (colour, shape and dash: no method told apart by colour alone).
  function marker(parent, shape, cx, cy, r, cls) {
    const p = (pts) => el("polygon", { points: pts.map(([a, b]) => `${(cx + a * r).toFixed(2)},${(cy + b * r).toFixed(2)}`).join(" "), class: cls }, parent);
    if (shape === "circle") return el("circle", { cx, cy, r: 0.9 * r, class: cls }, parent);
    if (shape === "square") return p([[-0.8, -0.8], [0.8, -0.8], [0.8, 0.8], [-0.8, 0.8]]);
    if (shape === "triangle") return p([[0, -1.05], [0.95, 0.7], [-0.95, 0.7]]);
    if (shape === "diamond") return p([[0, -1.1], [1, 0], [0, 1.1], [-1, 0]]);
    if (shape === "down") return p([[0, 1.05], [0.95, -0.7], [-0.95, -0.7]]);
    return p([[-1, -0.35], [-0.35, -0.35], [-0.35, -1], [0.35, -1], [0.35, -0.35], [1, -0.35], [1, 0.35], [0.35, 0.35],
              [0.35, 1], [-0.35, 1], [-0.35, 0.35], [-1, 0.35]]); // plus
  }
  function legend(parent, items) { // [label, draw(svg)]
    const box = document.createElement("div");
    box.className = "sp-legend";
    for (const [label, draw] of items) {
      const item = document.createElement("span");
      item.className = "sp-key";
      const sw = el("svg", { width: 30, height: 14, "aria-hidden": "true", focusable: "false" }, item);
      draw(sw);
      item.appendChild(richHTML(document.createElement("span"), label));
      box.appendChild(item);
    }
    parent.replaceChildren(box);
  }

  // The share of the particles in each of counts.length equal bins on [lo, hi] (hi itself in the last bin), written
  // into counts; returns how many fell outside.
  function shares(x, lo, hi, counts) {
    const bins = counts.length, width = (hi - lo) / bins;
    counts.fill(0);
    let outside = 0;
    for (let i = 0; i < x.length; i++) {
      const b = Math.floor((x[i] - lo) / width);
      if (b >= 0 && b < bins) counts[b] += 1;
      else if (x[i] === hi) counts[bins - 1] += 1;
      else outside += 1;
    }
    for (let b = 0; b < bins; b++) counts[b] /= x.length;
    return outside;
  }
  // Those shares as one filled step path in the plot of ``ax`` (from axes()).
  function bars(ax, counts, lo, hi) {
    const bins = counts.length, width = (hi - lo) / bins;
    let d = `M${ax.sx(lo).toFixed(2)},${ax.sy(0).toFixed(2)}`;
    for (let b = 0; b < bins; b++) {
      const y = ax.sy(counts[b]).toFixed(2);
      d += `L${ax.sx(lo + b * width).toFixed(2)},${y}L${ax.sx(lo + (b + 1) * width).toFixed(2)},${y}`;
    }
    d += `L${ax.sx(hi).toFixed(2)},${ax.sy(0).toFixed(2)}Z`;
    return el("path", { d, class: "sp-bars" }, ax.plot);
  }

  // ---- style ---------------------------------------------------------------------------------------------------
  // The guidance playground (guidance_playground.js, class gp-figure) is drawn with the same style and code.
  const ROOT = ":is(.sp-figure,.gp-figure)";
  const CSS = `
${ROOT}{--sp-bg:var(--sp-light-bg);--sp-fg:var(--sp-light-fg);--sp-axis:var(--sp-light-axis);--sp-grey:var(--sp-light-grey);
 --sp-blue:var(--sp-light-blue);--sp-orange:var(--sp-light-orange);--sp-green:var(--sp-light-green);
 --sp-red:var(--sp-light-vermillion);--sp-purple:var(--sp-light-purple);
 background:var(--sp-bg);color:var(--sp-fg);font-size:15px;line-height:1.4;
 padding:.5rem;border-radius:.25rem;max-width:100%;box-sizing:border-box;text-align:left}
html[data-theme=dark] ${ROOT},body[data-jp-theme-light=false] ${ROOT}{--sp-bg:var(--sp-dark-bg);--sp-fg:var(--sp-dark-fg);
 --sp-axis:var(--sp-dark-axis);--sp-grey:var(--sp-dark-grey);--sp-blue:var(--sp-dark-blue);--sp-orange:var(--sp-dark-orange);
 --sp-green:var(--sp-dark-green);--sp-red:var(--sp-dark-vermillion);--sp-purple:var(--sp-dark-purple);color-scheme:dark}
html[data-theme=dark] .bd-content div.cell_output .text_html.text_html:has(> ${ROOT}){background:transparent;padding:0}
${ROOT} *{box-sizing:border-box}
.sp-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,20rem),1fr));gap:.25rem 1.5rem;margin:0 0 .25rem}
.sp-control{display:flex;align-items:center;gap:.375rem;min-height:44px;margin:0}
.sp-control[hidden]{display:none}
.sp-name{min-width:4em;flex:none}
.sp-control select{flex:1 1 auto;min-height:44px;min-width:8em;max-width:100%;font:inherit;font-size:16px;color:inherit;
 background:var(--sp-bg);border:1px solid var(--sp-axis);border-radius:.25rem;padding:0 .5rem}
${ROOT} input[type=range]{-webkit-appearance:none;appearance:none;flex:1 1 6rem;min-width:4rem;height:44px;margin:0;
 background:transparent;cursor:pointer;touch-action:pan-y}
${ROOT} input[type=range]::-webkit-slider-runnable-track{height:6px;border-radius:3px;background:var(--sp-axis)}
${ROOT} input[type=range]::-moz-range-track{height:6px;border-radius:3px;background:var(--sp-axis)}
${ROOT} input[type=range]::-webkit-slider-thumb{-webkit-appearance:none;width:26px;height:26px;margin-top:-10px;
 border-radius:50%;background:var(--sp-blue);border:3px solid var(--sp-bg);box-shadow:0 0 0 1px var(--sp-blue)}
${ROOT} input[type=range]::-moz-range-thumb{width:20px;height:20px;border-radius:50%;background:var(--sp-blue);
 border:3px solid var(--sp-bg);box-shadow:0 0 0 1px var(--sp-blue)}
.sp-step{flex:none;width:44px;height:44px;padding:0;font:inherit;font-size:22px;line-height:1;color:inherit;
 background:var(--sp-bg);border:1px solid var(--sp-axis);border-radius:.25rem;cursor:pointer;touch-action:manipulation}
.sp-step:disabled{opacity:.45;cursor:default}
.sp-number{flex:none;width:5em;height:44px;padding:0 .375rem;font:inherit;font-size:16px;font-variant-numeric:tabular-nums;
 color:inherit;background:var(--sp-bg);border:1px solid var(--sp-axis);border-radius:.25rem}
${ROOT} :focus-visible{outline:2px solid var(--sp-blue);outline-offset:2px}
.sp-info{margin:.25rem 0;min-height:2.8em;font-size:15px;overflow-wrap:anywhere}
.sp-note{margin:.25rem 0 0;font-size:14px;overflow-wrap:anywhere}
.sp-panels{display:flex;flex-wrap:wrap;align-items:flex-end;gap:.5rem 1rem}
.sp-panel{flex:1 1 100%;min-width:0}
${ROOT}:not(.sp-narrow) .sp-panel:first-child{flex:58 1 0}
${ROOT}:not(.sp-narrow) .sp-panel:last-child{flex:42 1 0}
.sp-panel svg{display:block;width:100%;height:auto;overflow:hidden}
.sp-legend{display:flex;flex-wrap:wrap;gap:0 1rem;font-size:14px;margin:0 0 .125rem}
.sp-key{display:inline-flex;align-items:center;gap:.375rem;white-space:nowrap}
${ROOT} sub,${ROOT} sup{font-size:80%;line-height:0}
.sp-text{fill:var(--sp-fg)}
.sp-axis{stroke:var(--sp-axis);stroke-width:1}
.sp-bars{fill:var(--sp-blue);fill-opacity:.35;stroke:var(--sp-blue);stroke-width:1.5}
.sp-stems{stroke:var(--sp-red);stroke-width:2.5}
.sp-stem-head{fill:var(--sp-red);stroke:var(--sp-bg);stroke-width:1}
.sp-limit{stroke:var(--sp-fg);stroke-width:1.5;stroke-dasharray:6 4;fill:none}
.sp-current{fill:none;stroke:var(--sp-fg);stroke-width:2}
.sp-m-ddpm{--c:var(--sp-orange)}.sp-m-ddim{--c:var(--sp-blue)}.sp-m-euler{--c:var(--sp-green)}
.sp-m-heun{--c:var(--sp-purple)}.sp-m-dpmpp_2m{--c:var(--sp-red)}.sp-m-euler_maruyama{--c:var(--sp-grey)}
.sp-curve{fill:none;stroke:var(--c);stroke-width:2}
.sp-curve.sp-dashed{stroke-dasharray:6 3}
.sp-mark{fill:var(--c);stroke:var(--sp-bg);stroke-width:1}`;
  function injectStyle() {
    const id = "sp-style-" + VERSION;
    if (document.getElementById(id)) return;
    const style = document.createElement("style");
    style.id = id;
    style.textContent = CSS;
    (document.head || document.documentElement).appendChild(style);
  }

  // ---- controls ------------------------------------------------------------------------------------------------
  // A select (method, grid) or a slider over a list of values with - / + buttons and a number field (steps, eta).
  // ``state`` holds the settings; ``read()`` syncs the controls to it and hides eta unless the method is DDIM.
  function buildControls(root, controls, state, onChange) {
    const bar = document.createElement("div");
    bar.className = "sp-controls";
    const rows = {};
    for (const c of controls) {
      const row = document.createElement("div");
      row.className = "sp-control";
      row.dataset.name = c.name;
      const name = document.createElement("label");
      name.className = "sp-name";
      richHTML(name, c.label);
      row.appendChild(name);
      const id = `${root.id}-${c.name}`;
      const plain = c.label.replace(/[_^{}$]/g, "");
      if (c.options) {
        const select = document.createElement("select");
        select.name = c.name;
        select.id = name.htmlFor = id;
        for (const [value, text] of c.options) {
          const opt = document.createElement("option");
          opt.value = value; opt.textContent = text; select.appendChild(opt);
        }
        const set = () => { if (state[c.name] !== select.value) { state[c.name] = select.value; onChange(c.name); } };
        select.addEventListener("input", set);
        select.addEventListener("change", set);
        row.appendChild(select);
        rows[c.name] = { row, sync() { select.value = state[c.name]; } };
        bar.appendChild(row);
        continue;
      }
      const values = c.values; // the slider's stops; the number field takes any value in [min, max]
      const range = document.createElement("input");
      range.type = "range"; range.name = c.name; range.id = name.htmlFor = id;
      range.min = 0; range.max = values.length - 1; range.step = 1;
      const [down, up] = ["\u2212", "+"].map((text, k) => {
        const button = document.createElement("button");
        button.type = "button"; button.className = "sp-step"; button.textContent = text;
        button.dataset.step = k ? "1" : "-1";
        button.setAttribute("aria-label", `${k ? "increase" : "decrease"} ${plain}`);
        return button;
      });
      const number = document.createElement("input");
      number.type = "number"; number.className = "sp-number";
      number.min = c.min; number.max = c.max; number.step = c.integer ? 1 : "any";
      number.inputMode = c.integer ? "numeric" : "decimal";
      number.setAttribute("aria-label", `${plain}, exact value`);
      const nearestIndex = (v) => values.reduce((best, x, i) => (Math.abs(x - v) < Math.abs(values[best] - v) ? i : best), 0);
      const show = (v) => String(v);
      const set = (v) => { if (v !== state[c.name]) { state[c.name] = v; onChange(c.name); } };
      range.addEventListener("input", () => set(values[+range.value]));
      number.addEventListener("change", () => {
        const v = number.valueAsNumber;
        if (!Number.isFinite(v)) { rows[c.name].sync(); return; }
        const clamped = Math.min(c.max, Math.max(c.min, v));
        set(c.integer ? Math.round(clamped) : clamped);
        rows[c.name].sync();
      });
      const stepBy = (k) => { // the next stop above (below) the value, which may be unlisted (typed in)
        const v = state[c.name];
        const next = k > 0 ? values.find((x) => x > v) : [...values].reverse().find((x) => x < v);
        if (next !== undefined) set(next);
      };
      for (const button of [down, up]) button.addEventListener("click", () => stepBy(+button.dataset.step));
      row.append(down, range, up, number);
      rows[c.name] = {
        row,
        sync() {
          const v = state[c.name];
          range.value = nearestIndex(v);
          number.value = show(v);
          range.setAttribute("aria-valuetext", `${plain} = ${show(v)}`);
          down.disabled = v <= values[0]; up.disabled = v >= values[values.length - 1];
        },
      };
      bar.appendChild(row);
    }
    root.appendChild(bar);
    return function read() {
      for (const { sync } of Object.values(rows)) sync();
      if (rows.eta) rows.eta.row.hidden = state.method !== "ddim";
    };
  }

  // Panel sizes in CSS pixels from the figure's width: stacked below 560 px, else 58 : 42 side by side (as the CSS).
  function layout(root) {
    const width = Math.max(240, Math.floor(root.clientWidth - 16));
    const narrow = width < 560;
    root.classList.toggle("sp-narrow", narrow);
    const font = narrow ? 14 : Math.round(Math.min(16, Math.max(14, width / 52)));
    if (narrow) {
      const height = Math.round(Math.min(300, Math.max(220, 0.66 * width)));
      return [{ width, height, font }, { width, height, font }];
    }
    const gap = 16, height = Math.round(Math.min(340, Math.max(240, 0.37 * width)));
    const w0 = Math.floor(0.58 * (width - gap));
    return [{ width: w0, height, font }, { width: width - gap - w0, height, font }];
  }

  const NAMES = { ddpm: "DDPM", ddim: "DDIM", euler: "Euler", heun: "Heun", dpmpp_2m: "DPM-Solver++(2M)",
                  euler_maruyama: "Euler–Maruyama" };
  const SHAPES = { ddpm: "square", ddim: "circle", euler: "triangle", heun: "diamond", dpmpp_2m: "down", euler_maruyama: "plus" };
  const GRID_NAMES = { uniform: "uniform grid", karras: "Karras grid", logsnr: "log-SNR grid" };

  // The frame both playgrounds share: the controls (a move is drawn on the next animation frame, so dragging a slider
  // past several stops computes only the last one), a live info line, two panels with their legends, and the note.
  function scaffold(root, cfg, state, onMove) {
    const alt = root.getAttribute("aria-label") || "";
    let frame = null;
    const requestUpdate = () => {
      if (frame !== null) return;
      const run = () => { frame = null; onMove(); };
      frame = window.requestAnimationFrame ? requestAnimationFrame(run) : setTimeout(run, 16);
    };
    const read = buildControls(root, cfg.controls, state, requestUpdate);
    const info = document.createElement("p");
    info.className = "sp-info";
    info.setAttribute("aria-live", "polite");
    root.appendChild(info);
    const box = document.createElement("div");
    box.className = "sp-panels";
    const panels = ["left", "right"].map((side) => {
      const div = document.createElement("div");
      div.className = "sp-panel";
      const legendBox = document.createElement("div");
      div.appendChild(legendBox);
      const svg = el("svg", { role: "img", "aria-label": `${alt} (${side} panel)` }, div);
      box.appendChild(div);
      return { legend: legendBox, svg };
    });
    root.appendChild(box);
    const note = document.createElement("p");
    note.className = "sp-note";
    richHTML(note, cfg.note);
    root.appendChild(note);
    return { read, info, panels };
  }

  function mount(root) {
    if (root.sp) return root.sp;
    injectStyle();
    const cfg = JSON.parse(root.dataset.config);
    for (const [mode, colors] of Object.entries(cfg.colors)) {
      for (const [key, value] of Object.entries(colors)) root.style.setProperty(`--sp-${mode}-${key}`, value);
    }
    const ab = Float64Array.from(cfg.alpha_bars);
    const points = Float64Array.from(cfg.points).sort();
    const xT = decodeFloat64(cfg.xT);
    const data = { points, xT };
    const timeGrid = makeTimeGrid(ab, cfg.rho);
    const runner = makeRunner(data, ab, timeGrid), background = makeRunner(data, ab, timeGrid);
    const sorted = new Float64Array(xT.length), sortedBg = new Float64Array(xT.length);
    const lo = cfg.xlim[0], hi = cfg.xlim[1], bins = cfg.bins;
    const counts = new Float64Array(bins);
    const state = {};
    for (const c of cfg.controls) state[c.name] = c.value;
    const memo = new Map(); // "method|grid|eta|steps" -> {steps, nfe, w1}
    const keyOf = (m, g, e, s) => `${m}|${g}|${m === "ddim" ? e : 0}|${s}`;
    const sp = { version: VERSION, result: null, updates: 0, timings: [], memo, idle: true };

    const { read, info, panels } = scaffold(root, cfg, state, () => { update(); sp.updates += 1; });

    legend(panels[0].legend, [
      ["particles $x_0$ (share per bin)", (sw) => el("rect", { x: 2, y: 2, width: 26, height: 10, class: "sp-bars" }, sw)],
      [`data (share 1/${points.length} each)`, (sw) => {
        el("line", { x1: 15, x2: 15, y1: 14, y2: 4, class: "sp-stems" }, sw);
        el("circle", { cx: 15, cy: 4, r: 3, class: "sp-stem-head" }, sw);
      }],
    ]);
    legend(panels[1].legend, [
      ...METHODS.map((m) => [NAMES[m], (sw) => {
        const g = el("g", { class: `sp-m-${m}` }, sw);
        el("line", { x1: 1, x2: 29, y1: 7, y2: 7, class: `sp-curve${STOCHASTIC[m] ? " sp-dashed" : ""}` }, g);
        marker(g, SHAPES[m], 15, 7, 5, "sp-mark");
      }]),
      ["exact ODE limit", (sw) => el("line", { x1: 1, x2: 29, y1: 7, y2: 7, class: "sp-limit" }, sw)],
      ["this setting", (sw) => el("circle", { cx: 15, cy: 7, r: 6, class: "sp-current" }, sw)],
    ]);

    const histogram = (x) => shares(x, lo, hi, counts);

    let sizes = layout(root);
    function draw() {
      const res = sp.result;
      // left: the histogram (share of particles per bin) and the data's point masses
      let top = 0;
      for (let b = 0; b < bins; b++) if (counts[b] > top) top = counts[b];
      const ymax = Math.max(cfg.ymax, niceCeil(1.05 * Math.max(top, 1 / points.length)));
      const left = axes(panels[0].svg, sizes[0], [lo, hi], [0, ymax], ["$x_0$", "share of particles"], root.id + "-l", [false, false]);
      bars(left, counts, lo, hi);
      const stems = el("g", { class: "sp-stems" }, left.plot);
      for (const p of points) {
        el("line", { x1: left.sx(p), x2: left.sx(p), y1: left.sy(0), y2: left.sy(1 / points.length) }, stems);
        el("circle", { cx: left.sx(p), cy: left.sy(1 / points.length), r: 4, class: "sp-stem-head" }, left.plot);
      }
      // right: W1 against NFE for every method on this grid (one curve each), the exact limit, this setting
      const curves = {};
      for (const v of memo.values()) {
        if (v.grid !== state.grid || (v.method === "ddim" && v.eta !== state.eta)) continue;
        (curves[v.method] = curves[v.method] || []).push(v);
      }
      let wmin = cfg.ode_limit, wmax = res.w1;
      for (const list of Object.values(curves)) for (const v of list) { wmin = Math.min(wmin, v.w1); wmax = Math.max(wmax, v.w1); }
      wmin = Math.max(1e-12, Math.min(wmin, res.w1));
      const ylo = 10 ** Math.floor(Math.log10(0.8 * wmin)), yhi = 10 ** Math.ceil(Math.log10(1.25 * wmax));
      const nfeMax = niceCeil(2 * cfg.T - 1); // Heun's largest NFE; the axis leaves room for the markers at both ends
      const right = axes(panels[1].svg, sizes[1], [0.7, 1.4 * nfeMax], [ylo, Math.max(yhi, 10 * ylo)],
                         ["NFE (denoiser calls)", "$W_1$ to the data"], root.id + "-r", [true, true]);
      el("line", { x1: right.sx(0.7), x2: right.sx(1.4 * nfeMax), y1: right.sy(cfg.ode_limit), y2: right.sy(cfg.ode_limit), class: "sp-limit" }, right.plot);
      for (const m of METHODS) {
        const list = (curves[m] || []).sort((p, q) => p.nfe - q.nfe);
        if (!list.length) continue;
        const g = el("g", { class: `sp-m-${m}` }, right.plot);
        const path = list.map((v, i) => `${i ? "L" : "M"}${right.sx(v.nfe).toFixed(2)},${right.sy(v.w1).toFixed(2)}`).join("");
        const dashed = STOCHASTIC[m] || (m === "ddim" && state.eta > 0);
        el("path", { d: path, class: `sp-curve${dashed ? " sp-dashed" : ""}` }, g);
        for (const v of list) marker(g, SHAPES[m], right.sx(v.nfe), right.sy(v.w1), 4.5, "sp-mark");
      }
      // not clipped: a ring at NFE = 1 sits on the axes' edge, and the margins leave room for all of it
      el("circle", { cx: right.sx(res.nfe), cy: right.sy(res.w1), r: 8, class: "sp-current" }, panels[1].svg);
      return { ymax, wlim: [ylo, yhi] };
    }

    function summary(res, outside) {
      info.replaceChildren();
      const m = state.method;
      const what = `${NAMES[m]}${m === "ddim" ? ` ($η$ = ${state.eta})` : ""}, ${state.steps} step${state.steps > 1 ? "s" : ""} on the ` +
        `${GRID_NAMES[state.grid]}: NFE = ${res.nfe}, $W_1$ = ${fmt(res.w1, 3)} (exact ODE limit ${fmt(cfg.ode_limit, 3)})`;
      const more = `; ${thousands(xT.length)} particles${outside ? `, ${thousands(outside)} outside the plot` : ""}` +
        `; computed in ${Math.max(1, Math.round(res.ms))} ms.`;
      richHTML(info, what + more);
      if (res.stochastic) {
        const s = document.createElement("span");
        s.textContent = " Noise from this page's own generator: the histogram differs from du.sample's by chance.";
        info.appendChild(s);
      }
    }

    function update() {
      read();
      const { method, grid, steps } = state;
      const eta = method === "ddim" ? state.eta : 0;
      const t0 = performance.now();
      runner.run(method, steps, grid, eta, cfg.seed);
      const x = runner.samples();
      const dist = w1(x, points, sorted);
      const ms = performance.now() - t0;
      sp.timings.push(ms);
      const stochastic = !!STOCHASTIC[method] || eta > 0;
      const res = { samples: x, nfe: runner.nfe(), w1: dist, ms, stochastic, times: Array.from(runner.times()),
                    settings: { method, grid, steps, eta } };
      memo.set(keyOf(method, grid, eta, steps), { method, grid, eta, steps, nfe: res.nfe, w1: dist });
      sp.result = res;
      const outside = histogram(x);
      res.outside = outside;
      res.counts = counts;
      Object.assign(res, draw());
      summary(res, outside);
      scheduleBackground();
    }

    // Background: the curves of all six methods on the current grid, one step count after the other, in slices of
    // at most ~12 ms between the reader's moves (the longest runs last).
    let pending = null, timer = null;
    function nextJob() {
      const eta = state.eta;
      for (const steps of CURVE_STEPS) {
        if (steps > cfg.T) continue;
        for (const m of METHODS) {
          const e = m === "ddim" ? eta : 0;
          if (!memo.has(keyOf(m, state.grid, e, steps))) return { method: m, grid: state.grid, eta: e, steps };
        }
      }
      return null;
    }
    function slice() {
      timer = null;
      if (!visible) return;
      const end = performance.now() + 12;
      while (performance.now() < end) {
        if (!pending) {
          pending = nextJob();
          if (!pending) { sp.idle = true; draw(); return; }
          background.start(pending.method, pending.steps, pending.grid, pending.eta, cfg.seed);
        }
        background.step();
        if (background.done()) {
          const p = pending;
          memo.set(keyOf(p.method, p.grid, p.eta, p.steps), { ...p, nfe: background.nfe(), w1: w1(background.samples(), points, sortedBg) });
          pending = null;
          sp.backgroundRuns = (sp.backgroundRuns || 0) + 1;
          if (p.grid === state.grid) redrawSoon();
        }
      }
      timer = setTimeout(slice, 0);
    }
    let redrawTimer = null;
    function redrawSoon() { // the right panel catches up at most every 150 ms
      if (redrawTimer) return;
      redrawTimer = setTimeout(() => { redrawTimer = null; Object.assign(sp.result, draw()); }, 150);
    }
    let visible = true; // the background runs only while the figure is on screen
    if (window.IntersectionObserver) {
      new IntersectionObserver((entries) => {
        visible = entries[entries.length - 1].isIntersecting;
        if (visible && !sp.idle && !timer) timer = setTimeout(slice, 30);
      }).observe(root);
    }
    function scheduleBackground() {
      if (pending && (pending.grid !== state.grid || (pending.method === "ddim" && pending.eta !== state.eta))) pending = null;
      sp.idle = false;
      if (!timer) timer = setTimeout(slice, 30);
    }

    update();
    if (window.ResizeObserver) {
      let last = root.clientWidth;
      new ResizeObserver(() => {
        if (Math.abs(root.clientWidth - last) < 2) return;
        last = root.clientWidth;
        sizes = layout(root);
        Object.assign(sp.result, draw());
      }).observe(root);
    }
    // For tests and readers' consoles: set controls by name and recompute at once.
    sp.set = (settings) => {
      Object.assign(state, settings);
      update();
      sp.updates += 1;
      return sp.result;
    };
    sp.timeGrid = timeGrid;
    root.sp = sp;
    return sp;
  }

  window.SamplerPlayground = { version: VERSION, mount, makeTimeGrid, makeDenoiser, makeRunner, w1, linspace, roundHalfEven,
                               decodeFloat64,
                               // the drawing, controls and style, shared with the guidance playground
                               ui: { el, axes, marker, legend, buildControls, injectStyle, layout, richHTML, fmt, thousands,
                                     niceCeil, shares, bars, scaffold } };
})();
