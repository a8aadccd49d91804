"""Hand a submission's messages over: record and queue them in one step, answer, and deliver in the background.

The first `essential` messages are the report (one per receiving unit, and the copy); the rest (the
receipt) matter less. With an outbox, the register's record and every message are written before the
user is answered, all or nothing: the messages are queued inside the register's transaction, which
commits last (the database outbox writes its rows in that very transaction; the folder outbox's files
are discarded if it rolls back, and the transaction is rolled back if the outbox fails); the answer is
503 either way. After the commit the messages go to this process's courier (outbox/courier.py), which
delivers them at once in the background: the answer never waits for the mail server, and a server
that is down only delays delivery. An outbox with `at_once` off (the Lambda adapter's) leaves them to
the worker. Without an outbox (serverless mode: FORMKIT_OUTBOX_DIR empty and no PostgreSQL), the
report must reach the SMTP server before the record is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message

from .errors import DeliveryUnavailable
from .outbox import Queue, describe
from .outbox.courier import courier_for, deliver_held, quick
from .register import Register, RegisterUnavailable, Transaction
from .settings import SmtpSettings
from .transport import Transport

log = logging.getLogger("formkit")
NOT_SENT = "Rapporten kunde inte skickas just nu. Försök igen om en stund."
NOT_SAVED = "Rapporten kunde inte sparas just nu. Försök igen om en stund."


def hand_over(
    messages: list[Message],
    *,
    outbox: Queue | None,
    smtp: SmtpSettings,
    label: str,
    register: Register | None = None,
    record: Callable[[Transaction], object] | None = None,
    essential: int = 1,
    done: Callable[[str], object] | None = None,
    wait: bool = False,
) -> str:
    """Record (`record(tx)` in the register) and queue or send the messages; return "sent", "queued", "worker" or
    "handed".

    "handed": queued, and this process's courier delivers them now in the background; `done("sent" |
    "queued")` is called once that attempt is over (at once for "sent", "queued" and "worker"). "worker": queued,
    and the worker listening on the folder outbox (`formkit outbox run`) was told to deliver them now. With `wait`
    (a worker's reminders and digests: nobody waits for an answer) the attempt is made in this thread, before
    returning.
    Raise DeliveryUnavailable (503) when any part cannot be done; then nothing of it is kept.
    `label` names the submission in log lines (form and reference, never content).
    """
    if outbox is None:
        with _recorded(register, record, label):
            _send_now(messages, smtp, label, essential)
        return _settled("sent", done)
    names: list[str] = []
    at_once = outbox.at_once
    # A worker listening on the folder outbox sends at once in its own process; else this process's courier does.
    to_worker = at_once and not wait and outbox.worker_listens()
    try:
        with _recorded(register, record, label) as tx:
            names = outbox.put_all(messages, claim=at_once and not to_worker, tx=tx)  # claimed: this process sends
    except (OSError, DeliveryUnavailable) as error:
        for name in names:  # the user is told it failed, so nothing of it may go out
            outbox.discard(name)
        if isinstance(error, DeliveryUnavailable):  # the register failed; said in the log already
            raise
        log.error("%s outcome=unavailable outbox not writable: %s", label, describe(error))
        raise DeliveryUnavailable(NOT_SAVED) from None
    if not at_once:  # the database outbox's NOTIFY went with the commit: a worker takes them
        return _settled("queued", done)
    # The report is safe; the courier (or the listening worker) tries at once, the worker retries the rest.
    if to_worker:
        if outbox.notify(names):
            return _settled("worker", done)
        names = outbox.claim_all(names)  # nobody listens after all, or the worker is behind: this process sends
    if wait:
        with Transport(quick(smtp)) as transport:  # one connection for them all
            return _settled(deliver_held(outbox, names, transport.send), done)
    courier_for(outbox, smtp).hand_off(names, done)
    return "handed"


def _settled(delivery: str, done) -> str:
    if done is not None:
        done(delivery)
    return delivery


@contextmanager
def _recorded(register: Register | None, record, label: str) -> Iterator[Transaction | None]:
    """Run the block inside the register's transaction after `record(tx)` (if given); commit when it succeeds."""
    if register is None:
        yield None
        return
    try:
        with register.transaction() as tx:
            if record is not None:
                record(tx)
            yield tx
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
