"""Sphinx extension: serve MathJax and the Jupyter widget manager from the built site itself, and keep pages light.

`tools/vendor.sh` (run by the set-up) copies pinned npm packages into `tools/web/dist/`. When that folder is there,
this extension adds it to the static files (it lands in `_build/html/_static/`) and points Sphinx's MathJax and
myst-nb's widget scripts at the copies, so a page asks no other host for anything. When it is missing (no Node.js
at set-up), the pages keep the CDN defaults and the build says so.

Page weight (every page under 5 MB, tests/test_site.py): a finished widget output that the site can draw without a
kernel (an ipywidgets box of HTML, labels and progress bars: tqdm's bar) becomes static HTML, and a page loads the
3.6 MB widget manager and the widget state only when a widget view is left to draw. Notebooks whose only widgets are
kernel-only explorers (no view in the page) carry no widget state. The theme's 1.5 MB FontAwesome *script* (SVG
icons, "so that users can add custom icons") is left out: the book uses only standard icons, which the theme's
stylesheet already draws with the FontAwesome web font.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

DIST = Path(__file__).resolve().parent / "web" / "dist"
logger = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent / "templates"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = re.compile(r'<script type="application/vnd\.jupyter\.widget-view\+json">(.*?)</script>', re.DOTALL)
FONTAWESOME_JS = re.compile(r'\s*<script[^>]*src="[^"]*_static/scripts/fontawesome\.js[^"]*"[^>]*></script>')

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


def _static_widget(model_id: str, state: dict) -> str | None:
    """Static HTML for a finished widget: boxes of HTML, labels and progress bars (tqdm's bar); None otherwise."""
    model = state.get(model_id.removeprefix("IPY_MODEL_"))
    if model is None:
        return None
    name, s = model.get("model_name"), model.get("state", {})
    if name in ("HBoxModel", "VBoxModel", "BoxModel"):
        parts = [_static_widget(child, state) for child in s.get("children", [])]
        if any(p is None for p in parts):
            return None
        kind = "column" if name == "VBoxModel" else "row"
        return f'<div class="static-widget static-widget-{kind}">{"".join(parts)}</div>'
    if name == "HTMLModel":  # tqdm pads with figure spaces (no break); plain spaces let a phone wrap the line
        value = s.get("value", "").replace("\u2007", " ").strip()
        return f'<span class="static-widget-html">{value}</span>' if value else ""
    if name == "LabelModel":
        return f'<span class="static-widget-html">{html.escape(s.get("value", ""))}</span>'
    if name in ("FloatProgressModel", "IntProgressModel"):
        lo, hi, value = float(s.get("min", 0)), float(s.get("max", 100)), float(s.get("value", 0))
        share = 0.0 if hi <= lo else min(1.0, max(0.0, (value - lo) / (hi - lo)))
        style = html.escape(s.get("bar_style") or "info")
        return (f'<progress class="static-widget-progress static-widget-{style}" max="1" value="{share:.4f}" '
                f'aria-label="{share:.0%} done">{share:.0%}</progress>')
    return None


def _static_widgets(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Draw finished widget outputs as static HTML; load the widget manager only where a widget view is left."""
    scripts = context.get("script_files", [])
    states = [s for s in scripts if getattr(s, "attributes", {}).get("type") == WIDGET_STATE]
    if not states:
        return
    state = json.loads(states[0].attributes["body"]).get("state", {})
    body = context.get("body", "")

    def draw(match: re.Match) -> str:
        view = json.loads(match.group(1))
        static = _static_widget(view.get("model_id", ""), state)
        return match.group(0) if static is None else static

    context["body"] = body = WIDGET_VIEW.sub(draw, body)
    if WIDGET_VIEW.search(body):
        return  # a widget the site cannot draw statically: keep its state and the manager
    manager = {f"_static/{path}" for path in app.config.nb_ipywidgets_js} | set(app.config.nb_ipywidgets_js)
    context["script_files"] = [s for s in scripts if s not in states and getattr(s, "filename", s) not in manager]


def _drop_fontawesome_js(markup: str) -> str:
    """Template filter: the theme's head assets without its FontAwesome script (the web font draws the icons)."""
    return FONTAWESOME_JS.sub("", str(markup))


def _add_template_filter(app: Sphinx) -> None:
    if hasattr(app.builder, "templates"):
        app.builder.templates.environment.filters["drop_fontawesome_js"] = _drop_fontawesome_js


def _add_templates(app: Sphinx, config: Config) -> None:
    config.templates_path = [*config.templates_path, str(TEMPLATES)]


def setup(app: Sphinx) -> dict[str, object]:
    """Register the config hooks (run after _config.yml is read), the template filter and the page hooks."""
    app.connect("config-inited", _use_local_assets, priority=900)
    app.connect("config-inited", _add_templates, priority=900)
    app.connect("builder-inited", _add_template_filter)
    app.connect("html-page-context", _drop_duplicate_scripts)
    app.connect("html-page-context", _static_widgets, priority=900)  # after myst-nb adds the page's widget scripts
    return {"parallel_read_safe": True, "parallel_write_safe": True}
