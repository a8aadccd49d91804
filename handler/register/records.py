"""The register's read-only values (ReportRecord, UnitRecord, Due) and how they are built from its rows."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from .models import Report, Unit


@dataclass(frozen=True)
class UnitRecord:
    """A receiving unit of a report and how far it has come; a time of None means: not yet."""

    index: int  # the row's index in the report's units list (section 2 of the BUS form)
    name: str
    address: str | None  # the manager's; None once the report's answers are erased
    sent_at: datetime.datetime | None
    reminded_at: datetime.datetime | None
    answered_at: datetime.datetime | None
    supplemented_at: datetime.datetime | None
    statistics: Mapping[str, tuple[str, ...]]  # this row's statistics by field name: {"verksamhetstyp": ("bup",)}


@dataclass(frozen=True)
class ReportRecord:
    """A report as the register keeps it. `answers` is filled by `Register.report` only, and None once erased."""

    reference: str
    form_id: str
    form_version: str
    arrived_at: datetime.datetime
    deadline: datetime.date | None
    statistics: Mapping[str, tuple[str, ...]]  # concrete JSON pointer -> chosen values
    units: tuple[UnitRecord, ...]
    answers: dict | None
    erased_at: datetime.datetime | None
    overdue_notified_at: datetime.datetime | None

    @property
    def is_open(self) -> bool:
        """Return whether some unit has not answered yet."""
        return any(unit.answered_at is None for unit in self.units)

    def values(self, pattern: str) -> list[str]:
        """Return the values of a statistics field (`/verksamheter/*/verksamhetstyp`), rows in order."""
        wanted = pattern.strip("/").split("/")
        found = []
        for pointer, values in self.statistics.items():
            parts = pointer.strip("/").split("/")
            if len(parts) == len(wanted) and all(w in ("*", p) for w, p in zip(wanted, parts)):
                found.extend(values)
        return found


@dataclass(frozen=True)
class Due:
    """A unit that should get its reminder now."""

    reference: str
    form_id: str
    unit_index: int
    unit_name: str
    address: str
    arrived_at: datetime.datetime
    deadline: datetime.date


def record_of(report: Report, answers: dict | None) -> ReportRecord:
    """Return a report row (with its units loaded) as a ReportRecord; `answers` as already decrypted."""
    statistics = {pointer: tuple(values) for pointer, values in (report.statistics or {}).items()}
    return ReportRecord(
        reference=report.reference,
        form_id=report.form_id,
        form_version=report.form_version,
        arrived_at=report.arrived_at,
        deadline=report.deadline,
        statistics=statistics,
        units=tuple(_unit(unit, report.units_pointer, statistics) for unit in report.units),
        answers=answers,
        erased_at=report.erased_at,
        overdue_notified_at=report.overdue_notified_at,
    )


def _unit(unit: Unit, units_pointer: str, statistics: dict[str, tuple[str, ...]]) -> UnitRecord:
    row = f"{units_pointer.rstrip('/')}/{unit.position}/"
    own = {pointer[len(row) :]: values for pointer, values in statistics.items() if pointer.startswith(row)}
    return UnitRecord(
        index=unit.position,
        name=unit.name,
        address=unit.address,
        sent_at=unit.sent_at,
        reminded_at=unit.reminded_at,
        answered_at=unit.answered_at,
        supplemented_at=unit.supplemented_at,
        statistics=own,
    )
