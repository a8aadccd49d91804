"""The database outbox: messages waiting in a PostgreSQL table beside the register, for several machines.

A message is a row of `outbox_messages` (register/models.py), inserted in the register's own
transaction (`put(tx=...)`), so a report is recorded and queued together or not at all. A sender
claims due rows with `SELECT … FOR UPDATE SKIP LOCKED` (two senders never pick the same row) and
marks them `claimed_by` itself in the same short transaction; it sends outside any transaction and
then deletes the row, or on failure records the attempt and when to try again (the back-off doubles
from retry_base up to retry_max; after max_age the row's status becomes "failed"). A claim whose
process died on this host is released at once, any other claim older than claim_timeout seconds too,
so a crash never strands a message. The same bytes go out on a re-send: the same Message-ID.

A message queued for another process (`put` without `claim`) sends NOTIFY formkit_outbox with the
commit; `run_forever` LISTENs, so a worker on any machine starts on it at once. Times are Unix
seconds from the hosts' clocks (kept by NTP; the claim timeout is minutes, far above any skew).
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable
from email.message import Message

from sqlalchemy import delete, func, text, update
from sqlalchemy import select as query
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..register.models import OutboxMessage as Row
from . import Entry, _owner_is_gone, describe, owner

log = logging.getLogger("formkit.outbox")
CHANNEL = "formkit_outbox"
BATCH = 20  # rows claimed per statement: a round never holds more than these while sending


class DatabaseOutbox:
    """Messages waiting for delivery in the register's PostgreSQL database (see `handler.outbox.Queue`)."""

    at_once = True  # a handler delivers what it queued at once, in the background; the Lambda adapter turns it off

    def __init__(
        self,
        engine: Engine,
        *,
        retry_base: float = 30,
        retry_max: float = 3600,
        max_age: float = 3 * 86400,
        claim_timeout: float = 300,
    ):
        self.engine = engine
        self.retry_base, self.retry_max, self.max_age = retry_base, retry_max, max_age
        self.claim_timeout = claim_timeout
        self.courier = None  # this process's background sender, started by the first hand-off (courier.py)
        self._trouble = ""

    def __str__(self) -> str:
        return f"{self.engine.url.render_as_string(hide_password=True)} (tabellen {Row.__tablename__})"

    # ---- queueing ----

    def put(self, message: Message, claim: bool = False, tx=None) -> str:
        """Insert `message` (in the register's transaction `tx` if given); return its name in the outbox.

        With `claim`, the row is held by this process, which means to deliver it at once.
        """
        stem = "".join(c for c in message["Message-ID"] if c.isalnum() or c in ".-") or "message"
        name = f"{time.time_ns()}.{stem}.eml"
        row = Row(
            name=name,
            message_id=str(message["Message-ID"])[:300],
            raw=message.as_bytes(),
            status="waiting",
            created=time.time(),
            next_attempt=0.0,
            attempts=0,
            last_error="",
            claimed_by=owner() if claim else None,
            claimed_at=time.time() if claim else None,
        )
        if tx is not None:
            tx.session.add(row)
            tx.session.flush()  # a failure shows now, inside the caller's transaction
            if not claim:
                _notify(tx.session)  # sent by PostgreSQL with the commit, never before
            return name
        with Session(self.engine) as session, session.begin():
            session.add(row)
            if not claim:
                _notify(session)
        return name

    def put_all(self, messages: list[Message], claim: bool = False, tx=None) -> list[str]:
        """Insert a submission's messages, as `put` does; return their names (the transaction makes them one step)."""
        return [self.put(message, claim, tx) for message in messages]

    def release(self, name: str) -> None:
        """Give back a message this process holds but will not deliver now: any worker takes it."""
        with Session(self.engine) as session, session.begin():
            session.execute(
                update(Row).where(Row.name == name, Row.claimed_by == owner()).values(claimed_by=None, claimed_at=None)
            )
            _notify(session)

    def discard(self, name: str) -> None:
        """Remove a message queued but never acknowledged (its request failed); a rolled-back row is gone anyway."""
        try:
            with Session(self.engine) as session, session.begin():
                mine = Row.claimed_by.is_(None) | (Row.claimed_by == owner())
                session.execute(delete(Row).where(Row.name == name, mine))
        except SQLAlchemyError as error:  # the database is away: the row went with the rolled-back transaction
            log.warning("could not discard message=%s error=%s", name, describe(error))

    def worker_listens(self) -> bool:
        """False: the handler's courier sends what it queued; the workers hear of the rest by NOTIFY (see Queue)."""
        return False

    def notify(self, names: list[str]) -> bool:
        return False

    def claim_all(self, names: list[str]) -> list[str]:
        return []

    def listen(self) -> bool:
        return False

    def wake(self) -> None:
        """Wake every worker that listens (on any machine, this process too)."""
        with Session(self.engine) as session, session.begin():
            _notify(session)

    # ---- delivering ----

    def deliver(self, name: str, send: Callable[[bytes], object], held: bool = False) -> bool:
        """Claim one message (`held`: use this process's claim) and hand its bytes to `send`; True when delivered."""
        with Session(self.engine) as session, session.begin():
            if held:
                found = session.execute(
                    query(Row.raw, Row.attempts, Row.created).where(Row.name == name, Row.claimed_by == owner())
                ).first()
            else:
                found = session.execute(
                    update(Row)
                    .where(Row.name == name, Row.claimed_by.is_(None), Row.status == "waiting")
                    .values(claimed_by=owner(), claimed_at=time.time())
                    .returning(Row.raw, Row.attempts, Row.created)
                ).first()
        if found is None:
            return False  # another process has it, or it is delivered already
        return self._send(name, found.raw, found.attempts, found.created, send)

    def _send(self, name: str, raw: bytes, attempts: int, created: float, send) -> bool:
        started = time.monotonic()
        try:
            send(raw)
        except Exception as error:  # any failure of the transport means: try again later
            self._failed_attempt(name, attempts + 1, created, error)
            return False
        with Session(self.engine) as session, session.begin():
            session.execute(delete(Row).where(Row.name == name))
        log.info(
            "delivered message=%s attempts=%d age_s=%.1f ms=%.1f",
            name,
            attempts + 1,
            time.time() - created,
            (time.monotonic() - started) * 1000,
        )
        return True

    def _failed_attempt(self, name: str, attempts: int, created: float, error: Exception) -> None:
        delay = min(self.retry_max, self.retry_base * 2 ** (attempts - 1))
        gave_up = time.time() - created > self.max_age
        values = {
            "attempts": attempts,
            "last_error": describe(error),
            "next_attempt": time.time() + delay,
            "claimed_by": None,
            "claimed_at": None,
            "status": "failed" if gave_up else "waiting",
        }
        with Session(self.engine) as session, session.begin():
            session.execute(update(Row).where(Row.name == name, Row.claimed_by == owner()).values(values))
        if gave_up:
            log.error("gave up message=%s attempts=%d status=failed error=%s", name, attempts, values["last_error"])
        else:
            log.warning(
                "delivery failed message=%s attempts=%d retry_in_s=%.1f error=%s",
                name,
                attempts,
                delay,
                values["last_error"],
            )

    def run_once(self, send: Callable[[bytes], object], now: float | None = None) -> int:
        """Deliver every message that is due; return how many were delivered."""
        now = time.time() if now is None else now
        self.release_stale_claims(now)
        delivered, after = 0, 0
        while True:  # in id order, each row once per round: one that fails now waits for its next attempt
            claimed = self._claim_due(now, after)
            if not claimed:
                return delivered
            for row in claimed:
                delivered += self._send(row.name, row.raw, row.attempts, row.created, send)
            after = claimed[-1].id

    def _claim_due(self, now: float, after: int) -> list:
        due = (
            query(Row.id)
            .where(Row.status == "waiting", Row.claimed_by.is_(None), Row.next_attempt <= now, Row.id > after)
            .order_by(Row.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        with Session(self.engine) as session, session.begin():
            claimed = session.execute(
                update(Row)
                .where(Row.id.in_(due.scalar_subquery()))
                .values(claimed_by=owner(), claimed_at=time.time())
                .returning(Row.id, Row.name, Row.raw, Row.attempts, Row.created)
            ).all()
        return sorted(claimed, key=lambda row: row.id)

    def next_due(self) -> float | None:
        """Return when the next waiting message is due (a Unix time), or None when nothing waits."""
        with Session(self.engine) as session:
            return session.scalar(
                query(func.min(Row.next_attempt)).where(Row.status == "waiting", Row.claimed_by.is_(None))
            )

    def run_forever(
        self,
        send: Callable,
        interval: float = 5.0,
        stop: threading.Event | None = None,
        *,
        after_round: Callable[[], object] | None = None,
    ) -> None:
        """Deliver what is due, then wait for a NOTIFY, the next message's time or `interval` seconds; each
        round ends with `after_round()` (see Queue).
        """
        stop = stop or threading.Event()
        listener = None
        while not stop.is_set():
            try:
                listener = listener or self._listen()
                self.run_once(send)
                due = self.next_due()
            except Exception as error:  # the database may be away for a while: said once, tried again
                if self._trouble != describe(error):
                    self._trouble = describe(error)
                    log.error("outbox round failed error=%s", self._trouble)
                listener = _close(listener)
                stop.wait(min(interval, 1.0))
                continue
            finally:
                if after_round is not None:
                    after_round()
            if self._trouble:
                self._trouble = ""
                log.warning("outbox rounds work again")
            wait = interval if due is None else min(interval, max(0.05, due - time.time()))
            if not _wait_for_notify(listener, wait):
                listener = _close(listener)
        _close(listener)

    def _listen(self):
        """Open a connection of its own that LISTENs on the outbox's channel."""
        import psycopg

        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = psycopg.connect(url, autocommit=True, connect_timeout=5)
        connection.execute(f"LISTEN {CHANNEL}")
        return connection

    # ---- operating ----

    def entries(self) -> list[Entry]:
        """Return what waits, is being sent or failed, oldest first."""
        now = time.time()
        with Session(self.engine) as session:
            rows = session.execute(
                query(Row.name, Row.status, Row.claimed_by, Row.created, Row.attempts, Row.last_error, Row.next_attempt)
            ).all()
        found = [
            Entry(
                row.name,
                "failed" if row.status == "failed" else "cur" if row.claimed_by else "new",
                now - row.created,
                row.attempts,
                row.last_error,
                row.next_attempt,
            )
            for row in rows
        ]
        return sorted(found, key=lambda entry: -entry.age)

    def retry_now(self) -> int:
        """Make every waiting message due at once and put failed ones back in the queue; return the count."""
        with Session(self.engine) as session, session.begin():
            waiting = session.execute(
                update(Row).where(Row.status == "waiting", Row.claimed_by.is_(None)).values(next_attempt=0.0)
            ).rowcount
            # A fresh start: a failed one may fail for max_age again before it is given up.
            failed = session.execute(
                update(Row)
                .where(Row.status == "failed")
                .values(status="waiting", next_attempt=0.0, created=time.time())
            ).rowcount
            _notify(session)
        return waiting + failed

    def release_stale_claims(self, now: float | None = None) -> int:
        """Release the claims of processes that died (on this host) or took too long; return the count."""
        now = time.time() if now is None else now
        with Session(self.engine) as session, session.begin():
            owners = session.scalars(query(Row.claimed_by).where(Row.claimed_by.is_not(None)).distinct()).all()
            gone = [owner for owner in owners if _owner_is_gone(owner)]
            released = session.execute(
                update(Row)
                .where(Row.claimed_by.is_not(None))
                .where(Row.claimed_by.in_(gone) | (Row.claimed_at < now - self.claim_timeout))
                .values(claimed_by=None, claimed_at=None)
                .returning(Row.name, Row.claimed_by)
            ).all()
        for row in released:
            log.warning("released claim message=%s", row.name)
        return len(released)


def _notify(session: Session) -> None:
    session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def _wait_for_notify(connection, timeout: float) -> bool:
    """Wait until a NOTIFY arrives or `timeout` passes; False when the connection broke."""
    try:
        ready, _, _ = select.select([connection.fileno()], [], [], timeout)
        if ready:
            for _ in connection.notifies(timeout=0):  # read them all: one round serves every wake-up
                pass
        return not connection.closed
    except Exception:  # a broken connection: the next round opens a new one
        return False


def _close(connection) -> None:
    if connection is not None:
        try:
            connection.close()
        except Exception:  # closing a broken connection may raise: it is gone either way
            pass
