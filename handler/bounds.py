"""Check a submission's size against the form's limits before any costly work is done on it.

Run on the answers as read, before normalisation and validation, so that the work a request causes is
bounded by its size: a text far longer than its field allows, a list with more rows than the form
takes, or a run of combining marks (whose normalisation costs time growing with the square of its
length) is refused on its field at once, without being normalised or validated item by item.
"""

from __future__ import annotations

import unicodedata

from . import files
from .forms import Field, Form, Kind
from .marks import LONG_RUN, MAX_RUN
from .validation import MAX_ERRORS, FieldError, field_error

# Normalisation can shorten a text (CR LF to LF, decomposed accents composed, control characters
# dropped), so only a text this many times longer than its limit is refused before it is normalised;
# the exact limit is checked after normalisation, by validation.
SLACK = 4
COMBINING = (
    f"Texten har fler än {MAX_RUN} tecken i rad som kombineras med tecknet före (till exempel accenter). "
    "Skriv texten utan dem."
)


def check_bounds(form: Form, answers: dict) -> list[FieldError]:
    """Return the fields whose answers are too large to be worth normalising and validating, at most MAX_ERRORS."""
    errors: list[FieldError] = []
    stack: list[tuple[Field | None, object, tuple]] = [(form.root, answers, ())]
    while stack and len(errors) < MAX_ERRORS:
        node, value, path = stack.pop()
        if isinstance(value, str):
            problem = _text_problem(form, node, value, path)
            if problem:
                errors.append(problem)
        elif isinstance(value, dict):
            children = {child.name: child for child in node.members()} if node is not None else {}
            stack.extend((children.get(key), item, path + (key,)) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            limit = _max_items(node)
            if limit is not None and len(value) > limit:
                errors.append(field_error(form, path, "maxItems", limit))
                continue
            if node is not None and node.kind == Kind.FILE:  # several files: each is checked on the field itself
                stack.extend((node, entry, path) for entry in reversed(value))
                continue
            entries = reversed(list(enumerate(value)))
            stack.extend((_entry(node, index), entry, path + (index,)) for index, entry in entries)
    return errors


def _text_problem(form: Form, node: Field | None, value: str, path: tuple) -> FieldError | None:
    if node is not None and node.kind == Kind.FILE:  # a file far too big is refused before it is decoded
        if len(value) > files.encoded_limit(node):
            return field_error(form, path, "fileSize", files.name_of(node, value))
        return None
    limit = node.max_length if node is not None else None
    if limit is not None and len(value) > SLACK * limit + SLACK:
        return field_error(form, path, "maxLength", limit)
    if not unicodedata.is_normalized("NFC", value) and LONG_RUN.search(value):
        return field_error(form, path, "combining", message=COMBINING)
    return None


def body_limit(form: Form, base: int) -> int:
    """Return the largest request body a form takes: `base`, plus room for its files (base64 and form-encoded,
    as the check page sends them again) when it has file fields; a form without files keeps `base`."""
    room = 0
    for node in form.root.walk():
        if node.kind == Kind.FILE:
            rows = node.max_items if node.multiple else 1
            room += files.encoded_limit(node) * 3 // 2 * rows * _rows_around(form, node)
    return base + room


def _rows_around(form: Form, node: Field) -> int:
    """Return how many rows of repeated groups a field can be in (1 outside them)."""
    count, path = 1, node.path
    for end in range(1, len(path)):
        if path[end] == "*":
            count *= form.field_at(path[:end]).max_items
    return count


def _max_items(node: Field | None) -> int | None:
    """Return how many entries a list may have: its own limit, else the number of its choices."""
    if node is None:
        return None
    if node.kind == Kind.CHECKBOXES:
        return len(node.choices)
    return node.max_items


def _entry(node: Field | None, index: int) -> Field | None:
    """Return the field of a list's entry: its row, or a tuple's position (none past the tuple's end)."""
    if node is not None and node.kind == Kind.TUPLE:
        return node.children[index] if index < len(node.children) else None
    return node.item if node is not None else None
