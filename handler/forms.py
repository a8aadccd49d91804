"""Form definitions: the only reader of schema/, shared by the site build and the handler.

A form is one JSON Schema file. `load_forms` reads every file, checks it against the kit's
conventions and turns it into a tree of `Field`s that the HTML renderer, the validator, the DOCX
writer and the mailer all walk, so none of them interprets JSON Schema on its own.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FormDefinitionError

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
FORM_ID = re.compile(r"^[a-z][a-z0-9-]*$")
FORMATS = {"email", "date"}
WIDGETS = {"text", "textarea", "tel", "select", "radio", "checkboxes", "checkbox"}
FIELD_KEYWORDS = {"x-widget", "x-autocomplete", "x-messages", "x-item-title", "x-placeholder"}
SETTINGS = {
    "reference_prefix",
    "submit_label",
    "allowed_domains",
    "privacy_guard",
    "mail",
    "receipt",
    "reply_form",
    "reply_link",
}
MAIL_SETTINGS = {"subject", "to", "cc", "body", "receipt_to", "receipt_subject", "receipt_body", "reply_to"}


@dataclass
class Field:
    """One node of a form: a section, a repeated group or an input."""

    name: str
    path: tuple[str, ...]  # "*" stands for an array index
    kind: str  # group, list, text, textarea, email, date, integer, number, checkbox, select, radio, checkboxes
    title: str
    schema: dict
    description: str = ""
    required: bool = False
    children: list[Field] = field(default_factory=list)
    item: Field | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)

    @property
    def dotted(self) -> str:
        """Return the path as the HTML field name pattern (`a.*.b`)."""
        return ".".join(self.path)

    def walk(self):
        """Yield this field and every field below it, in form order."""
        yield self
        for child in self.children:
            yield from child.walk()
        if self.item:
            yield from self.item.walk()


@dataclass(eq=False)
class Form:
    """A loaded, checked form definition."""

    id: str
    path: Path
    schema: dict
    root: Field
    settings: dict
    version: str
    warnings: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """Return the form's title."""
        return self.root.title

    def field_at(self, path: tuple) -> Field | None:
        """Return the field for a concrete or pattern path (indices become "*")."""
        pattern = tuple("*" if isinstance(p, int) or str(p).isdigit() else str(p) for p in path)
        for node in self.root.walk():
            if node.path == pattern:
                return node
        return None


def load_forms(schema_dir: str | Path) -> dict[str, Form]:
    """Load and check every `*.json` form in `schema_dir`; raise FormDefinitionError listing all problems."""
    forms, problems = {}, []
    directory = Path(schema_dir)
    if not directory.is_dir():
        raise FormDefinitionError(
            [f"{directory}: mappen med formulär finns inte. Skapa den och lägg ett schema i den."]
        )
    for path in sorted(directory.glob("*.json")):
        try:
            forms[path.stem] = load_form(path)
        except FormDefinitionError as error:
            problems.extend(error.problems)
    if problems:
        raise FormDefinitionError(problems)
    return forms


def load_form(path: Path) -> Form:
    """Load one schema file into a Form, or raise FormDefinitionError naming the file and field."""
    text = path.read_text(encoding="utf-8")
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as error:
        raise FormDefinitionError(
            [f"{path}:{error.lineno}:{error.colno}: ogiltig JSON ({error.msg}). Rätta tecknet vid raden och kolumnen."]
        ) from None
    problems: list[str] = []
    form_id = path.stem
    if not FORM_ID.match(form_id):
        problems.append(f"{path}: filnamnet ska bestå av små bokstäver a–z, siffror och bindestreck.")
    if not isinstance(schema, dict) or schema.get("type", "object") != "object" or "properties" not in schema:
        raise FormDefinitionError([f'{path}: schemat ska vara ett objekt med "type": "object" och "properties".'])
    _check_meta(path, schema, problems)
    warnings: list[str] = []
    root = _build(schema, schema, "", (), True, path, problems, warnings)
    root.title = schema.get("title") or form_id
    settings = _settings(path, schema, root, problems)
    if problems:
        raise FormDefinitionError(problems)
    canonical = json.dumps(schema, sort_keys=True, ensure_ascii=False).encode()
    version = hashlib.sha256(canonical).hexdigest()[:12]
    return Form(form_id, path, schema, root, settings, version, warnings)


def _check_meta(path: Path, schema: dict, problems: list[str]) -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(p) for p in error.path) or "(roten)"
        problems.append(f"{path}: {where}: följer inte JSON Schema: {error.message}")


def _resolve(root: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target = root
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, dict) else {}
    return {**_resolve(root, target), **{k: v for k, v in schema.items() if k != "$ref"}}


def _choices(schema: dict) -> list[tuple[str, str]]:
    if "oneOf" in schema and all(isinstance(o, dict) and "const" in o for o in schema["oneOf"]):
        return [(str(o["const"]), str(o.get("title", o["const"]))) for o in schema["oneOf"]]
    if "enum" in schema:
        return [(str(v), str(v)) for v in schema["enum"]]
    return []


def _build(root, schema, name, path, required, file, problems, warnings) -> Field:
    schema = _resolve(root, schema)
    where = f'{file}: fältet "{".".join(path) or "(roten)"}"'
    title = schema.get("title")
    if not title and path:
        warnings.append(f'{where} saknar "title"; namnet "{name}" visas som etikett. Lägg till en "title".')
    for key in schema:
        if key.startswith("x-") and key not in FIELD_KEYWORDS and not (key == "x-formkit" and not path):
            problems.append(
                f'{where}: okänt nyckelord "{key}". Kontrollera stavningen; tillåtna är {sorted(FIELD_KEYWORDS)}.'
            )
    node = Field(name, path, "text", str(title or name), schema, str(schema.get("description", "")), required)
    kind = schema.get("type")
    widget = schema.get("x-widget")
    if widget is not None and widget not in WIDGETS:
        problems.append(f'{where}: "x-widget": "{widget}" stöds inte. Välj en av {sorted(WIDGETS)}.')
    if kind == "object":
        node.kind = "group"
        wanted = schema.get("required", [])
        props = schema.get("properties", {})
        for missing in [r for r in wanted if r not in props]:
            problems.append(f'{where}: "required" nämner "{missing}" som inte finns bland "properties".')
        for child_name, child in props.items():
            if not NAME.match(child_name):
                problems.append(
                    f'{file}: fältnamnet "{child_name}" får bara innehålla små bokstäver a–z, siffror och _ '
                    "och börja med en bokstav."
                )
                continue
            node.children.append(
                _build(root, child, child_name, path + (child_name,), child_name in wanted, file, problems, warnings)
            )
    elif kind == "array":
        items = _resolve(root, schema.get("items", {}))
        if items.get("type") == "object":
            node.kind = "list"
            node.item = _build(root, items, "*", path + ("*",), True, file, problems, warnings)
            node.item.title = str(schema.get("x-item-title") or items.get("title") or node.title)
        elif _choices(items):
            node.kind = "checkboxes"
            node.choices = _choices(items)
        else:
            problems.append(f'{where}: en lista ska ha "items" som är ett objekt eller en uppräkning av val.')
    elif kind == "boolean":
        node.kind = "checkbox"
    elif kind in ("integer", "number"):
        node.kind = kind
    elif _choices(schema):
        node.choices = _choices(schema)
        node.kind = widget if widget in ("radio", "select") else ("radio" if len(node.choices) <= 4 else "select")
    elif kind in ("string", None):
        fmt = schema.get("format")
        if fmt is not None and fmt not in FORMATS:
            problems.append(f'{where}: formatet "{fmt}" stöds inte. Använd "email" eller "date", eller ta bort det.')
        node.kind = fmt if fmt in FORMATS else ("textarea" if widget == "textarea" else "text")
    else:
        problems.append(f'{where}: typen "{kind}" stöds inte.')
    return node


def _settings(file: Path, schema: dict, root: Field, problems: list[str]) -> dict:
    settings = dict(schema.get("x-formkit") or {})
    for key in settings:
        if key not in SETTINGS:
            problems.append(f'{file}: x-formkit: okänd inställning "{key}". Tillåtna är {sorted(SETTINGS)}.')
    mail = dict(settings.get("mail") or {})
    for key in mail:
        if key not in MAIL_SETTINGS:
            problems.append(f'{file}: x-formkit.mail: okänd inställning "{key}". Tillåtna är {sorted(MAIL_SETTINGS)}.')
    email_paths = {node.path for node in root.walk() if node.kind == "email"}
    for key in ("to", "cc", "receipt_to", "reply_to"):
        entries = mail.get(key) or []
        for entry in [entries] if isinstance(entries, str) else entries:
            if entry.startswith("/") and tuple(entry.strip("/").split("/")) not in email_paths:
                problems.append(
                    f'{file}: x-formkit.mail.{key}: sökvägen "{entry}" pekar inte på ett e-postfält '
                    '("format": "email"). Rätta sökvägen, till exempel "/verksamheter/*/chef_epost".'
                )
    settings["mail"] = mail
    settings.setdefault("reference_prefix", file.stem.split("-")[0].upper())
    settings.setdefault("submit_label", "Skicka")
    settings.setdefault("privacy_guard", True)
    settings.setdefault("allowed_domains", [])
    return settings
