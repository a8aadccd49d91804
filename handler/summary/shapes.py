"""The summary's shapes and words: Summary, Table, Chart, the choices' labels, numbers as Swedish writes them."""

from __future__ import annotations

import datetime
import statistics as stats
from collections import Counter
from dataclasses import dataclass, field

from ..fields import Field, Kind
from ..forms import Form

Cell = str | int | float | None  # float: a share in percent or a number of days, shown with one decimal

MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
          "november", "december")  # fmt: skip
NOT_GIVEN = "Inte angivet"
GONE = "Val som inte längre finns i formuläret"
TOTAL = "Totalt"
CHECKBOX = [("true", "Ja"), ("false", "Nej")]
WITHIN, LATE, OVERDUE, WAITING = (
    "Besvarade inom svarstiden",
    "Besvarade efter svarstiden",
    "Obesvarade, svarstiden har gått ut",
    "Obesvarade, svarstiden har inte gått ut",
)


@dataclass(frozen=True)
class Chart:
    """What a table's bar chart shows: one bar per label and series, horizontal for long labels."""

    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]  # (name, one value per label)
    axis: str  # what the values count ("Antal rapporter")
    horizontal: bool = True
    note: str = ""  # what the chart leaves out ("De 15 vanligaste paren.")
    ticks: tuple[str, ...] = ()  # shorter labels for the axis ("jan"); the labels stay for the alternative text


@dataclass(frozen=True)
class Table:
    """One table of the summary: as a DOCX table with its chart, one CSV file and one XLSX sheet."""

    name: str  # short: the sheet's name and the CSV file's (at most 31 characters, Excel's limit)
    title: str  # the heading in the document
    headings: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total: tuple[Cell, ...] | None = None  # a last row, kept apart so the chart leaves it out
    note: str = ""  # a sentence under the heading
    chart: Chart | None = None


@dataclass(frozen=True)
class Summary:
    """The summary of one form's reports that arrived in a period, as its state was at `made`."""

    form: Form
    title: str  # "Redovisning av BUS-avvikelser inkomna under perioden 2026-01-01 till 2026-12-31"
    start: datetime.date
    end: datetime.date
    made: datetime.datetime
    reports: int
    tables: tuple[Table, ...] = field(default=())

    @property
    def period(self) -> str:
        """Return the period as people write it: "2026-01-01 – 2026-12-31"."""
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def title(form: Form, start: datetime.date, end: datetime.date) -> str:
    """Return the summary's title: "Redovisning av BUS-avvikelser inkomna under perioden … till …"."""
    return f"Redovisning av {plural(form.title)} inkomna under perioden {start.isoformat()} till {end.isoformat()}"


def plural(noun: str) -> str:
    """Return a form's title in the plural where Swedish makes it plain (-e: avvikelse → avvikelser)."""
    # The paper's title is "Redovisning av BUS-avvikelser"; other endings stay as the form names itself.
    return noun + "r" if noun.endswith("e") else noun


def choices(node: Field) -> list[tuple[str, str]]:
    """Return a choice field's (value, title) pairs; a single checkbox is Ja/Nej."""
    return CHECKBOX if node.kind == Kind.CHECKBOX else list(node.choices)


class Labels:
    """The titles of a field's choices, in the form's order; unknown and missing values get one row each."""

    def __init__(self, node: Field):
        self.titles = dict(choices(node))

    def of(self, value: str | None) -> str:
        """Return the title of a value: its choice's title, "Inte angivet" or the row for values no longer offered."""
        if value is None:
            return NOT_GIVEN
        return self.titles.get(value, GONE)

    def order(self, counted: Counter, every: bool = True) -> list[str]:
        """Return the labels to show: every choice (`every`) or only those counted, then missing and unknown."""
        shown = [t for t in self.titles.values() if every or counted[t]]
        return shown + [extra for extra in (NOT_GIVEN, GONE) if counted[extra]]


MAX_BARS = 15  # labels in a horizontal chart; the table always has every row


def bars(labels, series, axis: str, *, horizontal: bool = True, ticks=()) -> Chart:
    """Return a chart of the rows; a long horizontal one keeps the rows with something counted, at most MAX_BARS."""
    rows = [(label, *values) for label, *values in zip(labels, *(values for _, values in series))]
    short = dict(zip(labels, ticks))
    note = ""
    if horizontal and len(rows) > MAX_BARS:
        counted = [row for row in rows if any(row[1:])]
        note = "Diagrammet visar bara raderna med något att räkna; tabellen har alla."
        if len(counted) > MAX_BARS:
            largest = set(sorted(range(len(counted)), key=lambda i: -sum(counted[i][1:]))[:MAX_BARS])
            counted = [row for index, row in enumerate(counted) if index in largest]  # in the table's order
            note = f"Diagrammet visar de {MAX_BARS} största raderna; tabellen har alla."
        rows = counted
    return Chart(
        tuple(row[0] for row in rows),
        tuple((name, tuple(row[1 + index] for row in rows)) for index, (name, _) in enumerate(series)),
        axis,
        horizontal,
        note,
        tuple(short[row[0]] for row in rows) if short else (),
    )


def share(part: int, whole: int) -> float | None:
    """Return `part` as a percentage of `whole`, one decimal (None when there is nothing to divide)."""
    return round(100 * part / whole, 1) if whole else None


def median(days: list[int]) -> float | None:
    """Return the median, one decimal (None without values)."""
    return round(float(stats.median(days)), 1) if days else None


def decimal(value: float | None) -> str:
    """Return a number as Swedish writes it: a decimal comma, one decimal ("–" for none)."""
    return "–" if value is None else f"{value:.1f}".replace(".", ",")


def count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def lower(heading: str) -> str:
    """Return a heading to follow "per": its first letter small unless it is an abbreviation ("BUP")."""
    return heading[:1].lower() + heading[1:] if heading[1:2].islower() else heading


def sheet_name(text: str) -> str:
    """Return a name Excel takes for a sheet: no []:*?/\\, at most 31 characters."""
    cleaned = "".join(c for c in text if c not in "[]:*?/\\").strip().rstrip(".")
    return cleaned[:31].rstrip() or "Tabell"
