"""Slider-to-new-image latency of the live explorers in JupyterLab (run: python benchmarks/bench_live.py).

Starts JupyterLab from the venv on 127.0.0.1 (a temporary copy of the book, as tests/test_live.py does), opens each
chapter with a live explorer in headless Chromium, runs its cells up to the explorer, and then presses arrow keys on
every slider's handle, waiting for the new image after each press, and drags the first slider with the mouse. The
latency of one move runs from the key or mouse press (seen by the page) to the moment the output shows a new image:
the comm message to the kernel, the callback (artists updated, figure rendered to PNG), the output message back and
the browser replacing the image. No target: the issue reports 0.1–0.65 s per change; under ~0.5 s feels immediate.

Options: --presses N (per slider, default 10: five steps away from the end it starts at, five back),
--chapter NAME (a chapter's file stem).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table
from browser import Chromium, find_chromium
from live_lab import JupyterLab, LabSession, explorer_cells, explorer_chapters, explorer_names


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=10)
    parser.add_argument("--chapter", action="append", help="file stem, e.g. example (default: every explorer chapter)")
    args = parser.parse_args()
    selected = [c for c in explorer_chapters(explorer_names()) if not args.chapter or Path(c).stem in args.chapter]
    binary = find_chromium()
    if not binary:
        sys.exit("Chromium not found: install it (Debian: chromium) or set CHROMIUM=/path/to/chrome")
    rows, setup = [], []
    lab = JupyterLab()
    browser = Chromium(binary, width=1366, height=900)
    try:
        session = LabSession(browser.page(), lab)
        for chapter in selected:
            start = time.monotonic()
            session.open(chapter)
            opened = time.monotonic() - start
            index = explorer_cells(session.call("model()")["cells"], explorer_names())[0]
            ran = session.run(index)
            drawn = session.explorer(index)
            setup.append((Path(chapter).stem, f"{opened:.1f}", f"{ran:.1f}", drawn["handles"]))
            for slider in range(drawn["handles"]):
                latencies, label, failed = [], "", 0
                half, first = args.presses // 2, None
                for i in range(args.presses):
                    # away from the end the slider starts at (right, or left from its maximum), then back
                    key = first if i < half else {"ArrowRight": "ArrowLeft", "ArrowLeft": "ArrowRight"}[first]
                    move = session.press(index, slider, key)
                    first = first or move.how.split()[-1]
                    label = move.label or label
                    if move.latency_ms is None or move.before == move.after:
                        failed += 1
                    else:
                        latencies.append(move.latency_ms)
                if latencies:
                    rows.append((Path(chapter).stem, label or f"slider {slider}", "arrow key", len(latencies),
                                 f"{statistics.median(latencies):.0f}", f"{percentile(latencies, 0.9):.0f}",
                                 f"{max(latencies):.0f}", failed))
            drags = [session.drag(index, 0, dx) for dx in (30, -30, 60, -60)]
            ok = [m.latency_ms for m in drags if m.latency_ms is not None and m.before != m.after]
            if ok:
                rows.append((Path(chapter).stem, drags[0].label or "slider 0", "mouse drag", len(ok),
                             f"{statistics.median(ok):.0f}", f"{percentile(ok, 0.9):.0f}", f"{max(ok):.0f}",
                             len(drags) - len(ok)))
            session.call("close()")
        session.page.close()
    finally:
        browser.close()
        lab.close()
    print_table("Opening and running up to the explorer (JupyterLab in headless Chromium)",
                ("chapter", "open, kernel idle (s)", "cells up to the explorer (s)", "sliders"), setup)
    print_table("Slider move to new image (ms), JupyterLab in headless Chromium",
                ("chapter", "slider", "input", "moves", "median", "p90", "max", "no new image"), rows)


if __name__ == "__main__":
    main()
