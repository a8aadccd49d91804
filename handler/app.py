"""The Flask edge: `create_app` and a Blueprint under /api/forms whose thin views call the pipeline.

`POST /api/forms/<form-id>` hands the body to `pipeline.submit` and turns its outcome into an answer:
JSON for JSON clients, HTML pages for browsers without JavaScript. Every error becomes its answer in
one place, `answer_error`.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import sys
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, jsonify, redirect, request, send_from_directory
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from . import compress, limits, logs, pages, pipeline, reply, review
from .body import Body
from .bounds import body_limit
from .check import check_project
from .errors import (
    BadLink,
    BadSubmission,
    DeliveryUnavailable,
    FormChanged,
    FormDefinitionError,
    FormkitError,
    Invalid,
    TooLarge,
    UnknownForm,
)
from .forms import Form, Kind
from .outbox import outbox_for
from .paths import FieldPath
from .register import Register, RegisterUnavailable
from .reply import LinkedReport
from .settings import Settings, SettingsError, load

log = logging.getLogger("formkit")
REFERENCE = re.compile(r"[A-Z0-9]{1,20}-\d{8}-[2-9A-Z]{4,12}\Z")
RETRY_AFTER_UNAVAILABLE = 30  # seconds; a mail server or disk usually recovers in about that time
DRAIN_BYTES = 64 * 1024 * 1024  # a refused body is read this far so its sender gets the 413, then the line closes
DRAIN_CHUNK = 64 * 1024
BODY_READ = "formkit.body_read"  # set in the WSGI environ once the submission's body is read whole

forms_api = Blueprint("forms", __name__, url_prefix="/api/forms")


def create_app(config: dict | None = None, *, settings: Settings | None = None) -> Flask:
    """Build the app from `settings`, else from FORMKIT_* variables with `config` (names without the prefix) on top.

    Without `settings` this is production (as gunicorn runs it), unless `config` says TESTING: a bad
    setting prints its lines and exits with code 2, without a traceback.
    """
    testing = bool((config or {}).get("TESTING"))
    if settings is None:
        try:
            settings = load(config)
        except SettingsError as error:
            if testing:
                raise
            _refuse_start(str(error))
    app = Flask(__name__)
    app.config.from_mapping(settings.as_config())
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length  # werkzeug refuses larger bodies with 413
    app.json.ensure_ascii = False
    _log_to_stderr_unless_configured()
    checked = check_project(settings.schema_dir, settings.docs_dir or None)
    for warning in checked.warnings:
        log.warning("varning: %s", warning)
    app.extensions["formkit.settings"] = settings
    try:
        app.extensions["formkit.forms"] = checked.ok()
    except FormDefinitionError as error:
        if testing or settings.development:
            raise
        _refuse_start(str(error))
    app.extensions["formkit.register"] = register = Register.from_settings(settings)
    app.extensions["formkit.outbox"] = outbox_for(settings.outbox, register)
    if settings.testing:  # each test's own database, migrated here; elsewhere `formkit db upgrade` (serve runs it)
        register.upgrade()
    elif stale := register.stale():
        _refuse_start(stale)
    rates = settings.limits
    app.extensions["formkit.limits"] = limits.RateLimits(rates.ratelimit, rates.storage_uri, rates.recipient_ratelimit)
    app.register_error_handler(Exception, answer_error)
    app.register_blueprint(forms_api)
    limits.init_app(app, settings.limits)
    if settings.public_dir:
        app.add_url_rule("/", view_func=static_page, defaults={"path": ""})
        app.add_url_rule("/<path:path>", view_func=static_page)
    return app


def _refuse_start(lines: str) -> None:
    """Print why the handler cannot start and exit, without a traceback: code 2, or 4 in a gunicorn worker.

    A gunicorn worker that exits 2 is started again, for ever; 4 (gunicorn's "app failed to load")
    stops gunicorn itself. With --preload the app loads in gunicorn's own process, which exits 2.
    """
    print(lines, file=sys.stderr, flush=True)
    frame, in_worker = sys._getframe(), False
    while frame is not None and not in_worker:
        in_worker = f"gunicorn{os.sep}workers{os.sep}" in frame.f_code.co_filename
        frame = frame.f_back
    raise SystemExit(4 if in_worker else 2)


def _log_to_stderr_unless_configured() -> None:
    """Under gunicorn nobody configures Python logging: without this, outcomes would go unlogged."""
    logs.install()
    if logging.getLogger().handlers or log.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def _form(form_id: str) -> Form:
    form = current_app.extensions["formkit.forms"].get(form_id)
    if form is None:
        raise UnknownForm(f'Det finns inget formulär som heter "{form_id[:80]}".')
    return form


@forms_api.post("/<form_id>")
def submit(form_id: str):
    """Receive one submission; answer 201/303 only once its mail is handed over or safely queued."""
    form = _form(form_id)
    context = pipeline.Context(
        forms=current_app.extensions["formkit.forms"],
        settings=current_app.extensions["formkit.settings"],
        outbox=current_app.extensions["formkit.outbox"],
        limits=current_app.extensions["formkit.limits"],
        client=request.remote_addr or "",
        register=current_app.extensions["formkit.register"],
    )
    request.max_content_length = body_limit(form, context.settings.max_content_length)  # files need room
    try:
        raw = _raw_body()
    except RequestEntityTooLarge:
        if not any(node.kind == Kind.FILE for node in form.root.walk()):
            raise
        raise TooLarge(
            "Filerna är för stora tillsammans. Välj färre eller mindre filer och försök igen. "
            "Filer kan inte sparas i formuläret: välj filen igen."
        ) from None
    outcome = pipeline.submit(form, request.content_type or "", raw, context)
    if isinstance(outcome, pipeline.Refused):
        return answer_error(outcome.error, form, outcome.body, outcome.linked)
    if isinstance(outcome, pipeline.Checked):
        return _check_step(form, outcome)
    location = f"/api/forms/{form.id}/kvitto/{outcome.reference}"
    if not _wants_json():
        response = redirect(location, 303)
    else:
        body = {"reference": outcome.reference, "receipt": form.settings.receipt, "title": form.settings.receipt_title}
        response = jsonify(body)
        response.status_code = 201
        response.headers["Location"] = location
    # The sender's browser alone may see the addresses on the receipt, so a mistyped one is noticed.
    key = review.sender_key(context.settings.links, outcome.reference)
    response.set_cookie(
        review.RECEIPT_COOKIE,
        key,
        max_age=review.SENDER_SECONDS,
        path=location,
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )
    return response


def _check_step(form: Form, outcome: pipeline.Checked):
    """Answer a step before sending: the check page (formkit.js gets its content as JSON), or the form to change."""
    if outcome.data is None:
        return pages.change(form, outcome.body.answers)
    if _wants_json():
        return jsonify(check=pages.check_panel(form, outcome.data, outcome.body.pairs), title=pages.check_title(form))
    return pages.check(form, outcome.data, outcome.body.pairs)


def _raw_body() -> bytes:
    """Return the request body; a body the server cannot read (a broken chunked encoding) is a 400."""
    try:
        raw = request.get_data(cache=False)
    except HTTPException:  # 413 and its kin keep their own answer
        raise
    except Exception:  # the WSGI server's own error for a malformed body, whatever it is called
        request.environ[BODY_READ] = True  # what is left cannot be read either
        raise BadSubmission("Innehållet kunde inte läsas. Skicka formuläret igen.") from None
    request.environ[BODY_READ] = True
    return raw


@forms_api.get("/<form_id>")
def post_only(form_id: str):
    """Someone opened the endpoint's address: send them to the page with the form (303), else say it takes POST."""
    page = pages.placement(_form(form_id).id)
    if page:
        return redirect(page, 303)
    raise MethodNotAllowed(["POST"])


@forms_api.get("/<form_id>/kvitto/<reference>")
def receipt(form_id: str, reference: str):
    """Show the receipt of a report the register keeps, or of an answer; sending with or without JS ends here."""
    form = _form(form_id)
    if not REFERENCE.match(reference) or not reference.startswith(f"{form.settings.reference_prefix}-"):
        abort(404)
    record = None
    if not form.settings.reply_of:  # an answer is recorded on the unit it answers, not under its own reference
        try:
            record = current_app.extensions["formkit.register"].report(reference)
        except RegisterUnavailable:
            detail = "Kvittot kan inte visas just nu. Referensen står i e-postmeddelandet med kvittot."
            raise DeliveryUnavailable(detail) from None
        if record is None or record.form_id != form.id:
            if _wants_json():
                abort(404)
            return pages.no_receipt(form, reference)
    settings = current_app.extensions["formkit.settings"]
    key = request.cookies.get(review.RECEIPT_COOKIE)
    sender = record is not None and review.is_sender(settings.links, reference, key)
    response = pages.receipt(form, reference, record, sender=sender)
    response.headers["Cache-Control"] = "private, no-store"  # it names the units a report went to
    return response


@forms_api.get(f"/<form_id>/{reply.ROUTE}")
def answer_page(form_id: str):
    """Show the answer form for the report and unit its link names, with the report as the register keeps it."""
    form = _form(form_id)
    if not form.settings.reply_of:
        abort(404)
    token = request.args.get("token", "").strip()
    report = current_app.extensions["formkit.forms"].get(form.settings.reply_of)
    links, register = current_app.extensions["formkit.settings"].links, current_app.extensions["formkit.register"]
    try:
        linked = reply.open_link(links, form, token, report, register)
        response = pages.answer(form, token, linked, report)
    except FormkitError as error:  # a refusal's page has the token in its address too
        response = answer_error(error)
    # The address holds the token: keep it out of caches and out of other sites' Referer headers.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def static_page(path: str):
    """Serve the built site (used by `formkit serve`; in production any web server does this)."""
    public = Path(current_app.extensions["formkit.settings"].public_dir).resolve()
    target = (public / path).resolve()
    if public not in target.parents and target != public:
        abort(404)
    if target.is_dir():
        if path and not path.endswith("/"):
            return redirect("/" + path + "/", 301)
        path = (path + "/index.html").lstrip("/")
    elif not target.is_file():
        abort(404)
    # A precompressed copy when the browser takes it (written by the build), as nginx's gzip_static does.
    sent, encoding = compress.encoded(public / path, request.headers.get("Accept-Encoding", ""))
    response = send_from_directory(public, sent.relative_to(public).as_posix(), mimetype=_mimetype(path))
    if encoding:
        response.headers["Content-Encoding"] = encoding
        response.headers.pop("Content-Disposition", None)  # would name the .br file
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = compress.cache_control(path)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _mimetype(path: str) -> str:
    """Return the type of a file of the site by its own name, not its `.br` or `.gz` copy's."""
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def _wants_json() -> bool:
    if request.mimetype == "application/json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/problem+json"])
    return best in ("application/json", "application/problem+json")


def answer_error(
    error: Exception, form: Form | None = None, body: Body | None = None, linked: LinkedReport | None = None
):
    """Map every error to its answer: problem+json for JSON clients, a readable page for browsers.

    With the form and what was read of its body, a browser gets the form again with everything typed.
    """
    if isinstance(error, HTTPException):
        status, title, detail = error.code or 500, _http_title(error), _http_detail(error)
    elif isinstance(error, FormkitError):
        status, title, detail = error.status, error.title, error.detail
    else:
        log.exception("unexpected error path=%s", logs.safe(request.path))
        status, title, detail = 500, "Något gick fel", "Ett oväntat fel inträffade. Försök igen om en stund."
    if not request.environ.get(BODY_READ):
        _drain_refused_body()
    public = current_app.extensions["formkit.settings"].public_dir
    if status == 404 and request.method == "GET" and public and not _wants_json():
        return pages.not_found()
    if _wants_json():
        response = jsonify(_problem(error, status, title, detail))
        response.status_code = status
        response.mimetype = "application/problem+json"
    elif form is not None and isinstance(error, (Invalid, BadLink, DeliveryUnavailable)):
        response = _form_again(error, form, body, linked, status, title, detail)
    else:
        response = pages.problem(status, title, detail)
    if isinstance(error, HTTPException):  # what werkzeug says belongs to the answer, such as 405's Allow
        response.headers.extend((k, v) for k, v in error.get_headers() if k.lower() != "content-type")
    if status == 429:
        response.headers["Retry-After"] = str(getattr(error, "retry_after", 60))
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    return response


def _drain_refused_body() -> None:
    """Read and drop a body refused unread (too large, another site's, an unknown form), up to DRAIN_BYTES.

    A server that answers and closes with the body unread resets the connection, and the client, blocked
    sending, sees no answer at all (the 403 to a 2 MB post from another site, say). The cost is linear in
    what is read; past DRAIN_BYTES the connection closes.
    """
    stream = request.environ.get("wsgi.input")
    length = request.content_length
    if stream is None or (length is None and not request.environ.get("wsgi.input_terminated")):
        return  # no length and no end of its own: nothing can be read without waiting for the client
    left = DRAIN_BYTES if length is None else min(length, DRAIN_BYTES)
    try:
        while left > 0 and (chunk := stream.read(min(DRAIN_CHUNK, left))):
            left -= len(chunk)
    except Exception:  # a client gone or a broken chunked encoding: the answer is still written if it can be
        return


def _problem(error: Exception, status: int, title: str, detail: str) -> dict:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if isinstance(error, FormChanged):
        body["form_changed"] = True
    if isinstance(error, Invalid):
        body["errors"] = [
            {
                "path": "/" + "/".join(str(p) for p in FieldPath(e.path).in_answers.parts),
                "name": e.name,
                "label": e.label,
                "message": e.message,
                "summary": e.summary,  # as the error summary lists it, with the row when the field is in one
            }
            for e in error.errors
        ]
    return body


def _form_again(error, form: Form, body: Body | None, linked, status: int, title: str, detail: str):
    """Return the form with what was typed: under its errors, why the link fails, or why it was not sent."""
    values = body.answers if body is not None and not body.is_json else {}
    token = body.token if body is not None else ""
    if isinstance(error, Invalid):
        notice = error.detail if isinstance(error, FormChanged) else ""
        return pages.invalid(form, values, error.errors, notice, token, linked)
    if isinstance(error, BadLink):
        return pages.bad_link(form, values, token, status, title, detail)
    return pages.unavailable(form, values, title, detail, token)


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
