"""Render a form definition as an HTML form that works without JavaScript.

Used at build time by the Markdown extension and at request time for the no-JS error page, so the
form a user corrects is the same markup they first saw, with their answers and the errors filled in.
"""

from __future__ import annotations

import datetime
import json

from jinja2 import Environment, PackageLoader, select_autoescape

from . import files
from .document import EMPTY, display
from .forms import Field, Form, Kind
from .paths import html_id
from .reference import TIMEZONE
from .validation import client_messages

AUTOCOMPLETE = {"email": "email", "date": "off", "time": "off", "date-time": "off", "uri": "url"}
INPUT_TYPES = {
    "email": "email",
    "date": "date",
    "time": "time",
    "date-time": "datetime-local",
    "uri": "url",
    "integer": "number",
    "number": "number",
    "text": "text",
}
BLANK_ROWS = 3

env = Environment(
    loader=PackageLoader("handler", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_form(
    form: Form,
    action: str,
    values: dict | None = None,
    errors: list | None = None,
    notice: str = "",
    hidden: dict | None = None,
    shown: list | None = None,
) -> str:
    """Return the form's HTML, with `values` filled in, `errors` (FieldError list) and a `notice` shown.

    Without `values` (the page as built) fields show their schema `default`, if any.
    `hidden`: extra hidden fields (an answer link's token); `shown`: (label, value) pairs shown
    read-only at the top and never sent (the reference of the report being answered).
    """
    by_name = {error.name: error for error in errors or []}
    return (
        env.get_template("form.html")
        .render(
            form=form,
            action=action,
            root=form.root,
            values=values or {},
            errors=errors or [],
            notice=notice,
            by_name=by_name,
            helpers=Helpers(by_name, initial=values is None, domains=form.settings.allowed_domains, form=form),
            hidden=hidden or {},
            shown=shown or [],
        )
        .strip()
    )


class Helpers:
    """Small functions the template needs: concrete names, ids, values and attributes."""

    def __init__(self, by_name: dict, initial: bool = False, domains=(), form: Form | None = None):
        self.by_name = by_name
        self.initial = initial
        self.domains = domains
        self.form = form

    @staticmethod
    def name(node: Field, rows: tuple) -> str:
        parts, index = [], iter(rows)
        for part in node.path:
            parts.append(str(next(index)) if part == "*" else part)
        return ".".join(parts)

    @staticmethod
    def id(name: str) -> str:
        return html_id(name)

    def needed(self, node: Field, rows: tuple) -> bool:
        """Return whether the field must be answered as the page is sent: required, asked always, and in no row
        past its list's minItems (a blank row past them is left out, as formkit.js marks rows too)."""
        if not node.required or node.condition:
            return False
        index = iter(rows)
        for depth, part in enumerate(node.path):
            if part == "*":
                enclosing = self.form.field_at(node.path[:depth]) if self.form is not None else None
                if next(index) >= (enclosing.min_items if enclosing is not None else 1):
                    return False
        return True

    def value(self, values, node: Field, rows: tuple):
        """Return what a control shows: a choice's key, a time as its input takes it; never a write-only answer."""
        if node.write_only:
            return None
        if node.fixed:
            return node.const
        if node.read_only or (self.initial and node.default is not None and not node.kind.holds_fields):
            value = node.default
        else:
            value = self.answer(values, node, rows)
        return shown(node, value)

    @staticmethod
    def read_only_text(node: Field, value) -> str:
        """Return a read-only answer as people read it ("–" when there is none)."""
        return display(node, value) if value is not None else EMPTY

    @staticmethod
    def answer(values, node: Field, rows: tuple):
        current, index = values, iter(rows)
        for part in node.path:
            key = next(index) if part == "*" else part
            if isinstance(current, dict):
                current = current.get(key)
            elif isinstance(current, list) and str(key).isdigit() and int(key) < len(current):
                current = current[int(key)]  # a row, or a tuple's position ("0")
            else:
                return None
        return current

    @staticmethod
    def keys(value) -> list:
        """Return the checked keys of a set of checkboxes (a single key as a list of one)."""
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    @staticmethod
    def row_count(values, node: Field, rows: tuple) -> int:
        filled = Helpers.answer(values, node, rows)
        count = len(filled) if isinstance(filled, list) else 0
        if node.kind == Kind.TUPLE:  # its added rows, after its fixed values: none need be shown
            fewest, most = node.extra_rows
            count = max(0, count - len(node.children))
            return max(fewest, min(most, count + 1 if count else BLANK_ROWS))
        return max(1, node.min_items, min(node.max_items, count + 1 if count else BLANK_ROWS))

    @staticmethod
    def input_type(node: Field) -> str:
        if node.widget == "tel":  # a telephone keypad on phones; still text to the server
            return "tel"
        if node.also_text:  # a number input cannot hold text; formkit.js checks a number typed as one
            return "text"
        return INPUT_TYPES.get(node.kind, "text")

    @staticmethod
    def autocomplete(node: Field) -> str | None:
        return node.autocomplete or ("off" if node.write_only else AUTOCOMPLETE.get(node.kind))

    @staticmethod
    def item_label(node: Field) -> str:
        title = node.item.title if node.item else node.title
        return title[:1].lower() + title[1:] if not title[1:2].isupper() else title

    def messages(self, node: Field) -> str:
        """Return the field's Swedish messages as JSON for formkit.js, so both sides say the same."""
        return json.dumps(client_messages(node, self.domains), ensure_ascii=False)

    def error(self, name: str):
        return self.by_name.get(name)

    def when(self, node: Field, choice: str | None = None) -> str:
        """Return the sentence that says when to answer a conditional question (or offer one `choice`), or ""."""
        if choice is not None:
            condition, text = node.choice_conditions.get(choice), "Bara om {}."
        elif node.condition:
            condition, text = node.condition, "Svara bara om {}."
        else:
            condition, text = node.required_when, "Måste fyllas i om {}."
        if condition is None or self.form is None:
            return ""
        group = self.form.field_at(node.path[:-1])
        siblings = {child.name: child for child in group.children} if group is not None else {}

        def label(name: str) -> str:
            return siblings[name].title if name in siblings else name

        def shown(name: str, value) -> str:
            sibling = siblings.get(name)
            if isinstance(value, bool) and sibling is not None and sibling.kind == Kind.CHECKBOX:
                return "ikryssad" if value else "inte ikryssad"
            chosen = sibling.label_of(value) if sibling is not None and sibling.choice_values else None
            return chosen if chosen is not None else str(value)

        return text.format(condition.describe(label, shown))

    @staticmethod
    def condition(node: Field, required: bool = False, choice: str | None = None) -> str | None:
        """Return a field's condition (`required`: when it is required; `choice`: when it is offered) as JSON."""
        if choice is not None:
            condition = node.choice_conditions.get(choice)
        else:
            condition = node.required_when if required else node.condition
        if condition is None:
            return None
        prefix = ".".join(node.path[:-1]) + "." if len(node.path) > 1 else ""
        return json.dumps(condition.as_json(prefix), ensure_ascii=False)

    @staticmethod
    def group_hints(node: Field, name: str) -> str:
        """Return the ids of a group's hints: its description and when it is asked."""
        ids = [html_id(name) + "-hint"] if node.description else []
        return " ".join(ids + ([html_id(name) + "-when"] if node.condition or node.required_when else []))

    @staticmethod
    def has_files(root: Field) -> bool:
        """Return whether the form has a file field: then it posts multipart/form-data."""
        return any(node.kind == Kind.FILE for node in root.walk())

    @staticmethod
    def file_limits(node: Field) -> str:
        """Return what a file field takes, in words: "PDF eller PNG-bild, högst 10 MB per fil, högst 3 filer"."""
        text = f"{files.types_text(node)}, högst {files.size_text(node.max_bytes)}"
        if node.multiple:
            return f"{text} per fil. Du kan välja upp till {node.max_items} filer."
        return text + "."

    @staticmethod
    def file_names(node: Field, value) -> str:
        """Return the names of the files an answer had (for the page shown again, whose file input is empty)."""
        return files.shown(node, value) if node.kind == Kind.FILE and value else ""

    def described_by(self, node: Field, name: str) -> str | None:
        ids = []
        if node.description:
            ids.append(html_id(name) + "-hint")
        if node.condition or node.required_when:
            ids.append(html_id(name) + "-when")
        if node.kind == Kind.FILE:
            ids.append(html_id(name) + "-limits")
        if node.kind == Kind.TEXTAREA and node.max_length:
            ids.append(html_id(name) + "-count")
        if name in self.by_name:
            ids.append(html_id(name) + "-error")
        return " ".join(ids) or None


def shown(node: Field, value):
    """Return an answer as its control takes it back: a choice as its key, a date-time and a time in Swedish
    time without the offset (as `datetime-local` and `time` inputs hold them)."""
    if value is None:
        return None
    if node.choice_values:
        if isinstance(value, list) and node.kind == Kind.CHECKBOXES:
            return [key for key in (node.key_of(v) for v in value) if key is not None]
        key = node.key_of(value)
        return key if key is not None else (value if isinstance(value, str) else None)
    if node.kind == Kind.DATETIME and isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            return value
        local = moment.astimezone(TIMEZONE) if moment.tzinfo else moment
        return local.replace(tzinfo=None).isoformat(timespec="seconds" if local.second else "minutes")
    if node.kind == Kind.TIME and isinstance(value, str):
        return value[:8] if len(value) >= 8 and value[5:6] == ":" and value[6:8] != "00" else value[:5]
    return value
