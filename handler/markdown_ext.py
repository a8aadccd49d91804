"""Python-Markdown extension: a line `[[form <form-id>]]` in a page becomes that form's HTML.

An extension rather than an MkDocs plugin or hook, so the same build runs under MkDocs and Zensical.
Configure it in mkdocs.yml as `- formkit: {schema_dir: schema, action: /api/forms/}` (and `docs_dir`
when the pages are not in `docs` beside the schema folder). Every build runs the same check as
`formkit check`, so a broken schema or a form on no page or on two pages fails the build.
"""

from __future__ import annotations

from markdown import Extension
from markdown.preprocessors import Preprocessor

from .check import DIRECTIVE, cached_check
from .errors import FormDefinitionError
from .forms import Form
from .render import render_form


def cached_forms(schema_dir: str, docs_dir: str = "") -> dict[str, Form]:
    """Return the checked forms of `schema_dir` (the same check as `formkit check` and the handler's start).

    Under `formkit build` and the watcher this is the check handler/build.py ran just before; under
    Zensical, or MkDocs run on its own, the first page runs it and the others reuse it.
    """
    return cached_check(schema_dir, docs_dir or None).ok()


class FormPreprocessor(Preprocessor):
    """Replace each form directive line with the rendered form, stashed as raw HTML."""

    def __init__(self, md, schema_dir: str, action: str, docs_dir: str = ""):
        super().__init__(md)
        self.schema_dir = schema_dir
        self.docs_dir = docs_dir
        self.action = action.rstrip("/") + "/"

    def run(self, lines: list[str]) -> list[str]:
        out = []
        for line in lines:
            match = DIRECTIVE.match(line)
            if not match:
                out.append(line)
                continue
            forms = cached_forms(self.schema_dir, self.docs_dir)
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
            "docs_dir": ["", "Folder of the pages that place forms (default: docs beside schema_dir)"],
        }
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        schema_dir, docs_dir = self.getConfig("schema_dir"), self.getConfig("docs_dir")
        cached_forms(schema_dir, docs_dir)  # a broken schema fails the build even if no page places it
        md.preprocessors.register(FormPreprocessor(md, schema_dir, self.getConfig("action"), docs_dir), "formkit", 28)


def makeExtension(**kwargs):
    """Return the extension (Python-Markdown's loading convention)."""
    return FormkitExtension(**kwargs)
