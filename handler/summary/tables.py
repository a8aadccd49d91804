"""The yearly summary as data: which tables a form's statistics give, and their rows, from register records.

Which tables there are follows from the form's x-formkit, never from its id: `statistics` names the
choices that are counted and `reply_link.units` the rows that are receiving units. A report-level
choice with no twin among the unit fields gets a table of its own (BUS: the area, /omrade); a
report-level choice whose name a unit field shares is the reporting unit's, so the two make one table
(reporting and receiving) and one of pairs, reporting → receiving (BUS: verksamhetstyp, huvudman).
Every form with units also gets answers within the deadline and still open; every form the reports
per month. Labels are the choices' titles from the form definition; a value the form no longer offers
is counted under one row that says so, never shown raw.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..fields import Field, Kind
from ..forms import Form
from ..reference import TIMEZONE
from .shapes import (
    GONE,
    LATE,
    MONTHS,
    NOT_GIVEN,
    OVERDUE,
    TOTAL,
    WAITING,
    WITHIN,
    Labels,
    Summary,
    Table,
    bars,
    choices,
    count,
    decimal,
    lower,
    median,
    share,
    sheet_name,
    title,
)

if TYPE_CHECKING:  # the tables read records; they need not load the register's database layer
    from ..register import ReportRecord

MAX_MONTHS = 24  # a longer period is counted per year


def summarise(
    form: Form, records: Sequence[ReportRecord], start: datetime.date, end: datetime.date, made: datetime.datetime
) -> Summary:
    """Return the summary of `records` (the form's reports that arrived from `start` to `end`) at time `made`."""
    made = made.astimezone(TIMEZONE)
    fields = Fields.of(form)
    tables = [per_period(records, start, end)]
    for place, node in fields.alone:
        tables.append(per_choice(records, place, node))
    for place, node, unit_name in fields.twins:
        tables.append(reporting_and_receiving(records, place, node, unit_name))
        tables.append(pairs(records, place, node, unit_name))
    if form.settings.reply_link is not None:
        tables.append(within_deadline(form, records, made))
        tables.append(still_open(records, made, fields.first_unit_field))
    return Summary(form, title(form, start, end), start, end, made, len(records), tuple(tables))


@dataclass(frozen=True)
class Fields:
    """The form's statistics fields, sorted: report-level alone, twins (reporting + unit), the unit fields."""

    alone: tuple[tuple[str, Field], ...]  # (pointer, field)
    twins: tuple[tuple[str, Field, str], ...]  # (reporting pointer, field, the unit field's name)
    units: tuple[tuple[str, Field], ...]  # (the unit field's name in a unit's statistics, field)

    @property
    def first_unit_field(self) -> tuple[str, Field] | None:
        """Return the unit field that still-open units are counted by (the first one named), if any."""
        return self.units[0] if self.units else None

    @classmethod
    def of(cls, form: Form) -> Fields:
        """Return the statistics fields of a form, in the order `x-formkit.statistics` names them."""
        link = form.settings.reply_link
        row = f"{link.units.rstrip('/')}/*/" if link is not None and link.units else None
        report_level, unit_level = [], []
        for pointer in form.settings.statistics:
            node = form.field_at(pointer)
            if node is None:
                continue  # `formkit check` refuses it; a form loaded without the check just has no table
            if row and pointer.startswith(row):
                unit_level.append((pointer[len(row) :].rstrip("/"), node))
            else:
                report_level.append((pointer.rstrip("/"), node))
        twins, alone = [], []
        for pointer, node in report_level:
            twin = next((n for n, u in unit_level if n == node.name and choices(u) == choices(node)), None)
            taken = any(t[2] == twin for t in twins)
            if twin and not taken:
                twins.append((pointer, node, twin))
            else:
                alone.append((pointer, node))
        return cls(tuple(alone), tuple(twins), tuple(unit_level))


def per_period(records: Sequence[ReportRecord], start: datetime.date, end: datetime.date) -> Table:
    """The number of reports, per month of arrival (per year for periods longer than two years)."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    by_year = months > MAX_MONTHS
    keys: list[tuple[int, int]] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        keys.append((year, 0) if by_year else (year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    keys = list(dict.fromkeys(keys))
    counted: Counter = Counter()
    for record in records:
        arrived = record.arrived_at.astimezone(TIMEZONE)
        counted[(arrived.year, 0 if by_year else arrived.month)] += 1
    label = (lambda k: str(k[0])) if by_year else (lambda k: f"{MONTHS[k[1] - 1]} {k[0]}")
    rows = tuple((label(key), counted[key]) for key in keys)
    years = len({year for year, _ in keys})
    short = [str(y) if by_year else MONTHS[m - 1][:3] + (f" {y}" if years > 1 else "") for y, m in keys]
    what = "år" if by_year else "månad"
    return Table(
        name=f"Per {what}",
        title=f"Inkomna rapporter per {what}",
        headings=("År" if by_year else "Månad", "Antal rapporter"),
        rows=rows,
        total=(TOTAL, len(records)),
        note=f"{count(len(records), 'rapport', 'rapporter')} kom in under perioden.",
        chart=bars(
            [r[0] for r in rows],
            [("Rapporter", [r[1] for r in rows])],
            "Antal rapporter",
            horizontal=len(rows) > 12,
            ticks=short,
        ),  # fmt: skip
    )


def per_choice(records: Sequence[ReportRecord], pointer: str, node: Field) -> Table:
    """The reports per choice of one report-level field (a report with several values counts once for each)."""
    labels = Labels(node)
    counted: Counter = Counter()
    for record in records:
        values = values_of(record, pointer)
        for label in dict.fromkeys(labels.of(v) for v in values or [None]):
            counted[label] += 1
    shown = labels.order(counted)
    rows = tuple((label, counted[label], share(counted[label], len(records))) for label in shown)
    return Table(
        name=sheet_name(node.title),
        title=node.title,
        headings=("Svar", "Antal rapporter", "Andel (%)"),
        rows=rows,
        total=(TOTAL, len(records), share(len(records), len(records))) if not node.kind == Kind.CHECKBOXES else None,
        chart=bars(shown, [("Rapporter", [counted[s] for s in shown])], "Antal rapporter"),
    )


def reporting_and_receiving(records: Sequence[ReportRecord], pointer: str, node: Field, unit_name: str) -> Table:
    """The reporting units (one per report) and the receiving units (one per row) per choice of a twin field."""
    labels = Labels(node)
    reporting: Counter = Counter()
    receiving: Counter = Counter()
    units = 0
    for record in records:
        for label in dict.fromkeys(labels.of(v) for v in values_of(record, pointer) or [None]):
            reporting[label] += 1
        for unit in record.units:
            units += 1
            for label in dict.fromkeys(labels.of(v) for v in unit.statistics.get(unit_name) or [None]):
                receiving[label] += 1
    shown = labels.order(reporting + receiving)
    rows = tuple((label, reporting[label], receiving[label]) for label in shown)
    heading = node.title
    return Table(
        name=sheet_name(heading),
        title=f"Per {lower(heading)}: rapporterande och mottagande",
        headings=(heading, "Rapporterande (rapporter)", "Mottagande (verksamheter)"),
        rows=rows,
        total=(TOTAL, len(records), units),
        note=(
            "Varje rapport räknas en gång för den rapporterande verksamheten och en gång för varje "
            "mottagande verksamhet den gäller."
        ),
        chart=bars(shown, [("Rapporterande", [r[1] for r in rows]), ("Mottagande", [r[2] for r in rows])], "Antal"),
    )


def pairs(records: Sequence[ReportRecord], pointer: str, node: Field, unit_name: str) -> Table:
    """Reporting → receiving: one pair per receiving unit, the most frequent first (then in the form's order)."""
    labels = Labels(node)
    order = {label: index for index, label in enumerate([*labels.titles.values(), NOT_GIVEN, GONE])}
    counted: Counter = Counter()
    for record in records:
        reporting = list(dict.fromkeys(labels.of(v) for v in values_of(record, pointer) or [None]))
        for unit in record.units:
            for receiving in dict.fromkeys(labels.of(v) for v in unit.statistics.get(unit_name) or [None]):
                for source in reporting:
                    counted[(source, receiving)] += 1
    ranked = sorted(counted, key=lambda pair: (-counted[pair], order[pair[0]], order[pair[1]]))
    rows = tuple((source, target, counted[(source, target)]) for source, target in ranked)
    heading = node.title
    return Table(
        name=sheet_name(f"{heading}, par"),
        title=f"{heading}: från rapporterande till mottagande",
        headings=("Rapporterande", "Mottagande", "Antal"),
        rows=rows,
        total=(TOTAL, "", sum(counted.values())),
        note="Ett par för varje mottagande verksamhet i en rapport, de vanligaste först.",
        chart=bars(
            [f"{a} → {b}" for a, b, _ in rows], [("Antal", [r[2] for r in rows])], "Antal mottagande verksamheter"
        ),
    )


def outcome(record: ReportRecord, unit, today: datetime.date) -> str:
    """Return where one receiving unit stands: answered within or after the deadline, or not answered."""
    if unit.answered_at is not None:
        answered = unit.answered_at.astimezone(TIMEZONE).date()
        return WITHIN if record.deadline is None or answered <= record.deadline else LATE
    return OVERDUE if record.deadline is not None and today > record.deadline else WAITING


def days_to_answer(record: ReportRecord, unit) -> int:
    """Return the days from the report's arrival to the unit's answer, in Stockholm dates."""
    answered = unit.answered_at.astimezone(TIMEZONE).date()
    return (answered - record.arrived_at.astimezone(TIMEZONE).date()).days


def within_deadline(form: Form, records: Sequence[ReportRecord], made: datetime.datetime) -> Table:
    """The receiving units by outcome, with the share of all and the median days to the answer."""
    today = made.date()
    days: dict[str, list[int]] = {WITHIN: [], LATE: [], OVERDUE: [], WAITING: []}
    for record in records:
        for unit in record.units:
            found = outcome(record, unit, today)
            days[found].append(days_to_answer(record, unit) if unit.answered_at is not None else 0)
    units = sum(len(found) for found in days.values())
    answered = days[WITHIN] + days[LATE]
    rows = tuple(
        (label, len(found), share(len(found), units), median(found) if label in (WITHIN, LATE) else None)
        for label, found in days.items()
    )
    months = form.settings.reply_link.deadline_months
    note = (
        f"{len(days[WITHIN])} av {count(units, 'mottagande verksamhet', 'mottagande verksamheter')} "
        f"({decimal(share(len(days[WITHIN]), units))} %) svarade inom svarstiden, {count(months, 'månad', 'månader')} "
        "från rapporten."
    )
    if answered:
        note += f" Mediantiden från rapport till svar var {decimal(median(answered))} dagar."
    note += f" Läget den {today.isoformat()}."
    return Table(
        name="Svar inom svarstiden",
        title="Svar inom svarstiden",
        headings=("Mottagande verksamheter", "Antal", "Andel (%)", "Median dagar till svar"),
        rows=rows,
        total=(TOTAL, units, share(units, units), median(answered)),
        note=note,
        chart=bars(list(days), [("Verksamheter", [len(f) for f in days.values()])], "Antal verksamheter"),
    )


def still_open(records: Sequence[ReportRecord], made: datetime.datetime, by: tuple[str, Field] | None) -> Table:
    """The units that have not answered, per choice of the first unit field, and how many are past the deadline."""
    today = made.date()
    labels = Labels(by[1]) if by else None
    waiting: Counter = Counter()
    late: Counter = Counter()
    reports = 0
    for record in records:
        reports += record.is_open
        for unit in record.units:
            if unit.answered_at is not None:
                continue
            values = unit.statistics.get(by[0]) if by else None
            for label in (
                dict.fromkeys(labels.of(v) for v in values or [None]) if labels else ["Mottagande verksamheter"]
            ):
                waiting[label] += 1
                late[label] += outcome(record, unit, today) == OVERDUE
    shown = labels.order(waiting) if labels else ["Mottagande verksamheter"]
    rows = tuple((label, waiting[label], late[label]) for label in shown)
    heading = by[1].title if by else "Verksamheter"
    return Table(
        name="Obesvarade",
        title=f"Obesvarade verksamheter per {lower(heading)}" if by else "Obesvarade verksamheter",
        headings=(heading, "Obesvarade verksamheter", "varav efter svarstiden"),
        rows=rows,
        total=(TOTAL, sum(waiting.values()), sum(late.values())) if by else None,
        note=(
            f"{reports} av {count(len(records), 'rapport', 'rapporter')} väntar på svar från minst en mottagande "
            f"verksamhet. Läget den {today.isoformat()}."
        ),
        chart=bars(
            shown,
            [("Obesvarade", [r[1] for r in rows]), ("Efter svarstiden", [r[2] for r in rows])],
            "Antal verksamheter",
        ),
    )


def values_of(record: ReportRecord, pointer: str) -> list[str] | tuple[str, ...]:
    """Return a report's values of a statistics field; a pointer without rows is looked up, not matched."""
    return record.values(pointer) if "*" in pointer else record.statistics.get(pointer, ())
