"""Python-Markdown extension: a line `[[form <form-id>]]` in a page becomes that form's HTML.

An extension rather than an MkDocs plugin or hook, so the same build runs under MkDocs and Zensical.
Configure it in mkdocs.yml as `- formkit: {schema_dir: schema, action: /api/forms/}`.
"""

from __future__ import annotations

import re
from pathlib import Path

from markdown import Extension
from markdown.preprocessors import Preprocessor

from .errors import FormDefinitionError
from .forms import Form, load_forms
from .render import render_form

DIRECTIVE = re.compile(r"^\[\[form\s+([^\]\s]+)\s*\]\]\s*$")
_cache: dict = {}


def cached_forms(schema_dir: str) -> dict[str, Form]:
    """Return the forms of `schema_dir`, re-read only when a file in it changed."""
    directory = Path(schema_dir)
    stamp = (
        tuple(sorted((p.name, p.stat().st_mtime_ns) for p in directory.glob("*.json"))) if directory.is_dir() else ()
    )
    key = str(directory.resolve())
    if _cache.get(key, (None,))[0] != stamp:
        _cache[key] = (stamp, load_forms(directory))
    return _cache[key][1]


class FormPreprocessor(Preprocessor):
    """Replace each form directive line with the rendered form, stashed as raw HTML."""

    def __init__(self, md, schema_dir: str, action: str):
        super().__init__(md)
        self.schema_dir = schema_dir
        self.action = action.rstrip("/") + "/"

    def run(self, lines: list[str]) -> list[str]:
        out = []
        for line in lines:
            match = DIRECTIVE.match(line)
            if not match:
                out.append(line)
                continue
            forms = cached_forms(self.schema_dir)
            form_id = match.group(1)
            if form_id not in forms:
                known = ", ".join(sorted(forms)) or "inga"
                raise FormDefinitionError(
                    [f'Sidan nämner formuläret "{form_id}" som inte finns i {self.schema_dir}/ (finns: {known}).']
                )
            html = render_form(forms[form_id], self.action + form_id)
            out.extend(["", self.md.htmlStash.store(html), ""])
        return out


class FormkitExtension(Extension):
    """Register the form directive."""

    def __init__(self, **kwargs):
        self.config = {
            "schema_dir": ["schema", "Folder with one JSON Schema per form"],
            "action": ["/api/forms/", "URL prefix of the submission endpoint"],
        }
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        cached_forms(self.getConfig("schema_dir"))  # a broken schema fails the build even if no page places it
        md.preprocessors.register(
            FormPreprocessor(md, self.getConfig("schema_dir"), self.getConfig("action")), "formkit", 28
        )


def makeExtension(**kwargs):
    """Return the extension (Python-Markdown's loading convention)."""
    return FormkitExtension(**kwargs)
