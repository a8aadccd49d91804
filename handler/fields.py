"""A form's fields: the kinds of field, the typed `Field`, and the reader that builds a form's Field tree.

Only this module and `forms.py` interpret JSON Schema: every keyword a consumer needs (lengths, bounds,
rows, widget, autocomplete, placeholder, messages, default) becomes a typed attribute here, with its
default written once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any
from urllib.parse import urljoin

from .conditions import Condition
from .conventions import FORMATS, NAME, WARNING, Problem, Source, did_you_mean, humanize
from .paths import CHOICE, FieldPath, alternative_key

MAX_ROWS = 50  # the rows a repeated group offers when its schema sets no "maxItems"
CONDITIONAL = ("if", "then", "else", "dependentRequired", "dependentSchemas", "dependencies")
NOTES = ("title", "description", "$comment")  # words beside a rule, never a rule themselves
# Keywords that give an object's shape: a root without a type that has one is a group, not one question.
OBJECT_KEYWORDS = (
    "properties", "patternProperties", "additionalProperties", "unevaluatedProperties", "propertyNames",
    "required", "minProperties", "maxProperties", "dependencies", "dependentSchemas", "dependentRequired",
    "allOf", "anyOf", "if", "not", "$ref", "$dynamicRef",
)  # fmt: skip
PAIRS = "_extra"  # the name of a group's name–value rows; "_" cannot start a property's name, so it never collides
PAIR_NAME, PAIR_VALUE = "namn", "varde"
MAX_FILES = 5  # the files an array of files takes when its schema sets no "maxItems"
MAX_BYTES = 10 * 1024 * 1024  # a file field's size limit when its schema sets no "x-max-bytes"
# The file types the kit recognises by their content (files.py): a file field takes these unless it names some.
FILE_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "text/plain",
)
SIMPLE_TYPES = ("string", "integer", "number")  # what one row of a list of values holds
EXTRA_TITLE = "Extra värde"  # the name of a tuple's added rows when "items" has no title
MAX_DEPTH = 3  # how many levels of a recursive "$ref" (a tree) the form asks, unless its part sets "x-max-depth"
CHOOSE = "Välj ett alternativ"
ANSWER_CHOSEN = "Svara på frågorna under det alternativ du väljer."
ANSWER = "svar"  # the name of the one question of a form whose root is not an object: svar=… or {"svar": …}
LABEL_KEYS = ("title", "label", "name")  # an object choice without a title is labelled by its own member


class _NotSet:
    """The value of `Field.const` when the schema fixes no answer (a const may be null)."""

    def __repr__(self) -> str:
        return "NOT_SET"


NOT_SET = _NotSet()


class Kind(StrEnum):
    """What a field is; a str, so `node.kind == "group"` reads as before."""

    GROUP = "group"
    LIST = "list"
    TUPLE = "tuple"  # a fixed number of values, one row each (prefixItems; draft-07 "items": [...])
    TEXT = "text"
    TEXTAREA = "textarea"
    EMAIL = "email"
    DATE = "date"
    TIME = "time"
    DATETIME = "date-time"
    URL = "uri"
    INTEGER = "integer"
    NUMBER = "number"
    CHECKBOX = "checkbox"
    SELECT = "select"
    RADIO = "radio"
    CHECKBOXES = "checkboxes"
    PAIRS = "pairs"  # name–value rows for the keys additionalProperties takes; `item` is one row (namn, varde)
    FILE = "file"  # a file input (contentMediaType / contentEncoding, or format data-url); `multiple` for an array
    ALTERNATIVES = "alternatives"  # a choice between groups of fields (oneOf/anyOf of objects); not an answer

    @property
    def is_container(self) -> bool:
        """Return whether fields of this kind hold other fields rather than an answer."""
        return self in (Kind.GROUP, Kind.LIST)

    @property
    def holds_fields(self) -> bool:
        """Return whether fields of this kind are answered in the fields below them: containers and tuples."""
        return self.is_container or self == Kind.TUPLE


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
    item: Field | None = None  # a list's row: a group, or one value (an input) per row
    choices: list[tuple[str, str]] = field(default_factory=list)  # (key, label): the key is what a form posts
    choice_values: list = field(default_factory=list)  # the choices' own values, in the order of `choices`
    min_length: int | None = None
    max_length: int | None = None
    pattern: str = ""
    minimum: int | float | None = None
    maximum: int | float | None = None
    exclusive_minimum: int | float | None = None
    exclusive_maximum: int | float | None = None
    multiple_of: int | float | None = None
    min_items: int = 0
    max_items: int = MAX_ROWS
    unique_items: bool = False  # uniqueItems: no value twice in a list
    format: str = ""
    widget: str = ""  # x-widget
    autocomplete: str = ""  # x-autocomplete
    placeholder: str = ""  # x-placeholder
    messages: dict[str, str] = field(default_factory=dict)  # x-messages, per rule
    message: str = ""  # x-messages as one text for every rule
    default: Any = None
    item_title: str = ""  # a list's name for one row (x-item-title, else the row's or the list's title); a choice
    # between alternatives: the title of the group it is in (its messages name it)
    condition: Condition | None = None  # asked only when this holds for its group's answers (if/then, dependencies)
    required_when: Condition | None = None  # optional, but required when this holds (dependentRequired, then)
    accept: tuple[str, ...] = ()  # a file field's media types (contentMediaType, x-accept)
    max_bytes: int = MAX_BYTES  # a file field's largest file (x-max-bytes)
    multiple: bool = False  # a file field that takes several files (an array of them, at most max_items)
    choice_conditions: dict[str, Condition] = field(default_factory=dict)  # a choice offered only when its holds
    alternatives: list[Field] = field(default_factory=list)  # a choice's alternatives, each a group
    branches: list = field(default_factory=list, repr=False)  # a choice's oneOf/anyOf as written, for validation
    discriminator: str = ""  # a choice's field whose fixed value tells the alternative (discriminator.propertyName)
    nullable: bool = False  # "type": [..., "null"]: an empty answer is delivered as null, so it may be left empty
    also_text: bool = False  # "type": ["integer", "string"]: a number field whose answer may also be text
    const: Any = NOT_SET  # "const" (or "type": "null", whose only value is null): the answer, fixed by the form
    read_only: bool = False  # "readOnly": shown, not editable; the server keeps the schema's const or default
    write_only: bool = False  # "writeOnly": sent and delivered, never shown back to whoever fills in the form
    any_value: bool = False  # no "type": a text input, and JSON may send any value; shown as text or compact JSON

    @property
    def fixed(self) -> bool:
        """Return whether the form decides this answer (a const, or a type whose only value is null)."""
        return self.const is not NOT_SET

    def key_of(self, value) -> str | None:
        """Return the key a form posts for one of the choices' values, or None when it is none of them."""
        if type(value) is str:  # most answers: text is `same` only as text, so a look-up finds it
            return self._keys_of_text.get(value)
        for (key, _), own in zip(self.choices, self.choice_values, strict=True):
            if same(own, value):
                return key
        return None

    @cached_property
    def _keys_of_text(self) -> dict[str, str]:
        """The key of each choice whose value is text, the first where two have the same value."""
        keys: dict[str, str] = {}
        for (key, _), own in zip(self.choices, self.choice_values, strict=True):
            if type(own) is str:
                keys.setdefault(own, key)
        return keys

    def value_of(self, key: str):
        """Return the choice's value for a posted key; an unknown key comes back as the text it is."""
        for (own_key, _), own in zip(self.choices, self.choice_values, strict=True):
            if own_key == key:
                return own
        return key

    def label_of(self, value) -> str | None:
        """Return the label of the choice with this value, or None when the value is none of them."""
        key = self.key_of(value)
        return None if key is None else self._labels[key]

    @cached_property
    def _labels(self) -> dict[str, str]:
        return dict(self.choices)

    @property
    def dotted(self) -> str:
        """Return the path as the HTML field name pattern (`a.*.b`)."""
        return ".".join(self.path)

    @property
    def place(self) -> FieldPath:
        """Return the field's place (a pattern), with all its spellings."""
        return FieldPath(self.path)

    @property
    def holds_values(self) -> bool:
        """Return whether this is a list whose rows are one value each (an array of strings, numbers, dates)."""
        return self.kind == Kind.LIST and self.item is not None and not self.item.kind.holds_fields

    @property
    def value_rows(self) -> bool:
        """Return whether each row of this list, or each row added to this tuple, is one answer (a value, or a
        list of values) rather than a group's fields: shown in one cell and checked as one."""
        return self.item is not None and (not self.item.kind.holds_fields or self.item.holds_values)

    def entry(self, index: int) -> Field | None:
        """Return the field of one entry of this list's or tuple's answer: a row, or a tuple's position, and past
        its fixed positions one of the rows added after them (None when a tuple takes no more)."""
        if self.kind == Kind.TUPLE:
            return self.children[index] if index < len(self.children) else self.item
        return self.item

    @property
    def extra_rows(self) -> tuple[int, int]:
        """Return the fewest and the most rows a tuple's added rows may have (its minItems and maxItems, less the
        fixed positions)."""
        fixed = len(self.children)
        return max(0, self.min_items - fixed), max(0, self.max_items - fixed) if self.item is not None else 0

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
        for alternative in self.alternatives:
            yield from alternative.walk()

    def members(self) -> list[Field]:
        """Return the fields whose answers sit in this group's own object: its children, with every
        alternative's fields in place of a choice between alternatives (the choice itself is no answer), and
        each alternative whose fields post under its key (`_alternativ2`), as a form posts them."""
        found: list[Field] = []
        for child in self.children:
            if child.kind == Kind.ALTERNATIVES:
                found += [member for alternative in child.alternatives for member in alternative.children]
                found += child.alternatives
            else:
                found.append(child)
        return found


def _choices(schema: dict) -> tuple[list[tuple[str, str]], list]:
    """Return a schema's choices as (key, label) pairs and their values: strings post as themselves, and
    when any value is not a string (a number, an object, a list) every choice posts its value as JSON."""
    one_of = schema.get("oneOf")
    if isinstance(one_of, list) and one_of and all(isinstance(o, dict) and "const" in o for o in one_of):
        values = [o["const"] for o in one_of]
        labels = [o["title"] if isinstance(o.get("title"), str) else choice_label(o["const"]) for o in one_of]
    elif isinstance(schema.get("enum"), list) and [v for v in schema["enum"] if v is not None]:
        values = [v for v in schema["enum"] if v is not None]  # null is no choice: it is the empty answer
        labels = [choice_label(v) for v in values]
    else:
        return [], []
    keys = values if all(isinstance(v, str) for v in values) else [_key(v) for v in values]
    return list(zip(keys, labels, strict=True)), values


def _key(value) -> str:
    """Return what a choice posts when not all choices are text: its value as compact JSON (`1`, `false`,
    `{"name":"Oslo"}`), so that no other answer typed or posted as text can be mistaken for it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def choice_label(value) -> str:
    """Return the label of a choice without a title: an object by its title, label or name member, else `label`."""
    if isinstance(value, dict):
        named = next((value[k] for k in LABEL_KEYS if isinstance(value.get(k), str) and value[k].strip()), None)
        if named is not None:
            return named
    return label(value)


def label(value) -> str:
    """Return a value as people read it: text as itself, yes/no, a number as written, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, int | float):
        return str(value)  # as the answer was given: the document has always shown numbers so
    return json.dumps(value, ensure_ascii=False)


def same(one, other) -> bool:
    """Return whether two JSON values are equal as JSON Schema says: 1 is 1.0, but true is not 1."""
    if isinstance(one, bool) or isinstance(other, bool):
        return type(one) is type(other) and one == other
    if isinstance(one, dict) and isinstance(other, dict):
        return one.keys() == other.keys() and all(same(one[k], other[k]) for k in one)
    if isinstance(one, list) and isinstance(other, list):
        return len(one) == len(other) and all(same(a, b) for a, b in zip(one, other, strict=True))
    if isinstance(one, int | float) and isinstance(other, int | float):
        return one == other
    return type(one) is type(other) and one == other


def is_object_root(schema: dict) -> bool:
    """Return whether a form's schema is an object (its fields are questions), not one question on its own.

    Without a type, a schema with a keyword of a question (`enum`, `format` …) is that question. One that
    says only what it asks (a `title` or `description`, react-jsonschema-form's "Fallback") is a question
    that takes any value. One with a keyword of an object (`required`, `allOf` …), or with nothing at all
    (`{}`, the empty form an editor starts from), is an object.
    """
    kind = schema_type(schema)
    if kind is not None:
        return kind == "object"
    if any(key in schema for key in ("enum", "const", "oneOf", "items", "format")):
        return False
    return any(key in schema for key in OBJECT_KEYWORDS) or not any(_string(schema, k).strip() for k in NOTES[:2])


def schema_type(schema: dict):
    """Return the schema's type; of a list of types (`["string", "null"]`) the first that is not null."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null" if kind == ["null"] else None)
    if kind is None and (isinstance(schema.get("properties"), dict) or _alternatives_keyword(schema)):
        return "object"
    return kind


def _alternatives_keyword(schema: dict, resolve=lambda member: member) -> str:
    """Return "oneOf" or "anyOf" when that keyword lists alternatives with fields of their own, else ""."""
    for keyword in ("oneOf", "anyOf"):
        members = schema.get(keyword)
        if isinstance(members, list) and any(_has_fields(resolve(member)) for member in members):
            return keyword
    return ""


def _has_fields(member) -> bool:
    """An alternative with fields: a member with "properties" or "type": "object"."""
    return isinstance(member, dict) and (isinstance(member.get("properties"), dict) or member.get("type") == "object")


def _int(schema: dict, key: str) -> int | None:
    value = schema.get(key)
    if isinstance(value, float) and value.is_integer():  # "minLength": 2.0 is 2 to JSON Schema
        return int(value)
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
        self._expanding: list[str] = []  # the references being expanded, outermost first
        self._base = schema.get("$id") if isinstance(schema.get("$id"), str) else ""
        self._resources: dict[str, dict] = {}  # the file's schema resources by URI: the root and each "$id"
        self._anchors: dict[str, dict] = {}  # "uri#name" of each "$anchor"
        self._index(schema, self._base)

    def _index(self, schema, base: str) -> None:
        """Record the schema resources embedded in the file (a bundle): each "$id" and "$anchor", by its URI."""
        if isinstance(schema, list):
            for entry in schema:
                self._index(entry, base)
            return
        if not isinstance(schema, dict):
            return
        if isinstance(schema.get("$id"), str):
            base = _join(base, schema["$id"]).partition("#")[0]
            self._resources.setdefault(base, schema)
        elif not self._resources:
            self._resources[base] = schema
        if isinstance(schema.get("$anchor"), str):
            self._anchors.setdefault(f"{base}#{schema['$anchor']}", schema)
        for key, value in schema.items():
            if key not in _VALUES:
                self._index(value, base)

    def problem(self, pointer: tuple, message: str) -> None:
        self.problems.append(self.source.say(pointer, message))

    def warning(self, pointer: tuple, message: str) -> None:
        self.warnings.append(self.source.say(pointer, message, severity=WARNING))

    def root(self, form_id: str) -> Field:
        """Return the form's root field: a group with the form's title (else its id, with a warning).

        A root that is not an object is a form with one question, named ANSWER, labelled by the form's title.
        """
        title = self.schema.get("title")
        title = title if isinstance(title, str) and title.strip() else form_id
        try:
            if is_object_root(self.schema):
                root = self.build(self.schema, form_id, (), (), True)
                if not root.kind.is_container:  # nothing at all (`{}`): an object, closed, with no questions
                    root.kind, root.any_value = Kind.GROUP, False
            else:
                root = Field(form_id, (), Kind.GROUP, title)
                root.children.append(self.build({**self.schema, "title": title}, ANSWER, (ANSWER,), (), True))
                if root.children[0].any_value:
                    self.warning(
                        (),
                        'har ingen "type", så formuläret är en enda fråga som tar emot vilket svar som helst. '
                        'Skriv "type": "object" och "properties" för ett formulär med fält, eller till exempel '
                        '"type": "string" för en textfråga.',
                    )
        except _TooDeep as deep:  # required at every level: it could never end
            self.problem(
                deep.pointer,
                f'"$ref" "{deep.ref}" pekar på sig själv, så fältet skulle få oändligt många nivåer. '
                'Peka på en annan del, skriv ut fältet, eller gör det frivilligt (inte i "required").',
            )
            root = Field(form_id, (), Kind.GROUP, title, self.schema)
        root.title = title
        if root.title == form_id:
            self.warning((), f'saknar "title", så rubriken blir "{form_id}". Lägg till en "title" överst.')
        return root

    def resolve(self, schema, pointer: tuple, refs: list | None = None, chain: tuple = ()) -> dict:
        """Return the schema with its `$ref` merged in (a pointer in the file, or an embedded `$id` or `$anchor`)
        and its `allOf` of plain schemas merged into one; say so when it cannot be.

        `refs` collects the references followed, so `build` knows how deep a recursive reference is; `chain`
        holds the ones followed for this one schema, a reference to itself without a field between.
        """
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        if not isinstance(ref, str):
            return self._combined(schema, pointer, refs)
        target, key = self._target(ref)
        if target is _OUTSIDE:
            self.problem(
                pointer + ("$ref",),
                f'"$ref" "{ref}" pekar utanför filen. Peka inom filen, till exempel "#/$defs/namn", eller till en '
                'del med eget "$id" i "$defs".',
            )
            return {k: v for k, v in schema.items() if k != "$ref"}
        if not isinstance(target, dict):
            self.problem(
                pointer + ("$ref",), f'"$ref" pekar på "{ref}" som inte finns. Rätta sökvägen eller lägg till delen.'
            )
            return {k: v for k, v in schema.items() if k != "$ref"}
        if key in chain or target is self.schema:  # the whole form inside one of its fields is never expanded
            self.problem(
                pointer + ("$ref",),
                f'"$ref" "{ref}" pekar på sig själv, så fältet skulle få oändligt många nivåer. '
                "Peka på en annan del eller skriv ut fältet.",
            )
            return {k: v for k, v in schema.items() if k not in ("$ref", "properties", "items")}
        if self._expanding.count(key) >= (_int(target, "x-max-depth") or MAX_DEPTH):
            raise _TooDeep(pointer + ("$ref",), ref)
        if refs is not None:
            refs.append(key)
        self._expanding.append(key)
        try:
            resolved = self.resolve(target, pointer, refs, chain + (key,))
        finally:
            self._expanding.pop()
        return self._combined({**resolved, **{k: v for k, v in schema.items() if k != "$ref"}}, pointer, refs)

    def _target(self, ref: str):
        """Return what a `$ref` points at in the file, None when nothing is there, _OUTSIDE when not in the file,
        and the reference's absolute spelling (the key recursion is counted by)."""
        if ref.startswith("#/") or ref == "#":
            uri, fragment = self._base, ref[1:]
        else:
            uri, _, fragment = _join(self._base, ref).partition("#")
        resource = self._resources.get(uri)
        if resource is None:
            return _OUTSIDE, ref
        key = f"{uri}#{fragment}"
        if fragment and not fragment.startswith("/"):
            return self._anchors.get(key), key
        target = resource
        for part in [p.replace("~1", "/").replace("~0", "~") for p in fragment.split("/")[1:]]:
            target = target.get(part) if isinstance(target, dict) else None
        return target, key

    def _combined(self, schema: dict, pointer: tuple, refs: list | None) -> dict:
        """Return the schema with its `allOf` of plain schemas merged into it (for the form only: the server
        validates the schema as written), and a `oneOf` of one group and `"type": "null"` as that group."""
        members = schema.get("oneOf")
        if isinstance(members, list) and len(members) > 1 and "properties" not in schema:
            real = [(i, m) for i, m in enumerate(members) if not _is_null(m)]
            if len(real) == 1 and _has_fields(self.quietly_resolve(real[0][1])):
                index, member = real[0]
                rest = {k: v for k, v in schema.items() if k != "oneOf"}
                return {**self.resolve(member, pointer + ("oneOf", index), refs), **rest}
        lists = schema.get("anyOf")
        if isinstance(lists, list) and lists and not any(key in schema for key in ("type", "items", "properties")):
            if all(schema_type(self.quietly_resolve(member)) == "array" for member in lists):
                # a list of one kind or another: the form asks the first kind, which "anyOf" always takes
                rest = {k: v for k, v in schema.items() if k != "anyOf"}
                return {**self.resolve(lists[0], pointer + ("anyOf", 0), refs), **rest}
        parts = schema.get("allOf")
        if not isinstance(parts, list):
            return schema
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        kept = []
        for index, part in enumerate(parts):
            if not isinstance(part, dict) or any(key in part for key in (*CONDITIONAL, "oneOf", "anyOf")):
                kept.append(part)  # conditions and alternatives are read where the group is built
                continue
            at = pointer + ("allOf", index)
            _alias(self.source, at, pointer, keep=True)
            merged = self._meet(merged, self.resolve(part, at, refs), at)
        if kept:
            merged["allOf"] = kept
        return merged

    def _meet(self, first: dict, second: dict, pointer: tuple) -> dict:
        """Return one schema that asks what both ask, as far as a form field can; say what it cannot."""
        result = dict(first)
        for key, value in second.items():
            if key in _IDENTIFIERS:
                continue
            if key not in result or key in NOTES or key in ("default", "examples"):
                result.setdefault(key, value)
            elif key == "properties" and isinstance(value, dict) and isinstance(result[key], dict):
                properties = dict(result[key])
                for name, rule in value.items():
                    at = pointer + ("properties", name)
                    if name in properties:
                        properties[name] = self._meet(self.resolve(properties[name], at), self.resolve(rule, at), at)
                    else:
                        properties[name] = rule
                result[key] = properties
            elif key == "required" and _names(value) == value and _names(result[key]) == result[key]:
                result[key] = list(dict.fromkeys(result[key] + value))
            elif key == "type":
                types = _common_types(result[key], value)
                if not types:
                    self.problem(
                        pointer + ("type",),
                        f'"allOf" kräver både "type": {_json(result[key])} och {_json(value)}, och inget svar kan '
                        'vara båda. Rätta "type" så att delarna passar ihop.',
                    )
                    continue
                result[key] = types[0] if len(types) == 1 else types
            elif key in _LOWER_BOUNDS and _number(second, key) is not None and _number(result, key) is not None:
                result[key] = max(result[key], value)
            elif key in _UPPER_BOUNDS and _number(second, key) is not None and _number(result, key) is not None:
                result[key] = min(result[key], value)
            elif key == "enum" and isinstance(value, list) and isinstance(result[key], list):
                result[key] = [v for v in result[key] if any(v == w and type(v) is type(w) for w in value)]
            elif result[key] != value:
                self.problem(
                    pointer + (key,),
                    f'"allOf" ger "{key}" två olika värden, och det kan formuläret inte visa som en fråga. '
                    f'Skriv "{key}" en gång, i en av delarna.',
                )
        return result

    def quietly_resolve(self, schema) -> dict:
        """Return `schema` resolved as `resolve` does, saying nothing: its problems are said where it is built."""
        said = len(self.problems)
        try:
            return self.resolve(schema, ())
        finally:
            del self.problems[said:]

    def build(self, schema, name: str, path: tuple, pointer: tuple, required: bool) -> Field:
        """Return the Field for one (sub)schema, with everything below it."""
        refs: list[str] = []
        schema = self.resolve(schema, pointer, refs)
        self._expanding += refs
        try:
            return self._build(schema, name, path, pointer, required)
        finally:
            del self._expanding[len(self._expanding) - len(refs) :]

    def _build(self, schema: dict, name: str, path: tuple, pointer: tuple, required: bool) -> Field:
        title = schema["title"] if _string(schema, "title").strip() else ""
        if not title and path and path[-1] != "*" and not name.isdigit():  # rows and tuple positions
            label = humanize(name)
            self.warning(pointer, f'saknar "title", så etiketten blir "{label}". Lägg till en "title" med etiketten.')
        description = _string(schema, "description")
        node = _typed(Field(name, path, Kind.TEXT, title or humanize(name), schema, description, required))
        kind, widget = schema_type(schema), node.widget
        if schema.get("enum") == []:
            self.problem(
                pointer + ("enum",), '"enum" är tom, så inget svar går att ge. Lägg till värden eller ta bort "enum".'
            )
        alternatives = _alternatives_keyword(schema, self.quietly_resolve)
        if alternatives and kind is None:
            kind = "object"
        choices, values = _choices(schema)
        if choices and isinstance(schema.get("enum"), list) and None in schema["enum"]:
            node.nullable, node.required = True, False
        if kind == "object":
            self._group(node, schema, pointer)
            if alternatives:
                self._alternatives(node, schema, pointer, alternatives)
        elif (
            kind in ("string", "array", None)
            and "prefixItems" not in schema
            and _is_file(
                items := self.resolve(schema.get("items"), pointer + ("items",)) if kind == "array" else schema
            )
        ):
            self._file(node, items, pointer if kind == "string" else pointer + ("items",), multiple=kind == "array")
        elif kind == "array":
            self._array(node, schema, pointer)
        elif kind == "boolean" and not choices:
            node.kind = Kind.CHECKBOX
        elif choices:
            node.choices, node.choice_values = choices, values
            fits = Kind.RADIO if len(node.choices) <= 4 else Kind.SELECT
            node.kind = Kind(widget) if widget in ("radio", "select") else fits
        elif kind in ("integer", "number"):
            node.kind = Kind(kind)
        elif kind in ("string", None, "null"):
            fmt = node.format
            node.kind = Kind(fmt) if fmt in FORMATS else (Kind.TEXTAREA if widget == "textarea" else Kind.TEXT)
            node.any_value = kind is None and node.kind in (Kind.TEXT, Kind.TEXTAREA) and not node.fixed
        if kind != "object" and (found := next((key for key in CONDITIONAL if key in schema), None)):
            self.problem(
                pointer + (found,),
                f'"{found}" fungerar bara i en grupp ("type": "object" med "properties"): villkoret ska stå i '
                "gruppen som har både frågan det gäller och frågorna som läggs till. Flytta det dit.",
            )
        elif kind == "null" and not (title or description):
            self.problem(
                pointer + ("type",),
                '"type": "null" har inget att fylla i, så fältet visas bara som en text. '
                'Ge det en "title" eller "description" som säger något, eller ta bort fältet.',
            )
        for keyword in ("allOf", "not") if not node.kind.is_container else ():
            if keyword in schema:  # the server would check it, the page could not show it: two verdicts
                self.problem(
                    pointer + (keyword,),
                    f'"{keyword}" på en fråga kan inte visas eller kontrolleras i formuläret, så webbläsaren och '
                    'servern skulle bedöma svaren olika. Skriv kraven direkt i fältet (till exempel "type" och '
                    f'"minimum") eller ta bort "{keyword}".',
                )
        if widget in ("radio", "select") and not node.choices:
            self.problem(
                pointer + ("x-widget",),
                f'"x-widget": "{widget}" behöver val. Lägg till "oneOf" med "const" och "title", eller "enum", '
                'eller ta bort "x-widget".',
            )
        return node

    def _array(self, node: Field, schema: dict, pointer: tuple) -> None:
        """Make an array a list of groups, a list of values, a set of checkboxes or a tuple; else say why not."""
        for keyword in ("contains", "minContains", "maxContains"):
            if keyword in schema:
                self.problem(
                    pointer + (keyword,),
                    f'"{keyword}" kan inte visas som frågor i ett formulär. Ta bort "{keyword}" '
                    'och beskriv kravet i "description", eller använd "minItems".',
                )
        if isinstance(schema.get("prefixItems"), list):
            self._tuple(node, schema, pointer)
            return
        items = self.resolve(schema.get("items"), pointer + ("items",))
        if schema_type(items) == "object":
            self._rows(node, schema, items, pointer, group=True)
        elif _choices(items)[0]:
            node.kind = Kind.CHECKBOXES
            node.choices, node.choice_values = _choices(items)
        elif items and schema_type(items) in SIMPLE_TYPES:
            self._rows(node, schema, items, pointer)  # one value per row; optional one by one, minItems counts them
            self._one_value(node.item, pointer + ("items",))
        elif schema_type(items) == "array" and self._of_values(items):
            self._rows(node, schema, items, pointer)  # each row a list of values, with its own rows; blank ones dropped
        elif not node.fixed:  # a const list is a fixed answer, shown as it is
            why = {
                "array": ' En lista av listor stöds bara när de inre listorna har enkla värden ("type": "string", '
                '"integer" eller "number"): gör annars raderna till grupper ("type": "object").',
                "boolean": ' En lista av "boolean" stöds inte: använd "enum" med valen, så blir det kryssrutor.',
            }.get(schema_type(items), "")
            self.problem(
                pointer,
                'en lista ska ha "items" som är en grupp ("type": "object" med "properties"), '
                'val ("enum" eller "oneOf" med "const" och "title") eller ett enkelt värde ("type": "string", '
                f'"integer" eller "number").{why} Rätta "items".',
            )

    def _tuple(self, node: Field, schema: dict, pointer: tuple) -> None:
        """A tuple: one labelled row per entry of prefixItems, each a field as the kit asks it anywhere else; after
        them, rows to add and remove (like a list's) when "items" (draft-07 "additionalItems") is a schema."""
        node.kind = Kind.TUPLE
        for index, entry in enumerate(schema["prefixItems"]):
            here, name = pointer + ("prefixItems", index), str(index)
            child = self.build(entry, name, node.path + (name,), here, index < node.min_items)
            child.title = _string(child.schema, "title").strip() or f"Värde {index + 1}"
            if self._entry(child, here, '"prefixItems" (eller "items" som en lista)'):
                node.children.append(child)
        extra = schema.get("items", False)
        if isinstance(extra, dict):
            here = pointer + ("items",)
            rows = self.resolve(extra, here)
            item = self.build(extra, "*", node.path + ("*",), here, schema_type(rows) == "object")
            item.title = str(schema.get("x-item-title") or _string(rows, "title").strip() or EXTRA_TITLE)
            if self._entry(item, here, '"items" efter "prefixItems" (draft-07: "additionalItems")'):
                node.item, node.item_title = item, item.title
        # "items": true (any value at all) is refused by the kit's own schema (formkit-schema.json)

    def _entry(self, node: Field, pointer: tuple, keyword: str) -> bool:
        """Make a tuple's position, or its added rows, a field the kit can ask there; say why not when it cannot be.

        A boolean is a yes/no question: a box left unticked would be no answer, and a later value needs one here.
        """
        if node.kind == Kind.CHECKBOX:
            node.kind, node.choices, node.choice_values = Kind.RADIO, [("true", "Ja"), ("false", "Nej")], [True, False]
        elif node.kind in (Kind.LIST, Kind.TUPLE):
            self.problem(
                pointer,
                f"{keyword} kan inte ha en lista som värde. Lägg listan i en grupp "
                '("type": "object" med "properties") och gör gruppen till värdet.',
            )
            return False
        elif any(inner.kind == Kind.FILE for inner in node.walk()):
            self.problem(pointer, f"{keyword} kan inte ha filer. Fråga efter filen i ett eget fält utanför listan.")
            return False
        return True

    def _rows(self, node: Field, schema: dict, items: dict, pointer: tuple, group: bool = False) -> None:
        """Make `node` a list whose rows are `items` (a group's fields each, or one value or list of values)."""
        node.kind = Kind.LIST
        node.item = self.build(schema.get("items"), "*", node.path + ("*",), pointer + ("items",), group)
        node.item_title = node.item.title = str(schema.get("x-item-title") or items.get("title") or node.title)

    def _of_values(self, schema: dict) -> bool:
        """Return whether an array schema is a list of simple values (text or numbers, no choices or files)."""
        inner = self.quietly_resolve(schema.get("items"))
        simple = schema_type(inner) in SIMPLE_TYPES and not _choices(inner)[0] and not _is_file(inner)
        return simple and "prefixItems" not in schema and isinstance(schema.get("items"), dict)

    def _one_value(self, node: Field, pointer: tuple) -> None:
        if node.kind == Kind.CHECKBOX or node.kind.holds_fields:
            self.problem(pointer, 'ett värde i en lista kan inte vara "boolean". Använd "enum" med två val.')

    def _group(self, node: Field, schema: dict, pointer: tuple) -> None:
        node.kind = Kind.GROUP
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        wanted = schema.get("required") if isinstance(schema.get("required"), list) else []
        wanted = wanted + [name for block, _ in _blocks(schema, pointer)[1:] for name in _names(block.get("required"))]
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
                try:
                    path, needed = node.path + (child_name,), child_name in wanted
                    built = self.build(child, child_name, path, child_pointer, needed)
                except _TooDeep:
                    if needed:
                        raise  # a required field: the level above must end the recursion
                    continue  # a recursive reference, MAX_DEPTH levels down: the form asks no deeper
                node.children.append(built)
        if any(key in block for block, _ in _blocks(schema, pointer) for key in CONDITIONAL):
            _Conditions(self, node, schema, pointer, wanted).read()
        self._extra_keys(node, schema, pointer)

    def _pairs(self, node: Field, schema: dict, extra: dict, value: Field, pattern: str = "") -> None:
        """Add the group's name–value rows (Kind.PAIRS) after its fields: a row is a name ("Namn") and a value.

        `extra`: the schema of each value; `pattern`: the one a name must match (patternProperties), if any.
        """
        path = node.path + (PAIRS,)
        title = _string(extra, "title").strip() or "Fler uppgifter"
        rows = Field(PAIRS, path, Kind.PAIRS, title, extra, _string(extra, "description"))
        row = Field("*", path + ("*",), Kind.GROUP, "Uppgift", {})
        name = Field(PAIR_NAME, path + ("*", PAIR_NAME), Kind.TEXT, "Namn", {"type": "string"}, required=True)
        name.pattern = pattern
        value.required, value.description = True, ""
        row.children = [name, value]
        rows.item, rows.item_title = row, "uppgift"
        rows.max_items = _int(schema, "maxProperties") or MAX_ROWS
        node.children.append(rows)

    def _file(self, node: Field, schema: dict, pointer: tuple, multiple: bool) -> None:
        """Make `node` a file field: its types from contentMediaType or x-accept, its size from x-max-bytes."""
        node.kind, node.multiple = Kind.FILE, multiple
        if multiple:
            node.format = _string(schema, "format")  # "data-url" or base64: how each file is written
            node.max_items = _int(node.schema, "maxItems") or MAX_FILES
        accept = schema.get("x-accept", node.schema.get("x-accept"))
        declared = [accept] if isinstance(accept, str) else accept if isinstance(accept, list) else []
        if isinstance(schema.get("contentMediaType"), str):
            declared = [schema["contentMediaType"], *declared]
        unknown = [t for t in declared if not isinstance(t, str) or t.lower() not in FILE_TYPES]
        if unknown:
            where = "x-accept" if "x-accept" in schema else "contentMediaType"
            self.problem(
                pointer + (where,),
                f'filtypen "{unknown[0]}" känner kitet inte igen. Välj bland {", ".join(FILE_TYPES)}.',
            )
        node.accept = tuple(dict.fromkeys(t.lower() for t in declared if isinstance(t, str))) or FILE_TYPES
        size = _int(schema, "x-max-bytes") or _int(node.schema, "x-max-bytes")  # below 1: refused by the conventions
        node.max_bytes = size if size and size > 0 else MAX_BYTES

    def _alternatives(self, node: Field, schema: dict, pointer: tuple, keyword: str) -> None:
        """Add a group's choice between alternatives (oneOf/anyOf of objects) after its own fields.

        Every alternative's fields sit in the group's own object, so their names must differ from the group's.
        Two alternatives may share a name: the answer is checked against the alternative chosen (not "exactly
        one" as "oneOf" says), and each such field posts under its alternative's key (paths.py), so that a page
        without JavaScript, which posts every alternative's fields, names them apart.
        """
        choice = Field(CHOICE, node.path + (CHOICE,), Kind.ALTERNATIVES, CHOOSE, schema, ANSWER_CHOSEN)
        choice.branches = schema[keyword]
        own = {child.name for child in node.children}
        resolved_members = [self.quietly_resolve(member) for member in schema[keyword]]
        counted: dict[str, int] = {}
        for resolved in resolved_members:
            props = resolved.get("properties") if isinstance(resolved.get("properties"), dict) else {}
            for name in props:
                counted[name] = counted.get(name, 0) + 1
        shared = {name for name, count in counted.items() if count > 1}
        needs: list[bool] = []  # per alternative: whether it requires an answer
        for index, member in enumerate(schema[keyword]):
            at = pointer + (keyword, index)
            refs: list[str] = []
            resolved = self.resolve(member, at, refs)
            if not _has_fields(resolved):
                self.problem(
                    at,
                    f'"{keyword}" blandar alternativ med egna fält och andra värden, och det går inte att visa. '
                    'Låt varje alternativ ha "properties", eller använd val med "const" och "title".',
                )
                continue
            title = resolved["title"].strip() if _string(resolved, "title").strip() else f"Alternativ {index + 1}"
            # keyed as no field is ("_alternativ2"); the choice posts its number ("2") under the choice's name
            key = alternative_key(len(choice.alternatives) + 1)
            alternative = Field(key, node.path + (key,), Kind.GROUP, title, resolved)
            props = resolved.get("properties") if isinstance(resolved.get("properties"), dict) else {}
            wanted = resolved.get("required") if isinstance(resolved.get("required"), list) else []
            self._expanding += refs
            try:
                for name, child in props.items():
                    if not NAME.match(name):
                        self.problem(
                            at + ("properties", name),
                            f'fältnamnet "{name}" får bara innehålla a–z, A–Z, siffror och _, och ska börja med '
                            "en bokstav. Byt namn på fältet.",
                        )
                    elif name in own:
                        self.problem(
                            at + ("properties", name),
                            f'fältet "{name}" finns redan i gruppens egna fält. Fälten i alternativen ("{keyword}") '
                            "och gruppen behöver olika namn: byt namn på det ena.",
                        )
                    else:
                        path = (alternative.path if name in shared else node.path) + (name,)
                        alternative.children.append(
                            self.build(child, name, path, at + ("properties", name), name in wanted)
                        )
            finally:
                del self._expanding[len(self._expanding) - len(refs) :]
            choice.alternatives.append(alternative)
            choice.choices.append((str(len(choice.alternatives)), title))
            needs.append(any(isinstance(w, str) for w in wanted))
        if schema.get("additionalProperties") is False and any(a.children for a in choice.alternatives):
            self.problem(
                pointer + ("additionalProperties",),
                '"additionalProperties": false tillåter bara gruppens egna fält, så svaren i alternativen '
                f'("{keyword}") skulle aldrig godtas. Ta bort "additionalProperties" eller använd '
                '"unevaluatedProperties": false.',
            )
        discriminator = schema.get("discriminator")
        if isinstance(discriminator, dict) and isinstance(discriminator.get("propertyName"), str):
            choice.discriminator = discriminator["propertyName"]
        # The choice must be made unless an alternative needs no answers, or the whole group may be left out.
        choice.required = (node.required or not node.path) and all(needs)
        if node.path and node.path[-1] != "*":  # two choices in a form: the summary's links must tell them apart
            choice.item_title = node.title
        node.children.append(choice)

    def _extra_keys(self, node: Field, schema: dict, pointer: tuple) -> None:
        """Give a group name–value rows for the keys a simple `additionalProperties` takes; refuse other extra keys.

        Otherwise a group is closed whatever its schema says: `additionalProperties` absent, `true` or `false` all
        mean that only its "properties" are answers (validation refuses any other key, on every path).
        """
        extra, patterns = schema.get("additionalProperties"), schema.get("patternProperties")
        offered, pattern, where = extra, "", pointer + ("additionalProperties",)
        if isinstance(patterns, dict) and len(patterns) == 1 and (extra is None or isinstance(extra, bool)):
            [(pattern, offered)] = patterns.items()  # one pattern: rows whose names must match it
            where = pointer + ("patternProperties", pattern)
        if isinstance(offered, dict) and (pattern or "patternProperties" not in schema):
            titled = {**offered, "title": "Värde"}  # the row's own label; an editor's title names the rows
            value = self.build(titled, PAIR_VALUE, node.path + (PAIRS, "*", PAIR_VALUE), where, True)
            if value.kind in (Kind.TEXT, Kind.TEXTAREA, Kind.INTEGER, Kind.NUMBER):
                self._pairs(node, schema, offered, value, pattern)
                return
        if extra is not None and not isinstance(extra, bool):
            self.problem(
                pointer + ("additionalProperties",),
                '"additionalProperties" stöds bara som text eller tal ({"type": "string"}, "integer" eller "number"): '
                "andra svar skulle inte komma fram i dokumentet eller e-posten. Skriv varje fält i "
                '"properties", eller gör "additionalProperties" till text, tal eller false.',
            )
        if "patternProperties" in schema:
            self.problem(
                pointer + ("patternProperties",),
                '"patternProperties" (fält vars namn följer ett mönster) stöds bara med ett mönster vars värde är '
                'text eller tal, och utan "additionalProperties": andra svar skulle inte komma fram i dokumentet '
                'eller e-posten. Skriv varje fält i "properties", eller förenkla "patternProperties".',
            )


def _is_file(schema: dict) -> bool:
    """Return whether a string schema is a file: a data-url, or content with a media type or base64 encoding."""
    return schema_type(schema) in ("string", None) and (
        schema.get("format") == "data-url" or "contentMediaType" in schema or schema.get("contentEncoding") == "base64"
    )


def _typed(node: Field) -> Field:
    """Fill in a field's typed limits, widget and messages from its schema; odd values are left out."""
    schema = node.schema
    node.min_length, node.max_length = _int(schema, "minLength"), _int(schema, "maxLength")
    node.pattern, node.format = _string(schema, "pattern"), _string(schema, "format")
    node.minimum, node.maximum = _number(schema, "minimum"), _number(schema, "maximum")
    node.min_items = _int(schema, "minItems") or 0
    node.max_items = MAX_ROWS if _int(schema, "maxItems") is None else _int(schema, "maxItems")
    node.unique_items = schema.get("uniqueItems") is True
    node.widget, node.autocomplete = _string(schema, "x-widget"), _string(schema, "x-autocomplete")
    node.placeholder = _string(schema, "x-placeholder")
    messages = schema.get("x-messages")
    node.message = messages if isinstance(messages, str) else ""
    node.messages = {k: v for k, v in messages.items() if isinstance(v, str)} if isinstance(messages, dict) else {}
    node.default = schema.get("default")
    node.exclusive_minimum = _number(schema, "exclusiveMinimum")
    node.exclusive_maximum = _number(schema, "exclusiveMaximum")
    multiple = _number(schema, "multipleOf")
    node.multiple_of = multiple if multiple is not None and multiple > 0 else None
    types = schema.get("type")
    node.nullable = isinstance(types, list) and "null" in types and types != ["null"]
    node.also_text = schema_type(schema) in ("integer", "number") and isinstance(types, list) and "string" in types
    node.required = node.required and not node.nullable  # null is an answer: a nullable field may be left empty
    if "const" in schema:
        node.const = schema["const"]
    elif schema_type(schema) == "null":
        node.const = None
    node.read_only = schema.get("readOnly") is True or node.fixed
    node.write_only = schema.get("writeOnly") is True and not node.read_only
    examples = schema.get("examples")
    if not node.placeholder and isinstance(examples, list) and examples and isinstance(examples[0], str | int | float):
        node.placeholder = label(examples[0]) if not isinstance(examples[0], bool) else ""
    return node


def _names(value) -> list[str]:
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


def _blocks(schema: dict, pointer: tuple) -> list[tuple[dict, tuple]]:
    """Return the group's schema and the `allOf` parts that hold conditions or `required`, with their pointers."""
    parts = schema.get("allOf") if isinstance(schema.get("allOf"), list) else []
    found = [(schema, pointer)]
    for index, part in enumerate(parts):
        if isinstance(part, dict) and part and set(part) <= {*CONDITIONAL, "required", *NOTES}:
            found.append((part, pointer + ("allOf", index)))
    return found


def _values(schema) -> list | None:
    """Return the values a condition's `const` or `enum` allows, or None when it says something else."""
    if not isinstance(schema, dict) or set(schema) - {"const", "enum", "type", *NOTES}:
        return None
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) and enum else None


def _offered(schema: dict) -> list:
    """Return the values a choice field offers (its `enum`, or its `oneOf` consts)."""
    if isinstance(schema.get("enum"), list):
        return schema["enum"]
    one_of = schema.get("oneOf") if isinstance(schema.get("oneOf"), list) else []
    return [option.get("const") for option in one_of if isinstance(option, dict)]


class _Conditions:
    """Read a group's conditional questions: the fields `then`, `else` and dependencies add, and when each applies.

    A question a condition adds is placed right after the last field its condition reads, so the page, the
    check page, the document and the error summary all show it where it is asked.
    """

    def __init__(self, reader: FieldReader, node: Field, schema: dict, pointer: tuple, wanted: list):
        self.reader, self.node, self.schema, self.pointer = reader, node, schema, pointer
        self.wanted = set(wanted)
        self.fields = {child.name: child for child in node.children}
        self.added: dict[str, tuple[Field, tuple, list]] = {}  # name: (field, pointer, [(condition, required)])
        self.required_when: dict[str, list[Condition]] = {}
        self.choices: dict[str, dict[str, list[Condition]]] = {}  # an added question's choices: when each applies

    def problem(self, pointer: tuple, message: str) -> None:
        self.reader.problem(pointer, message)

    def read(self) -> None:
        for block, pointer in _blocks(self.schema, self.pointer):
            if "if" in block:
                self.if_then_else(block, pointer)
            elif "then" in block or "else" in block:
                key = "then" if "then" in block else "else"
                message = f'"{key}" gäller bara tillsammans med "if". Lägg till "if" eller ta bort "{key}".'
                self.problem(pointer + (key,), message)
            for key in ("dependentRequired", "dependentSchemas", "dependencies"):
                if key in block:
                    self.dependencies(block[key], pointer + (key,), key)
        if "dependencies" in self.schema and "unevaluatedProperties" in self.schema:
            self.problem(
                self.pointer + ("dependencies",),
                '"dependencies" (draft-07) räknas inte av "unevaluatedProperties", så frågorna som läggs till skulle '
                'inte gå att skicka. Skriv "dependentRequired" (listor) och "dependentSchemas" (scheman) i stället.',
            )
        if self.added and self.schema.get("additionalProperties") is False:
            self.problem(
                self.pointer + ("additionalProperties",),
                '"additionalProperties": false tar bort frågorna som villkoren lägger till, så formuläret går inte att '
                'skicka. Skriv "unevaluatedProperties": false i stället.',
            )
        self.place()

    def if_then_else(self, block: dict, pointer: tuple) -> None:
        test = self.test(block["if"], pointer + ("if",))
        if test is None:
            return
        when, otherwise = test
        for key, condition in (("then", when), ("else", otherwise)):
            if key in block:
                self.branch(block[key], pointer + (key,), condition, key)

    def test(self, schema, pointer: tuple) -> tuple[Condition, Condition] | None:
        """Return the conditions of an `if` and of its `else`, or None (with a problem) when the kit cannot ask it."""
        if not isinstance(schema, dict):
            self.problem(pointer, '"if" ska vara ett objekt med "properties" och eventuellt "required".')
            return None
        for key in sorted(set(schema) - {"properties", "required", "type", *NOTES}):
            self.problem(
                pointer + (key,),
                f'"if" med "{key}" går inte att visa som en fråga som kommer till. Kitet kan bara jämföra ett fält med '
                '"const" eller "enum" ("properties") och fråga om ett fält är ifyllt ("required").',
            )
            return None
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = _names(schema.get("required"))
        terms, opposite = [], []
        for name, rule in properties.items():
            values = _values(rule)
            if values is None:
                keys = [k for k in rule if k not in ("const", "enum", "type", *NOTES)] if isinstance(rule, dict) else []
                said = f'"{keys[0]}"' if keys else "det"
                self.problem(
                    pointer + ("properties", name) + ((keys[0],) if keys else ()),
                    f'"if" jämför "{name}" med {said}, och det kan kitet inte visa som en fråga som kommer till. '
                    'Jämför med "const" eller "enum".',
                )
                return None
            if not self.known(name, pointer + ("properties", name)):
                return None
            asked = Condition.is_in(name, values)
            strict = name in required or name in self.wanted
            terms.append(asked if strict else Condition.any_of([Condition.answered(name).negated(), asked]))
            opposite.append(self.otherwise(name, values))
        for name in required:
            if name not in properties:
                if not self.known(name, pointer + ("required",)):
                    return None
                terms.append(Condition.answered(name))
                opposite.append(Condition.answered(name).negated())
        when = Condition.all_of(terms)
        if when is None:
            self.problem(pointer, '"if" jämför inget fält. Lägg till "properties" med "const" eller "enum".')
            return None
        return when, (opposite[0] if len(opposite) == 1 else when.negated())

    def otherwise(self, name: str, values: list) -> Condition:
        """Return when `else` applies for one compared field: its other choices, else answered but not `values`."""
        node = self.field(name)
        rule = node.schema if node is not None else {}
        rest = [value for value in _offered(rule) if not any(value == v and type(value) is type(v) for v in values)]
        if node is not None and node.choices and rest:
            return Condition.is_in(name, rest)
        return Condition.all_of([Condition.answered(name), Condition.is_in(name, values).negated()])

    def field(self, name: str) -> Field | None:
        return self.fields.get(name) or (self.added[name][0] if name in self.added else None)

    def known(self, name: str, pointer: tuple) -> bool:
        node = self.field(name)
        props = self.schema.get("properties") if isinstance(self.schema.get("properties"), dict) else {}
        if node is None and name in props:
            return False  # a field with a bad name: the conventions check reports it
        if node is None:
            self.problem(
                pointer,
                f'villkoret nämner "{name}", men gruppen har inget sådant fält.'
                f"{did_you_mean(name, list(self.fields))} Rätta namnet.",
            )
            return False
        if node.kind.is_container:
            self.problem(pointer, f'villkoret kan inte gälla "{name}", som är en grupp. Låt det gälla ett fält i den.')
            return False
        return True

    def branch(self, schema, pointer: tuple, condition: Condition, keyword: str) -> None:
        """Add the fields of a `then`, `else` or dependent schema, asked when `condition` holds."""
        if not isinstance(schema, dict):
            self.problem(pointer, f'"{keyword}" ska vara ett objekt med "properties" och "required".')
            return
        allowed = {"properties", "required", *NOTES} | ({"oneOf"} if keyword == "dependentSchemas" else set())
        for key in sorted(set(schema) - allowed):
            self.problem(
                pointer + (key,),
                f'"{keyword}" med "{key}" går inte att visa som frågor som kommer till. '
                'Kitet kan lägga till fält ("properties") och göra fält obligatoriska ("required").',
            )
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = _names(schema.get("required"))
        for name, rule in properties.items():
            here = pointer + ("properties", name)
            if name in self.fields:
                rest = set(rule) - set(NOTES) if isinstance(rule, dict) else {"?"}
                if rest:
                    self.problem(
                        here,
                        f'"{keyword}" ändrar reglerna för "{name}", som redan finns i "properties", och det kan '
                        "webbläsaren inte visa. Skriv reglerna i fältet, eller lägg frågan bara här.",
                    )
                continue
            if not NAME.match(name):
                continue  # a bad name: the conventions check reports it
            self.add(name, rule, here, condition, name in required)
        for index, name in enumerate(required):
            if name in properties:
                continue
            if name in self.fields:
                if name not in self.wanted:
                    self.required_when.setdefault(name, []).append(condition)
            else:
                self.problem(
                    pointer + ("required", index),
                    f'"required" nämner "{name}", men det finns inget sådant fält.'
                    f"{did_you_mean(name, list(self.fields))} Rätta namnet.",
                )

    def add(self, name: str, rule, pointer: tuple, condition: Condition, required: bool) -> None:
        if name in self.added:
            known, first, conditions = self.added[name]
            if self.reader.resolve(rule, pointer) == self.reader.resolve(known.schema, first):
                keys = [key for key, _ in known.choices]
            else:
                keys = self.merged(known, rule, pointer)
            if keys is None:
                line = self.reader.source.line(first)
                self.problem(
                    pointer,
                    f'frågan "{name}" läggs till på två sätt (också på rad {line}). Ge frågorna olika namn, '
                    "eller samma regler på båda ställena.",
                )
                return
            conditions.append((condition, required))
            for key in keys:
                self.choices.setdefault(name, {}).setdefault(key, []).append(condition)
            return
        node = self.reader.build(rule, name, self.node.path + (name,), pointer, required)
        self.added[name] = (node, pointer, [(condition, required)])
        for key, _ in node.choices:
            self.choices.setdefault(name, {}).setdefault(key, []).append(condition)

    def merged(self, known: Field, rule, pointer: tuple) -> list[str] | None:
        """Merge a second set of choices into a question added before (one food for cats, another for fish).

        Only choices of text whose rules are otherwise the same: each choice is then offered while one of the
        conditions that list it holds. Return the second set's keys, or None when the two cannot be one question.
        """
        other = self.reader.build(rule, known.name, known.path, pointer, known.required)
        kinds = (Kind.RADIO, Kind.SELECT)
        if known.kind not in kinds or other.kind not in kinds or not other.choices:
            return None

        def rest(schema: dict) -> dict:
            return {k: v for k, v in schema.items() if k not in ("enum", "oneOf", *NOTES)}

        if rest(known.schema) != rest(other.schema) or schema_type(known.schema) not in ("string", None):
            return None
        if not all(isinstance(v, str) for schema in (known.schema, other.schema) for v in _offered(schema)):
            return None  # choices of other values post as JSON: keep such sets apart
        keys = [key for key, _ in known.choices]
        added = [(choice, value) for choice, value in zip(other.choices, other.choice_values, strict=True)]
        known.choices += [choice for choice, _ in added if choice[0] not in keys]
        known.choice_values += [value for choice, value in added if choice[0] not in keys]
        known.kind = Kind.SELECT if known.widget == "select" else Kind.RADIO  # radios: each says when it applies
        return [key for key, _ in other.choices]

    def dependencies(self, value, pointer: tuple, keyword: str) -> None:
        """Read dependentRequired, dependentSchemas, or draft-07 dependencies (a list or a schema per field)."""
        if not isinstance(value, dict):
            return  # the JSON Schema check says so
        for name, rule in value.items():
            here = pointer + (name,)
            if not self.known(name, here):
                continue
            answered = Condition.answered(name)
            if isinstance(rule, list) and keyword != "dependentSchemas":
                for index, needed in enumerate(rule):
                    if needed in self.fields:
                        if needed not in self.wanted:
                            self.required_when.setdefault(needed, []).append(answered)
                    elif isinstance(needed, str):
                        self.problem(
                            here + (index,),
                            f'"{keyword}" nämner "{needed}", men det finns inget sådant fält.'
                            f"{did_you_mean(needed, list(self.fields))} Rätta namnet.",
                        )
            elif isinstance(rule, dict) and keyword != "dependentRequired":
                self.branch(rule, here, answered, "dependentSchemas")
                if isinstance(rule.get("oneOf"), list):
                    self.alternatives(name, rule["oneOf"], here + ("oneOf",))

    def alternatives(self, name: str, options: list, pointer: tuple) -> None:
        """Read react-jsonschema-form's schema dependencies: one alternative per value of `name`, with its fields."""
        for index, option in enumerate(options):
            here = pointer + (index,)
            properties = option.get("properties") if isinstance(option, dict) else None
            values = _values(properties.get(name)) if isinstance(properties, dict) else None
            if values is None:
                self.problem(
                    here + (("properties",) if isinstance(option, dict) and "properties" in option else ()),
                    f'varje alternativ i "oneOf" ska ha "properties" med "{name}" och dess "enum" eller "const", '
                    "så att kitet vet när alternativets frågor gäller. Lägg till det.",
                )
                continue
            rest = {k: v for k, v in properties.items() if k != name}
            self.branch({**option, "properties": rest}, here, Condition.is_in(name, values), "oneOf")

    def place(self) -> None:
        """Give each added field its condition and put it right after the last field its condition reads."""
        for name, conditions in self.required_when.items():
            self.fields[name].required_when = Condition.any_of(conditions)
        after: dict[str, list[Field]] = {}
        for node, _, conditions in self.added.values():
            node.condition = Condition.any_of(condition for condition, _ in conditions)
            if not all(required for _, required in conditions):
                node.required = False
                node.required_when = Condition.any_of(condition for condition, required in conditions if required)
            after.setdefault(node.condition.names()[-1], []).append(node)
            offered = {key: Condition.any_of(conditions) for key, conditions in self.choices.get(node.name, {}).items()}
            if len(set(offered.values())) > 1:  # some choices apply only under some conditions
                node.choice_conditions = offered

        def placed(children):
            for child in children:
                yield child
                yield from placed(after.pop(child.name, []))

        self.node.children = list(placed(self.node.children))


_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas", "dependencies")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONES = ("items", "additionalItems", "additionalProperties", "not", "if", "then", "else")


def draft07_tuples(schema, source: Source | None = None, pointer: tuple = ()):
    """Return the schema with draft-07 tuples spelled as in 2020-12: "items": [...] as "prefixItems", and
    "additionalItems" as "items". The file keeps its spelling; `source` learns where the new spellings
    stand in it, so problems name the line.
    """
    if not isinstance(schema, dict):
        return schema
    result = dict(schema)
    if isinstance(schema.get("items"), list):
        result["prefixItems"] = schema["items"]
        _alias(source, pointer + ("items",), pointer + ("prefixItems",))
        if "additionalItems" in schema:
            result["items"] = result.pop("additionalItems")
            _alias(source, pointer + ("additionalItems",), pointer + ("items",))
        else:
            del result["items"]
    for key in _SCHEMA_MAPS:
        if isinstance(result.get(key), dict):
            result[key] = {k: draft07_tuples(v, source, pointer + (key, k)) for k, v in result[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(result.get(key), list):
            result[key] = [draft07_tuples(v, source, pointer + (key, i)) for i, v in enumerate(result[key])]
    for key in _SCHEMA_ONES:
        if key in result:
            result[key] = draft07_tuples(result[key], source, pointer + (key,))
    return result


def _alias(source: Source | None, old: tuple, new: tuple, keep: bool = False) -> None:
    """Let `source` find the lines under `old` by their new pointers; `keep`: a line already known stays."""
    if source is None:
        return
    for known, offset in list(source.offsets.items()):
        if known[: len(old)] == old:
            if keep:
                source.offsets.setdefault(new + known[len(old) :], offset)
            else:
                source.offsets[new + known[len(old) :]] = offset


def _join(base: str, ref: str) -> str:
    """Return `ref` resolved against `base`, or `ref` itself when it is no URI reference."""
    try:
        return urljoin(base, ref)
    except ValueError:
        return ref


class _TooDeep(Exception):
    """A recursive "$ref" reached MAX_DEPTH levels: the optional field it is in is left out of the form."""

    def __init__(self, pointer: tuple, ref: str):
        super().__init__(ref)
        self.pointer, self.ref = pointer, ref


_OUTSIDE = object()  # what a "$ref" to a schema outside the file points at
_VALUES = ("const", "enum", "default", "examples")  # data, not schemas: no "$id" in them counts
_IDENTIFIERS = ("$id", "$schema", "$anchor", "$defs", "definitions", "$comment")  # no rule for the field
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


def _types(value) -> list:
    if isinstance(value, str):
        return [value]
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def _common_types(first, second) -> list[str]:
    """Return the types both allow, in the first's order; an integer is a number."""
    a, b = _types(first), _types(second)
    found = [t for t in a if t in b or (t == "integer" and "number" in b)]
    found += [t for t in b if t == "integer" and "number" in a and t not in found]
    return found


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _is_null(member) -> bool:
    """A `"type": "null"` alternative with nothing else but words."""
    return isinstance(member, dict) and member.get("type") == "null" and set(member) <= {"type", *NOTES}
