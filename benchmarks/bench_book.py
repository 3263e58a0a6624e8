"""Time executing and building the whole book from scratch (run: python benchmarks/bench_book.py).

Target (issue "Foundation and Part I"): < 180 s on 2 cores. The build goes to a fresh temporary folder, so nothing is
cached; every chapter is executed from a clean kernel, with warnings as errors, as the README's commands do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book if jupyter_book.exists() else "jupyter-book"), "build", str(ROOT), "-W", "-n", "--keep-going"]
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        done = subprocess.run([*command, "--path-output", out], capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-3000:])
            raise SystemExit(f"build failed with exit code {done.returncode}")
        pages = sorted(p.relative_to(out) for p in Path(out, "_build", "html", "book").rglob("*.html"))
        size_mb = sum(p.stat().st_size for p in Path(out, "_build", "html").rglob("*") if p.is_file()) / 2**20
    print_table(
        f"Whole book executed and built from scratch ({os.cpu_count()} cores)",
        ("pages", "wall time (s)", "target", "site size (MB)"),
        [(len(pages), f"{seconds:.1f}", "< 180 s", f"{size_mb:.1f}")],
    )


if __name__ == "__main__":
    main()
