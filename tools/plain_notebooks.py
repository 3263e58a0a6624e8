"""Sphinx extension and script: the chapters' notebooks in plain Jupyter Markdown, for downloads and Colab.

The chapters are MyST: ```` ```{exercise} ````, ```` ```{solution} ```` and gated ``solution-start``/``solution-end``
blocks, ``(label)=`` targets, ``{numref}``, ``{ref}``, ``{cite:p}``/``{cite:t}`` and ``{glue:text}`` roles.
Jupyter, Colab and GitHub render none of it: a notebook shows the directives as raw code blocks. This module turns
the Markdown cells of a notebook into Markdown that every notebook front end renders:

* ``{exercise}`` → a bold "**Exercise 8.1**" paragraph (the number the website gives it);
* ``{solution}`` and a gated ``solution-start`` → an HTML ``<details>`` block, "Solution to Exercise 8.1", folded;
  a gated solution's code cells stay where they are, and ``solution-end`` leaves only the text after it;
* other admonitions → a block quote with a bold title;
* ``{numref}`` → "Fig. 8.2", ``{ref}`` → the explicit text or the target's title, ``{cite:p}`` → "(Ho et al., 2020)",
  ``{cite:t}`` → "Ho et al. (2020)" (the labels of the References page), ``(label)=`` lines removed;
* ``{glue:text}`` → the glued value, formatted as the website formats it, where the executed notebook's glue data
  are known, else a short placeholder ("[computed in this notebook]").

As a Sphinx extension (``local_extensions: plain_notebooks: tools/``) it rewrites the executed notebooks offered for
download, ``_sources/**/*.ipynb``, after the build (after tools/solutions.py, which strips a student edition's
solutions from the MyST text first), and writes what it knows of the book (numbers, titles, citation labels, glue
values) to ``<doctrees>/plain_notebooks.json``. ``tools/publish_notebooks.sh`` uses that file, through
``python tools/plain_notebooks.py CONTEXT.json NOTEBOOK.ipynb ...``, for the Colab notebooks.
"""

from __future__ import annotations

import json
import re
import sys
from ast import literal_eval
from dataclasses import dataclass, field
from pathlib import Path

PLACEHOLDER = "[computed in this notebook]"
CONTEXT_FILE = "plain_notebooks.json"
ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention", "danger", "error", "seealso",
               "admonition"}

_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*?)[ \t]*$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")
_TARGET = re.compile(r"^\([\w.:-]+\)=[ \t]*$")
_ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]*)`")
_EXPLICIT = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)


@dataclass
class Context:
    """What the website knows: labels' texts, exercise numbers, citation labels, and each chapter's glue values."""

    refs: dict[str, str] = field(default_factory=dict)  # label -> "Fig. 8.2" / "Exercise 8.1" / a section title
    numbers: dict[str, str] = field(default_factory=dict)  # label -> "8.2" (figures, exercises: for {numref} text)
    exercises: dict[str, str] = field(default_factory=dict)  # exercise label -> "8.1"
    chapters: dict[str, str] = field(default_factory=dict)  # docname -> chapter number "8"
    citations: dict[str, str] = field(default_factory=dict)  # bibtex key -> "Ho et al., 2020"
    glue: dict[str, dict[str, str]] = field(default_factory=dict)  # docname -> key -> text/plain

    @classmethod
    def load(cls, path: Path) -> Context:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))

    def dump(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.__dict__, indent=1, ensure_ascii=False, sort_keys=True), encoding="utf-8")


def format_glue(text: str, fmt: str) -> str:
    """A glued text/plain value with a format spec, as myst-nb's ``{glue:text}`` writes it."""
    try:
        value = literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if not fmt:
        return str(value)
    kind = fmt[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, fmt)


class _Converter:
    """Converts the Markdown cells of one chapter, in order (exercises are numbered as they come)."""

    def __init__(self, context: Context, docname: str):
        self.context, self.docname = context, docname
        self.glue = context.glue.get(docname, {})
        self.count = 0  # exercises seen, for those without a label
        self.open_gated: str | None = None

    # Roles -----------------------------------------------------------------------------------------------------
    def _exercise_number(self, label: str) -> str:
        return self.context.exercises.get(label, "")

    def _role(self, match: re.Match) -> str:
        role, text = match.group("role"), match.group("text")
        if role.startswith("glue"):
            key, fmt = text, ""
            if role == "glue:text" and ":" in text.split("::")[-1]:
                key, fmt = text.rsplit(":", 1)
            key = key.split("::")[-1]
            if key in self.glue:
                try:
                    return format_glue(self.glue[key], fmt)
                except (ValueError, TypeError):
                    return str(self.glue[key])
            return PLACEHOLDER
        if role in ("cite:p", "cite:t", "cite", "cite:ps", "cite:ts"):
            labels = [self.context.citations.get(k.strip(), k.strip()) for k in text.split(",")]
            if role.startswith("cite:t"):
                parts = []
                for label in labels:
                    who, sep, year = label.rpartition(", ")
                    parts.append(f"{who} ({year})" if sep else label)
                return "; ".join(parts)
            return "(" + "; ".join(labels) + ")"
        if role in ("ref", "numref", "doc", "eq", "term", "any"):
            explicit = _EXPLICIT.match(text)
            title, target = (explicit.group("title"), explicit.group("target")) if explicit else (None, text)
            target = target.strip()
            if role == "numref":
                number = self.context.numbers.get(target)
                if title is not None:
                    return title.replace("%s", number or "").replace("{number}", number or "").strip()
                return self.context.refs.get(target, target)
            if role == "eq":
                return f"({self.context.numbers[target]})" if target in self.context.numbers else f"({target})"
            if title is not None:
                return title
            return self.context.refs.get(target, target)
        if role == "math":
            return f"${text}$"
        return text  # an unknown role: its text

    def roles(self, text: str) -> str:
        return _ROLE.sub(self._role, text)

    # Directives ------------------------------------------------------------------------------------------------
    def convert(self, text: str) -> str:
        """One Markdown cell's source in plain Markdown."""
        lines, out, i = text.split("\n"), [], 0
        while i < len(lines):
            line = lines[i]
            if _TARGET.match(line):
                i += 1
                continue
            match = _FENCE.match(line)
            if not match:
                out.append(line)
                i += 1
                continue
            fence, name, arg = match.group("fence"), match.group("name"), match.group("arg")
            j, options = i + 1, {}
            while j < len(lines) and _OPTION.match(lines[j]):
                option = _OPTION.match(lines[j])
                options[option.group("key")] = option.group("value")
                j += 1
            body_start, depth = j, 0
            while j < len(lines):
                inner = _FENCE.match(lines[j])
                if inner and inner.group("fence")[0] == fence[0] and len(inner.group("fence")) == len(fence):
                    depth += 1
                elif lines[j].strip() == fence and depth == 0:
                    break
                elif lines[j].strip() == fence:
                    depth -= 1
                j += 1
            body = "\n".join(lines[body_start:j]).strip("\n")
            if name == "solution-start":
                # A gated solution's text follows its (empty) directive up to the code cell: all of it is folded.
                body = "\n".join([body, *lines[j + 1:]]).strip("\n")
                j = len(lines)
            out.extend(self.directive(name, arg, options, body).split("\n"))
            i = j + 1
        result = "\n".join(out)
        result = re.sub(r"\n{3,}", "\n\n", result).strip("\n")
        return self.roles(result)

    def directive(self, name: str, arg: str, options: dict[str, str], body: str) -> str:
        if name == "exercise":
            self.count += 1
            number = self._exercise_number(options.get("label", "")) or self._fallback_number()
            title = f"**Exercise {number}**" + (f" ({arg})" if arg else "")
            return f"{title}\n\n{self.convert(body)}\n"
        if name == "solution":
            return self._details(arg, self.convert(body))
        if name == "solution-start":
            self.open_gated = arg
            return self._details(arg, self.convert(body), note="its code is in the next cell")
        if name == "solution-end":
            self.open_gated = None
            return ""
        if name in ADMONITIONS:
            title = arg if name == "admonition" else (arg or name.capitalize())
            quoted = "\n".join(("> " + line) if line else ">" for line in self.convert(body).split("\n"))
            return f"> **{title}**\n>\n{quoted}\n"
        if name in ("bibliography", "tableofcontents"):
            return ""
        if name in ("math",):
            return f"$$\n{body}\n$$\n"
        # Anything else: keep a fenced block's text as it is (code, say), converted when it is Markdown.
        return self.convert(body) + "\n"

    def _fallback_number(self) -> str:
        chapter = self.context.chapters.get(self.docname)
        return f"{chapter}.{self.count}" if chapter else str(self.count)

    def _details(self, target: str, body: str, note: str = "") -> str:
        number = self._exercise_number(target)
        summary = f"Solution to Exercise {number}" if number else "Solution"
        if note:
            summary += f" ({note})"
        return f"<details>\n<summary><b>{summary}</b></summary>\n\n{body}\n\n</details>\n"


def convert_notebook(notebook: dict, context: Context, docname: str) -> dict:
    """A notebook (nbformat 4 JSON) with every Markdown cell in plain Markdown; emptied Markdown cells are dropped."""
    converter = _Converter(context, docname)
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            text = converter.convert(source)
            if not text.strip():
                continue
            cell = {**cell, "source": text}
        cells.append(cell)
    return {**notebook, "cells": cells}


# Sphinx ---------------------------------------------------------------------------------------------------------
def context_from_sphinx(app) -> Context:
    """Numbers, titles, citation labels and glue values of a finished Sphinx build."""
    env, config = app.env, app.config
    context = Context()
    labels = env.domaindata["std"]["labels"]
    formats = config.numfig_format or {}
    for docname, kinds in env.toc_fignumbers.items():
        by_id = {(docname, node_id): (kind, number) for kind, ids in kinds.items() for node_id, number in ids.items()}
        for label, (doc, node_id, _title) in labels.items():
            if doc == docname and (doc, node_id) in by_id:
                kind, number = by_id[(doc, node_id)]
                text = ".".join(str(n) for n in number)
                context.numbers[label] = text
                if kind == "exercise":
                    context.exercises[label] = text
                    context.refs[label] = f"Exercise {text}"
                else:
                    context.refs[label] = formats.get(kind, f"{kind.capitalize()} %s") % text
    for label, (_doc, _node_id, title) in labels.items():
        context.refs.setdefault(label, " ".join(title.split()))
    for docname, numbers in env.toc_secnumbers.items():
        if numbers.get(""):
            context.chapters[docname] = ".".join(str(n) for n in numbers[""])
    cite = env.domaindata.get("cite", {})
    citations = {c.key: c for c in cite.get("citations", [])}
    labels_on_page = {key: str(getattr(c.formatted_entry, "label", "") or "") for key, c in citations.items()}
    if all(re.search(r", \d{4}[a-z]?$", label) for label in labels_on_page.values()):
        context.citations = labels_on_page  # the References page's author-year labels (tools/citations.py)
    else:  # other labels ([HJA20]): author-year text built from the entries, as the chapters' text shows it
        context.citations = _author_year_labels({key: c.entry for key, c in citations.items()})
    output = getattr(getattr(env, "mystnb_config", None), "output_folder", None)
    if output:
        for docname in env.found_docs:
            path = Path(output).joinpath(*docname.split("/")).with_name(docname.split("/")[-1] + ".glue.json")
            if path.is_file():
                data = json.loads(path.read_text(encoding="utf-8"))
                context.glue[docname] = {key: value.get("data", {}).get("text/plain", "") for key, value in data.items()
                                         if "text/plain" in value.get("data", {})}
    return context


def _author_year(entry) -> str:
    """ "Ho et al., 2020", "Kingma and Welling, 2014", "Sohl-Dickstein, 2015" from a pybtex entry."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [re.sub(r"[{}]|\\[a-zA-Z]+\s*", "", " ".join(p.prelast_names + p.last_names)) for p in persons]
    who = (names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2
           else f"{names[0]} et al." if names else entry.fields.get("title", entry.key))
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


def _author_year_labels(entries: dict) -> dict[str, str]:
    """Author-year labels, with a, b, ... after the year where two entries would read the same."""
    labels = {key: _author_year(entry) for key, entry in entries.items()}
    out = dict(labels)
    for label in {v for v in labels.values() if list(labels.values()).count(v) > 1}:
        same = sorted((k for k, v in labels.items() if v == label), key=lambda k: entries[k].fields.get("title", k))
        for letter, key in zip("abcdefghijklmnopqrstuvwxyz", same):
            out[key] = label + letter
    return out


def _convert_sources(app, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html" and app.builder.name != "dummy":
        return
    context = context_from_sphinx(app)
    context.dump(Path(app.doctreedir) / CONTEXT_FILE)
    sources = Path(app.outdir) / "_sources"
    for path in sources.rglob("*.ipynb") if sources.is_dir() else []:
        docname = path.relative_to(sources).with_suffix("").as_posix()
        notebook = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(convert_notebook(notebook, context, docname), indent=1, ensure_ascii=False),
                        encoding="utf-8")


def setup(app) -> dict[str, object]:
    app.connect("build-finished", _convert_sources, priority=900)  # after tools/solutions.py (priority 500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# Script: python tools/plain_notebooks.py CONTEXT.json ROOT NOTEBOOK.ipynb ... (in place; docname from ROOT) --------
def main(argv: list[str]) -> None:
    if len(argv) < 3:
        sys.exit("usage: plain_notebooks.py CONTEXT.json ROOT NOTEBOOK.ipynb ...")
    context, root = Context.load(Path(argv[0])), Path(argv[1])
    for name in argv[2:]:
        path = Path(name)
        docname = path.resolve().relative_to(root.resolve()).with_suffix("").as_posix()
        notebook = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(convert_notebook(notebook, context, docname), indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
