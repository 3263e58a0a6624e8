// The guidance playground: classifier-free guidance of the exact conditional denoiser of a labelled 1-D point cloud,
// sampled in the reader's browser (no Python kernel). Loaded inline after sampler_playground.js by
// diffusion_utils.browser_figures.guidance_playground_html: the samplers, time grids, W1, drawing, controls and style
// are the sampler playground's (window.SamplerPlayground); this file adds the guided model, the class numbers and the
// figure. Each figure is a <div class="gp-figure"> whose JSON config holds the data points (in the package's order),
// their labels, alpha_bar_t (float64, exact), the starting noise x_T (float64, base64), the controls and the colours.
// The numbers follow the package in float64 and in the same order of operations:
//   guidance.ExactConditionalDenoiser -> one SamplerPlayground.makeDenoiser per class (that class's points) and one
//   for the null label (all points); guidance.GuidedModel -> eps_u + (1 + w) (eps_c - eps_u);
//   the class numbers -> classNumbers: share of particles whose nearest data point (the first on ties, as
//   torch.argmin) has the class, torch.std (N - 1), metrics.wasserstein_1d to the class's points (equal weights).
// The ODE samplers' particles equal du.sample(du.guided(model, c, w), ...) to rounding (tests/test_guidance_playground.py).
(function () {
  "use strict";
  const VERSION = 1;
  if (window.GuidancePlayground && window.GuidancePlayground.version === VERSION) return;
  const SP = window.SamplerPlayground;
  const { el, axes, marker, legend, injectStyle, layout, richHTML, fmt, thousands, niceCeil, shares, bars, scaffold } = SP.ui;
  const STOCHASTIC = { ddpm: true, euler_maruyama: true };
  const NAMES = { ddpm: "DDPM", ddim: "DDIM", euler: "Euler", heun: "Heun", dpmpp_2m: "DPM-Solver++(2M)",
                  euler_maruyama: "Euler–Maruyama" };
  const GRID_NAMES = { uniform: "uniform grid", karras: "Karras grid", logsnr: "log-SNR grid" };

  // The guided eps-model for the runner: model.set(label, w) picks the class and the scale; one call of predictEps is
  // one guided evaluation (two denoiser evaluations per particle, counted as one, as du.sample's NFE counts them).
  // Up to 4 points, both denoisers run in one pass that shares q_i = (x - sqrt(ab) x_i)^2 / 2 (1 - ab) between them:
  // logits log w - q_i for all points and log w_c - q_i for the class's (the others' log-weight is -inf), then each
  // softmax exactly as SamplerPlayground.makeDenoiser's (which mirrors scores.mixture_denoiser). More points: the
  // two denoisers of makeDenoiser, one after the other.
  function makeGuidedDenoiser(points, labels, numClasses, ab) {
    const K = points.length;
    let label = 0, w = 0, calls = 0, epsU = new Float64Array(0);
    const byClass = [], unconditional = SP.makeDenoiser(points, ab);
    for (let c = 0; c < numClasses; c++) byClass.push(SP.makeDenoiser(points.filter((_, i) => labels[i] === c), ab));
    const expShift = (z) => (z === 0 ? 1.0 : z < -746 ? 0.0 : Math.exp(z)); // as makeDenoiser's
    const pad = (i) => (i < K ? points[i] : 0.0);
    const p0 = pad(0), p1 = pad(1), p2 = pad(2), p3 = pad(3), logW = -Math.log(K);
    const u0 = K > 0 ? logW : -Infinity, u1 = K > 1 ? logW : -Infinity, u2 = K > 2 ? logW : -Infinity,
          u3 = K > 3 ? logW : -Infinity;
    const classLogW = (c, i) => (i < K && labels[i] === c ? -Math.log(labels.filter((l) => l === c).length) : -Infinity);
    function fused(x, out, t) {
      const abt = ab[t], a = Math.sqrt(abt), v = 1.0 - abt, sv = Math.sqrt(v), f = 1.0 + w;
      const c0 = classLogW(label, 0), c1 = classLogW(label, 1), c2 = classLogW(label, 2), c3 = classLogW(label, 3);
      for (let n = 0; n < x.length; n++) {
        const xn = x[n];
        let d = xn - a * p0;
        const q0 = 0.5 * (d * d) / v;
        d = xn - a * p1;
        const q1 = 0.5 * (d * d) / v;
        d = xn - a * p2;
        const q2 = 0.5 * (d * d) / v;
        d = xn - a * p3;
        const q3 = 0.5 * (d * d) / v;
        // unconditional (null label): all points
        const l0 = u0 - q0, l1 = u1 - q1, l2 = u2 - q2, l3 = u3 - q3;
        let top = l0;
        if (l1 > top) top = l1;
        if (l2 > top) top = l2;
        if (l3 > top) top = l3;
        let e0 = expShift(l0 - top), e1 = expShift(l1 - top), e2 = expShift(l2 - top), e3 = expShift(l3 - top);
        let inv = 1 / (((e0 + e1) + e2) + e3);
        const meanU = (((e0 * inv * p0) + e1 * inv * p1) + e2 * inv * p2) + e3 * inv * p3;
        // conditional: the class's points
        const k0 = c0 - q0, k1 = c1 - q1, k2 = c2 - q2, k3 = c3 - q3;
        top = k0;
        if (k1 > top) top = k1;
        if (k2 > top) top = k2;
        if (k3 > top) top = k3;
        e0 = expShift(k0 - top); e1 = expShift(k1 - top); e2 = expShift(k2 - top); e3 = expShift(k3 - top);
        inv = 1 / (((e0 + e1) + e2) + e3);
        const meanC = (((e0 * inv * p0) + e1 * inv * p1) + e2 * inv * p2) + e3 * inv * p3;
        const eu = (xn - a * meanU) / sv, ec = (xn - a * meanC) / sv;
        out[n] = eu + f * (ec - eu);
      }
    }
    function predictEps(x, out, t) {
      calls += 1;
      if (K <= 4) { fused(x, out, t); return; }
      if (epsU.length !== x.length) epsU = new Float64Array(x.length);
      byClass[label].predictEps(x, out, t);
      unconditional.predictEps(x, epsU, t);
      const f = 1.0 + w;
      for (let i = 0; i < x.length; i++) out[i] = epsU[i] + f * (out[i] - epsU[i]);
    }
    return { predictEps, calls: () => calls, reset() { calls = 0; }, set(c, scale) { label = c; w = scale; } };
  }

  // The three numbers of a set of particles for class ``label``: count in the class (nearest data point), spread
  // (torch.std, N - 1 in the denominator) and W1 to the class's points. ``sorted`` is scratch space of x's length.
  function classNumbers(x, points, labels, classSorted, label, sorted) {
    const N = x.length, K = points.length;
    let inClass = 0, sum = 0.0;
    for (let n = 0; n < N; n++) {
      const xn = x[n];
      let best = 0, bestD = Math.abs(xn - points[0]);
      for (let i = 1; i < K; i++) { const d = Math.abs(xn - points[i]); if (d < bestD) { bestD = d; best = i; } }
      if (labels[best] === label) inClass += 1;
      sum += xn;
    }
    const mean = sum / N;
    let ss = 0.0;
    for (let n = 0; n < N; n++) { const d = x[n] - mean; ss += d * d; }
    return { inClass, share: inClass / N, spread: Math.sqrt(ss / (N - 1)), w1: SP.w1(x, classSorted[label], sorted) };
  }

  function mount(root) {
    if (root.gp) return root.gp;
    injectStyle();
    const cfg = JSON.parse(root.dataset.config);
    for (const [mode, colors] of Object.entries(cfg.colors)) {
      for (const [key, value] of Object.entries(colors)) root.style.setProperty(`--sp-${mode}-${key}`, value);
    }
    const ab = Float64Array.from(cfg.alpha_bars);
    const modelAb = cfg.model_alpha_bars ? Float64Array.from(cfg.model_alpha_bars) : ab; // a float32 schedule's own
    const points = Float64Array.from(cfg.points), labels = Int32Array.from(cfg.labels), C = cfg.class_names.length;
    // with a DataScaler: the denoiser's points in model units, the samples shown as x * scale + shift (decode)
    const modelPoints = cfg.model_points ? Float64Array.from(cfg.model_points) : points;
    const decode = cfg.decode;
    const classSorted = [];
    for (let c = 0; c < C; c++) classSorted.push(points.filter((_, i) => labels[i] === c).sort());
    const xT = SP.decodeFloat64(cfg.xT);
    const data = { xT, points: modelPoints, makeModel: () => makeGuidedDenoiser(modelPoints, labels, C, modelAb) };
    const shownFg = new Float64Array(decode ? xT.length : 0), shownBg = new Float64Array(decode ? xT.length : 0);
    function inDataUnits(x, buf) { // DataScaler.decode: z * scale + shift (the particles themselves without a scaler)
      if (!decode) return x;
      const [scale, shift] = decode;
      for (let i = 0; i < x.length; i++) buf[i] = x[i] * scale + shift;
      return buf;
    }
    const timeGrid = SP.makeTimeGrid(ab, cfg.rho);
    const runner = SP.makeRunner(data, ab, timeGrid), background = SP.makeRunner(data, ab, timeGrid);
    const sorted = new Float64Array(xT.length), sortedBg = new Float64Array(xT.length);
    const lo = cfg.xlim[0], hi = cfg.xlim[1];
    const counts = new Float64Array(cfg.bins);
    const state = {};
    for (const c of cfg.controls) state[c.name] = c.value;
    const wStops = cfg.controls.find((c) => c.name === "w").values;
    const wRange = [wStops[0], wStops[wStops.length - 1]];
    const memo = new Map(); // "label|method|grid|steps" -> Map(w -> {w, share, spread, w1, nfe})
    const curveKey = (s) => `${s.label}|${s.method}|${s.grid}|${s.steps}`;
    const gp = { version: VERSION, result: null, updates: 0, timings: [], memo, idle: true };

    const { read, info, panels } = scaffold(root, cfg, state, () => { update(); gp.updates += 1; });

    const name = (c) => cfg.class_names[c];
    function legends(label) {
      const k = classSorted[label].length;
      legend(panels[0].legend, [
        ["particles $x_0$ (share per bin)", (sw) => el("rect", { x: 2, y: 2, width: 26, height: 10, class: "sp-bars" }, sw)],
        [`${name(label)}'s points (share 1/${k} each)`, (sw) => {
          el("line", { x1: 15, x2: 15, y1: 14, y2: 4, class: "sp-stems" }, sw);
          el("circle", { cx: 15, cy: 4, r: 3, class: "sp-stem-head" }, sw);
        }],
        ["the other points", (sw) => el("circle", { cx: 15, cy: 9, r: 4, class: "gp-other" }, sw)],
      ]);
      legend(panels[1].legend, [
        [`$W_1$ to ${name(label)}`, (sw) => {
          const g = el("g", { class: "sp-m-ddim" }, sw);
          el("line", { x1: 1, x2: 29, y1: 7, y2: 7, class: "sp-curve" }, g);
          marker(g, "circle", 15, 7, 5, "sp-mark");
        }],
        ["spread (std)", (sw) => {
          const g = el("g", { class: "sp-m-ddpm" }, sw);
          el("line", { x1: 1, x2: 29, y1: 7, y2: 7, class: "sp-curve sp-dashed" }, g);
          marker(g, "square", 15, 7, 5, "sp-mark");
        }],
        [`spread of ${name(label)}`, (sw) => el("line", { x1: 1, x2: 29, y1: 7, y2: 7, class: "sp-limit" }, sw)],
        ["this $w$", (sw) => el("circle", { cx: 15, cy: 7, r: 6, class: "sp-current" }, sw)],
      ]);
    }

    let sizes = layout(root);
    function draw() {
      const res = gp.result, label = res.settings.label;
      // left: the histogram (share of particles per bin), the class's point masses, the other classes' points
      let top = 0;
      for (const v of counts) if (v > top) top = v;
      const k = classSorted[label].length;
      const ymax = cfg.ymax || niceCeil(1.05 * Math.max(top, 1 / k));
      const left = axes(panels[0].svg, sizes[0], [lo, hi], [0, ymax], ["$x_0$", "share of particles"], root.id + "-l", [false, false]);
      bars(left, counts, lo, hi);
      const stems = el("g", { class: "sp-stems" }, left.plot);
      for (let i = 0; i < points.length; i++) {
        const p = points[i];
        if (labels[i] !== label) {
          el("circle", { cx: left.sx(p), cy: left.sy(0), r: 5, class: "gp-other" }, left.plot);
          continue;
        }
        el("line", { x1: left.sx(p), x2: left.sx(p), y1: left.sy(0), y2: left.sy(1 / k) }, stems);
        el("circle", { cx: left.sx(p), cy: left.sy(1 / k), r: 4, class: "sp-stem-head" }, left.plot);
      }
      // right: W1 to the class and the spread against w (this sampler, grid and steps), the class's own spread
      const curve = Array.from((memo.get(curveKey(res.settings)) || new Map()).values()).sort((p, q) => p.w - q.w);
      let vmax = Math.max(res.w1, res.spread, cfg.class_spread[label]);
      for (const v of curve) vmax = Math.max(vmax, v.w1, v.spread);
      const right = axes(panels[1].svg, sizes[1], wRange, [0, niceCeil(1.1 * vmax)],
                         ["guidance scale $w$", "$W_1$ and spread"], root.id + "-r", [false, false]);
      const ref = cfg.class_spread[label];
      el("line", { x1: right.sx(wRange[0]), x2: right.sx(wRange[1]), y1: right.sy(ref), y2: right.sy(ref), class: "sp-limit" }, right.plot);
      for (const [key, cls, shape, dash] of [["w1", "sp-m-ddim", "circle", ""], ["spread", "sp-m-ddpm", "square", " sp-dashed"]]) {
        if (!curve.length) continue;
        const g = el("g", { class: cls }, right.plot);
        const path = curve.map((v, i) => `${i ? "L" : "M"}${right.sx(v.w).toFixed(2)},${right.sy(v[key]).toFixed(2)}`).join("");
        el("path", { d: path, class: `sp-curve${dash}` }, g);
        for (const v of curve) marker(g, shape, right.sx(v.w), right.sy(v[key]), 3.5, "sp-mark");
      }
      for (const key of ["w1", "spread"]) { // not clipped: rings at the ends of the w range sit on the axes' edge
        el("circle", { cx: right.sx(res.settings.w), cy: right.sy(res[key]), r: 7, class: "sp-current" }, panels[1].svg);
      }
      return { ymax, vmax: niceCeil(1.1 * vmax) };
    }

    function summary(res, outside) {
      info.replaceChildren();
      const { label, w, method, grid, steps } = res.settings;
      const N = xT.length;
      const text = `${name(label)}, $w$ = ${fmt(w, 6).replace(/\.?0+$/, "")}: ${thousands(res.inClass)} of ${thousands(N)} ` +
        `particles (${(100 * res.share).toFixed(1)} %) nearest to a point of ${name(label)}, spread ${fmt(res.spread, 3)} ` +
        `(${name(label)}'s points: ${fmt(cfg.class_spread[label], 3)}), $W_1$ = ${fmt(res.w1, 3)} to ${name(label)}'s points. ` +
        `${NAMES[method]}, ${steps} step${steps > 1 ? "s" : ""} on the ${GRID_NAMES[grid]}: NFE = ${res.nfe} guided ` +
        `evaluations${outside ? `; ${thousands(outside)} particles outside the plot` : ""}; computed in ` +
        `${Math.max(1, Math.round(res.ms))} ms.`;
      richHTML(info, text);
      if (res.stochastic) {
        const s = document.createElement("span");
        s.textContent = " Noise from this page's own generator: the histogram differs from du.sample's by chance.";
        info.appendChild(s);
      }
    }

    function settingsOf() {
      return { label: Number(state.label), w: Number(state.w), method: state.method, grid: state.grid, steps: state.steps };
    }
    function remember(s, v) {
      const key = curveKey(s);
      if (!memo.has(key)) memo.set(key, new Map());
      memo.get(key).set(s.w, v);
    }

    function update() {
      read();
      const s = settingsOf();
      legends(s.label);
      const t0 = performance.now();
      runner.model.set(s.label, s.w);
      runner.run(s.method, s.steps, s.grid, 0, cfg.seed);
      const x = runner.samples(), x0 = inDataUnits(x, shownFg);
      const nums = classNumbers(x0, points, labels, classSorted, s.label, sorted);
      const ms = performance.now() - t0;
      gp.timings.push(ms);
      const res = { samples: x, shown: x0, nfe: runner.nfe(), ...nums, ms, stochastic: !!STOCHASTIC[s.method],
                    times: Array.from(runner.times()), settings: s };
      remember(s, { w: s.w, share: nums.share, spread: nums.spread, w1: nums.w1, nfe: res.nfe });
      gp.result = res;
      res.outside = shares(x0, lo, hi, counts);
      res.counts = counts;
      Object.assign(res, draw());
      summary(res, res.outside);
      scheduleBackground();
    }

    // Background: the numbers at every stop of the w slider for the current class, sampler, grid and steps, in slices
    // of at most ~12 ms between the reader's moves.
    let pending = null, timer = null;
    function nextJob() {
      const s = settingsOf(), done = memo.get(curveKey(s));
      for (const w of wStops) if (!done || !done.has(w)) return { ...s, w };
      return null;
    }
    function slice() {
      timer = null;
      if (!visible) return;
      const end = performance.now() + 12;
      while (performance.now() < end) {
        if (!pending) {
          pending = nextJob();
          if (!pending) { gp.idle = true; Object.assign(gp.result, draw()); return; }
          background.model.set(pending.label, pending.w);
          background.start(pending.method, pending.steps, pending.grid, 0, cfg.seed);
        }
        background.step();
        if (background.done()) {
          const p = pending, x0 = inDataUnits(background.samples(), shownBg);
          const nums = classNumbers(x0, points, labels, classSorted, p.label, sortedBg);
          remember(p, { w: p.w, share: nums.share, spread: nums.spread, w1: nums.w1, nfe: background.nfe() });
          pending = null;
          gp.backgroundRuns = (gp.backgroundRuns || 0) + 1;
          redrawSoon();
        }
      }
      timer = setTimeout(slice, 0);
    }
    let redrawTimer = null;
    function redrawSoon() { // the right panel catches up at most every 150 ms
      if (redrawTimer) return;
      redrawTimer = setTimeout(() => { redrawTimer = null; Object.assign(gp.result, draw()); }, 150);
    }
    let visible = true; // the background runs only while the figure is on screen
    if (window.IntersectionObserver) {
      new IntersectionObserver((entries) => {
        visible = entries[entries.length - 1].isIntersecting;
        if (visible && !gp.idle && !timer) timer = setTimeout(slice, 30);
      }).observe(root);
    }
    function scheduleBackground() {
      if (pending && curveKey(pending) !== curveKey(settingsOf())) pending = null;
      gp.idle = false;
      if (!timer) timer = setTimeout(slice, 30);
    }

    update();
    if (window.ResizeObserver) {
      let last = root.clientWidth;
      new ResizeObserver(() => {
        if (Math.abs(root.clientWidth - last) < 2) return;
        last = root.clientWidth;
        sizes = layout(root);
        Object.assign(gp.result, draw());
      }).observe(root);
    }
    // For tests and readers' consoles: set controls by name (label as a number or its string) and recompute at once.
    gp.set = (settings) => {
      Object.assign(state, settings);
      if ("label" in settings) state.label = String(settings.label);
      update();
      gp.updates += 1;
      return gp.result;
    };
    gp.timeGrid = timeGrid;
    root.gp = gp;
    return gp;
  }

  // The other classes' points: open circles on the axis (their class is not the one sampled).
  const CSS = `.gp-other{fill:var(--sp-bg);stroke:var(--sp-fg);stroke-width:1.5}`;
  function injectOwnStyle() {
    const id = "gp-style-" + VERSION;
    if (document.getElementById(id)) return;
    const style = document.createElement("style");
    style.id = id;
    style.textContent = CSS;
    (document.head || document.documentElement).appendChild(style);
  }

  window.GuidancePlayground = {
    version: VERSION, makeGuidedDenoiser, classNumbers,
    mount(root) { injectOwnStyle(); return mount(root); },
  };
})();
