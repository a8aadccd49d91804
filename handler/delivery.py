"""Hand a submission's messages over: record and queue them in one step, then try once at once.

The first `essential` messages are the report (one per receiving unit, and the copy); the rest (the
receipt) matter less. With an outbox, the register's
record and every message are written before the user is answered, all or nothing: the messages are
queued inside the register's transaction, which commits last; if the database fails the queued files
are discarded, if the outbox fails the transaction is rolled back, and the answer is 503 either way.
A mail server that is down then only delays delivery. Without an outbox (serverless mode,
FORMKIT_OUTBOX_DIR empty), the report must reach the SMTP server before the record is committed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message

from .errors import DeliveryUnavailable
from .outbox import Outbox, describe
from .register import Register, RegisterUnavailable, Transaction
from .settings import SmtpSettings
from .transport import Transport

log = logging.getLogger("formkit")
NOT_SENT = "Rapporten kunde inte skickas just nu. Försök igen om en stund."
NOT_SAVED = "Rapporten kunde inte sparas just nu. Försök igen om en stund."


def hand_over(
    messages: list[Message],
    *,
    outbox: Outbox | None,
    smtp: SmtpSettings,
    label: str,
    register: Register | None = None,
    record: Callable[[Transaction], object] | None = None,
    essential: int = 1,
) -> str:
    """Record (`record(tx)` in the register) and queue or send the messages; return "sent" or "queued".

    Raise DeliveryUnavailable (503) when any part cannot be done; then nothing of it is kept.
    `label` names the submission in log lines (form and reference, never content).
    """
    if outbox is None:
        with _recorded(register, record, label):
            _send_now(messages, smtp, label, essential)
        return "sent"
    names: list[str] = []
    try:
        with _recorded(register, record, label):
            for message in messages:
                names.append(outbox.put(message, claim=True))  # held by this process: delivered just below
    except (OSError, DeliveryUnavailable) as error:
        for name in names:  # the user is told it failed, so nothing of it may go out
            outbox.discard(name)
        if isinstance(error, DeliveryUnavailable):  # the register failed; said in the log already
            raise
        log.error("%s outcome=unavailable outbox not writable: %s", label, describe(error))
        raise DeliveryUnavailable(NOT_SAVED) from None
    # The report is safe on disk; try once now with a short timeout, the worker retries the rest.
    quick = dataclasses.replace(smtp, timeout=min(smtp.timeout, smtp.quick_timeout))
    with Transport(quick) as transport:  # one connection for the report and the receipt
        for index, name in enumerate(names):
            if not outbox.deliver(name, transport.send, held=True):
                for rest in names[index + 1 :]:  # the server is unwell: the worker sends the rest, with back-off
                    outbox.release(rest)
                return "queued"
    return "sent"


@contextmanager
def _recorded(register: Register | None, record, label: str) -> Iterator[None]:
    """Run the block inside the register's transaction after `record(tx)`; commit when the block succeeds."""
    if register is None or record is None:
        yield
        return
    try:
        with register.transaction() as tx:
            record(tx)
            yield
    except RegisterUnavailable as error:
        log.error("%s outcome=unavailable register not writable: %s", label, error)
        raise DeliveryUnavailable(NOT_SAVED) from None


def _send_now(messages: list[Message], smtp: SmtpSettings, label: str, essential: int = 1) -> None:
    """Send synchronously; raise DeliveryUnavailable when a message of the report (the first `essential`) is not
    taken: a unit's report lost after a 201 would never be sent, while the user can send again after a 503."""
    with Transport(smtp) as transport:
        for index, message in enumerate(messages):
            try:
                transport.send(message)
            except Exception as error:
                if index < essential:
                    log.error("%s outcome=unavailable error=%s", label, describe(error))
                    raise DeliveryUnavailable(NOT_SENT) from None
                # The report went out; a 503 now would make the user send it twice: the receipt is lost.
                log.error("%s receipt not sent error=%s", label, describe(error))
