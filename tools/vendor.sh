#!/usr/bin/env bash
# Sourced by tools/setup.sh: install the site's front-end assets from the npm registry, pinned by
# tools/web/package-lock.json (MathJax 4 and its font, @jupyter-widgets/html-manager, requirejs), and copy the
# files the pages load into tools/web/dist/. The Sphinx extension tools/offline_assets.py serves that folder
# from the built site, so no page asks another host for anything. Without Node.js/npm the book still builds and
# its pages load these assets from public CDNs instead (the build says so).
WEB="$ROOT/tools/web"
if ! command -v npm >/dev/null 2>&1; then
    echo "==> npm not found: skipping the offline web assets (the site will load MathJax and the widget manager from CDNs)"
    rm -rf "$WEB/dist"
elif stamp="$WEB/dist/.stamp-$(cat "$WEB/package-lock.json" "$WEB/"*.js "$ROOT/tools/vendor.sh" | sha256sum | cut -c1-16)"
     [ ! -f "$stamp" ]; then
    echo "==> installing the site's web assets with npm (MathJax, widget manager, requirejs)"
    npm ci --prefix "$WEB" --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
    nm="$WEB/node_modules"
    rm -rf "$WEB/dist" && mkdir -p "$WEB/dist/mathjax/fonts/mathjax-newcm-font" "$WEB/dist/widgets"
    # MathJax: the combined TeX + CHTML component and what it loads on demand (extensions, a11y, speech).
    cp -r "$nm/mathjax/"{tex-mml-chtml.js,a11y,adaptors,input,output,ui,sre,LICENSE} "$WEB/dist/mathjax/"
    cp -r "$nm/@mathjax/mathjax-newcm-font/"{chtml.js,chtml,package.json} "$WEB/dist/mathjax/fonts/mathjax-newcm-font/"
    # Jupyter widgets: requirejs, then html-manager's AMD embedder and the icon fonts it references.
    cp "$nm/requirejs/require.js" "$WEB/dist/widgets/require.js"
    cp "$WEB/widgets-paths.js" "$WEB/dist/widgets/paths.js"
    cp "$WEB/mathjax-file-protocol.js" "$WEB/dist/mathjax-file-protocol.js"
    cp "$nm/@jupyter-widgets/html-manager/dist/"{embed-amd.js,*.woff2,*.woff,*.ttf,*.eot,*.svg} "$WEB/dist/widgets/"
    touch "$stamp"
fi
