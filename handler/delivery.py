"""Hand a submission's messages over: queue them durably and try once at once, or send now when serverless.

The first message is the report; the rest (the receipt) matter less. With an outbox, everything is on
disk before the user is answered, so a mail server that is down only delays delivery. Without one
(serverless mode, FORMKIT_OUTBOX_DIR empty), the report must reach the SMTP server before the answer.
"""

from __future__ import annotations

import dataclasses
import logging
from email.message import Message

from .errors import DeliveryUnavailable
from .outbox import Outbox, describe
from .settings import SmtpSettings
from .transport import Transport

log = logging.getLogger("formkit")
NOT_SENT = "Rapporten kunde inte skickas just nu. Försök igen om en stund."


def hand_over(messages: list[Message], *, outbox: Outbox | None, smtp: SmtpSettings, label: str) -> str:
    """Queue or send the messages; return "sent" or "queued", or raise DeliveryUnavailable (503).

    `label` names the submission in log lines (form and reference, never content).
    """
    if outbox is None:
        _send_now(messages, smtp, label)
        return "sent"
    names: list[str] = []
    try:
        for message in messages:
            names.append(outbox.put(message, claim=True))  # held by this process: delivered just below
    except OSError as error:
        for name in names:  # the user is told it failed, so nothing of it may go out
            outbox.discard(name)
        log.error("%s outcome=unavailable outbox not writable: %s", label, describe(error))
        raise DeliveryUnavailable("Rapporten kunde inte sparas just nu. Försök igen om en stund.") from None
    # The report is safe on disk; try once now with a short timeout, the worker retries the rest.
    quick = dataclasses.replace(smtp, timeout=min(smtp.timeout, smtp.quick_timeout))
    with Transport(quick) as transport:  # one connection for the report and the receipt
        for index, name in enumerate(names):
            if not outbox.deliver(name, transport.send, held=True):
                for rest in names[index + 1 :]:  # the server is unwell: the worker sends the rest, with back-off
                    outbox.release(rest)
                return "queued"
    return "sent"


def _send_now(messages: list[Message], smtp: SmtpSettings, label: str) -> None:
    """Send synchronously; raise DeliveryUnavailable when the report (the first message) is not taken."""
    with Transport(smtp) as transport:
        for index, message in enumerate(messages):
            try:
                transport.send(message)
            except Exception as error:
                if index == 0:
                    log.error("%s outcome=unavailable error=%s", label, describe(error))
                    raise DeliveryUnavailable(NOT_SENT) from None
                # The report went out; a 503 now would make the user send it twice: the receipt is lost.
                log.error("%s receipt not sent error=%s", label, describe(error))
