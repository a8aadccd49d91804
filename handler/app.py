"""The submission handler: one endpoint, `POST /api/forms/<form-id>`, built by `create_app`.

parse → normalise → validate → reference → DOCX → outbox → mail. Answers are JSON for JSON clients
and HTML pages for browsers without JavaScript; every error is mapped to its answer in `_answer_error`.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import urllib.parse
from pathlib import Path

from flask import Flask, abort, current_app, g, jsonify, redirect, request, send_from_directory
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from . import limits, normalise, pages, reply
from .body import decode_json
from .check import check_project
from .document import render_docx
from .errors import (
    BadLink,
    BadSubmission,
    DeliveryUnavailable,
    FormChanged,
    FormkitError,
    Invalid,
    UnknownForm,
    UnsupportedMediaType,
)
from .forms import Form
from .mail import Transport, compose
from .outbox import Outbox, describe
from .reference import new_reference, now
from .settings import NAMES as SETTING_NAMES
from .settings import Settings, SettingsError
from .settings import load as load_settings
from .validation import validate

log = logging.getLogger("formkit")
REFERENCE = re.compile(r"^[A-Z0-9]{1,20}-\d{8}-[2-9A-Z]{4,12}$")
HONEYPOT = "_hemsida"
VERSION = "_version"
RETRY_AFTER_UNAVAILABLE = 30  # seconds; a mail server or disk usually recovers in about that time

def create_app(config: dict | None = None, *, settings: Settings | None = None) -> Flask:
    """Build the app from `settings`, or load them: FORMKIT_* variables and `.env`, under `config` (tests).

    Without `settings` and without TESTING this is production, as gunicorn runs `create_app()`: a bad
    setting prints its lines and exits with code 2, without a traceback.
    """
    if settings is None:
        try:
            settings = load_settings(config)
        except SettingsError as error:
            if (config or {}).get("TESTING"):
                raise
            print(error, file=sys.stderr, flush=True)
            raise SystemExit(2) from None
    app = Flask(__name__)
    app.config.from_mapping({key: value for key, value in (config or {}).items() if key not in SETTING_NAMES})
    app.config.from_mapping(settings.as_config())
    app.extensions["formkit.settings"] = settings
    app.json.ensure_ascii = False
    _log_to_stderr_unless_configured()
    checked = check_project(app.config["SCHEMA_DIR"], app.config["DOCS_DIR"] or None)
    for warning in checked.warnings:
        log.warning("varning: %s", warning)
    app.extensions["formkit.forms"] = checked.ok()
    app.extensions["formkit.outbox"] = outbox_for(app.config)
    app.register_error_handler(Exception, _answer_error)
    app.add_url_rule("/api/forms/<form_id>", view_func=submit, methods=["POST"])
    app.add_url_rule("/api/forms/<form_id>", view_func=_post_only, methods=["GET"])  # not the site's 404
    limits.init_app(app)
    app.add_url_rule("/api/forms/<form_id>/kvitto/<reference>", view_func=receipt, methods=["GET"])
    app.add_url_rule(f"/api/forms/<form_id>/{reply.ROUTE}", view_func=answer_page, methods=["GET"])
    if app.config["PUBLIC_DIR"]:
        app.add_url_rule("/", view_func=static_page, defaults={"path": ""})
        app.add_url_rule("/<path:path>", view_func=static_page)
    return app


def _log_to_stderr_unless_configured() -> None:
    """Under gunicorn nobody configures Python logging: without this, outcomes would go unlogged."""
    if logging.getLogger().handlers or log.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def outbox_for(config) -> Outbox | None:
    """Return the configured outbox, or None in serverless mode (FORMKIT_OUTBOX_DIR set empty)."""
    if not config.get("OUTBOX_DIR"):
        return None
    return Outbox(
        config["OUTBOX_DIR"],
        retry_base=float(config["OUTBOX_RETRY_BASE"]),
        retry_max=float(config["OUTBOX_RETRY_MAX"]),
        max_age=float(config["OUTBOX_MAX_AGE"]),
        claim_timeout=float(config["OUTBOX_CLAIM_TIMEOUT"]),
    )


def _form(form_id: str) -> Form:
    form = current_app.extensions["formkit.forms"].get(form_id)
    if form is None:
        raise UnknownForm(f'Det finns inget formulär som heter "{form_id[:80]}".')
    return form


def submit(form_id: str):
    """Receive one submission; answer 201/303 only once its mail is handed over or safely queued."""
    started = time.monotonic()
    form = _form(form_id)
    raw, honeypot, token = _read_body(form)
    linked = None
    if form.settings.get("reply_of"):  # an answer: its link's token says which report and where it goes
        g.token = token
        linked = g.linked = reply.verify(current_app.config, form.id, token)
    data = normalise.clean(raw)
    try:
        validate(form, data)
    except Invalid as error:
        changed = _loaded_version() not in ("", form.version)
        log.info("form=%s outcome=%s ms=%.1f", form.id, "changed" if changed else "invalid", _ms(started))
        raise FormChanged(error.errors) if changed else error from None
    created = now()
    reference = new_reference(form.settings["reference_prefix"], created)
    if honeypot:
        log.info("form=%s reference=%s outcome=honeypot", form.id, reference)
        return _accepted(form, reference)
    forms = current_app.extensions["formkit.forms"]
    reply_form = forms.get(form.settings.get("reply_form", ""))
    report = forms.get(form.settings.get("reply_of", ""))
    attachment = render_docx(form, data, reference, created, reply_form, linked, report)
    messages = compose(form, data, reference, created, attachment, current_app.config, linked)
    rendered = time.monotonic()
    delivery = _hand_over(form, reference, messages)
    finished = time.monotonic()
    log.info(
        "form=%s reference=%s outcome=accepted delivery=%s ms=%.1f render_ms=%.1f deliver_ms=%.1f",
        form.id,
        reference,
        delivery,
        (finished - started) * 1000,
        (rendered - started) * 1000,
        (finished - rendered) * 1000,
    )
    return _accepted(form, reference)


def _hand_over(form: Form, reference: str, messages) -> str:
    """Hand the messages over; return "sent" or "queued", or raise DeliveryUnavailable (503)."""
    config = current_app.config
    outbox = current_app.extensions["formkit.outbox"]
    if outbox is None:  # serverless: nothing is kept, so the SMTP server must take the report now
        _send_now(form, reference, messages)
        return "sent"
    names: list[str] = []
    try:
        for message in messages:
            names.append(outbox.put(message, claim=True))  # held by this process: delivered just below
    except OSError as error:
        for name in names:  # the user is told it failed, so nothing of it may go out
            outbox.discard(name)
        log.error("form=%s reference=%s outcome=unavailable outbox not writable: %s", form.id, reference, error)
        raise DeliveryUnavailable("Rapporten kunde inte sparas just nu. Försök igen om en stund.") from None
    # The report is safe on disk; try once now with a short timeout, the worker retries the rest.
    quick = {**config, "SMTP_TIMEOUT": min(float(config["SMTP_TIMEOUT"]), float(config["SMTP_QUICK_TIMEOUT"]))}
    with Transport(quick) as transport:  # one connection for the report and the receipt
        for index, name in enumerate(names):
            if not outbox.deliver(name, transport.send, held=True):
                for rest in names[index + 1 :]:  # the server is unwell: the worker sends the rest, with back-off
                    outbox.release(rest)
                return "queued"
    return "sent"


def _send_now(form: Form, reference: str, messages) -> None:
    """Send synchronously; raise DeliveryUnavailable when the report (the first message) is not taken."""
    with Transport(current_app.config) as transport:
        for index, message in enumerate(messages):
            try:
                transport.send(message)
            except Exception as error:
                if index == 0:
                    log.error("form=%s reference=%s outcome=unavailable error=%s", form.id, reference, describe(error))
                    refusal = "Rapporten kunde inte skickas just nu. Försök igen om en stund."
                    raise DeliveryUnavailable(refusal) from None
                # The report went out; a 503 now would make the user send it twice: the receipt is lost.
                log.error("form=%s reference=%s receipt not sent error=%s", form.id, reference, describe(error))


def _accepted(form: Form, reference: str):
    if _wants_json():
        response = jsonify(
            reference=reference, receipt=form.settings.get("receipt", ""), title=form.settings.get("receipt_title", "")
        )
        response.status_code = 201
        response.headers["Location"] = f"/api/forms/{form.id}/kvitto/{reference}"
    else:
        response = redirect(f"/api/forms/{form.id}/kvitto/{reference}", 303)
    return response


def _read_body(form: Form) -> tuple[dict, bool, str]:
    """Return the submission as an object, whether the honeypot field was filled, and the answer link's token."""
    mimetype = request.mimetype
    body = request.get_data()
    if mimetype == "application/json":
        data = decode_json(body)
        data.pop(VERSION, None)
        token = data.pop(reply.FIELD, "")
        return data, bool(str(data.pop(HONEYPOT, "") or "").strip()), token if isinstance(token, str) else ""
    if mimetype == "application/x-www-form-urlencoded":
        try:
            pairs = urllib.parse.parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=1000
            )
        except UnicodeDecodeError:
            raise BadSubmission("Innehållet är inte giltig UTF-8.") from None
        except ValueError:
            raise BadSubmission("Formuläret innehåller för många fält.") from None
        honeypot = any(name == HONEYPOT and value.strip() for name, value in pairs)
        token = next((value.strip() for name, value in pairs if name == reply.FIELD), "")
        # A page loaded before the form changed may send fields the form no longer has: drop them.
        loaded = next((value for name, value in pairs if name == VERSION), "")
        return normalise.from_pairs(form, pairs, lenient=loaded not in ("", form.version)), honeypot, token
    raise UnsupportedMediaType("Skicka formuläret som application/x-www-form-urlencoded eller application/json.")


def _loaded_version() -> str:
    """Return the form version the page was built with (the hidden `_version` field), or ""."""
    if request.mimetype == "application/json":
        try:
            return str(decode_json(request.get_data(cache=True)).get(VERSION) or "")
        except FormkitError:
            return ""
    if request.mimetype == "application/x-www-form-urlencoded":
        body = request.get_data(cache=True).decode("utf-8", "replace")
        return next((v for k, v in urllib.parse.parse_qsl(body) if k == VERSION), "")
    return ""


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def receipt(form_id: str, reference: str):
    """Show the receipt page with the reference (the no-JavaScript path ends here)."""
    form = _form(form_id)
    if not REFERENCE.match(reference):
        abort(404)
    return pages.receipt(form, reference)


def answer_page(form_id: str):
    """Show the answer form for the report its link's token names (the link in the report e-mail)."""
    form = _form(form_id)
    if not form.settings.get("reply_of"):
        abort(404)
    token = request.args.get("token", "").strip()
    response = pages.answer(form, token, reply.verify(current_app.config, form.id, token))
    # The address holds the token: keep it out of caches and out of other sites' Referer headers.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _post_only(form_id: str):
    """Someone opened the endpoint's address: say it takes forms, and how (405 with Allow: POST)."""
    raise MethodNotAllowed(["POST"])


def static_page(path: str):
    """Serve the built site (used by `formkit serve`; in production any web server does this)."""
    public = Path(current_app.config["PUBLIC_DIR"]).resolve()
    target = (public / path).resolve()
    if public not in target.parents and target != public:
        abort(404)
    if target.is_dir():
        if path and not path.endswith("/"):
            return redirect("/" + path + "/", 301)
        path = (path + "/index.html").lstrip("/")
    elif not target.is_file():
        abort(404)
    response = send_from_directory(public, path)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _wants_json() -> bool:
    if request.mimetype == "application/json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/problem+json"])
    return best in ("application/json", "application/problem+json")


def _answer_error(error: Exception):
    """Map every exception to its answer: problem+json for JSON clients, a readable page for browsers."""
    if isinstance(error, HTTPException):
        status, title, detail = error.code or 500, _http_title(error), _http_detail(error)
    elif isinstance(error, FormkitError):
        status, title, detail = error.status, error.title, error.detail
    else:
        log.exception("unexpected error path=%s", request.path)
        status, title, detail = 500, "Något gick fel", "Ett oväntat fel inträffade. Försök igen om en stund."
    if status == 404 and request.method == "GET" and current_app.config["PUBLIC_DIR"] and not _wants_json():
        return pages.not_found()
    errors = error.errors if isinstance(error, Invalid) else []
    if _wants_json():
        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        if isinstance(error, FormChanged):
            body["form_changed"] = True
        if errors:
            body["errors"] = [
                {"path": "/" + "/".join(str(p) for p in e.path), "name": e.name, "label": e.label, "message": e.message}
                for e in errors
            ]
        response = jsonify(body)
        response.status_code = status
        response.mimetype = "application/problem+json"
    elif isinstance(error, Invalid):
        form = _form(request.view_args["form_id"])
        notice = error.detail if isinstance(error, FormChanged) else ""
        response = pages.invalid(form, _submitted_values(), errors, notice, g.get("token", ""), g.get("linked"))
    elif isinstance(error, BadLink) and request.method == "POST":  # keep what was typed, say what is wrong
        form = _form(request.view_args["form_id"])
        response = pages.bad_link(form, _submitted_values(), g.get("token", ""), status, title, detail)
    elif isinstance(error, DeliveryUnavailable):  # the form again, with everything typed, to try again
        form = _form(request.view_args["form_id"])
        response = pages.unavailable(form, _submitted_values(), title, detail, g.get("token", ""))
    else:
        response = pages.problem(status, title, detail)
    if isinstance(error, HTTPException):  # what werkzeug says belongs to the answer, such as 405's Allow
        response.headers.extend((k, v) for k, v in error.get_headers() if k.lower() != "content-type")
    if status in (429, 503):
        response.headers["Retry-After"] = str(limits.retry_after() if status == 429 else RETRY_AFTER_UNAVAILABLE)
    return response


def _submitted_values() -> dict:
    """Return what the user sent, as best it can be read, so the no-JS error page keeps it."""
    try:
        form = _form(request.view_args["form_id"])
        pairs = urllib.parse.parse_qsl(request.get_data(cache=True).decode("utf-8", "replace"), keep_blank_values=True)
        return normalise.from_pairs(form, pairs, lenient=_loaded_version() not in ("", form.version))
    except FormkitError:
        return {}


def _http_title(error: HTTPException) -> str:
    return {
        404: "Sidan finns inte",
        405: "Metoden stöds inte",
        413: "Innehållet är för stort",
        429: "För många försök",
        400: "Felaktig begäran",
    }.get(error.code, error.name)


def _http_detail(error: HTTPException) -> str:
    return {
        404: "Adressen finns inte. Kontrollera att den är rätt skriven.",
        405: "Hit skickas formulär med POST. Öppna formuläret på webbplatsen och skicka det därifrån.",
        413: "Det du skickade är för stort. Korta texterna och försök igen.",
        429: "Du har skickat många formulär på kort tid. Vänta en stund och försök igen.",
    }.get(error.code, "Begäran kunde inte behandlas.")
