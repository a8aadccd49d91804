"""Python-Markdown extension: a line `[[form <form-id>]]` in a page becomes that form's HTML, and a line
`[[privacy <form-id>]]` the form's privacy notice (GDPR art. 13) written from its x-formkit `privacy` block.

An answer form (one that a report's e-mail links to) is never sent from its page: there the directive
becomes a short text on how to answer, between the same markers, which the handler's answer page
(opened from the link) replaces with the form.
An extension rather than an MkDocs plugin or hook, so the same build runs under MkDocs and Zensical.
Configure it in mkdocs.yml as `- formkit: {schema_dir: schema, action: /api/forms/}` (and `docs_dir`
when the pages are not in `docs` beside the schema folder). Every build runs the same check as
`formkit check`, so a broken schema or a form on no page or on two pages fails the build.
"""

from __future__ import annotations

import re

from markdown import Extension
from markdown.preprocessors import Preprocessor

from .check import DIRECTIVE, cached_check
from .errors import FormDefinitionError
from .forms import Form, PrivacyNotice
from .render import env, render_form

PRIVACY_DIRECTIVE = re.compile(r"^\[\[privacy\s+([^\]\s]+)\s*\]\]\s*$")
# The kit's own texts, for what the law says the same for every form; a form's block may say otherwise.
EMAIL = (
    "Svaren i formuläret skickas med e-post till mottagarna, som ett bifogat Word-dokument. E-post kan passera "
    "flera servrar på vägen och sparas i mottagarnas brevlådor. Skriv därför bara det som behövs."
)
RIGHTS = (
    "Du har rätt att få veta om vi behandlar personuppgifter om dig och att få en kopia av dem (registerutdrag). "
    "Du har också rätt att få felaktiga uppgifter rättade, att invända mot behandlingen och i vissa fall att få "
    "uppgifterna raderade eller behandlingen begränsad. Uppgifter i allmänna handlingar kan inte alltid raderas, "
    "eftersom myndigheter måste följa arkivlagen. Kontakta den personuppgiftsansvariga om du vill använda dina "
    "rättigheter."
)
COMPLAINT = (
    "Om du tycker att vi behandlar dina personuppgifter på fel sätt kan du lämna ett klagomål till "
    "Integritetsskyddsmyndigheten (IMY), som har tillsyn över dataskyddsförordningen. "
    "Läs mer på [imy.se](https://www.imy.se/)."
)


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
            match, privacy = DIRECTIVE.match(line), PRIVACY_DIRECTIVE.match(line)
            if not match and not privacy:
                out.append(line)
                continue
            forms = cached_forms(self.schema_dir, self.docs_dir)
            form_id = (match or privacy).group(1)
            if form_id not in forms:
                known = ", ".join(sorted(forms)) or "inga"
                raise FormDefinitionError(
                    [f'Sidan nämner formuläret "{form_id}" som inte finns i {self.schema_dir}/ (finns: {known}).']
                )
            form = forms[form_id]
            if privacy:
                out.extend(["", *privacy_notice(form), ""])
                continue
            if form.settings.reply_of:
                report = forms.get(form.settings.reply_of)
                html = env.get_template("answer_without_link.html").render(form=form, report=report).strip()
            else:
                html = render_form(form, self.action + form_id)
            out.extend(["", self.md.htmlStash.store(html), ""])
        return out


def privacy_notice(form: Form) -> list[str]:
    """Return the form's privacy notice as Markdown lines: one section per point of GDPR article 13."""
    notice: PrivacyNotice | None = form.settings.privacy
    if notice is None:
        raise FormDefinitionError(
            [
                f'Sidan visar integritetsinformationen för "{form.id}", men formuläret har inget "privacy" i '
                "x-formkit. Lägg till det i formulärets schema."
            ]
        )
    sections = [  # (heading, texts, whether the texts are a list)
        ("Vem är personuppgiftsansvarig?", [notice.controller, notice.contact], False),
        ("Dataskyddsombud", [notice.data_protection_officer], False),
        ("Vilka personuppgifter behandlas?", notice.data, True),
        ("Varför behandlas uppgifterna?", [notice.purpose], False),
        ("Vilken är den rättsliga grunden?", [notice.legal_basis], False),
        ("Vem får uppgifterna?", notice.recipients, True),
        ("Uppgifterna skickas med e-post", [notice.email or EMAIL], False),
        ("Hur länge sparas uppgifterna?", [notice.retention], False),
        ("Dina rättigheter", [notice.rights or RIGHTS], False),
        ("Klagomål till Integritetsskyddsmyndigheten", [notice.complaint or COMPLAINT], False),
    ]
    lines: list[str] = []
    for heading, texts, as_list in sections:
        texts = [" ".join(text.split()) for text in texts if text.strip()]
        if texts:
            lines += [f"## {heading}", ""]
            lines += [f"- {text}" for text in texts] + [""] if as_list else [line for t in texts for line in (t, "")]
    return lines


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
