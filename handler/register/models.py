"""The register's tables, as SQLAlchemy 2 typed declarative models: one report, its receiving units, the digests
and (on PostgreSQL) the outbox's messages.

Times are stored in UTC and read back as aware datetimes in the kit's time zone (Europe/Stockholm),
whatever the database does with time zones (SQLite keeps none). A schema change here needs a
migration in `migrations/versions/` (`alembic revision --autogenerate` sees these models).
"""

from __future__ import annotations

import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ..reference import TIMEZONE

# Constraint names that do not depend on the database, so later migrations can name what they alter.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Moment(TypeDecorator):
    """An aware datetime, stored as UTC, read back in Europe/Stockholm."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the register takes aware datetimes only")
        utc = value.astimezone(datetime.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        aware = value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value
        return aware.astimezone(TIMEZONE)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Report(Base):
    """One report: what it is, when it came, by when it must be answered, its statistics and (for a while) answers."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    form_id: Mapped[str] = mapped_column(String(100))
    form_version: Mapped[str] = mapped_column(String(40))
    arrived_at: Mapped[datetime.datetime] = mapped_column(Moment, index=True)
    deadline: Mapped[datetime.date | None] = mapped_column(Date, index=True)
    units_pointer: Mapped[str] = mapped_column(String(200), default="")  # "/verksamheter": where the units are
    # Concrete JSON pointer -> the chosen values: {"/verksamheter/1/verksamhetstyp": ["bup"]}. Choices only.
    statistics: Mapped[dict] = mapped_column(JSON, default=dict)
    answers: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet token of the answers' JSON
    erased_at: Mapped[datetime.datetime | None] = mapped_column(Moment)
    overdue_notified_at: Mapped[datetime.datetime | None] = mapped_column(Moment)
    units: Mapped[list[Unit]] = relationship(
        back_populates="report", order_by="Unit.position", cascade="all, delete-orphan", lazy="selectin"
    )


class Unit(Base):
    """One receiving unit of a report (one row of its units list), and how far it has come."""

    __tablename__ = "report_units"
    __table_args__ = (UniqueConstraint("report_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the row's index in the form's units list
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(254))  # the manager's; erased with the answers
    sent_at: Mapped[datetime.datetime | None] = mapped_column(Moment)
    reminded_at: Mapped[datetime.datetime | None] = mapped_column(Moment)
    answered_at: Mapped[datetime.datetime | None] = mapped_column(Moment)
    supplemented_at: Mapped[datetime.datetime | None] = mapped_column(Moment)
    report: Mapped[Report] = relationship(back_populates="units")


class Digest(Base):
    """A weekly digest of a form, claimed by the worker that sends it: one per form and week, across workers."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("form_id", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(100))
    week: Mapped[str] = mapped_column(String(8))  # the ISO week in Stockholm: "2026-W12"
    since: Mapped[datetime.datetime] = mapped_column(Moment)  # what it covers: from the previous digest's `until`
    until: Mapped[datetime.datetime] = mapped_column(Moment)


class OutboxMessage(Base):
    """One message waiting in the database outbox (PostgreSQL), written in the transaction of its report.

    Times are Unix seconds, as the folder outbox keeps them; `claimed_by` names the process sending it
    ("host~pid~token"), NULL while it waits; `status` is "waiting" or "failed" (given up after max_age).
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)  # "<ns>.<message-id>.eml", as in the folder outbox
    message_id: Mapped[str] = mapped_column(String(300))
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # the bytes as queued: a re-send is the same message
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    created: Mapped[float] = mapped_column(Double)
    next_attempt: Mapped[float] = mapped_column(Double, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[float | None] = mapped_column(Double)
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt"),)
