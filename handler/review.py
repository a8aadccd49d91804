"""What a person checks before sending and reads after: the answers by section, who receives them, the receipt.

GOV.UK's "check answers" and "confirmation" pages, as data for handler/templates/check.html and receipt.html.
The answers are walked in the form's order, as the form and the document show them (`document.display`);
the recipients come from the form's mail routing through `mail.resolve`, as compose resolves them when the
report is sent. The receipt names units and fixed mailboxes; the addresses someone typed are shown only to
the sender, who holds the receipt key (`sender_key`, a signed cookie set with the answer), so a mistyped address
is noticed while anyone else who knows a reference sees no address.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from itsdangerous import BadData, URLSafeTimedSerializer

from .alternatives import CHOSEN, applying
from .conditions import applies
from .document import EMPTY, display, positions
from .fields import PAIR_VALUE, Field, Kind
from .forms import TOKEN, Form
from .mail import resolve
from .paths import FieldPath
from .register import ReportRecord
from .register.entry import units_of

if TYPE_CHECKING:
    from .settings import LinkSettings

NOT_ANSWERED = "Inte ifyllt"
RECEIPT_COOKIE = "formkit_kvitto"  # the sender's key to the receipt's addresses, one cookie per receipt path
SENDER_SECONDS = 24 * 3600  # how long the sender's browser may show the addresses again
MONTHS = "januari februari mars april maj juni juli augusti september oktober november december".split()


@dataclass(frozen=True)
class Answer:
    """One answer as the check page lists it, with where its "Ändra" leads."""

    label: str
    value: str  # "" when not answered
    target: str  # the HTML id of the field to change
    which: str  # the field's name for screen readers: "Enhet (Verksamhet 1)"


@dataclass(frozen=True)
class Section:
    """A heading of the check page (none for the form's own first questions) and the answers under it."""

    title: str
    level: int
    answers: list[Answer] = field(default_factory=list)


@dataclass(frozen=True)
class Recipients:
    """Who gets a submission, in the three places a person looks for: to, copies and the receipt."""

    to: list[str]
    copies: list[str]
    receipt: list[str]


WRITE_ONLY = "Ifyllt (visas inte här)"


def sections(form: Form, data: dict) -> list[Section]:
    """Return the valid answers `data` by section, in the form's order; sections with rows get one per row."""
    found: list[Section] = []

    def walk(node: Field, values, level: int, rows: tuple, title: str, where: str) -> None:
        values = values if isinstance(values, dict) else {}
        current = Section(title, level)
        found.append(current)
        for child in _shown(node, values):
            if not applies(child, values):  # not asked, so not shown to check
                continue
            if child.kind == Kind.ALTERNATIVES:
                chosen = applying(child, values)
                which = f"{CHOSEN} ({where})" if where else CHOSEN
                current.answers.append(Answer(CHOSEN, chosen.title if chosen else "", _target(child, rows), which))
            elif child.kind in (Kind.GROUP, Kind.TUPLE):
                value = positions(child, values.get(child.name))
                tuple_of = re.sub(r"^\d+\.\s*", "", child.title) if child.kind == Kind.TUPLE else ""
                walk(child, value, min(level + 1, 6), rows, child.title, where or tuple_of)
                if child.kind == Kind.TUPLE and child.item is not None:  # the rows added after the fixed ones
                    added = values.get(child.name) if isinstance(values.get(child.name), list) else []
                    _added_rows(child, added, min(level + 1, 6), rows)
                current = Section("", level)  # answers after a subsection belong to no heading of their own
                found.append(current)
            elif child.kind == Kind.LIST:
                items = values.get(child.name) if isinstance(values.get(child.name), list) else []
                found.append(Section(child.title, min(level + 1, 6)))
                listed(child, items, 0, level, rows)
                if not items:
                    found[-1].answers.append(Answer(child.title, "", _target(child, rows), child.title))
                current = Section("", level)
                found.append(current)
            elif child.kind == Kind.PAIRS:  # each name–value row as an answer of its own, changed at its value
                names = {sibling.name for sibling in node.members()}
                extra = [(k, v) for k, v in values.items() if k not in names]
                for index, (key, value) in enumerate(extra):
                    target = FieldPath(child.path).at_rows(rows).child(index).child(PAIR_VALUE).html_id
                    current.answers.append(Answer(str(key), display(child.item.children[-1], value), target, str(key)))
            elif child.fixed and child.const is None:
                continue  # a note ("type": "null"): nothing was answered, nothing to check
            else:
                value = values.get(child.name)
                shown = "" if display(child, value) == EMPTY else display(child, value)
                if child.write_only and shown:
                    shown = WRITE_ONLY  # sent and delivered, never shown back
                label = re.sub(r"^\d+\.\s*", "", child.title)  # "1. Vilken typ …": the number says nothing aloud
                which = f"{label} ({where})" if where else label
                current.answers.append(Answer(child.title, shown, _target(child, rows), which))

    def listed(node: Field, items: list, first: int, level: int, rows: tuple) -> None:
        """Add a list's rows (a tuple's added rows: from `first`, numbered from 1 after its fixed positions)."""
        for index, item in enumerate(items[first:], start=first):
            row = f"{node.item.title} {index - first + 1}"
            if node.value_rows:  # one value (or list of values) a row
                target = _target(node.item, (*rows, index))
                found[-1].answers.append(Answer(row, display(node.item, item), target, row))
                continue
            walk(node.item, item, min(level + 2, 6), (*rows, index), row, row)

    def _added_rows(node: Field, items: list, level: int, rows: tuple) -> None:
        if len(items) > len(node.children):
            found.append(Section(node.item.title, min(level + 1, 6)))
            listed(node, items, len(node.children), level, rows)

    walk(form.root, data, 1, (), "", "")
    return [section for section in found if section.answers or section.title]


def _shown(node: Field, values: dict):
    """Yield a group's fields in the form's order, with the chosen alternative's after a choice between them."""
    for child in node.children:
        yield child
        if child.kind == Kind.ALTERNATIVES and (chosen := applying(child, values)) is not None:
            yield from chosen.children


def _target(node: Field, rows: tuple) -> str:
    """Return the id of the control that changes a field: itself, its first choice, or a group's first field."""
    leaf = next((n for n in node.walk() if not n.kind.holds_fields), node)
    control = FieldPath(leaf.path).at_rows((*rows, *[0] * leaf.path.count("*"))).html_id
    return control + ("-1" if leaf.kind in (Kind.RADIO, Kind.CHECKBOXES, Kind.ALTERNATIVES) else "")


def recipients(form: Form, data: dict, default_to: str) -> Recipients:
    """Return who the answers `data` go to, as the check page shows it: each address with whose it is."""
    routing = form.settings.mail
    names = {unit.address.lower(): unit.name for unit in units_of(form, data) if unit.address}
    to = resolve(data, routing.to) or [default_to]
    copies = [a for a in resolve(data, routing.cc) if a.lower() not in {t.lower() for t in to}]

    def labelled(addresses, entries) -> list[str]:
        whose = {}
        for entry in entries:
            for address in resolve(data, [entry]):
                whose.setdefault(address.lower(), names.get(address.lower()) or _whose(form, entry))
        return [f"{whose[a.lower()]}: {a}" if whose.get(a.lower()) else a for a in addresses]

    return Recipients(
        labelled(to, routing.to), labelled(copies, routing.cc), labelled(resolve(data, routing.receipt_to), [])
    )


def sent_to(form: Form, record: ReportRecord | None, report: Form | None = None) -> Recipients:
    """Return who a recorded report went to, as its receipt says: units by name, fixed mailboxes, no typed address.

    `report`: for an answer, the form of the report it answers, whose reporting manager its link names.
    """
    routing = form.settings.mail
    link = form.settings.reply_link
    units_entry = f"{link.units.rstrip('/')}/*/{link.unit_address}" if link and link.units else None
    unit_names = [unit.name for unit in record.units if unit.name] if record else []

    def described(entries) -> list[str]:
        found: list[str] = []
        for entry in entries:
            if entry == TOKEN:  # an answer's link: the manager the report names as the one to answer
                reply_link = report.settings.reply_link if report is not None else None
                shown = [_whose(report, reply_link.answer_to)] if reply_link else []
            elif entry == units_entry:
                shown = unit_names
            else:
                shown = [_whose(form, entry) if entry.startswith("/") else entry]
            found += [item for item in shown if item and item not in found]
        return found

    return Recipients(described(routing.to), described(routing.cc), described(routing.receipt_to))


def _whose(form: Form, entry: str) -> str:
    """Name an address field by its section: "/beskrivning/chef/epost" is "Ansvarig chef vid rapporterande …"."""
    if not entry.startswith("/"):
        return ""
    parts = tuple(entry.strip("/").split("/"))
    node, parent = form.field_at(parts), form.field_at(parts[:-1]) if len(parts) > 1 else None
    if parent is not None and parent.kind == Kind.GROUP and parent.title:
        return parent.title
    return node.title if node is not None else ""


def long_date(day: datetime.date) -> str:
    """Return a date as Swedish writes it in running text: 22 januari 2027."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def sender_key(links: LinkSettings, reference: str) -> str:
    """Return the key that shows a receipt's typed addresses: the reference, signed, for the sender's browser."""
    return _receipt_serializer(links).dumps(reference)


def is_sender(links: LinkSettings, reference: str, key: str | None) -> bool:
    """Return whether `key` is the sender's key to this reference's receipt, issued within SENDER_SECONDS."""
    if not key or len(key) > 500:
        return False
    try:
        return _receipt_serializer(links).loads(key, max_age=SENDER_SECONDS) == reference
    except BadData:
        return False


def _receipt_serializer(links: LinkSettings) -> URLSafeTimedSerializer:
    # Oldest key first: itsdangerous signs with the last and accepts all, so keys can be rotated.
    return URLSafeTimedSerializer([*links.fallbacks, links.secret_key], salt="formkit.receipt")
