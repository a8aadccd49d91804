"""Reminders: one to each unit that has not answered, `reply_link.remind_days_before` days before the deadline,
and one notice per report to the secretariat once its deadline has passed with units still unanswered.

A round (`send_due`) asks the register what is due, and for each message claims it with the register's
`mark_reminded` / `mark_overdue_notified` in the same all-or-nothing step that queues it
(`delivery.hand_over`): the claim is a conditional UPDATE that exactly one caller wins, across restarts
and any number of workers sharing the database, and a claim whose message could not be queued is
rolled back, so the next round tries again. The worker of `formkit serve` and `formkit outbox run` runs
a round every ten minutes; `formkit remind` runs one, for cron.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message

from . import mail, reply
from .delivery import hand_over
from .document import render_report
from .errors import DeliveryUnavailable
from .forms import Form
from .outbox import Outbox, describe
from .reference import now
from .register import Due, NotRecorded, Register, Transaction
from .settings import Settings

log = logging.getLogger("formkit.reminders")


@dataclass(frozen=True)
class Round:
    """What one round sent: reminders to units, overdue notices to the secretariat, and what must wait."""

    reminded: int = 0
    notified: int = 0
    failed: int = 0  # claims rolled back because the message could not be queued: tried again next round


class _Taken(Exception):
    """Another worker claimed the message first (or the unit answered meanwhile): nothing to send."""


def send_due(
    forms: Mapping[str, Form],
    settings: Settings,
    register: Register,
    outbox: Outbox | None,
    when: datetime.datetime | None = None,
) -> Round:
    """Send every reminder and overdue notice due at `when` (now) that nobody has sent; return the counts."""
    when = when or now()
    reminded = notified = failed = 0
    for form in forms.values():
        link = form.settings.reply_link
        if link is None or not link.units:
            continue
        for due in register.due_reminders(when, link.remind_days_before, form.id):

            def remind(tx: Transaction, due: Due = due) -> bool:
                return tx.mark_reminded(due.reference, due.unit_index, when)

            messages = _reminder(form, forms, settings, register, due)
            outcome = _send(settings, register, outbox, messages, due.reference, remind)
            reminded, failed = reminded + (outcome is True), failed + (outcome is None)
        for record in register.overdue(when, form.id):
            if record.overdue_notified_at is not None:
                continue

            def notify(tx: Transaction, reference: str = record.reference) -> bool:
                return tx.mark_overdue_notified(reference, when)

            notice = mail.overdue_notice(form, record, mail=settings.mail)
            outcome = _send(settings, register, outbox, [notice], record.reference, notify)
            notified, failed = notified + (outcome is True), failed + (outcome is None)
    sent = Round(reminded, notified, failed)
    if sent != Round():
        log.info("reminders reminded=%d notified=%d failed=%d", sent.reminded, sent.notified, sent.failed)
    return sent


def _reminder(form: Form, forms: Mapping[str, Form], settings: Settings, register: Register, due: Due) -> list:
    """Return the reminder to one unit: its own (new) link, and the report again while the register keeps it."""
    link = reply.unit_link(settings.links, form.settings.reply_form, due.reference, due.unit_index)
    record = register.report(due.reference)
    answers = record.answers if record is not None else None
    attachment = reply_to = None
    if answers is not None:
        reply_form = forms.get(form.settings.reply_form)
        attachment = render_report(form, answers, due.reference, record.arrived_at, reply_form)
        reply_to = mail.resolve(answers, form.settings.mail.reply_to)
    return [mail.reminder(form, due, link, mail=settings.mail, attachment=attachment, reply_to=reply_to or ())]


def _send(
    settings: Settings,
    register: Register,
    outbox: Outbox | None,
    messages: list[Message],
    reference: str,
    claim: Callable[[Transaction], bool],
) -> bool | None:
    """Claim and queue in one step; return True when sent or queued, False when another had it, None on failure."""

    def claimed(tx: Transaction) -> None:
        try:
            won = claim(tx)
        except NotRecorded:
            won = False
        if not won:
            raise _Taken

    label = f"reminder reference={reference}"
    try:
        smtp = settings.smtp
        hand_over(messages, outbox=outbox, smtp=smtp, label=label, register=register, record=claimed, wait=True)
    except _Taken:
        return False
    except DeliveryUnavailable:  # logged by hand_over; the claim was rolled back, so the next round tries again
        return None
    except Exception as error:  # one message must not stop the round
        log.error("%s not sent error=%s", label, describe(error))
        return None
    return True
