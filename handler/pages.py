"""The handler's own HTML pages (receipt, form with errors, problems), dressed in the built site.

When the built site is available (FORMKIT_PUBLIC_DIR), a page is the form's own page with its
content swapped, so it looks like the rest of the site; otherwise a small standalone page.
"""

from __future__ import annotations

import re
import urllib.parse
from functools import lru_cache
from pathlib import Path

from flask import current_app, make_response
from markupsafe import Markup, escape

from .forms import Form
from .render import env, render_form

ARTICLE = re.compile(r'(<article class="md-content__inner md-typeset">)(.*)(</article>)', re.S)
TITLE = re.compile(r"<title>(.*?)</title>", re.S)
RELATIVE_LINK = re.compile(r'\b(href|src)="(?![a-z][a-z0-9+.-]*:|/|#)([^"]*)"', re.I)


def receipt(form: Form, reference: str):
    """Return the receipt page showing the reference."""
    body = env.get_template("receipt.html").render(form=form, reference=reference)
    return _page(form.id, f"Skickat: {form.title}", body, 200)


def invalid(form: Form, values: dict, errors: list):
    """Return the 422 page: the form with the error summary and everything the user typed."""
    return _form_page(form, render_form(form, f"/api/forms/{form.id}", values, errors), "Fel", 422)


def unavailable(form: Form, values: dict, title: str, detail: str):
    """Return the 503 page: why it could not be sent, then the form with everything typed, to send again."""
    notice = env.get_template("unavailable.html").render(form=form, title=title, detail=detail)
    html = notice + render_form(form, f"/api/forms/{form.id}", values, [])
    return _form_page(form, html, "Inte skickat", 503)


def _form_page(form: Form, html: str, prefix: str, status: int):
    shell = _shell(form.id)
    if shell and "<!-- formkit:start" in shell:
        page = re.sub(r"<!-- formkit:start [^>]*-->.*<!-- formkit:end [^>]*-->", lambda _: html, shell, flags=re.S)
        page = TITLE.sub(lambda m: f"<title>{prefix}: {m.group(1)}</title>", page, count=1)
        return _response(page, status)
    body = Markup(f"<h1>{escape(form.title)}</h1>") + Markup(html)
    return _page(form.id, f"{prefix}: {form.title}", body, status)


def problem(status: int, title: str, detail: str):
    """Return a readable page for an answer that is not about one field."""
    body = env.get_template("problem.html").render(title=title, detail=detail)
    return _page("", title, body, status)


def not_found():
    """Return the built site's own 404 page."""
    public = Path(current_app.config["PUBLIC_DIR"])
    page = public / "404.html"
    if page.is_file():
        return _response(page.read_text(encoding="utf-8"), 404)
    return problem(404, "Sidan finns inte", "Adressen finns inte. Kontrollera att den är rätt skriven.")


def _page(form_id: str, title: str, body: str, status: int):
    shell = _shell(form_id)
    if shell and ARTICLE.search(shell):
        page = ARTICLE.sub(lambda m: m.group(1) + str(body) + m.group(3), shell, count=1)
        page = TITLE.sub(lambda m: f"<title>{escape(title)} - {_site_name(m.group(1))}</title>", page, count=1)
        return _response(page, status)
    return _response(env.get_template("page.html").render(title=title, body=Markup(body)), status)


def _site_name(title: str) -> str:
    return title.rsplit(" - ", 1)[-1]


def _response(html: str, status: int):
    response = make_response(html, status)
    response.mimetype = "text/html"
    return response


def _shell(form_id: str) -> str | None:
    public = current_app.config.get("PUBLIC_DIR")
    if not public:
        return None
    return _find_shell(str(Path(public).resolve()), form_id, _stamp(public))


def _stamp(public: str) -> float:
    index = Path(public) / "index.html"
    return index.stat().st_mtime if index.exists() else 0.0


@lru_cache(maxsize=32)
def _find_shell(public: str, form_id: str, stamp: float) -> str | None:
    """Return the built page that holds the form (or the start page); re-read when the site is rebuilt."""
    pages = sorted(Path(public).rglob("index.html"))
    marker = f'data-formkit="{form_id}"'
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if form_id and marker in text:
            folder = page.parent.relative_to(public).as_posix()
            return _absolute_links(text, "/" if folder == "." else f"/{folder}/")
    start = Path(public) / "index.html"
    return _absolute_links(start.read_text(encoding="utf-8"), "/") if start.is_file() else None


def _absolute_links(html: str, page_url: str) -> str:
    """Make the page's relative links absolute: the handler serves it from /api/forms/..., not from its folder."""

    def absolute(match):
        return f'{match.group(1)}="{urllib.parse.urljoin(page_url, match.group(2))}"'

    return RELATIVE_LINK.sub(absolute, html)
