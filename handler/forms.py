"""Form definitions: the only reader of schema/, shared by the site build and the handler.

A form is one JSON Schema file. `load_forms` reads every file, checks it against the kit's
conventions (`conventions.py`, from formkit-schema.json) and turns it into a tree of `Field`s that the
HTML renderer, the validator, the DOCX writer and the mailer all walk, so none of them interprets JSON
Schema on its own. Every problem is one Swedish line naming the file, the line, the field and what to do.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .conventions import FORMATS, NAME, Source, humanize, json_syntax
from .conventions import check as check_conventions
from .errors import FormDefinitionError

FORM_ID = re.compile(r"^[a-z][a-z0-9-]*$")
TOKEN = "token"  # a mail routing entry meaning: the address carried by the answer link's token


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
    source: Source | None = field(default=None, repr=False)

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
    forms, problems, _ = read_forms(schema_dir)
    if problems:
        raise FormDefinitionError(problems)
    return forms


def read_forms(schema_dir: str | Path) -> tuple[dict[str, Form], list[str], list[str]]:
    """Return the good forms of `schema_dir`, and every problem and warning, the forms' own and across forms."""
    directory = Path(schema_dir)
    if not directory.is_dir():
        return {}, [f"{directory}: mappen med formulär finns inte. Skapa den och lägg ett schema i den."], []
    forms, problems, warnings, ids = {}, [], [], {}
    for path in sorted(directory.glob("*.json")):
        form, form_problems, form_warnings = read_form(path)
        problems.extend(form_problems)
        warnings.extend(form_warnings)
        if form is not None:
            forms[form.id] = form
            declared = form.schema.get("$id")
            if isinstance(declared, str) and declared in ids:
                problems.append(
                    form.source.say(
                        ("$id",), f'"$id" "{declared}" används redan av {ids[declared]}. Ge formuläret ett eget id.'
                    )
                )
            ids.setdefault(declared, path)
    for form in forms.values():
        reply = form.settings.get("reply_form")
        if isinstance(reply, str) and reply and reply not in forms and not (directory / f"{reply}.json").exists():
            problems.append(
                form.source.say(
                    ("x-formkit", "reply_form"),
                    f'svarsformuläret "{reply}" finns inte i {directory}/.{difflib_hint(reply, list(forms))} '
                    f"Rätta namnet eller lägg till {directory}/{reply}.json.",
                )
            )
    _link_replies(forms, problems)
    return forms, problems, warnings


def _link_replies(forms: dict[str, Form], problems: list[str]) -> None:
    """Check each `reply_form` names a form; with a `reply_link`, mark it `reply_of` (answers then need a token)."""
    for form in forms.values():
        reply = form.settings.get("reply_form")
        if not reply or reply not in forms:  # a missing reply form is reported by read_forms
            continue
        if form.settings.get("reply_link"):
            forms[reply].settings["reply_of"] = form.id
    for form in forms.values():
        uses_token = any(TOKEN in _entries(form.settings["mail"].get(key)) for key in ("to", "cc", "receipt_to"))
        if uses_token and not form.settings.get("reply_of"):
            problems.append(
                f'{form.path}: x-formkit.mail: "{TOKEN}" betyder adressen i svarslänken, men inget formulär har '
                f'"reply_form": "{form.id}" och "reply_link". Lägg till dem i rapportformulärets x-formkit '
                f'eller ta bort "{TOKEN}".'
            )


def _entries(entries) -> list[str]:
    return [entries] if isinstance(entries, str) else list(entries or [])


def load_form(path: Path) -> Form:
    """Load one schema file into a Form, or raise FormDefinitionError naming the file, line and field."""
    form, problems, _ = read_form(path)
    if problems:
        raise FormDefinitionError(problems)
    return form


def read_form(path: Path) -> tuple[Form | None, list[str], list[str]]:
    """Return the form in one file (None when it has problems), its problems and its warnings."""
    text = path.read_text(encoding="utf-8")
    try:
        source, schema = Source.parse(path, text)
    except json.JSONDecodeError as error:
        return None, [json_syntax(path, text, error)], []
    form_id = path.stem
    problems: list[str] = []
    if not FORM_ID.match(form_id):
        problems.append(
            f"{path}:1: formuläret: filnamnet blir formulärets id och får bara innehålla små bokstäver a–z, "
            "siffror och bindestreck. Byt namn på filen, till exempel till ny-blankett.json."
        )
    problems.extend(check_conventions(source, schema))
    if not isinstance(schema, dict) or _kind(schema) != "object":  # reported above; nothing to build
        return None, problems, []
    reader = _Reader(source, schema)
    root = reader.build(schema, form_id, (), (), True)
    root.title = schema["title"] if isinstance(schema.get("title"), str) and schema["title"].strip() else form_id
    if root.title == form_id:
        reader.warning((), f'saknar "title", så rubriken blir "{form_id}". Lägg till en "title" överst.')
    settings = reader.settings(root)
    declared = schema.get("$id")
    if isinstance(declared, str) and FORM_ID.match(declared) and declared != form_id:
        reader.problem(
            ("$id",),
            f'"$id" är "{declared}" men filen heter {path.name}; formulärets id är filnamnet. '
            f'Ändra "$id" till "{form_id}" eller ta bort raden.',
        )
    problems.extend(line for line in reader.problems if line not in problems)
    if problems:
        return None, sorted(problems, key=source.line_of), reader.warnings
    canonical = json.dumps(schema, sort_keys=True, ensure_ascii=False).encode()
    version = hashlib.sha256(canonical).hexdigest()[:12]
    return Form(form_id, path, schema, root, settings, version, reader.warnings, source), [], reader.warnings


def difflib_hint(name: str, known: list[str]) -> str:
    """Return ' Menade du "x"?' when a known name is close to `name`."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f' Menade du "{close[0]}"?' if close else ""


def _choices(schema: dict) -> list[tuple[str, str]]:
    one_of = schema.get("oneOf")
    if isinstance(one_of, list) and one_of and all(isinstance(o, dict) and "const" in o for o in one_of):
        return [(_text(o["const"]), _text(o.get("title", o["const"]))) for o in one_of]
    if isinstance(schema.get("enum"), list):
        return [(_text(v), _text(v)) for v in schema["enum"]]
    return []


def _text(value) -> str:
    return "" if value is None else str(value)


def _kind(schema: dict):
    """Return the schema's type; of a list of types (`["string", "null"]`) the first that is not null."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and isinstance(schema.get("properties"), dict):
        return "object"
    return kind


class _Reader:
    """Build one form's Field tree, collecting problems and warnings with their place in the file."""

    def __init__(self, source: Source, schema: dict):
        self.source = source
        self.schema = schema
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self._expanding: list[str] = []

    def problem(self, pointer: tuple, message: str) -> None:
        line = self.source.say(pointer, message)
        if line not in self.problems:
            self.problems.append(line)

    def warning(self, pointer: tuple, message: str) -> None:
        line = self.source.say(pointer, message)
        if line not in self.warnings:
            self.warnings.append(line)

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
        title = schema.get("title") if isinstance(schema.get("title"), str) and schema["title"].strip() else None
        if title is None and path and path[-1] != "*":
            label = humanize(name)
            self.warning(pointer, f'saknar "title", så etiketten blir "{label}". Lägg till en "title" med etiketten.')
        description = schema.get("description")
        node = Field(
            name,
            path,
            "text",
            title or humanize(name),
            schema,
            description if isinstance(description, str) else "",
            required,
        )
        kind, widget = _kind(schema), schema.get("x-widget")
        if kind == "object":
            self._group(node, schema, pointer)
        elif kind == "array":
            items = self.resolve(schema.get("items"), pointer + ("items",))
            if _kind(items) == "object":
                node.kind = "list"
                node.item = self.build(schema.get("items"), "*", path + ("*",), pointer + ("items",), True)
                item_title = schema.get("x-item-title") or items.get("title") or node.title
                node.item.title = str(item_title)
            elif _choices(items):
                node.kind, node.choices = "checkboxes", _choices(items)
            else:
                self.problem(
                    pointer,
                    'en lista ska ha "items" som är en grupp ("type": "object" med "properties") '
                    'eller val ("enum" eller "oneOf" med "const" och "title"). Rätta "items".',
                )
        elif kind == "boolean":
            node.kind = "checkbox"
        elif kind in ("integer", "number"):
            node.kind = kind
        elif _choices(schema):
            node.choices = _choices(schema)
            node.kind = widget if widget in ("radio", "select") else ("radio" if len(node.choices) <= 4 else "select")
        elif kind in ("string", None):
            fmt = schema.get("format")
            node.kind = fmt if fmt in FORMATS else ("textarea" if widget == "textarea" else "text")
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
        node.kind = "group"
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        wanted = schema.get("required") if isinstance(schema.get("required"), list) else []
        for index, missing in enumerate(wanted):
            if isinstance(missing, str) and missing not in props:
                self.problem(
                    pointer + ("required", index),
                    f'"required" nämner "{missing}", men det finns inget sådant fält i "properties".'
                    f'{difflib_hint(missing, list(props))} Rätta namnet eller ta bort det ur "required".',
                )
        for child_name, child in props.items():
            if NAME.match(child_name):  # a bad name is reported by the conventions check
                child_pointer = pointer + ("properties", child_name)
                node.children.append(
                    self.build(child, child_name, node.path + (child_name,), child_pointer, child_name in wanted)
                )

    def settings(self, root: Field) -> dict:
        """Return the x-formkit settings with defaults; check that routing paths lead to e-mail fields."""
        raw = self.schema.get("x-formkit")
        settings = dict(raw) if isinstance(raw, dict) else {}
        mail = dict(settings["mail"]) if isinstance(settings.get("mail"), dict) else {}
        email_paths = ["/" + "/".join(node.path) for node in root.walk() if node.kind == "email"]
        # A field whose format is misspelt is already reported; do not report its routing path too.
        misspelt = {"/" + "/".join(n.path) for n in root.walk() if n.schema.get("format") not in (None, *FORMATS)}
        for key in ("to", "cc", "receipt_to", "reply_to"):
            entries = mail.get(key)
            listed = entries if isinstance(entries, list) else [entries]
            for index, entry in enumerate(listed):
                path = entry.rstrip("/") if isinstance(entry, str) else ""
                if path.startswith("/") and path not in email_paths and path not in misspelt:
                    where = ("x-formkit", "mail", key) + ((index,) if isinstance(entries, list) else ())
                    self.problem(where, _routing_message(entry, email_paths))
        if "reply_link" in settings:
            self.reply_link(settings, email_paths)
        settings["mail"] = mail
        prefix = re.sub(r"[^A-Z0-9]", "", self.source.path.stem.split("-")[0].upper())[:20]
        settings.setdefault("reference_prefix", prefix or "FORM")
        settings.setdefault("submit_label", "Skicka")
        settings.setdefault("privacy_guard", True)
        settings.setdefault("allowed_domains", [])
        return settings

    def reply_link(self, settings: dict, email_paths: list[str]) -> None:
        """Check the link to the reply form: it needs the reply form and a path to the address to answer to."""
        link, where = settings["reply_link"], ("x-formkit", "reply_link")
        if not isinstance(link, dict):
            return  # the kit's own schema already says what it should be
        if not settings.get("reply_form"):
            self.problem(where, 'kräver "reply_form": namnet på formuläret som svaret fylls i på.')
        answer_to = link.get("answer_to")
        if not isinstance(answer_to, str) or answer_to.rstrip("/") not in email_paths:
            self.problem(
                where + ("answer_to",),
                "ange sökvägen till e-postfältet dit svaret ska skickas, "
                f'till exempel "{email_paths[0] if email_paths else "/beskrivning/chef/epost"}".',
            )


def _routing_message(entry: str, email_paths: list[str]) -> str:
    if not email_paths:
        return (
            f'sökvägen "{entry}" pekar inte på ett e-postfält, och formuläret har inget fält med "format": "email". '
            "Lägg till ett sådant fält eller skriv en fast adress."
        )
    close = difflib.get_close_matches(entry, email_paths, n=1, cutoff=0.5)
    example = close[0] if close else email_paths[0]
    return (
        f'sökvägen "{entry}" pekar inte på ett e-postfält ("format": "email"). '
        f'Rätta sökvägen, till exempel "{example}". E-postfälten är {", ".join(email_paths)}.'
    )
