"""Time executing and building the whole book from scratch (run: python benchmarks/bench_book.py [--warm]).

Targets: the first issue's < 180 s (Part I alone), Part III's < 240 s (Parts I-III) and Part IV's < 300 s (Parts I-IV),
a *cold* build on this 2-core machine: the build goes to a fresh temporary folder and, unless ``--warm``, the
trained-model cache ($DIFFUSION_UTILS_CACHE) is a fresh empty folder too, so every network is trained. Every chapter
is executed from a clean kernel (two at a time on two cores, tools/parallel_execution.py), with warnings as errors,
as the README's commands do, with one torch thread per process as tools/build.sh sets it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 300.0  # Part IV's issue: the whole book, Parts I-IV, cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", action="store_true", help="keep the machine's trained-model cache")
    args = parser.parse_args()
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book if jupyter_book.exists() else "jupyter-book"), "build", str(ROOT), "-W", "-n", "--keep-going"]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as cache:
        if not args.warm:
            env["DIFFUSION_UTILS_CACHE"] = cache
        start = time.perf_counter()
        done = subprocess.run([*command, "--path-output", out], capture_output=True, text=True, check=False, env=env)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-3000:])
            raise SystemExit(f"build failed with exit code {done.returncode}")
        pages = sorted(p.relative_to(out) for p in Path(out, "_build", "html", "book").rglob("*.html"))
        size_mb = sum(p.stat().st_size for p in Path(out, "_build", "html").rglob("*") if p.is_file()) / 2**20
    chapters = re.findall(r"\[parallel_execution\] executed (\S+) in ([0-9.]+) s", done.stdout)
    print_table(
        "Chapters, executed side by side (seconds each)",
        ("chapter", "seconds"),
        sorted(chapters, key=lambda row: -float(row[1])),
    )
    print_table(
        f"Whole book executed and built from scratch ({os.cpu_count()} cores, "
        f"{'warm' if args.warm else 'empty'} model cache)",
        ("pages", "chapters", "wall time (s)", "target", "site size (MB)"),
        [(len(pages), len(chapters), f"{seconds:.1f}", f"< {TARGET_S:.0f} s", f"{size_mb:.1f}")],
    )


if __name__ == "__main__":
    main()
