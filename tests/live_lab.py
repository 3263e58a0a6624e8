"""JupyterLab from the venv, driven in headless Chromium: the live notebook as a student uses it.

Used by tests/test_live.py and benchmarks/bench_live.py. ``JupyterLab`` serves a temporary copy of the book (``book/``
and ``jupytext.toml``) on 127.0.0.1 with a random token and private settings, runtime and data folders, so nothing of
the user's Jupyter set-up leaks in and the repository's chapters are never written. ``LabSession`` opens a chapter
the way a student does (*Open With → Jupytext Notebook*), runs it, moves the explorers' sliders with the keyboard
and the mouse, and saves it through JupyterLab's own save path.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen

from browser import Page

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent  # the interpreter that runs the tests: the venv's

# Settings a fresh JupyterLab would ask about: no news or update checks (they would go to other hosts).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` on 127.0.0.1 serving a temporary copy of the book; ``close()`` stops it and its kernels."""

    def __init__(self, *, timeout: float = 60):
        self.tmp = Path(tempfile.mkdtemp(prefix="live-lab-"))
        self.tree = self.tmp / "tree"
        self.tree.mkdir()
        shutil.copytree(ROOT / "book", self.tree / "book", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.ipynb"))
        shutil.copy(ROOT / "jupytext.toml", self.tree)
        # What the chapters were when the server started: the copy must still be byte for byte this at the end.
        self.originals = {p.relative_to(self.tree).as_posix(): p.read_bytes() for p in self.tree.rglob("*.md")}
        for name, value in LAB_SETTINGS.items():
            path = self.tmp / "settings" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(self.tmp / "config"),
            "JUPYTER_DATA_DIR": str(self.tmp / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.tmp / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(self.tmp / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.tmp / "workspaces"),
            "IPYTHONDIR": str(self.tmp / "ipython"),
        }
        env.pop("MPLBACKEND", None)  # the kernels must pick matplotlib's inline backend
        self.port, self.token = _free_port(), secrets.token_hex(16)
        command = [
            str(VENV_BIN / "jupyter-lab"), "--no-browser", "--ip=127.0.0.1", f"--port={self.port}", "--port-retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.tree}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: open documents and run commands as menus do
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # JupyterLab refuses to start as root otherwise
        self.log = self.tmp / "lab.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(command, cwd=self.tree, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}/lab?token={self.token}"
        end = time.monotonic() + timeout
        while True:
            try:
                request = Request(f"http://127.0.0.1:{self.port}/api/status", headers={"Authorization": f"token {self.token}"})
                with urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        break
            except (URLError, OSError):
                pass
            if self.proc.poll() is not None or time.monotonic() > end:
                self.close()
                raise RuntimeError(f"JupyterLab did not start:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.is_file() else ""

    def changed_chapters(self) -> list[str]:
        """Chapters of the served copy that differ from their bytes at start (or are gone)."""
        return [name for name, data in self.originals.items()
                if not (self.tree / name).is_file() or (self.tree / name).read_bytes() != data]

    def close(self) -> None:
        """Stop the server (it shuts its kernels down); its process group is killed if it does not stop in 20 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


# The page-side helpers, installed once per page as window.__live.
HELPERS = r"""
window.__live = (() => {
  const app = window.jupyterapp;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const L = {nb: null, events: []};
  L.open = async (path) => {
    const names = Array.from(app.docRegistry.widgetFactories()).map((f) => f.name);
    const factory = names.includes("Jupytext Notebook") ? "Jupytext Notebook" : "Notebook";
    const widget = await app.commands.execute("docmanager:open", {path, factory});
    L.nb = widget;
    L.events = [];
    widget.context.model.stateChanged.connect((m, a) => {
      if (a.name === "dirty") L.events.push({dirty: a.newValue, t: performance.now()});
    });
    return factory;
  };
  L.state = () => {
    const w = L.nb, session = w.sessionContext.session, kernel = session && session.kernel;
    return {ready: w.context.isReady, kernel: kernel ? kernel.status : null, dirty: w.context.model.dirty,
            cells: w.content.widgets.length};
  };
  L.model = () => L.nb.context.model.toJSON();
  L.cellText = (cell) => {
    // The text a reader sees, math left out: typeset math's per-symbol text ("(x)=" on a line of its own) would
    // look like raw MyST to the checks; that the math is typeset is counted separately.
    const out = cell.node.querySelector(".jp-MarkdownOutput, .jp-RenderedMarkdown, .myst");
    if (!out) return null;
    if (!document.getElementById("live-test-no-math")) {
      const style = document.createElement("style");
      style.id = "live-test-no-math";
      style.textContent = ".live-test-no-math .katex, .live-test-no-math mjx-container {display: none !important}";
      document.head.appendChild(style);
    }
    out.classList.add("live-test-no-math");  // innerText leaves out what is not displayed
    const text = out.innerText;
    out.classList.remove("live-test-no-math");
    return text;
  };
  // Every markdown cell scrolled into view until it is rendered; what a reader sees of it.
  L.rendered = async () => {
    const w = L.nb, out = [];
    for (let i = 0; i < w.content.widgets.length; i++) {
      const cell = w.content.widgets[i];
      if (cell.model.type !== "markdown") continue;
      if (!(cell.rendered && L.cellText(cell) !== null)) {
        L.scrolled = (L.scrolled || 0) + 1;
        w.content.scrollToItem(i, "start");  // not awaited: the cell renders as soon as it is in view
      }
      const t0 = performance.now();
      while (!(cell.rendered && L.cellText(cell) !== null) && performance.now() - t0 < 5000) await sleep(50);
      out.push({index: i, text: L.cellText(cell) || "", myst: !!cell.node.querySelector(".myst"),
                exercises: cell.node.querySelectorAll(".myst-exercise").length,
                solutions: cell.node.querySelectorAll("details, .myst-solution, [class*=solution]").length,
                math: cell.node.querySelectorAll(".katex, mjx-container").length,
                source: cell.model.sharedModel.getSource()});
    }
    return out;
  };
  // Select cells 0..last (all of them when last < 0) and run them, as Run All or a selection's Run does.
  L.run = async (last) => {
    const w = L.nb, n = w.content.widgets.length;
    const end = last < 0 ? n - 1 : last;
    app.shell.activateById(w.id);
    w.content.activeCellIndex = 0;
    w.content.deselectAll();
    w.content.extendContiguousSelectionTo(end);
    L.target = end;
    // Not awaited: the promise settles only when every cell has run; the caller polls progress() instead.
    L.running = app.commands.execute(last < 0 ? "notebook:run-all-cells" : "notebook:run-cell");
    return true;
  };
  L.progress = () => {
    const w = L.nb, session = w.sessionContext.session, kernel = session && session.kernel;
    let pending = 0, error = null;
    for (let i = 0; i <= L.target; i++) {
      const cell = w.content.widgets[i];
      if (cell.model.type !== "code") continue;
      if (cell.model.executionCount === null) pending += 1;
      for (const o of cell.model.outputs.toJSON()) {
        if (o.output_type === "error" && !error)
          error = {cell: i, ename: o.ename, evalue: o.evalue, traceback: (o.traceback || []).join("\n")};
      }
    }
    return {pending, error, kernel: kernel ? kernel.status : null};
  };
  L.outputs = () => L.nb.content.widgets.map((c, i) => [i, c.model.type,
    c.model.type === "code" ? c.model.outputs.toJSON().map((o) => o.output_type) : []]);
  L.explorerNode = (index) => L.nb.content.widgets[index].node.querySelector(".jp-Cell-outputArea");
  L.explorer = async (index) => {
    await L.nb.content.scrollToItem(index, "start");
    const node = L.explorerNode(index);
    if (!node) return null;
    const img = node.querySelector("img");
    return {handles: node.querySelectorAll(".noUi-handle").length, img: img ? img.src.length : 0,
            readouts: Array.from(node.querySelectorAll(".widget-readout")).map((r) => r.innerText || r.value || "")};
  };
  // Focus slider `which` of the explorer and arm the latency probe: t0 at the key or mouse press (capture phase),
  // t1 when the output shows an image different from the current one.
  L.arm = (index, which) => {
    const node = L.explorerNode(index);
    const handle = node.querySelectorAll(".noUi-handle")[which];
    handle.scrollIntoView({block: "center"});
    handle.focus();
    const before = node.querySelector("img").src;
    const probe = {t0: null, t1: null, before: before.length, after: 0};
    const start = () => { if (probe.t0 === null) probe.t0 = performance.now(); };
    handle.addEventListener("keydown", start, {capture: true, once: true});
    handle.addEventListener("pointerdown", start, {capture: true, once: true});
    const check = () => {
      const img = node.querySelector("img");
      if (probe.t0 !== null && probe.t1 === null && img && img.src && img.src !== before) {
        probe.t1 = performance.now();
        probe.after = img.src.length;
        probe.changed = true;
        observer.disconnect();
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(node, {subtree: true, childList: true, attributes: true, attributeFilter: ["src"]});
    L.probe = probe;
    const r = handle.getBoundingClientRect();
    const now = Number(handle.getAttribute("aria-valuenow")), max = Number(handle.getAttribute("aria-valuemax"));
    const box = handle.closest(".widget-slider, .widget-hslider, .jupyter-widgets");
    const label = box && box.querySelector(".widget-label");
    return {x: r.x + r.width / 2, y: r.y + r.height / 2, at_max: now >= max, label: label ? label.innerText : "",
            readout: Array.from(node.querySelectorAll(".widget-readout")).map((e) => e.innerText || e.value || "")};
  };
  L.readouts = (index) => Array.from(L.explorerNode(index).querySelectorAll(".widget-readout"))
    .map((e) => e.innerText || e.value || "");
  L.save = async () => {
    await L.nb.context.save();
    return {dirty: L.nb.context.model.dirty, last_modified: L.nb.context.contentsModel.last_modified};
  };
  L.close = async () => {
    const w = L.nb;
    await w.sessionContext.shutdown();
    w.dispose();
    L.nb = null;
  };
  return L;
})();
true
"""


@dataclass
class Move:
    """One slider move: which slider, how, its readouts before and after, and the image change."""

    slider: int
    label: str
    how: str
    before: list[str]
    after: list[str]
    changed: bool
    latency_ms: float | None


@dataclass
class ChapterRun:
    path: str
    factory: str = ""
    run_seconds: float = 0.0
    opening_changes: list[str] = field(default_factory=list)
    dirty_events: list[bool] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)


class LabSession:
    """One browser tab on a JupyterLab server, with window.__live installed."""

    def __init__(self, page: Page, lab: JupyterLab, *, width: int = 1366, height: int = 900):
        self.page, self.lab = page, lab
        page.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        page.send("Emulation.setFocusEmulationEnabled", enabled=True)  # a headless tab has no focus otherwise
        page.goto(lab.url, timeout=90)
        page.wait_for("!!(window.jupyterapp && window.jupyterapp.started !== undefined && "
                      "document.querySelector('.jp-DirListing-content'))", timeout=90)
        page.js("window.jupyterapp.started.then(() => window.jupyterapp.restored).then(() => true)")
        page.js(HELPERS)

    def call(self, expression: str):
        return self.page.js(f"window.__live.{expression}")

    def open(self, path: str, timeout: float = 90) -> str:
        """Open a chapter as a notebook and wait for its kernel to be idle."""
        factory = self.call(f"open({json.dumps(path)})")
        self.wait("(() => { const s = window.__live.state(); return s.ready && s.kernel === 'idle'; })()", timeout)
        return factory

    def wait(self, expression: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not self.page.js(expression):
            if time.monotonic() > end:
                raise TimeoutError(f"timed out after {timeout} s waiting for: {expression}")
            self.page.pump(0.2)

    def run(self, last: int, timeout: float = 300) -> float:
        """Run cells 0..last (all when last < 0); raise with the traceback of a failing cell. Returns seconds."""
        start = time.monotonic()
        self.call(f"run({int(last)})")
        end = start + timeout
        while True:
            progress = self.call("progress()")
            if progress["error"]:
                error = progress["error"]
                raise AssertionError(f"cell {error['cell']} raised {error['ename']}: {error['evalue']}\n{error['traceback']}")
            if progress["pending"] == 0 and progress["kernel"] == "idle":
                return time.monotonic() - start
            if time.monotonic() > end:
                raise TimeoutError(f"cells still running after {timeout} s: {progress}")
            self.page.pump(0.2)

    def explorer(self, index: int, timeout: float = 30) -> dict:
        """The explorer's output (sliders, image) once it is drawn."""
        self.wait(f"window.__live.explorer({index}).then(e => !!(e && e.handles && e.img))", timeout)
        return self.call(f"explorer({index})")

    def press(self, index: int, slider: int, key: str | None = None, timeout: float = 30) -> Move:
        """Focus a slider and press an arrow key (right, or left at the slider's maximum); wait for the new image."""
        armed = self.call(f"arm({index}, {slider})")
        key = key or ("ArrowLeft" if armed["at_max"] else "ArrowRight")
        codes = {"ArrowRight": 39, "ArrowLeft": 37, "ArrowUp": 38, "ArrowDown": 40}
        for kind in ("rawKeyDown", "keyUp"):
            self.page.send("Input.dispatchKeyEvent", type=kind, key=key, code=key,
                           windowsVirtualKeyCode=codes[key], nativeVirtualKeyCode=codes[key])
        return self._finish(index, slider, f"key {key}", armed, timeout)

    def drag(self, index: int, slider: int, dx: float, timeout: float = 30) -> Move:
        """Drag a slider's handle by dx CSS pixels with the mouse, in a few steps (to the left at its maximum)."""
        armed = self.call(f"arm({index}, {slider})")
        x, y = armed["x"], armed["y"]
        dx = -abs(dx) if armed["at_max"] else dx
        self.page.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        self.page.send("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left", clickCount=1)
        for step in range(1, 6):
            self.page.send("Input.dispatchMouseEvent", type="mouseMoved", x=x + dx * step / 5, y=y, button="left",
                           buttons=1)
        self.page.send("Input.dispatchMouseEvent", type="mouseReleased", x=x + dx, y=y, button="left", clickCount=1)
        return self._finish(index, slider, f"drag {dx:+.0f} px", armed, timeout)

    def _finish(self, index: int, slider: int, how: str, armed: dict, timeout: float) -> Move:
        end = time.monotonic() + timeout
        while not self.page.js("window.__live.probe.t1 !== null") and time.monotonic() < end:
            self.page.pump(0.02)
        probe = self.call("probe")
        self.page.pump(0.3)  # let the readout settle
        latency = probe["t1"] - probe["t0"] if probe["t1"] is not None and probe["t0"] is not None else None
        return Move(slider, armed["label"], how, armed["readout"], self.call(f"readouts({index})"), bool(probe.get("changed")), latency)

    def screenshot(self, path: Path) -> None:
        shot = self.page.send("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


def explorer_cells(notebook_cells: list[dict], names: tuple[str, ...]) -> list[int]:
    """Indices of the code cells that call one of the explorers (``name(`` in the source)."""
    return [i for i, cell in enumerate(notebook_cells)
            if cell["cell_type"] == "code" and any(f"{name}(" in "".join(cell["source"]) for name in names)]


# The live explorers of diffusion_utils.figures.widgets (its other public name, step_slider, is their button helper).
def explorer_names() -> tuple[str, ...]:
    """The names of the package's live explorers."""
    from diffusion_utils.figures import widgets

    return tuple(name for name in widgets.__all__ if name.endswith("_explorer"))


def explorer_chapters(names: tuple[str, ...]) -> list[str]:
    """Chapters (paths relative to the repository) with a code cell that calls one of the explorers ``names``."""
    import jupytext

    out = []
    for path in sorted((ROOT / "book").rglob("*.md")):
        if "kernelspec:" in path.read_text(encoding="utf-8")[:600] and explorer_cells(
                [dict(c) for c in jupytext.read(path).cells], names):
            out.append(path.relative_to(ROOT).as_posix())
    return out
