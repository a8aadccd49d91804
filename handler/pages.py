"""The handler's own HTML pages (receipt, form with errors, problems), dressed in the built site.

When the built site is available (FORMKIT_PUBLIC_DIR), a page is the form's own page with its
content swapped, so it looks like the rest of the site; otherwise a small standalone page. A form's page
is the built page with its `<!-- formkit:start <id> -->` marker (the form, or an answer form's text on
how to answer); `placement` gives its address.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urljoin

from flask import current_app, make_response
from markupsafe import Markup, escape

from . import review
from .alternatives import CHOSEN, applying
from .check import docs_dir_for, placements
from .document import EMPTY, display, positions
from .forms import Form, Kind
from .paths import FieldPath
from .pipeline import CHANGE, STEP
from .register import ReportRecord
from .render import env, render_form
from .reply import FIELD, LinkedReport

ARTICLE = re.compile(r'(<article class="md-content__inner md-typeset">)(.*)(</article>)', re.S)
TITLE = re.compile(r"<title>(.*?)</title>", re.S)
FORM_BLOCK = re.compile(r"<!-- formkit:start [^>]*-->.*<!-- formkit:end [^>]*-->", re.S)
# Relative addresses in a built page (href="../assets/…", Material's config "base": "..") and a test for
# addresses that are already absolute: a scheme, a path from the root or a fragment.
RELATIVE = re.compile(r'(\s(?:href|src)="|"(?:base|search)": ")([^"]*)"')
ABSOLUTE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|/|#)")
CHECK_TITLE = "Kontrollera dina svar innan du skickar"
NEXT_STEPS = "/vad-hander-sedan/"  # the site's guidance on what happens after a report, linked from its receipt


def receipt(form: Form, reference: str, record: ReportRecord | None = None, sender: bool = False):
    """Return the receipt page (GOV.UK's confirmation page): the reference, what happens next and who got it.

    `record`: the report as the register keeps it (its units and deadline); None for an answer, which is
    recorded on the unit it answers rather than under its own reference. `sender`: the browser holds the
    sender's key, so the page also lists every address the messages went to (while the answers are kept).
    """
    settings = current_app.extensions["formkit.settings"]
    answers = record.answers if sender and record is not None else None
    addresses = review.recipients(form, answers, settings.mail.default_to) if answers else None
    report = current_app.extensions["formkit.forms"].get(form.settings.reply_of) if form.settings.reply_of else None
    body = env.get_template("receipt.html").render(
        form=form,
        reference=reference,
        record=record,
        sent_to=review.sent_to(form, record, report),
        addresses=addresses,
        deadline=review.long_date(record.deadline) if record and record.deadline else "",
        next_steps=NEXT_STEPS if _has_page(settings, NEXT_STEPS) else "",
    )
    return _page(form.id, f"Skickat: {form.title}", body, 200)


def no_receipt(form: Form, reference: str):
    """Return the 404 page for a receipt address whose reference the register does not know."""
    body = env.get_template("receipt_missing.html").render(form=form, reference=reference, page=placement(form.id))
    return _page(form.id, "Kvittot finns inte", body, 404)


def check(form: Form, data: dict, pairs: list[tuple[str, str]]):
    """Return the check page (GOV.UK's "check answers"): every answer by section, who receives them, the send button.

    `pairs`: the fields as posted, sent again as hidden fields by the send button (and by "Ändra").
    """
    return _page(form.id, check_title(form), check_panel(form, data, pairs), 200)


def check_title(form: Form) -> str:
    """Return the check page's title (before the site's name), with and without JavaScript."""
    return f"{CHECK_TITLE}: {form.title}"


def check_panel(form: Form, data: dict, pairs: list[tuple[str, str]]) -> str:
    """Return the check page's content, which formkit.js shows in place of the form."""
    default_to = current_app.extensions["formkit.settings"].mail.default_to
    kept = [(name, value) for name, value in pairs if name != STEP and value.strip()]
    return env.get_template("check.html").render(
        form=form,
        title=CHECK_TITLE,
        action=f"/api/forms/{form.id}",
        sections=review.sections(form, data),
        recipients=review.recipients(form, data, default_to),
        hidden=kept,
        change=CHANGE,
        not_answered=review.NOT_ANSWERED,
    )


def change(form: Form, values: dict):
    """Return the form filled in as it was sent from the check page, to change an answer ("Ändra")."""
    return _form_page(form, values, [], 200, "", "", None)


def _has_page(settings, address: str) -> bool:
    """Return whether the site has a page at `address` ("/vad-hander-sedan/"): built, or in the docs folder."""
    name = address.strip("/")
    if settings.public_dir and Path(settings.public_dir).is_dir():
        return (Path(settings.public_dir) / name / "index.html").is_file()
    docs = docs_dir_for(settings.schema_dir, settings.docs_dir or None)
    return (docs / f"{name}.md").is_file() or (docs / name / "index.md").is_file()


def invalid(
    form: Form, values: dict, errors: list, notice: str = "", token: str = "", linked: LinkedReport | None = None
):
    """Return the 422 page: the form with the error summary (and `notice` in it) and everything the user typed."""
    return _form_page(form, values, errors, 422, "Fel: ", token, linked, notice=notice)


def answer(form: Form, token: str, linked: LinkedReport, report: Form | None = None):
    """Return the answer page: the report read-only (while the register keeps it), where the answer goes, and
    the reply form carrying the link's token, with the day the report arrived filled in (`reply_link.received`)."""
    link = report.settings.reply_link if report is not None else None
    values: dict = {}
    if link and link.received:
        place = values
        *groups, name = link.received.strip("/").split("/")
        for part in groups:
            place = place.setdefault(part, {})
        place[name] = linked.date
    return _form_page(form, values, [], 200, "", token, linked)


def bad_link(form: Form, values: dict, token: str, status: int, title: str, detail: str):
    """Return the form again with what the user typed, under a message saying why the link does not work."""
    banner = env.get_template("link_problem.html").render(title=title, detail=detail)
    return _form_page(form, values, [], status, "Fel: ", token, None, banner=Markup(banner))


def unavailable(form: Form, values: dict, title: str, detail: str, token: str = ""):
    """Return the 503 page: why it could not be sent, then the form with everything typed, to send again."""
    banner = env.get_template("unavailable.html").render(form=form, title=title, detail=detail)
    return _form_page(form, values, [], 503, "Inte skickat: ", token, None, banner=Markup(banner))


def _form_page(form, values, errors, status, prefix, token, linked, notice="", banner=""):
    """Return a page with the form (in its own built page when there is one), filled in as given."""
    hidden = {FIELD: token} if token else {}
    shown = [("Referens", linked.reference), ("Verksamhet som svarar", linked.unit_name)] if linked else []
    if linked and not errors:  # the report an answer is for, above the form; a 422 page starts with its errors
        banner = Markup(answering(form, linked)) + banner
    html = banner + Markup(render_form(form, f"/api/forms/{form.id}", values, errors, notice, hidden, shown))
    shell = _shell(form.id)
    if shell and "<!-- formkit:start" in shell:
        page = FORM_BLOCK.sub(lambda _: html, shell, count=1)
        page = TITLE.sub(lambda m: f"<title>{prefix}{m.group(1)}</title>", page, count=1)
        return _response(page, status)
    return _page(form.id, f"{prefix}{form.title}", Markup(f"<h1>{escape(form.title)}</h1>") + html, status)


def answering(form: Form, linked: LinkedReport) -> str:
    """Return the report an answer is for, as the answer page shows it: facts, where it goes, sections read-only."""
    report = current_app.extensions["formkit.forms"].get(form.settings.reply_of)
    routing = form.settings.mail
    copies = [e for e in (*routing.to, *routing.cc) if "@" in e and not e.startswith("/")]
    manager = ""
    if report is not None and report.settings.reply_link:  # "ansvarig chef vid rapporterande verksamhet"
        group = report.field_at(FieldPath.from_pointer(report.settings.reply_link.answer_to).pattern[:-1])
        manager = group.title[:1].lower() + group.title[1:] if group is not None and group.title else ""
    return env.get_template("answer_report.html").render(
        linked=linked,
        report=report,
        blocks=readonly(report, linked.report) if report is not None and not linked.erased else [],
        copies=copies,
        to_you=any(e.startswith("/") for e in routing.cc),  # the answering manager's own address gets a copy
        manager=manager or "den som rapporterade",
    )


def readonly(form: Form, data: dict) -> list[tuple]:
    """Return a submission as blocks to show read-only, in the form's order: ("heading", level, title),
    ("facts", [(label, lines)]), ("rows", level, title, headings, rows)."""
    blocks: list[tuple] = []

    def walk(node, values, level):
        values = values if isinstance(values, dict) else {}
        facts: list = []
        for child in node.children:
            if child.kind == Kind.ALTERNATIVES:  # the chosen alternative, then its answers
                chosen = applying(child, values)
                facts.append((CHOSEN, [chosen.title if chosen else EMPTY]))
                for member in chosen.children if chosen else []:
                    facts.append((member.title, display(member, values.get(member.name)).splitlines() or [EMPTY]))
            elif child.kind in (Kind.GROUP, Kind.TUPLE):
                blocks.extend([("facts", facts)] if facts else [])
                facts = []
                blocks.append(("heading", min(level, 6), child.title))
                walk(child, positions(child, values.get(child.name)), level + 1)
                if child.kind == Kind.TUPLE and child.item is not None:  # the rows added after its fixed values
                    added = values.get(child.name) if isinstance(values.get(child.name), list) else []
                    blocks.append(rows(child, child.item.title, added[len(child.children) :], level + 1))
            elif child.kind == Kind.LIST:
                blocks.extend([("facts", facts)] if facts else [])
                facts = []
                blocks.append(rows(child, child.title, values.get(child.name) or [], level))
            else:
                facts.append((child.title, display(child, values.get(child.name)).splitlines() or [EMPTY]))
        blocks.extend([("facts", facts)] if facts else [])

    def rows(node, title: str, items: list, level: int) -> tuple:
        """Return a list's rows (or a tuple's added rows) as a block: a column per field, or one for a value."""
        if node.item is None or node.item.children:
            columns = node.item.children if node.item else []
            items = [item if isinstance(item, dict) else {} for item in items]
            cells = [[display(c, item.get(c.name)) for c in columns] for item in items]
        else:
            columns, cells = [node.item], [[display(node.item, item)] for item in items]
        return ("rows", min(level, 6), title, [c.title for c in columns], cells)

    walk(form.root, data, 3)
    return blocks


def placement(form_id: str) -> str | None:
    """Return the address of the site's page that places the form: the built page, else the docs page."""
    settings = current_app.extensions["formkit.settings"]
    if settings.public_dir and Path(settings.public_dir).is_dir():
        public = str(Path(settings.public_dir).resolve())
        found = _find_page(public, form_id, _stamp(public))
        if found:
            return found
    docs = docs_dir_for(settings.schema_dir, settings.docs_dir or None)
    places = placements(docs).get(form_id) if docs.is_dir() else None
    if not places:
        return None
    page = places[0][0].relative_to(docs).with_suffix("")
    parts = page.parts[:-1] if page.name == "index" else page.parts
    return "/" + "".join(f"{part}/" for part in parts)


def problem(status: int, title: str, detail: str):
    """Return a readable page for an answer that is not about one field."""
    body = env.get_template("problem.html").render(title=title, detail=detail)
    return _page("", title, body, status)


def not_found():
    """Return the built site's own 404 page."""
    public = Path(current_app.extensions["formkit.settings"].public_dir)
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
    public = current_app.extensions["formkit.settings"].public_dir
    if not public:
        return None
    return _find_shell(str(Path(public).resolve()), form_id, _stamp(public))


def _stamp(public: str) -> float:
    index = Path(public) / "index.html"
    return index.stat().st_mtime if index.exists() else 0.0


def _marker(form_id: str) -> str:
    return f"<!-- formkit:start {form_id} -->"


@lru_cache(maxsize=32)
def _find_page(public: str, form_id: str, stamp: float) -> str | None:
    """Return the address of the built page with the form's marker; re-read when the site is rebuilt."""
    for page in sorted(Path(public).rglob("index.html")):
        if _marker(form_id) in page.read_text(encoding="utf-8"):
            folder = page.parent.relative_to(public).as_posix().strip(".")
            return f"/{folder}/" if folder else "/"
    return None


@lru_cache(maxsize=32)
def _find_shell(public: str, form_id: str, stamp: float) -> str | None:
    """Return the built page that holds the form (or a general one); re-read when the site is rebuilt."""
    pages = sorted(Path(public).rglob("index.html"))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if form_id and _marker(form_id) in text:
            return _absolute(text, page, public)
    # Pages not about one form use the site's 404 page: the site's header and menu, no other page's contents list.
    for shell in (Path(public) / "404.html", Path(public) / "index.html"):
        if shell.is_file():
            return _absolute(shell.read_text(encoding="utf-8"), shell, public)
    return None


def _absolute(html: str, page: Path, public: str) -> str:
    """Make the page's relative addresses absolute, since the handler serves it from /api/forms/…."""
    base = "/" + page.parent.relative_to(public).as_posix().strip(".") + "/"
    base = base.replace("//", "/")

    def fix(match: re.Match) -> str:
        address = match.group(2)
        return match.group(0) if ABSOLUTE.match(address) else f'{match.group(1)}{urljoin(base, address)}"'

    return RELATIVE.sub(fix, html)
