"""The submission pipeline, in plain Python: the endpoint, the tests, the benchmarks and adapters all call it.

read → bounds → normalise → validate → reference → document → messages → limits → record + queue → outcome.
Every refusal is an outcome (`Refused`, carrying the error and what was read), never an exception, so
an adapter turns outcomes into answers in one place without reaching back into the request.

A browser's form posts first to be checked (the hidden field `_step=kontrollera`): valid answers stop
after validation as `Checked`, to be shown on the check page, whose send button posts them again without
a step. "Ändra" there posts `_step=andra`: the answers go back to the form unchecked. JSON bodies have no
steps, and neither have answer forms (`reply_of`): their recipients come from the link, not from typing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass

from . import reply
from .body import Body, read_body
from .bounds import check_bounds
from .conditions import prune
from .delivery import hand_over
from .document import render_answer, render_report
from .errors import FormChanged, FormkitError, Invalid
from .forms import Form
from .limits import RateLimits
from .mail import compose, report_messages
from .normalise import clean, settle, without_write_only
from .outbox import Queue
from .reference import new_reference, now
from .register import NotRecorded, Register, new_report
from .reply import LinkedReport
from .settings import Settings
from .transport import recipients
from .validation import in_form_order, validate

log = logging.getLogger("formkit")
STEP = "_step"  # the kit's own field that asks for a step before sending
CHECK, CHANGE = "kontrollera", "andra"
SETTLE = 30.0  # seconds `Accepted.delivery` waits for the background attempt before it says "queued"


@dataclass(frozen=True)
class Context:
    """What a submission needs besides its body: the forms, the settings, the outbox, the limits, the register."""

    forms: Mapping[str, Form]
    settings: Settings
    outbox: Queue | None
    limits: RateLimits | None = None
    client: str = ""  # the client's address, for the rate limit
    register: Register | None = None  # None: nothing is recorded (tests and tools without a database)


@dataclass(frozen=True)
class Accepted:
    """The submission is recorded and its messages handed over (or it filled the honeypot)."""

    form: Form
    reference: str
    handed: Future  # its result: "sent", "queued" or "honeypot", once the first attempt is over

    @property
    def delivery(self) -> str:
        """Return "sent", "queued" or "honeypot"; waits for the background attempt (the answer never does)."""
        try:
            return self.handed.result(timeout=SETTLE)
        except TimeoutError:
            return "queued"


def settled(delivery: str) -> Future:
    """Return a Future whose result is `delivery` already."""
    future: Future = Future()
    future.set_result(delivery)
    return future


@dataclass(frozen=True)
class Checked:
    """Nothing was sent: the valid answers `data` are to be checked, or (`data` None) changed in the form."""

    form: Form
    body: Body
    data: dict | None


@dataclass(frozen=True)
class Refused:
    """The submission was not accepted; `body` and `linked` let an answer page keep what was typed."""

    error: FormkitError
    body: Body | None = None
    linked: LinkedReport | None = None


def submit(form: Form, content_type: str, raw: bytes, context: Context) -> Accepted | Checked | Refused:
    """Run one submission of `form` through every step, or up to the one it asks for; return its outcome."""
    started = time.monotonic()
    body = linked = None
    try:
        body = read_body(form, content_type, raw)
        step = _step(form, body)
        if step == CHANGE:
            return Checked(form, body, None)
        if form.settings.reply_of:  # an answer: its link says which report and unit, the register where it goes
            report = context.forms.get(form.settings.reply_of)
            linked = reply.open_link(context.settings.links, form, body.token, report, context.register)
        data = _checked(form, body)
    except FormkitError as error:
        log.info("form=%s outcome=%s ms=%.1f status=%d", form.id, _name(error), _ms(started), error.status)
        return Refused(error, body, linked)
    if step == CHECK:
        log.info("form=%s outcome=checked ms=%.1f", form.id, _ms(started))
        return Checked(form, body, data)
    created = now()
    reference = new_reference(form.settings.reference_prefix, created)
    label = f"form={form.id} reference={reference}"
    try:
        if body.honeypot:
            _admit(context, [])
            log.info("%s outcome=honeypot", label)
            return Accepted(form, reference, settled("honeypot"))
        messages = _messages(form, data, reference, created, linked, context)
        rendered = time.monotonic()
        _admit(context, _chosen_recipients(form, messages, context.settings))
        handed: Future = Future()
        hand_over(
            messages,
            outbox=context.outbox,
            smtp=context.settings.smtp,
            label=label,
            register=context.register,
            record=_record(form, data, reference, created, linked),
            essential=report_messages(messages),  # serverless: each unit's report must go, or it is a 503
            done=handed.set_result,
        )
    except FormkitError as error:
        log.info("%s outcome=refused ms=%.1f status=%d", label, _ms(started), error.status)
        return Refused(error, body, linked)
    finished = time.monotonic()
    # Logged once the first attempt is over (in the courier, after the answer): the timings are the request's,
    # deliver_ms its record and queue step; delivery says whether the mail went at once or waits for a retry.
    handed.add_done_callback(
        lambda done: log.info(
            "%s outcome=accepted delivery=%s ms=%.1f render_ms=%.1f deliver_ms=%.1f",
            label,
            done.result(),
            (finished - started) * 1000,
            (rendered - started) * 1000,
            (finished - rendered) * 1000,
        )
    )
    return Accepted(form, reference, handed)


def _step(form: Form, body: Body) -> str:
    """Return the step a browser's form asks for (CHECK, CHANGE), or "" to send."""
    if body.is_json or form.settings.reply_of:
        return ""
    return next((value for name, value in body.pairs if name == STEP and value in (CHECK, CHANGE)), "")


def _checked(form: Form, body: Body) -> dict:
    """Return the clean, valid answers; raise Invalid (FormChanged when the page was of an older form)."""
    try:
        too_large = check_bounds(form, body.answers)
        if too_large:  # refused before any costly work: nothing of it is normalised or validated
            raise Invalid(in_form_order(form, too_large))
        return validate(form, prune(form.root, settle(form, clean(body.answers, form.root))))
    except Invalid as error:
        if body.changed_since_loaded(form):
            raise FormChanged(error.errors) from None
        raise


def _messages(form: Form, data: dict, reference: str, created, linked: LinkedReport | None, context: Context):
    """Return the submission's messages with its document attached: an answer's or a report's."""
    settings = context.settings
    if linked:
        report = context.forms.get(form.settings.reply_of)
        attachment = render_answer(form, data, reference, created, linked, report)
        units = []
    else:
        reply_form = context.forms.get(form.settings.reply_form) if form.settings.reply_form else None
        attachment = render_report(form, data, reference, created, reply_form)
        units = reply.unit_links(form, data, reference, settings.links)  # each unit's own answer link
    receipt = None
    if form.settings.mail.receipt_to and any(node.write_only for node in form.root.walk()):
        # The receipt goes to an address the sender typed: its document leaves out what is never shown back.
        shown = without_write_only(form, data)
        if linked:
            receipt = render_answer(form, shown, reference, created, linked, context.forms.get(form.settings.reply_of))
        else:
            receipt = render_report(form, shown, reference, created, reply_form)
    return compose(
        form, data, reference, created, attachment, mail=settings.mail, units=units, linked=linked, receipt=receipt
    )


def _record(form: Form, data: dict, reference: str, created, linked: LinkedReport | None):
    """Return the register's part of the hand-over: a report is recorded, with its units and statistics;
    an answer marks its unit answered (or supplemented) in the same step as its messages are queued."""
    if linked is not None:
        return lambda tx: _mark_answer(tx, linked, created)
    if form.settings.reply_of:
        return None  # an answer without its link is refused before this
    entry = new_report(form, data, reference, created)
    return lambda tx: tx.record(entry)


def _mark_answer(tx, linked: LinkedReport, created) -> None:
    """Mark the unit's answer; one that turns out to be its second, sent as a first, is refused (409), not sent."""
    try:
        if linked.supplement:
            tx.mark_supplemented(linked.reference, linked.unit, created)
        elif not tx.mark_answered(linked.reference, linked.unit, created):  # another answer was recorded meanwhile
            raise reply.AlreadyAnswered(
                "Verksamheten har svarat på rapporten medan du skrev. Det du har skrivit finns kvar nedan: "
                "skicka det igen, så går det fram som en komplettering till svaret."
            )
    except NotRecorded:  # the record went between opening the link and sending
        raise reply.ReportGone() from None


def _chosen_recipients(form: Form, messages, settings: Settings) -> list[str]:
    """Return the recipients the sender chose: the form's own fixed addresses (the secretariat's) are not
    limited, or every report would count against them and the service would stop at the limit."""
    routing = form.settings.mail
    fixed = {settings.mail.default_to.lower(), settings.mail.redirect.lower()}
    fixed.update(
        entry.lower()
        for entries in (routing.to, routing.cc, routing.receipt_to)
        for entry in entries
        if "@" in entry and not entry.startswith("/")
    )
    return [address for message in messages for address in recipients(message) if address.lower() not in fixed]


def _admit(context: Context, addresses: list[str]) -> None:
    if context.limits is not None:
        context.limits.admit(context.client, addresses)


def _name(error: FormkitError) -> str:
    """Name a refusal in the log: the form changed, the answers are invalid, or it was refused."""
    return "changed" if isinstance(error, FormChanged) else "invalid" if isinstance(error, Invalid) else "refused"


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
