"""Citations in the built site read the same in the text and on the References page (tools/citations.py).

Every ``{cite:p}`` / ``{cite:t}`` in a chapter becomes "(Ho et al., 2020)" or "Ho et al. (2020)" linking to an entry
of book/references.html whose label is "[Ho et al., 2020]"; two papers never share a label (Song et al., 2021a and
2021b). Reads the HTML of _build/html (no browser); skipped without a built site unless tools/test.sh requires it.
"""

from __future__ import annotations

import html
import re
from collections import Counter

import pytest
from test_site import SITE, require_site

pytestmark = pytest.mark.browser

CITATION = re.compile(r'<span class="bibtex-citation"[^>]*>(?P<body>.*?)</span>', re.DOTALL)
LINK = re.compile(r'<a class="reference internal" href="[^"#]*references\.html#(?P<id>[\w-]+)"[^>]*>(?P<year>[^<]*)</a>')
ENTRY = re.compile(r'<div class="citation" id="(?P<id>[\w-]+)"[^>]*>\s*<span class="label"><span class="fn-bracket">'
                   r"\[</span>(?P<label>[^<]*)<span class=\"fn-bracket\">\]</span></span>\s*<p>(?P<text>.*?)</p>",
                   re.DOTALL)


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


@pytest.fixture(scope="module")
def entries() -> dict[str, str]:
    references = SITE / "book" / "references.html"
    require_site(references.is_file())
    found = {m.group("id"): _text(m.group("label")) for m in ENTRY.finditer(references.read_text(encoding="utf-8"))}
    assert found, "the References page lists no entries"
    return found


def test_reference_labels_are_author_year_and_distinct(entries):
    for label in entries.values():
        assert re.fullmatch(r"[A-Z][\w-]+( and [A-Z][\w-]+| et al\.)?, \d{4}[a-z]?", label), label
    twice = [label for label, n in Counter(entries.values()).items() if n > 1]
    assert twice == [], f"two entries share a label: {twice}"
    assert {"Song et al., 2021a", "Song et al., 2021b"} <= set(entries.values())


def test_citations_in_the_text_match_the_references_page(entries):
    cited = 0
    for page in sorted(SITE.joinpath("book").rglob("*.html")):
        for match in CITATION.finditer(page.read_text(encoding="utf-8")):
            body = match.group("body")
            text = _text(body)
            for link in LINK.finditer(body):
                label = entries.get(link.group("id"))
                assert label, (page.name, text, link.group("id"))
                who, year = label.rsplit(", ", 1)
                # the link's text: the whole label in "(Ho et al., 2020)", the year in "Ho et al. (2020)"
                assert _text(link.group("year")) in (year, label), (page.name, text, label)
                # parenthetical "(Ho et al., 2020)" or textual "Ho et al. (2020)"
                assert f"{who}, {year}" in text or f"{who} ({year})" in text, (page.name, text, label)
                cited += 1
    assert cited >= 10, f"only {cited} citations found: has the citation markup changed?"
