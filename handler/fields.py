"""A form's fields: the kinds of field, the typed `Field`, and the reader that builds a form's Field tree.

Only this module and `forms.py` interpret JSON Schema: every keyword a consumer needs (lengths, bounds,
rows, widget, autocomplete, placeholder, messages, default) becomes a typed attribute here, with its
default written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .conventions import FORMATS, NAME, WARNING, Problem, Source, did_you_mean, humanize
from .paths import FieldPath

MAX_ROWS = 50  # the rows a repeated group offers when its schema sets no "maxItems"


class Kind(StrEnum):
    """What a field is; a str, so `node.kind == "group"` reads as before."""

    GROUP = "group"
    LIST = "list"
    TEXT = "text"
    TEXTAREA = "textarea"
    EMAIL = "email"
    DATE = "date"
    INTEGER = "integer"
    NUMBER = "number"
    CHECKBOX = "checkbox"
    SELECT = "select"
    RADIO = "radio"
    CHECKBOXES = "checkboxes"

    @property
    def is_container(self) -> bool:
        """Return whether fields of this kind hold other fields rather than an answer."""
        return self in (Kind.GROUP, Kind.LIST)


@dataclass(eq=False)
class Field:
    """One node of a form: a section (group), a repeated group (list) or an input, with its typed limits."""

    name: str
    path: tuple[str, ...]  # the pattern: "*" stands for a row
    kind: Kind
    title: str
    schema: dict = field(default_factory=dict, repr=False)  # the resolved JSON Schema; kept for the transition
    description: str = ""
    required: bool = False
    children: list[Field] = field(default_factory=list)
    item: Field | None = None  # a list's row
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    min_length: int | None = None
    max_length: int | None = None
    pattern: str = ""
    minimum: int | float | None = None
    maximum: int | float | None = None
    min_items: int = 0
    max_items: int = MAX_ROWS
    format: str = ""
    widget: str = ""  # x-widget
    autocomplete: str = ""  # x-autocomplete
    placeholder: str = ""  # x-placeholder
    messages: dict[str, str] = field(default_factory=dict)  # x-messages, per rule
    message: str = ""  # x-messages as one text for every rule
    default: Any = None
    item_title: str = ""  # a list's name for one row (x-item-title, else the row's or the list's title)

    @property
    def dotted(self) -> str:
        """Return the path as the HTML field name pattern (`a.*.b`)."""
        return ".".join(self.path)

    @property
    def place(self) -> FieldPath:
        """Return the field's place (a pattern), with all its spellings."""
        return FieldPath(self.path)

    def own_message(self, rule: str) -> str:
        """Return the editor's message (x-messages) for a failed rule, or "" for the kit's default."""
        return self.message or self.messages.get(rule, "")

    def walk(self):
        """Yield this field and every field below it, in form order."""
        yield self
        for child in self.children:
            yield from child.walk()
        if self.item:
            yield from self.item.walk()


def _choices(schema: dict) -> list[tuple[str, str]]:
    one_of = schema.get("oneOf")
    if isinstance(one_of, list) and one_of and all(isinstance(o, dict) and "const" in o for o in one_of):
        return [(_text(o["const"]), _text(o.get("title", o["const"]))) for o in one_of]
    if isinstance(schema.get("enum"), list):
        return [(_text(v), _text(v)) for v in schema["enum"]]
    return []


def _text(value) -> str:
    return "" if value is None else str(value)


def schema_type(schema: dict):
    """Return the schema's type; of a list of types (`["string", "null"]`) the first that is not null."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and isinstance(schema.get("properties"), dict):
        return "object"
    return kind


def _int(schema: dict, key: str) -> int | None:
    value = schema.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(schema: dict, key: str) -> int | float | None:
    value = schema.get(key)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _string(schema: dict, key: str) -> str:
    value = schema.get(key)
    return value if isinstance(value, str) else ""


class FieldReader:
    """Build one form's Field tree, collecting problems and warnings with their place in the file."""

    def __init__(self, source: Source, schema: dict):
        self.source = source
        self.schema = schema
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self._expanding: list[str] = []

    def problem(self, pointer: tuple, message: str) -> None:
        self.problems.append(self.source.say(pointer, message))

    def warning(self, pointer: tuple, message: str) -> None:
        self.warnings.append(self.source.say(pointer, message, severity=WARNING))

    def root(self, form_id: str) -> Field:
        """Return the form's root field: a group with the form's title (else its id, with a warning)."""
        root = self.build(self.schema, form_id, (), (), True)
        title = self.schema.get("title")
        root.title = title if isinstance(title, str) and title.strip() else form_id
        if root.title == form_id:
            self.warning((), f'saknar "title", så rubriken blir "{form_id}". Lägg till en "title" överst.')
        return root

    def resolve(self, schema, pointer: tuple) -> dict:
        """Return the schema with a local `$ref` ("#/$defs/name") merged in; say so when it cannot be."""
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        if not isinstance(ref, str):
            return schema
        if not ref.startswith("#"):
            self.problem(
                pointer + ("$ref",),
                f'"$ref" "{ref}" pekar utanför filen. Peka inom filen, till exempel "#/$defs/namn".',
            )
            return {k: v for k, v in schema.items() if k != "$ref"}
        target = self.schema
        for part in [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/") if p] if ref != "#" else []:
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            self.problem(
                pointer + ("$ref",), f'"$ref" pekar på "{ref}" som inte finns. Rätta sökvägen eller lägg till delen.'
            )
            return {k: v for k, v in schema.items() if k != "$ref"}
        if ref in self._expanding:
            self.problem(
                pointer + ("$ref",),
                f'"$ref" "{ref}" pekar på sig själv, så fältet skulle få oändligt många nivåer. '
                "Peka på en annan del eller skriv ut fältet.",
            )
            return {k: v for k, v in schema.items() if k not in ("$ref", "properties", "items")}
        self._expanding.append(ref)
        try:
            resolved = self.resolve(target, pointer)
        finally:
            self._expanding.pop()
        return {**resolved, **{k: v for k, v in schema.items() if k != "$ref"}}

    def build(self, schema, name: str, path: tuple, pointer: tuple, required: bool) -> Field:
        """Return the Field for one (sub)schema, with everything below it."""
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        schema = self.resolve(schema, pointer)
        if isinstance(ref, str):
            self._expanding.append(ref)
        try:
            return self._build(schema, name, path, pointer, required)
        finally:
            if isinstance(ref, str):
                self._expanding.pop()

    def _build(self, schema: dict, name: str, path: tuple, pointer: tuple, required: bool) -> Field:
        title = schema["title"] if _string(schema, "title").strip() else ""
        if not title and path and path[-1] != "*":
            label = humanize(name)
            self.warning(pointer, f'saknar "title", så etiketten blir "{label}". Lägg till en "title" med etiketten.')
        description = _string(schema, "description")
        node = _typed(Field(name, path, Kind.TEXT, title or humanize(name), schema, description, required))
        kind, widget = schema_type(schema), node.widget
        if kind == "object":
            self._group(node, schema, pointer)
        elif kind == "array":
            items = self.resolve(schema.get("items"), pointer + ("items",))
            if schema_type(items) == "object":
                node.kind = Kind.LIST
                node.item = self.build(schema.get("items"), "*", path + ("*",), pointer + ("items",), True)
                node.item_title = node.item.title = str(schema.get("x-item-title") or items.get("title") or node.title)
            elif _choices(items):
                node.kind, node.choices = Kind.CHECKBOXES, _choices(items)
            else:
                self.problem(
                    pointer,
                    'en lista ska ha "items" som är en grupp ("type": "object" med "properties") '
                    'eller val ("enum" eller "oneOf" med "const" och "title"). Rätta "items".',
                )
        elif kind == "boolean":
            node.kind = Kind.CHECKBOX
        elif kind in ("integer", "number"):
            node.kind = Kind(kind)
        elif _choices(schema):
            node.choices = _choices(schema)
            fits = Kind.RADIO if len(node.choices) <= 4 else Kind.SELECT
            node.kind = Kind(widget) if widget in ("radio", "select") else fits
        elif kind in ("string", None):
            fmt = node.format
            node.kind = Kind(fmt) if fmt in FORMATS else (Kind.TEXTAREA if widget == "textarea" else Kind.TEXT)
        elif kind == "null":
            self.problem(
                pointer + ("type",),
                '"type": "null" kan inte fyllas i. '
                'Använd "string", "integer", "number", "boolean", "object" eller "array".',
            )
        if widget in ("radio", "select") and not node.choices:
            self.problem(
                pointer + ("x-widget",),
                f'"x-widget": "{widget}" behöver val. Lägg till "oneOf" med "const" och "title", eller "enum", '
                'eller ta bort "x-widget".',
            )
        return node

    def _group(self, node: Field, schema: dict, pointer: tuple) -> None:
        node.kind = Kind.GROUP
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        self._extra_keys(schema, pointer)
        wanted = schema.get("required") if isinstance(schema.get("required"), list) else []
        for index, missing in enumerate(wanted):
            if isinstance(missing, str) and missing not in props:
                self.problem(
                    pointer + ("required", index),
                    f'"required" nämner "{missing}", men det finns inget sådant fält i "properties".'
                    f'{did_you_mean(missing, list(props))} Rätta namnet eller ta bort det ur "required".',
                )
        for child_name, child in props.items():
            if NAME.match(child_name):  # a bad name is reported by the conventions check
                child_pointer = pointer + ("properties", child_name)
                node.children.append(
                    self.build(child, child_name, node.path + (child_name,), child_pointer, child_name in wanted)
                )


    def _extra_keys(self, schema: dict, pointer: tuple) -> None:
        """Refuse keys beyond "properties" that a group would accept and the document would drop.

        A group is closed whatever its schema says: `additionalProperties` absent, `true` or `false` all mean
        that only its "properties" are answers (validation refuses any other key, on every path).
        """
        extra = schema.get("additionalProperties")
        if extra is not None and not isinstance(extra, bool):
            self.problem(
                pointer + ("additionalProperties",),
                '"additionalProperties" med ett schema (svar med namn som den som fyller i hittar på) stöds inte: '
                'de svaren skulle inte komma fram i dokumentet eller e-posten. Skriv varje fält i "properties" '
                'och ta bort "additionalProperties" (eller sätt det till false).',
            )
        if "patternProperties" in schema:
            self.problem(
                pointer + ("patternProperties",),
                '"patternProperties" (fält vars namn följer ett mönster) stöds inte: de svaren skulle inte komma '
                'fram i dokumentet eller e-posten. Skriv varje fält i "properties" och ta bort "patternProperties".',
            )


def _typed(node: Field) -> Field:
    """Fill in a field's typed limits, widget and messages from its schema; odd values are left out."""
    schema = node.schema
    node.min_length, node.max_length = _int(schema, "minLength"), _int(schema, "maxLength")
    node.pattern, node.format = _string(schema, "pattern"), _string(schema, "format")
    node.minimum, node.maximum = _number(schema, "minimum"), _number(schema, "maximum")
    node.min_items = _int(schema, "minItems") or 0
    node.max_items = MAX_ROWS if _int(schema, "maxItems") is None else _int(schema, "maxItems")
    node.widget, node.autocomplete = _string(schema, "x-widget"), _string(schema, "x-autocomplete")
    node.placeholder = _string(schema, "x-placeholder")
    messages = schema.get("x-messages")
    node.message = messages if isinstance(messages, str) else ""
    node.messages = {k: v for k, v in messages.items() if isinstance(v, str)} if isinstance(messages, dict) else {}
    node.default = schema.get("default")
    return node
