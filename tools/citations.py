"""Sphinx extension: author-year citations that read the same in the text and on the References page.

sphinxcontrib-bibtex's ``author_year`` reference style writes "Ho et al. [2020]" in the text while its default
bibliography style (``alpha``) labels the entry [HJA20], and two papers by different Songs from 2021 both read
"Song et al. [2021]". This extension registers

* a pybtex label style ``author_year_label``: "Ho et al., 2020", "Kingma and Welling, 2014", and a letter after
  the year where two entries would otherwise share a label ("Song et al., 2021a" / "2021b", in sorted order);
* a pybtex formatting style ``author_year_list`` (pybtex's ``plain``, sorted by author, year, title) that uses it,
  for the References page (``bibtex_default_style``);
* a sphinxcontrib-bibtex reference style ``author_year_label`` (``bibtex_reference_style``): "Ho et al. (2020)"
  for ``{cite:t}`` and "(Ho et al., 2020)" for ``{cite:p}``, the year (with its letter) taken from the entry's
  label, so the text and the list always agree.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pybtex.plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import node
from sphinx.application import Sphinx
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import BracketStyle, PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle,
    BasicAuthorYearTextualReferenceStyle,
)
from sphinxcontrib.bibtex.style.template import join, join2, post_text, pre_text, reference

ET_AL = " et al."


def _last_names(person) -> str:
    """A person's last name as plain text (TeX braces and accents commands dropped)."""
    return re.sub(r"[{}]|\\[a-zA-Z]+\s*", "", " ".join(person.prelast_names + person.last_names))


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels "Ho et al., 2020"; a, b, ... after the year where labels would repeat."""

    def format_label(self, entry) -> str:
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_last_names(p) for p in persons]
        if not names:
            who = entry.fields.get("title", entry.key)
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = names[0] + ET_AL
        return f"{who}, {entry.fields.get('year', 'n.d.')}"

    def format_labels(self, sorted_entries):
        labels = [self.format_label(entry) for entry in sorted_entries]
        count, seen = Counter(labels), Counter()
        for label in labels:
            if count[label] == 1:
                yield label
            else:
                yield label + chr(ord("a") + seen[label])
                seen[label] += 1


class AuthorYearListStyle(PlainStyle):
    """pybtex's plain style, sorted by author, year and title, with author-year labels."""

    default_label_style = "author_year_label"
    default_sorting_style = "author_year_title"


@node
def label_year(children, data) -> Text:
    """The year of a citation as its label writes it ("2021a"): the part after the label's last comma."""
    assert not children
    return Text(data["formatted_entry"].label.rsplit(", ", 1)[-1])


@dataclass
class _Parenthetical(BasicAuthorYearParentheticalReferenceStyle):
    def inner(self, role_name: str):
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text,
            reference[join(sep=self.author_year_sep)[
                self.person.author_or_editor_or_title(full="s" in role_name), label_year]],
            post_text,
        ]


@dataclass
class _Textual(BasicAuthorYearTextualReferenceStyle):
    def inner(self, role_name: str):
        return join(sep=self.text_reference_sep)[
            self.person.author_or_editor_or_title(full="s" in role_name),
            join[
                self.bracket.left,
                join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[pre_text, reference[label_year], post_text],
                self.bracket.right,
            ],
        ]


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")", sep="; ")


def _person() -> PersonStyle:
    return PersonStyle(other=ET_AL)  # plain "et al.", as in the labels of the References page


@dataclass
class AuthorYearLabelReferenceStyle(AuthorYearReferenceStyle):
    """Ho et al. (2020) / (Ho et al., 2020), with the year as the label writes it."""

    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    person: PersonStyle = field(default_factory=_person)

    def __post_init__(self):
        super().__post_init__()
        for i, style in enumerate(self.styles):
            if type(style) is BasicAuthorYearParentheticalReferenceStyle:
                self.styles[i] = _Parenthetical(bracket=self.bracket_parenthetical, person=self.person,
                                                author_year_sep=self.author_year_sep, pre_text_sep=self.pre_text_sep,
                                                post_text_sep=self.post_text_sep)
            elif type(style) is BasicAuthorYearTextualReferenceStyle:
                self.styles[i] = _Textual(bracket=self.bracket_textual, person=self.person,
                                          text_reference_sep=self.text_reference_sep, pre_text_sep=self.pre_text_sep,
                                          post_text_sep=self.post_text_sep)
        self.role_style.update((name, style) for style in self.styles for name in style.role_names())


def setup(app: Sphinx) -> dict[str, object]:
    """Register the styles (looked up by name when the builder starts, after every extension is loaded)."""
    pybtex.plugin.register_plugin("pybtex.style.labels", "author_year_label", AuthorYearLabelStyle, force=True)
    pybtex.plugin.register_plugin("pybtex.style.formatting", "author_year_list", AuthorYearListStyle, force=True)
    register_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_label", AuthorYearLabelReferenceStyle,
                    force=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
