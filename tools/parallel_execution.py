"""Sphinx extension: execute every chapter afresh, several at a time, before Sphinx reads them.

myst-nb executes the chapters one after another while Sphinx reads them. With ``execute_notebooks: cache`` it
takes a chapter's outputs from the jupyter-cache folder instead when the cache holds the same code. This extension
empties that folder at the start of every build and fills it by executing all chapters from clean kernels, as many at
once as the machine has cores (``BOOK_EXECUTION_JOBS`` overrides it), the longest first (by the previous build's
times, kept in ``execution-seconds.json`` beside the cache). Every page is therefore still computed by this build and
the current package, and a chapter that fails here is simply left out of the cache: myst-nb runs it again while
reading and reports the error as usual (with -W the build fails).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from queue import Empty

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)
_TIMES = "execution-seconds.json"
_POLL = 0.2  # seconds between polls of a kernel's sockets


def _polling_kernel_manager() -> type:
    """A kernel manager whose client waits for messages in short polls instead of one long one.

    With the machine's cores busy, nbclient's one poll of the shell socket for a cell's reply sometimes misses the
    reply and returns only at the cell's timeout (pyzmq's asyncio poll; seen after cells that display ipywidgets:
    a 5-s chapter took 300 s). A fresh poll every 0.2 s finds the waiting message.
    """
    from jupyter_client.asynchronous.client import AsyncKernelClient
    from jupyter_client.channels import AsyncZMQSocketChannel
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import Type, default

    class PollingChannel(AsyncZMQSocketChannel):
        async def get_msg(self, timeout: float | None = None) -> dict:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                wait = _POLL if deadline is None else max(0.0, min(_POLL, deadline - time.monotonic()))
                try:
                    return await super().get_msg(timeout=wait)
                except Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise

    class PollingClient(AsyncKernelClient):
        shell_channel_class = Type(PollingChannel)
        iopub_channel_class = Type(PollingChannel)

    class PollingKernelManager(AsyncKernelManager):
        @default("client_factory")
        def _client_factory_default(self) -> type:
            return PollingClient

    return PollingKernelManager


def _execute(path: str, timeout: int, allow_errors: bool) -> tuple[object, float, str | None]:
    """Read a MyST notebook as myst-nb does and execute it in its folder: (executed notebook, seconds, error)."""
    from jupyter_cache.executors.utils import single_nb_execution
    from myst_nb.core.read import read_myst_markdown_notebook

    source = Path(path)
    notebook = read_myst_markdown_notebook(source.read_text("utf8"), add_source_map=True, path=source)
    result = single_nb_execution(
        notebook,
        cwd=str(source.parent),
        timeout=timeout,
        allow_errors=allow_errors,
        kernel_manager_class=_polling_kernel_manager(),
    )
    return notebook, result.time, (result.exc_string or repr(result.err)) if result.err is not None else None


def _chapters(app: Sphinx) -> list[Path]:
    """Source paths of the documents this build reads that are MyST notebooks."""
    from myst_nb.core.read import is_myst_markdown_notebook

    docnames = app.project.discover(app.config.exclude_patterns, app.config.include_patterns)
    paths = [Path(app.srcdir, app.project.doc2path(name, False)) for name in sorted(docnames)]
    return [p for p in paths if p.suffix == ".md" and is_myst_markdown_notebook(p.read_text("utf8"))]


def execute_all(app: Sphinx) -> None:
    """Empty the execution cache and fill it with every chapter, executed side by side."""
    config = app.env.mystnb_config
    if config.execution_mode != "cache" or not app.config.parallel_execution:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache_path = Path(config.execution_cache_path)
    times_path = cache_path.parent / _TIMES
    try:
        previous = json.loads(times_path.read_text())
    except (OSError, ValueError):
        previous = {}
    shutil.rmtree(cache_path, ignore_errors=True)
    cache = get_cache(str(cache_path))
    chapters = _chapters(app)
    key = {p: str(p.relative_to(app.srcdir)) for p in chapters}
    # Longest first (a chapter not timed before counts as long), so the last to finish is a short one.
    chapters.sort(key=lambda p: -previous.get(key[p], 1e9))
    jobs = int(os.environ.get("BOOK_EXECUTION_JOBS") or os.cpu_count() or 1)
    logger.info(f"[parallel_execution] executing {len(chapters)} chapters, {jobs} at a time")
    start = time.perf_counter()
    seconds = {}
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=get_context("spawn")) as pool:
        futures = {
            pool.submit(_execute, str(p), config.execution_timeout, config.execution_allow_errors): p for p in chapters
        }
        for future in as_completed(futures):
            path = futures[future]
            try:
                notebook, elapsed, error = future.result()
            except Exception as exc:  # noqa: BLE001 - reported, and myst-nb executes the chapter again
                notebook, elapsed, error = None, 0.0, repr(exc)
            if error is not None:
                logger.info(f"[parallel_execution] {key[path]} failed; it runs again while read:\n{error}")
                continue
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, str(path), data={"execution_seconds": elapsed}),
                check_validity=False,
                overwrite=True,
            )
            seconds[key[path]] = round(elapsed, 2)
            logger.info(f"[parallel_execution] executed {key[path]} in {elapsed:.1f} s")
    logger.info(f"[parallel_execution] all chapters executed in {time.perf_counter() - start:.1f} s")
    try:
        times_path.write_text(json.dumps({**previous, **seconds}, indent=1, sort_keys=True))
    except OSError:
        pass


def write_executed_notebook(app: Sphinx, doctree: object) -> None:
    """Put the outputs into the chapter's notebook in jupyter_execute/ (the page's download, ``_sources/*.ipynb``).

    In cache mode myst-nb renders the page from the cached outputs but writes the notebook it read, without them.
    """
    config = app.env.mystnb_config
    if config.execution_mode != "cache" or not app.config.parallel_execution:
        return
    import nbformat
    from jupyter_cache import get_cache

    path = Path(config.output_folder, *app.env.docname.split("/")).with_suffix(".ipynb")
    if not path.is_file():
        return
    notebook = nbformat.read(path, as_version=4)
    try:
        _, executed = get_cache(str(config.execution_cache_path)).merge_match_into_notebook(notebook)
    except KeyError:  # not in the cache: myst-nb executed it itself and wrote its outputs
        return
    path.write_text(nbformat.writes(executed), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.add_config_value("parallel_execution", True, "env")
    # After myst-nb has resolved its configuration (the cache folder) at builder-inited.
    app.connect("builder-inited", execute_all, priority=900)
    app.connect("doctree-read", write_executed_notebook)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
