"""The layout of a submission: a walk over the form definition that fills a WordprocessingML body.

The layout follows the paper form: a title with the reference and dates, numbered sections, answers
as label/value tables, repeated rows as a table with column headings, long answers as paragraphs
(bullet points kept), and the linked reply form's section left blank with its labels.
"""

from __future__ import annotations

import copy
import datetime
import json
from functools import lru_cache
from typing import NamedTuple

from .. import files
from ..alternatives import CHOSEN, applying
from ..conditions import applies
from ..fields import choice_label, label
from ..forms import Field, Form, Kind
from ..reference import TIMEZONE
from ..reply import LinkedReport, deadline
from .wml import Body

EMPTY = "–"
STAMP = "%Y-%m-%d %H:%M"
# Kinds with a heading of their own; the rest share label/value tables.
LONG = (Kind.GROUP, Kind.LIST, Kind.TUPLE, Kind.TEXTAREA)


class Draft(NamedTuple):
    """A laid-out document: its body, and the title and reference its header and properties show."""

    body: Body
    title: str
    reference: str


def report(form: Form, data: dict, reference: str, created: datetime.datetime, reply_form: Form | None) -> Draft:
    """Lay out a report; `reply_form`'s section follows blank, for a unit that answers in Word."""
    body = Body()
    body.heading(form.title, "Title")
    rows = [("Referens", reference), ("Inskickad", created.strftime(STAMP))]
    if form.settings.reply_link:
        rows.append(("Svara senast", deadline(form, created).isoformat()))
    body.meta(rows)
    _section(body, form.root, data, level=1)
    if reply_form is not None:  # on its own page, as on the paper form
        body.element.extend(copy.deepcopy(_blank(reply_form)))
    return Draft(body, form.title, reference)


@lru_cache(maxsize=32)
def _blank(reply_form: Form):
    """Return a w:body holding `reply_form`'s blank section: the same in every report, so laid out once."""
    body = Body()
    body.heading(reply_form.title, 1, page_break=True)
    if reply_form.root.description:
        body.paragraph(reply_form.root.description, italic=True)
    _section(body, reply_form.root, None, level=2, blank=True)
    return body.element


def answer(
    form: Form, data: dict, reference: str, created: datetime.datetime, linked: LinkedReport, report: Form | None
) -> Draft:
    """Lay out an answer to the report `linked` names: the report and the answering unit first, then the answer.

    A unit's later answer is a supplement, and says so in its title and beside the day of the first answer.
    """
    kind = "Komplettering av svar" if linked.supplement else "Svar"
    title = f"{kind} på {report.title if report else form.title}"
    rows = [("Referens", linked.reference)]
    if linked.unit_name:
        rows.append(("Svar från", linked.unit_name))
    rows.append(("Rapporten inskickad", linked.date))
    if linked.deadline:
        rows.append(("Svara senast", linked.deadline))
    if linked.supplement:
        rows.append(("Besvarad", linked.answered))
    sent = "Kompletteringen inskickad" if linked.supplement else "Svaret inskickat"
    rows += [(sent, created.strftime(STAMP)), ("Svarets referens", reference)]
    body = Body()
    body.heading(title, "Title")
    body.meta(rows)
    if linked.supplement:
        unit = linked.unit_name or "verksamheten"
        body.paragraph(f"Det här är en komplettering till svaret som {unit} skickade {linked.answered}.", italic=True)
    body.heading(form.title, 1)
    _section(body, form.root, data, level=2)  # an answer is one section: section 4 of the paper form
    return Draft(body, title, linked.reference)


def display(node: Field, value) -> str:
    """Return an answer as people read it: choices by their labels, yes/no for checkboxes, times in Swedish time."""
    if node.any_value and value is not None and not isinstance(value, str):  # no type: as sent, 1234 or {"a":1}
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if value is None or value == "" or value == []:
        return EMPTY
    if node.kind == Kind.FILE:  # by name and size: the files themselves are attached to the e-mail
        return files.shown(node, value) or EMPTY
    if isinstance(value, list) and node.kind == Kind.CHECKBOXES:
        return ", ".join(_one(node, v) for v in value)
    return _one(node, value)


def _one(node: Field, value) -> str:
    if node.choice_values and (chosen := node.label_of(value)) is not None:
        whole = label(node.value_of(node.key_of(value)))  # as the schema writes it, in its order of keys
        # A choice labelled by its own member ("Amsterdam") shows the rest of its value too: nothing is lost.
        return f"{chosen} ({whole})" if chosen == choice_label(value) != whole else chosen
    if isinstance(value, str) and node.kind in (Kind.DATETIME, Kind.TIME):
        return _moment(node.kind, value)
    if isinstance(value, list):
        return ", ".join(label(v) for v in value)
    return label(value)


def _moment(kind: Kind, value: str) -> str:
    """Return an RFC 3339 date-time in Swedish time ("2026-03-15 14:30"), or a time without its offset ("14:30")."""
    if kind == Kind.TIME:
        return value[:8] if value[6:8] not in ("", "00") and value[5:6] == ":" else value[:5]
    try:
        moment = datetime.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return value
    local = moment.astimezone(TIMEZONE) if moment.tzinfo else moment
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


def positions(node: Field, value):
    """Return a tuple's values by position name ({"0": …, "1": …}), as a group's are by field name."""
    if node.kind == Kind.TUPLE:
        values = value if isinstance(value, list) else []
        return {child.name: values[index] for index, child in enumerate(node.children) if index < len(values)}
    return value


def _section(body: Body, node: Field, data, level: int, blank: bool = False) -> None:
    """Walk a group's children: consecutive short inputs share one label/value table; groups, lists and
    long texts get a heading of their level."""
    values = data if isinstance(data, dict) and not blank else {}
    pending: list[tuple[str, str]] = []

    def flush():
        if pending:
            body.answers(list(pending), blank)
            pending.clear()

    for child in _laid_out(node, values, blank):
        if not blank and not applies(child, values):  # a question that did not apply was not asked
            continue
        if child.kind == Kind.PAIRS:  # name–value rows: each name the sender gave is a label of its own
            names = {sibling.name for sibling in node.members()}
            value_field = child.item.children[-1]
            pending.extend((str(k), display(value_field, v)) for k, v in values.items() if k not in names)
            continue
        if child.kind == Kind.ALTERNATIVES:
            chosen = applying(child, values)
            pending.append((CHOSEN, "" if blank else chosen.title if chosen else EMPTY))
            continue
        if child.kind not in LONG:
            pending.append((child.title, "" if blank else display(child, values.get(child.name))))
            continue
        flush()
        value = values.get(child.name)
        body.heading(child.title, min(level, 3))
        if child.description and blank:
            body.paragraph(child.description, italic=True)
        if child.kind in (Kind.GROUP, Kind.TUPLE):
            _section(body, child, positions(child, value), level + 1, blank)
            if child.kind == Kind.TUPLE and child.item is not None:  # the rows added after the fixed positions
                body.heading(child.item.title, min(level + 1, 3))
                _rows(body, child, value[len(child.children) :] if isinstance(value, list) else None, blank)
        elif child.kind == Kind.LIST:
            _rows(body, child, value, blank)
        elif blank:
            body.box()
        else:
            body.text(str(value) if value else EMPTY)
    flush()


def _laid_out(node: Field, values: dict, blank: bool):
    """Yield a group's fields in the form's order; after a choice between alternatives, the chosen alternative's
    fields (on a blank form every alternative's, to fill in the one chosen)."""
    for child in node.children:
        yield child
        if child.kind == Kind.ALTERNATIVES:
            chosen = [applying(child, values)] if not blank else child.alternatives
            yield from (member for alternative in chosen if alternative for member in alternative.children)


def _rows(body: Body, node: Field, values, blank: bool) -> None:
    """Repeated rows: one column per field of the row (one, for a list of values; every alternative's fields, since
    rows may choose differently); blank, one empty row to write in."""
    if node.item and node.item.children:
        columns = list(_laid_out(node.item, {}, True))
    else:
        columns = [node.item] if node.value_rows else []
    if blank or not isinstance(values, list):
        rows = [["" if blank else EMPTY for _ in columns]]
    else:
        rows = [[_cell(c, item, node) for c in columns] for item in values]
        choices = [c for c in (node.item.children if node.item else []) if c.kind == Kind.ALTERNATIVES]
        for row, item in zip(rows, values, strict=True):  # a row's answers are its chosen alternative's only
            for choice in choices:
                chosen = applying(choice, item)
                for member in (m for a in choice.alternatives if a is not chosen for m in a.children):
                    row[columns.index(member)] = EMPTY
    body.rows([CHOSEN if c.kind == Kind.ALTERNATIVES else c.title for c in columns], rows)


def _cell(column: Field, item, node: Field) -> str:
    if node.value_rows:  # a list of values shows in one cell, joined
        return display(column, item)
    values = item if isinstance(item, dict) else {}
    if column.kind == Kind.ALTERNATIVES:
        chosen = applying(column, values)
        return chosen.title if chosen else EMPTY
    return display(column, values.get(column.name))
