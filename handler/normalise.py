"""Turn a request body (JSON or form-encoded) into one clean object, ready to validate.

Form-encoded values are all strings named by dotted paths (`verksamheter.0.enhet`); they are
coerced by the schema's types; a choice posts its key ("0", "1", … when its values are not all text)
and comes back as its value; a date and time without an offset (`<input type="datetime-local">`) is
Swedish time (Europe/Stockholm) and becomes RFC 3339 with the offset of that day, a time (`<input
type="time">`) gets the offset Stockholm has on the day it is sent. Both kinds of body then get the same
text clean-up and have blank fields and blank rows dropped, since an empty string would otherwise
satisfy `required`; `settle` then fills in what the form decides: a `const` or `"type": "null"` that
was not sent, a read-only field's default (never what was posted), and null for a nullable field left
empty.
"""

from __future__ import annotations

import copy
import datetime
import math
import re
import unicodedata

from .errors import BadSubmission
from .fields import CHOICE, PAIRS
from .forms import Field, Form, Kind
from .paths import is_alternative_key, row_index
from .reference import TIMEZONE

MAX_INDEX = 200
MAX_DIGITS = 300  # a number longer than this stays text: int() of thousands of digits is slow, and no form asks it
_DIGITS = rf"\d{{1,{MAX_DIGITS}}}"
INTEGER_TEXT = re.compile(rf"[+-]?{_DIGITS}")
NUMBER_TEXT = re.compile(rf"[+-]?(?:{_DIGITS}(?:\.\d{{0,{MAX_DIGITS}}})?|\.{_DIGITS})(?:[eE][+-]?\d{{1,4}})?")
# Everything XML 1.0 cannot carry, except tab and newline: C0/C1 controls, surrogates, U+FFFE/U+FFFF.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
LOCAL_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?")
LOCAL_TIME = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?")
TRUE = {"on", "true", "1", "ja", "yes"}
FALSE = {"off", "false", "0", "nej", "no"}


def clean_text(value: str) -> str:
    """Return text in NFC with Word's line breaks as newlines, control characters removed, trimmed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n").replace("\x0c", "\n")
    value = _UNSAFE.sub("", value)
    return unicodedata.normalize("NFC", value).strip()


def from_pairs(form: Form, pairs: list[tuple[str, str]], lenient: bool = False) -> dict:
    """Build the submission object from form-encoded (name, value) pairs by the form's field paths.

    `lenient` drops names the form does not have instead of refusing them: a page loaded before the
    form changed may still send a field that was removed or renamed.
    """
    data: dict = {}
    for name, value in pairs:
        if name.startswith("_") and not name.startswith(PAIRS + ".") and not _is_choice(form, name):
            continue
        parts = name.split(".")
        if any((row_index(p) or 0) > MAX_INDEX for p in parts):
            raise BadSubmission(f'Fältet "{name[:200]}" har ett för stort radnummer.')
        # Only ASCII digits number a row: "*", "²" or "٣" name no field.
        node = form.field_named(name)
        if node is None or node.kind.holds_fields or node.kind == Kind.PAIRS:
            if lenient:
                continue
            raise BadSubmission(f'Formuläret har inget fält som heter "{name[:200]}".')
        _put(data, parts, _coerce(node, value))
    return _rows_to_lists(form.root, data)


def _is_choice(form: Form, name: str) -> bool:
    """A choice between alternatives (`_alternativ`, `grupp._alternativ`) is the kit's own name but posted as an
    answer, to be taken out when the answers are validated (alternatives.settle); a name below it is no field.
    So is a field two alternatives share, posted under its alternative's key (`_alternativ2.titel`)."""
    return any(part == CHOICE or is_alternative_key(part) for part in name.split("."))


def clean(data, node: Field | None = None):
    """Return `data` with every string cleaned and blank strings, empty objects and empty rows dropped.

    `node` (the form's root) lets a tuple keep its positions: a blank value inside it becomes None, for
    validation to ask for, and only blanks at its end are dropped.
    """
    if isinstance(data, str):
        return clean_text(data)
    if node is not None and node.any_value:  # no type: a number, a list or an object is kept as it was sent
        return data
    if isinstance(data, dict):
        by_name = {child.name: child for child in node.members()} if node is not None else {}
        cleaned = {key: clean(value, by_name.get(key)) for key, value in data.items()}
        kept = {key: value for key, value in cleaned.items() if not _blank(value)}
        # An empty object or list is an answer to a question of any value; only null and "" are blank there.
        return kept | {k: v for k, v in cleaned.items() if v in ({}, []) and k in by_name and by_name[k].any_value}
    if isinstance(data, list) and node is not None and node.kind == Kind.TUPLE:
        cleaned = [clean(value, node.entry(index)) for index, value in enumerate(data)]
        fixed, added = cleaned[: len(node.children)], cleaned[len(node.children) :]
        if node.item is not None:  # added rows, as a list's: blank ones are dropped
            added = [value for value in added if not _blank(value)]
        cleaned = fixed + added
        while cleaned and _blank(cleaned[-1]):
            cleaned.pop()
        return [None if _blank(value) else value for value in cleaned]
    if isinstance(data, list):
        item = node.item if node is not None else None
        cleaned = [clean(value, item) for value in data]
        return [value for value in cleaned if not _blank(value)]
    return data


def _blank(value) -> bool:
    return value is None or value == "" or value == {} or (isinstance(value, list) and not value)


def _coerce(node: Field, value: str):
    """Return a posted value as the field's type; text stays as sent, for the size checks to see first."""
    if node.fixed:  # the form decides the answer; the read-only text shown is no JSON to read back
        return copy.deepcopy(node.const)
    if node.choice_values:
        return node.value_of(value)
    if node.kind == Kind.DATETIME:
        return with_offset(value.strip())
    if node.kind == Kind.TIME:
        return time_with_offset(value.strip())
    if node.kind not in (Kind.INTEGER, Kind.NUMBER, Kind.CHECKBOX):
        return value
    value = value.strip()
    if value == "":
        return ""
    if node.kind in (Kind.INTEGER, Kind.NUMBER):
        return _number(value, node.kind)
    if node.kind == Kind.CHECKBOX:
        return True if value.lower() in TRUE else (False if value.lower() in FALSE else value)
    return value


def _number(text: str, kind: Kind):
    """Return typed digits as the number JSON would read: "12" an int (up to MAX_DIGITS digits), "1,5" a float,
    "1.0" in an integer field 1 (JSON Schema counts it as an integer); anything else as sent, for the type
    check to name. So "1.1" is a number even where "type" also allows text, as it would be in JSON."""
    if INTEGER_TEXT.fullmatch(text):
        return int(text)
    spelled = text.replace(",", ".", 1) if text.count(",") == 1 and "." not in text else text
    if not NUMBER_TEXT.fullmatch(spelled):
        return text
    number = float(spelled)
    if not math.isfinite(number):
        return text
    return int(number) if kind == Kind.INTEGER and number.is_integer() and abs(number) < 2**63 else number


def with_offset(value: str, zone=TIMEZONE) -> str:
    """Return a local date and time ("2026-03-15T14:30") as RFC 3339 in Swedish time; anything else as sent.

    A time that does not exist (the hour skipped in March) or exists twice (October) is read as the
    clock showed it before the change (`fold=0`), as Python does.
    """
    if not LOCAL_DATETIME.fullmatch(value):
        return value
    try:
        moment = datetime.datetime.fromisoformat(value.replace(" ", "T").replace("t", "T"))
    except ValueError:
        return value  # "2026-02-30T10:00": refused by the format check, as typed
    seconds = "seconds" if not moment.microsecond else "microseconds"
    return moment.replace(tzinfo=zone).isoformat(timespec=seconds)


def time_with_offset(value: str, zone=TIMEZONE) -> str:
    """Return a time of day ("14:30") as an RFC 3339 time with the offset Swedish time has today."""
    if not LOCAL_TIME.fullmatch(value):
        return value
    try:
        clock = datetime.time.fromisoformat(value)
    except ValueError:
        return value
    offset = datetime.datetime.now(zone).strftime("%z")
    seconds = "seconds" if not clock.microsecond else "microseconds"
    return f"{clock.isoformat(timespec=seconds)}{offset[:3]}:{offset[3:]}"


def settle(form: Form, data):
    """Return the cleaned answers with what the form decides filled in (see the module's docstring)."""
    return _settle(form.root, data) if isinstance(data, dict) else data


def decided(node: Field, values: dict) -> dict:
    """Return a group's answers (changed in place) with what the form decides for its fields filled in; for the
    fields of the alternative chosen, once alternatives.settle knows it."""
    return _settle(node, values)


def _settle(node: Field, values: dict) -> dict:
    for child in node.children:
        if child.kind == Kind.GROUP:
            inner = values.get(child.name)
            if isinstance(inner, dict) or (inner is None and child.required):
                settled = _settle(child, dict(inner or {}))
                if settled or inner is not None:
                    values[child.name] = settled
        elif child.kind in (Kind.LIST, Kind.TUPLE):
            rows = values.get(child.name)
            if isinstance(rows, list):
                values[child.name] = [_settle_entry(child.entry(index), row) for index, row in enumerate(rows)]
        elif child.fixed:
            values.setdefault(child.name, copy.deepcopy(child.const))
        elif child.read_only:
            if child.default is not None:
                values[child.name] = copy.deepcopy(child.default)
            else:
                values.pop(child.name, None)
        elif child.nullable:
            values.setdefault(child.name, None)
    return values


def _settle_entry(node: Field | None, value):
    """Return one row or tuple position settled: a group's answers as `_settle` does them, any other as it is."""
    return _settle(node, value) if node is not None and node.kind == Kind.GROUP and isinstance(value, dict) else value


def without_write_only(form: Form, data):
    """Return the answers without the write-only ones: what may be shown back to whoever sent them."""
    return _without(form.root, data) if isinstance(data, dict) else data


def _without(node: Field, values: dict) -> dict:
    kept = copy.copy(values)  # a group's answers that know their chosen alternative (alternatives.Chosen) still do
    for child in node.children:
        value = kept.get(child.name)
        if child.write_only:
            kept.pop(child.name, None)
        elif child.kind == Kind.GROUP and isinstance(value, dict):
            kept[child.name] = _without(child, value)
        elif child.kind in (Kind.LIST, Kind.TUPLE) and isinstance(value, list):
            entries = [(child.entry(index), row) for index, row in enumerate(value)]
            kept[child.name] = [_without(e, r) if e is not None and isinstance(r, dict) else r for e, r in entries]
    return kept


def _put(data: dict, parts: list[str], value) -> None:
    target = data
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise BadSubmission(f'Fältet "{".".join(parts)}" krockar med ett annat fält.')
    last = parts[-1]
    if last in target:  # repeated names: several checkboxes of one question
        previous = target[last]
        target[last] = (previous if isinstance(previous, list) else [previous]) + [value]
    else:
        target[last] = value


def _rows_to_lists(node: Field, data):
    """Turn {"0": {...}, "3": {...}} into a compact list in index order, and checkbox sets into lists."""
    if node.kind == Kind.GROUP and isinstance(data, dict):
        by_name = {child.name: child for child in node.members()}
        return {k: (_rows_to_lists(by_name[k], v) if k in by_name else v) for k, v in data.items()}
    if node.kind in (Kind.LIST, Kind.PAIRS) and isinstance(data, dict):
        return [_rows_to_lists(node.item, data[k]) for k in sorted(data, key=int)]
    if node.kind == Kind.FILE and node.multiple and not isinstance(data, list):
        return [data] if data != "" else []
    if node.kind == Kind.TUPLE and isinstance(data, dict):  # every position, in order (blanks stay for clean),
        fixed = [_rows_to_lists(child, data.get(child.name, "")) for child in node.children]  # then the added rows
        added = sorted((key for key in data if row_index(key) is not None and row_index(key) >= len(fixed)), key=int)
        return fixed + [_rows_to_lists(node.item, data[key]) for key in added]
    if node.kind == Kind.CHECKBOXES and not isinstance(data, list):
        return [data] if data != "" else []
    return data
