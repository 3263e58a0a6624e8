"""Sphinx extension: serve MathJax and the Jupyter widget manager from the built site itself.

`tools/vendor.sh` (run by the set-up) copies pinned npm packages into `tools/web/dist/`. When that folder is there,
this extension adds it to the static files (it lands in `_build/html/_static/`) and points Sphinx's MathJax and
myst-nb's widget scripts at the copies, so a page asks no other host for anything. When it is missing (no Node.js
at set-up), the pages keep the CDN defaults and the build says so.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

DIST = Path(__file__).resolve().parent / "web" / "dist"
logger = logging.getLogger(__name__)

# MathJax 4 fetches its font and speech data on demand; by default from cdn.jsdelivr.net, here from beside itself.
MATHJAX_CONFIG = {
    "loader": {"paths": {"fonts": "[mathjax]/fonts"}},
}


def _use_local_assets(app: Sphinx, config: Config) -> None:
    """Point MathJax and the widget scripts at the vendored copies, if set-up made them."""
    if not (DIST / "mathjax" / "tex-mml-chtml.js").is_file():
        logger.info(
            "offline_assets: tools/web/dist is missing (npm not found at set-up?): "
            "the pages will load MathJax and the widget manager from CDNs",
            color="red",
        )
        return
    config.html_static_path = [*config.html_static_path, str(DIST)]
    config.mathjax_path = "mathjax/tex-mml-chtml.js"
    merged = dict(config.mathjax3_config or {})
    for key, value in MATHJAX_CONFIG.items():
        merged[key] = {**value, **merged.get(key, {})}
    config.mathjax3_config = merged
    # after Sphinx's inline MathJax config (priority 500), before the deferred MathJax script
    app.add_js_file("mathjax-file-protocol.js", priority=501)
    config.nb_ipywidgets_js = {
        "widgets/require.js": {},
        "widgets/paths.js": {},
        # An unknown widget module would be fetched from this prefix: a local folder, never a CDN.
        "widgets/embed-amd.js": {"data-jupyter-widgets-cdn": "_static/widgets/npm/"},
    }


def _drop_duplicate_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Keep the first of identical script tags (sphinx-thebe registers its inline config twice under Jupyter Book,
    and the second `const THEBE_JS_URL` is a SyntaxError in the browser console)."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        name = getattr(script, "filename", script) or ""  # an inline script's name is None or ""
        key = (str(name), tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app: Sphinx) -> dict[str, object]:
    """Register the config hook (runs after _config.yml is read) and the page hook."""
    app.connect("config-inited", _use_local_assets, priority=900)
    app.connect("html-page-context", _drop_duplicate_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
