"""The register's store: record a report, follow its units, and read what the summary needs.

Every write runs in a `Transaction` (one database transaction), so a caller can make it one step
with other work: delivery queues the report's messages inside the transaction that records it, and
a failure of either undoes both. Claims that must happen once across several workers (a reminder,
an overdue notice, the first answer) are conditional UPDATEs whose row count says who won.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exists, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ..outbox import describe
from ..reference import TIMEZONE, now
from .crypto import Sealer
from .entry import NewReport
from .migrate import engine_for, shown, stale, upgrade
from .models import Report, Unit
from .records import Due, ReportRecord, UnitRecord, record_of

PURGE_BATCH = 500  # reports erased per statement: well under any database's limit of parameters


class RegisterUnavailable(Exception):
    """The register's database could not be reached or refused the write; nothing of it was kept."""


class NotRecorded(LookupError):
    """No such report (or no such unit of it) in the register."""


# Core statements, built once: the ORM's bulk insert machinery cost more CPU than the rows (nothing here reads
# them back as objects in the transaction).
_INSERT_REPORT = insert(Report.__table__).returning(Report.__table__.c.id)
_INSERT_UNITS = insert(Unit.__table__)


class Transaction:
    """The register's writes inside one database transaction (see `Register.transaction`)."""

    def __init__(self, session: Session, sealer: Sealer):
        self.session = session
        self._sealer = sealer

    def record(self, entry: NewReport) -> None:
        """Add one report with its units (sent now) and statistics; its answers are kept encrypted if it has units."""
        row = {
            "reference": entry.reference,
            "form_id": entry.form_id,
            "form_version": entry.form_version,
            "arrived_at": entry.arrived_at,
            "deadline": entry.deadline,
            "units_pointer": entry.units_pointer,
            "statistics": entry.statistics,
            # Nobody follows up a report without receiving units: nothing to keep its answers for.
            "answers": self._sealer.seal(entry.answers) if entry.units else None,
            "erased_at": None if entry.units else entry.arrived_at,
            "overdue_notified_at": None,
        }
        # INSERT statements rather than objects: the session's unit of work took most of a record's CPU,
        # and nothing reads these rows back in this transaction. They run now, so a failure shows here.
        connection = self.session.connection()
        report_id = connection.execute(_INSERT_REPORT, row).scalar_one()
        units = [
            {"report_id": report_id, "position": index, "name": unit.name[:200], "address": unit.address,
             "sent_at": entry.arrived_at, "reminded_at": None, "answered_at": None, "supplemented_at": None}
            for index, unit in enumerate(entry.units)
        ]  # fmt: skip
        if units:
            connection.execute(_INSERT_UNITS, units)

    def mark_answered(self, reference: str, unit_index: int, when: datetime.datetime | None = None) -> bool:
        """Record the unit's answer; return True for its first answer, False when it had answered already."""
        return self._claim(reference, unit_index, Unit.answered_at, when)

    def mark_supplemented(self, reference: str, unit_index: int, when: datetime.datetime | None = None) -> None:
        """Record that the unit sent a supplement (the time of its latest)."""
        self._set(reference, unit_index, supplemented_at=when or now())

    def mark_reminded(self, reference: str, unit_index: int, when: datetime.datetime | None = None) -> bool:
        """Claim the unit's one reminder; return True for the one caller that should send it."""
        return self._claim(reference, unit_index, Unit.reminded_at, when, Unit.answered_at.is_(None))

    def mark_overdue_notified(self, reference: str, when: datetime.datetime | None = None) -> bool:
        """Claim the report's one overdue notice to the secretariat; return True for the one caller to send it."""
        result = self.session.execute(
            update(Report)
            .where(Report.reference == reference, Report.overdue_notified_at.is_(None))
            .values(overdue_notified_at=when or now())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            return True
        if self.session.scalar(select(Report.id).where(Report.reference == reference)) is None:
            raise NotRecorded(reference)
        return False

    def _claim(self, reference: str, unit_index: int, column, when, *also) -> bool:
        result = self.session.execute(
            update(Unit)
            .where(Unit.report_id == _report_id(reference), Unit.position == unit_index, column.is_(None), *also)
            .values({column.key: when or now()})
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            return True
        self._unit_id(reference, unit_index)  # raises NotRecorded when there is no such unit
        return False

    def _set(self, reference: str, unit_index: int, **values) -> None:
        unit_id = self._unit_id(reference, unit_index)
        self.session.execute(
            update(Unit).where(Unit.id == unit_id).values(values).execution_options(synchronize_session=False)
        )

    def _unit_id(self, reference: str, unit_index: int) -> int:
        found = self.session.scalar(
            select(Unit.id).where(Unit.report_id == _report_id(reference), Unit.position == unit_index)
        )
        if found is None:
            raise NotRecorded(f"{reference} unit {unit_index}")
        return found


class Register:
    """The register in one database (FORMKIT_DATABASE_URL); see the package's docstring for the API."""

    def __init__(
        self,
        url: str,
        *,
        register_key: str = "",
        secret_key: str = "",
        fallbacks: tuple[str, ...] = (),
        retention_days: int = 30,
        busy_timeout: float = 5.0,
    ):
        self.url = url
        self.retention_days = retention_days
        self.engine = engine_for(url, busy_timeout=busy_timeout)
        self._sealer = Sealer(register_key, secret_key, fallbacks)
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(self.engine.execution_options(immediate=True), expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings) -> Register:
        """Return the register that `settings.register` names, encrypting with its key or the secret key's."""
        kept = settings.register
        return cls(
            kept.database_url,
            register_key=kept.key,
            secret_key=settings.links.secret_key,
            fallbacks=settings.links.fallbacks,
            retention_days=kept.retention_days,
        )

    def __repr__(self) -> str:
        return f"Register({shown(self.url)!r})"

    # ---- schema ----

    def upgrade(self) -> tuple[str, str]:
        """Migrate the database to the code's schema; return (revision before, revision after)."""
        return upgrade(self.engine)

    def stale(self) -> str:
        """Return "" when the schema is current, else one line naming `formkit db upgrade` (or the failure)."""
        return stale(self.engine, self.url)

    def close(self) -> None:
        """Close the database connections."""
        self.engine.dispose()

    # ---- writes ----

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Yield a Transaction, committed when the block ends, rolled back if it raises.

        A database failure becomes RegisterUnavailable (logged text never holds the statement or its values).
        """
        session = self._writes()
        try:
            with session.begin():
                yield Transaction(session, self._sealer)
        except SQLAlchemyError as error:
            raise RegisterUnavailable(_describe(error)) from error
        finally:
            session.close()

    def record(self, entry: NewReport) -> None:
        """Record one report in a transaction of its own."""
        with self.transaction() as tx:
            tx.record(entry)

    def mark_answered(self, reference: str, unit_index: int, when: datetime.datetime | None = None) -> bool:
        """Record a unit's answer; True for its first answer (see Transaction.mark_answered)."""
        with self.transaction() as tx:
            return tx.mark_answered(reference, unit_index, when)

    def mark_supplemented(self, reference: str, unit_index: int, when: datetime.datetime | None = None) -> None:
        """Record a unit's supplement (see Transaction.mark_supplemented)."""
        with self.transaction() as tx:
            tx.mark_supplemented(reference, unit_index, when)

    def mark_reminded(self, reference: str, unit_index: int, when: datetime.datetime | None = None) -> bool:
        """Claim a unit's one reminder; True for the one caller that should send it."""
        with self.transaction() as tx:
            return tx.mark_reminded(reference, unit_index, when)

    def mark_overdue_notified(self, reference: str, when: datetime.datetime | None = None) -> bool:
        """Claim a report's one overdue notice; True for the one caller that should send it."""
        with self.transaction() as tx:
            return tx.mark_overdue_notified(reference, when)

    def purge(self, when: datetime.datetime | None = None) -> int:
        """Erase the answers (and managers' addresses) no longer needed; return how many reports were erased.

        A report's answers go once every unit has answered, or at the latest `retention_days` after its deadline.
        """
        when = when or now()
        cutoff = when.astimezone(TIMEZONE).date() - datetime.timedelta(days=self.retention_days)
        still_open = exists().where(Unit.report_id == Report.id, Unit.answered_at.is_(None))
        erased = 0
        with self.transaction() as tx:
            done = or_(~still_open, Report.deadline < cutoff)
            ids = list(tx.session.scalars(select(Report.id).where(Report.answers.is_not(None), done)))
            for start in range(0, len(ids), PURGE_BATCH):
                batch = ids[start : start + PURGE_BATCH]
                result = tx.session.execute(
                    update(Report)
                    .where(Report.id.in_(batch), Report.answers.is_not(None))
                    .values(answers=None, erased_at=when)
                    .execution_options(synchronize_session=False)
                )
                tx.session.execute(
                    update(Unit)
                    .where(Unit.report_id.in_(batch))
                    .values(address=None)
                    .execution_options(synchronize_session=False)
                )
                erased += result.rowcount
        return erased

    # ---- reads ----

    def report(self, reference: str) -> ReportRecord | None:
        """Return the report with its decrypted answers (None once erased), or None when it is not recorded."""
        with self._read() as session:
            found = session.scalar(select(Report).where(Report.reference == reference))
            if found is None:
                return None
            answers = self._sealer.open(found.answers, reference) if found.answers is not None else None
            return record_of(found, answers)

    def units(self, reference: str) -> list[UnitRecord]:
        """Return the report's units in row order ([] when it is not recorded)."""
        found = self._reports(select(Report).where(Report.reference == reference))
        return list(found[0].units) if found else []

    def due_reminders(self, when: datetime.datetime, days_before: int, form_id: str | None = None) -> list[Due]:
        """Return the units not answered nor reminded whose deadline is at most `days_before` days away."""
        today = when.astimezone(TIMEZONE).date()
        query = (
            select(Report, Unit)
            .join(Unit, Unit.report_id == Report.id)
            .where(
                Unit.answered_at.is_(None),
                Unit.reminded_at.is_(None),
                Unit.address.is_not(None),
                Report.deadline >= today,
                Report.deadline <= today + datetime.timedelta(days=days_before),
            )
            .order_by(Report.deadline, Report.reference, Unit.position)
        )
        if form_id is not None:
            query = query.where(Report.form_id == form_id)
        with self._read() as session:
            return [
                Due(r.reference, r.form_id, u.position, u.name, u.address, r.arrived_at, r.deadline)
                for r, u in session.execute(query)
            ]

    def overdue(self, when: datetime.datetime, form_id: str | None = None) -> list[ReportRecord]:
        """Return the reports whose deadline has passed while some unit has not answered, oldest deadline first."""
        today = when.astimezone(TIMEZONE).date()
        still_open = exists().where(Unit.report_id == Report.id, Unit.answered_at.is_(None))
        query = select(Report).where(Report.deadline < today, still_open).order_by(Report.deadline, Report.reference)
        if form_id is not None:
            query = query.where(Report.form_id == form_id)
        return self._reports(query)

    def reports_between(
        self, start: datetime.date, end: datetime.date, form_id: str | None = None
    ) -> list[ReportRecord]:
        """Return the reports that arrived from `start` to `end` (both days included, Stockholm time), oldest first.

        Their answers are not read (`answers` is None): the summary counts statistics and states only.
        """
        since = datetime.datetime.combine(start, datetime.time(), TIMEZONE)
        until = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), TIMEZONE)
        query = select(Report).where(Report.arrived_at >= since, Report.arrived_at < until)
        if form_id is not None:
            query = query.where(Report.form_id == form_id)
        return self._reports(query.order_by(Report.arrived_at, Report.reference))

    def _reports(self, query) -> list[ReportRecord]:
        with self._read() as session:
            return [record_of(report, None) for report in session.scalars(query)]

    @contextmanager
    def _read(self) -> Iterator[Session]:
        session = self._reads()
        try:
            yield session
        except SQLAlchemyError as error:
            raise RegisterUnavailable(_describe(error)) from error
        finally:
            session.close()


def _report_id(reference: str):
    return select(Report.id).where(Report.reference == reference).scalar_subquery()


def _describe(error: SQLAlchemyError) -> str:
    """Return the database's own message (never the statement or its values, which may hold addresses)."""
    original = getattr(error, "orig", None)
    return describe(original if isinstance(original, Exception) else error)
