"""What one submission gives the register, read from the form definition: its units and its statistics.

Which rows are receiving units, and which of their fields are the unit's name and manager's address,
is data: `x-formkit.reply_link.units`, `.unit_name` and `.unit_address`. The statistics are the
choices named in `x-formkit.statistics` (routing pointers such as "/verksamheter/*/verksamhetstyp");
`formkit check` refuses a pointer to anything but a choice, so no free text gets here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ..files import described
from ..forms import Form
from ..paths import FieldPath


@dataclass(frozen=True)
class NewUnit:
    """A receiving unit as the report names it."""

    name: str
    address: str


@dataclass(frozen=True)
class NewReport:
    """Everything the register records about one report when it arrives."""

    reference: str
    form_id: str
    form_version: str
    arrived_at: datetime.datetime
    deadline: datetime.date | None
    units: tuple[NewUnit, ...]
    statistics: dict[str, list[str]]  # concrete JSON pointer -> chosen values
    answers: dict
    units_pointer: str = ""  # where the units are in the answers ("/verksamheter")


def new_report(form: Form, data: dict, reference: str, created: datetime.datetime) -> NewReport:
    """Return the register entry for a report of `form` with the valid answers `data`."""
    from ..reply import deadline  # the one definition of a report's deadline

    link = form.settings.reply_link
    return NewReport(
        reference=reference,
        form_id=form.id,
        form_version=form.version,
        arrived_at=created,
        deadline=deadline(form, created) if link else None,
        units=tuple(units_of(form, data)),
        statistics=statistics_of(form, data),
        answers=described(form.root, data),  # of a file only its name, size and type are kept
        units_pointer=link.units if link else "",
    )


def units_of(form: Form, data: dict) -> list[NewUnit]:
    """Return the receiving units of a report: one per row of `reply_link.units`, in row order."""
    link = form.settings.reply_link
    if link is None or not link.units:
        return []
    rows = _at(data, FieldPath.from_pointer(link.units).pattern)
    found = []
    for _, row in rows:
        for item in row if isinstance(row, list) else []:
            item = item if isinstance(item, dict) else {}
            found.append(NewUnit(_text(item.get(link.unit_name)), _text(item.get(link.unit_address))))
    return found


def statistics_of(form: Form, data: dict) -> dict[str, list[str]]:
    """Return the chosen values of the form's statistics fields, by concrete pointer ("/verksamheter/0/x")."""
    found: dict[str, list[str]] = {}
    for pointer in form.settings.statistics:
        for place, value in _at(data, FieldPath.from_pointer(pointer).pattern):
            values = value if isinstance(value, list) else [value]
            chosen = [_choice(v) for v in values if v is not None and v != ""]
            if chosen:
                found[FieldPath(place).pointer] = chosen
    return found


def _at(data, pattern: tuple[str, ...], place: tuple = ()):
    """Yield (concrete path, value) for every value at a pattern path, rows in order."""
    if not pattern:
        yield place, data
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        for index, item in enumerate(data if isinstance(data, list) else []):
            yield from _at(item, rest, place + (index,))
    elif isinstance(data, dict) and head in data:
        yield from _at(data[head], rest, place + (head,))


def _choice(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(value) -> str:
    return value if isinstance(value, str) else ""
