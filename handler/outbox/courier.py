"""The courier: this process's thread that delivers, at once and in the background, what a request just queued.

`delivery.hand_over` records and queues a submission's messages held by this process (`put(claim=True)`),
answers the user, and hands the names to the courier. The courier wakes at once (a queue it waits on) and
delivers everything handed to it meanwhile over one SMTP connection, which it keeps open while more comes
(up to KEEP_OPEN seconds apart), each message with the quick timeout (FORMKIT_SMTP_QUICK_TIMEOUT); at the
first failure it gives the rest of that submission back to the outbox, where the worker retries with
back-off. If the process dies, its claims are released (outbox.release_stale_claims) and the worker
delivers them: nothing queued depends on the courier. When `formkit outbox run` listens on the folder outbox
(folder.py's wake socket), a request tells that worker instead, and the courier sends only what it cannot take.
At exit the process waits a few seconds for what was handed over (so `formkit remind` sends before it ends).

Delivery starts at once but must not take the cores from answering: the courier's thread (and the workers')
runs at a lower CPU priority (`lower_priority`: Linux gives each thread its own nice value), so while
requests wait for a core they come first, and the courier sends what gathered meanwhile over one connection.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import logging
import os
import queue
import threading
from collections.abc import Callable

from . import describe

log = logging.getLogger("formkit.outbox")
AT_EXIT = 10.0  # seconds a process that ends waits for what it handed over
IDLE = 30.0  # seconds without work after which the thread ends
KEEP_OPEN = 2.0  # seconds the SMTP connection stays open for more work (Postfix's client keeps its own for 2 s)
NICE = 10  # how much lower than the requests' the priority of background delivery is (nice values 0..19)


class Courier:
    """Deliver handed-over messages of one outbox in a daemon thread; `hand_off(names, done)` returns at once."""

    def __init__(self, outbox, smtp):
        self.outbox = outbox
        self.smtp = quick(smtp)
        self._jobs: queue.Queue = queue.Queue()
        self._pid = -1
        self._lock = threading.Lock()
        atexit.register(self.flush, AT_EXIT)

    def hand_off(self, names: list[str], done: Callable[[str], object] | None = None) -> None:
        """Deliver `names` (held by this process) soon; `done("sent" | "queued")` says how the attempt went."""
        with self._lock:  # the thread is running when the job is in its queue, never gone in between
            if self._pid != os.getpid():  # first use, idle for a while, or a forked child (gunicorn)
                self._pid = os.getpid()
                self._jobs = queue.Queue()
                threading.Thread(target=self._run, name="formkit-courier", daemon=True).start()
            self._jobs.put((names, done))

    def flush(self, timeout: float = AT_EXIT) -> bool:
        """Wait until everything handed over was tried (at most `timeout` seconds); True when it was."""
        finished = threading.Event()
        with self._lock:
            if self._pid != os.getpid():
                return True  # nothing waits in this process
            self._jobs.put(((), lambda _: finished.set()))
        return finished.wait(timeout)

    def _run(self) -> None:
        from ..transport import Transport

        lower_priority()
        # One connection, kept open while work keeps coming: a connection and its greeting for every report
        # cost the mail server (and this thread) about as much as a message.
        transport = Transport(self.smtp)
        try:
            while True:
                try:
                    jobs = [self._jobs.get(timeout=KEEP_OPEN if transport.connected else IDLE)]
                except queue.Empty:
                    if transport.connected:  # nothing came for a while: say goodbye, then wait on
                        _close(transport)
                        continue
                    with self._lock:
                        if self._jobs.empty():  # nothing came: the thread ends, the next hand-off starts another
                            self._pid = -1
                            return
                    continue
                while not self._jobs.empty():  # everything handed over meanwhile goes over the connection at once
                    jobs.append(self._jobs.get_nowait())
                for names, done in jobs:
                    outcome = "queued"
                    if not names:  # a flush: what came before is done, and the process may be ending: say goodbye
                        _close(transport)
                    try:
                        outcome = deliver_held(self.outbox, names, transport.send)
                    except Exception as error:  # whatever happens, the thread goes on: the worker retries
                        log.error("courier round failed error=%s", describe(error))
                    if done is not None:
                        try:
                            done(outcome)
                        except Exception:  # a caller's callback must not stop the courier
                            log.exception("courier callback failed")
        finally:
            _close(transport)


def _close(transport) -> None:
    try:
        transport.close()
    except Exception as error:  # a connection that will not close is gone anyway
        log.warning("courier could not close the connection error=%s", describe(error))


def deliver_held(outbox, names, send) -> str:
    """Deliver messages this process holds, in order; at the first failure give the rest back. Return "sent" or
    "queued"."""
    for index, name in enumerate(names):
        try:
            delivered = outbox.deliver(name, send, held=True)
        except Exception as error:  # the outbox itself failed (a database away): the worker takes it later
            log.error("could not deliver message=%s error=%s", name, describe(error))
            delivered = False
        if not delivered:
            for rest in names[index + 1 :]:  # the server is unwell: the worker sends the rest, with back-off
                try:
                    outbox.release(rest)
                except Exception as error:  # released by the claim timeout instead
                    log.error("could not release message=%s error=%s", rest, describe(error))
            return "queued"
    return "sent"


def lower_priority(nice: int = NICE) -> None:
    """Run the calling thread (and the threads it starts) `nice` steps below the process's priority, so that
    background delivery gives way to answering requests; where threads cannot have their own, nothing changes."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + nice))


def quick(smtp):
    """Return the SMTP settings of a first attempt: the quick timeout (FORMKIT_SMTP_QUICK_TIMEOUT)."""
    return dataclasses.replace(smtp, timeout=min(smtp.timeout, smtp.quick_timeout))


def courier_for(outbox, smtp) -> Courier:
    """Return the outbox's courier in this process, making it on first use."""
    if outbox.courier is None:
        outbox.courier = Courier(outbox, smtp)
    return outbox.courier
