"""The background threads of `formkit serve` and `formkit outbox run`: delivery, purge and reminders, digest."""

from __future__ import annotations

import logging
import threading

PURGE_EVERY = 600.0  # seconds between the worker's purges of the register


def start_outbox_worker(app) -> threading.Thread | None:
    """Start a daemon thread that retries what waits in the outbox, with back-off, and what a dead process held.

    What a request queues goes out at once from this process's courier (outbox/courier.py); this worker
    wakes for the retries (and, with the database outbox, at each NOTIFY: rows queued elsewhere).
    """
    outbox = app.extensions["formkit.outbox"]
    if outbox is None:
        return None
    settings = app.extensions["formkit.settings"]

    def run(transport, interval) -> None:
        from .outbox.courier import lower_priority

        lower_priority()  # retries give way to answering requests
        outbox.run_forever(transport.send, interval, after_round=transport.close)

    thread = threading.Thread(
        target=run,
        args=(deliverer(settings), settings.outbox.interval),
        name="formkit-outbox",
        daemon=True,
    )
    thread.start()
    return thread


def start_digest_worker(settings, forms, register, outbox) -> threading.Thread:
    """Start the thread that sends each form's weekly digest to the secretariat (summary/digest.py).

    `forms()` gives the forms at each round, so a broken form stops the digest (said in the log), never delivery.
    """
    from .summary.digest import start_worker

    return start_worker(forms, register, outbox=outbox, smtp=settings.smtp, mail=settings.mail)


def deliverer(settings):
    """Return the worker's sender: `.send(message)` hands one queued message to the SMTP server (or the mail
    folder), all of a round's over one connection; `.close()` ends it when the round is over."""
    from .transport import Transport

    return Transport(settings.smtp)


def reminder_round(app):
    """Return the worker's reminder round for the app: its forms as they are at each round (--watch reloads them)."""
    from .reminders import send_due

    extensions = app.extensions
    return lambda: send_due(
        extensions["formkit.forms"],
        extensions["formkit.settings"],
        extensions["formkit.register"],
        extensions["formkit.outbox"],
    )


def checked_forms(settings):
    """Return the forms of FORMKIT_SCHEMA_DIR, checked; raise FormDefinitionError naming their problems."""
    from .check import check_project

    return check_project(settings.schema_dir, settings.docs_dir or None).ok()


def start_register_worker(register, every: float = PURGE_EVERY, stop: threading.Event | None = None, remind=None):
    """Start a daemon thread that purges the register at once and then every `every` seconds; with `remind`,
    each round also sends the reminders and overdue notices that are due (reminders.send_due)."""
    from .outbox import describe

    stop = stop or threading.Event()
    log = logging.getLogger("formkit.register")

    def run() -> None:
        failing = ""
        while True:
            try:
                erased = register.purge()
            except Exception as error:  # the database may be away for a while: said once, tried again later
                if describe(error) != failing:
                    failing = describe(error)
                    log.error("register purge failed error=%s", failing)
            else:
                if erased:
                    log.info("register purge erased=%d", erased)
                if failing:
                    failing = ""
                    log.warning("register purge works again")
            if remind is not None:
                try:
                    remind()
                except Exception as error:  # the database may be away: the next round tries again
                    log.error("reminders failed error=%s", describe(error))
            if stop.wait(every):
                return

    thread = threading.Thread(target=run, name="formkit-register", daemon=True)
    thread.start()
    return thread
