"""Form definitions: the only reader of schema/, shared by the site build and the handler.

A form is one JSON Schema file. `read_forms` reads every file, checks it against the kit's conventions
(`conventions.py`, from formkit-schema.json), builds its Field tree (`fields.py`) and its frozen
`FormSettings` (`formsettings.py`), and links report and answer forms; so the renderer, the validator,
the DOCX writer and the mailer never interpret JSON Schema on their own. Defaults live here, in
`formsettings.py` and in `fields.py`, once. What is wrong is a `Problem` naming the file, the line, the
field and what to do; a form with problems is not built, gets no warnings, and no other form is blamed
for it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .conventions import WARNING, Problem, Source, did_you_mean, in_order, json_syntax
from .conventions import check as check_conventions
from .errors import FormDefinitionError
from .fields import ANSWER, MAX_ROWS, Field, FieldReader, Kind, draft07_tuples, is_object_root
from .formsettings import (
    DEADLINE_MONTHS,
    TOKEN,
    Digest,
    FormSettings,
    MailRouting,
    PrivacyNotice,
    ReplyLink,
    entry_list,
    form_settings,
    setting_problems,
)
from .paths import FieldPath

__all__ = [
    "ANSWER",
    "DEADLINE_MONTHS",
    "MAX_ROWS",
    "TOKEN",
    "Field",
    "Digest",
    "Form",
    "FormSettings",
    "Kind",
    "MailRouting",
    "PrivacyNotice",
    "ReplyLink",
    "collects_personal_data",
    "load_form",
    "load_forms",
    "read_form",
    "read_forms",
]

ROOT_URI = "urn:formkit:question"  # where the one question of a form that is not an object is found
FORM_ID = re.compile(r"^[a-z][a-z0-9-]*$")
# Autofill tokens of fields about a person (HTML autocomplete): a form with one collects personal data.
PERSONAL_AUTOCOMPLETE = {"name", "given-name", "family-name", "email", "tel", "street-address", "postal-code", "bday"}


@dataclass(frozen=True, eq=False)
class Form:
    """A loaded, checked form definition."""

    id: str
    path: Path
    schema: dict
    root: Field
    settings: FormSettings
    version: str
    warnings: list[Problem] = field(default_factory=list)
    source: Source | None = field(default=None, repr=False)
    _fields: dict[tuple[str, ...], Field] = field(init=False, repr=False)
    _tuples: frozenset = field(init=False, repr=False)  # the patterns of the tuples: paths through them are walked

    def __post_init__(self):
        nodes = list(self.root.walk())
        object.__setattr__(self, "_fields", {node.path: node for node in nodes})
        object.__setattr__(self, "_tuples", frozenset(node.place.pattern for node in nodes if node.kind == Kind.TUPLE))

    @property
    def title(self) -> str:
        """Return the form's title."""
        return self.root.title

    @property
    def single(self) -> bool:
        """Return whether the form's schema is one question (not an object), answered as {ANSWER: value}."""
        return not is_object_root(self.schema)

    def answers_schema(self) -> tuple[dict, Registry]:
        """Return the schema the answers object is validated against, and the registry its `$ref`s need.

        An object form's answers are validated against its own schema; a form of one question wraps the
        question's schema (kept whole as its own resource, so its `$ref`s still resolve) as {ANSWER: …}.
        """
        if not self.single:
            return self.schema, Registry()
        resource = Resource.from_contents(self.schema, default_specification=DRAFT202012)
        wrapper = {"type": "object", "properties": {ANSWER: {"$ref": ROOT_URI}}, "required": [ANSWER]}
        if self.root.children and not self.root.children[0].required:
            wrapper["required"] = []
        return wrapper, Registry().with_resource(ROOT_URI, resource)

    def field_at(self, path) -> Field | None:
        """Return the field at a concrete or pattern path in any spelling (tuple, FieldPath, name, pointer)."""
        path = FieldPath.of(path)
        return self._in_tuple(path) if self._through_tuple(path) else self._fields.get(path.pattern)

    def field_named(self, name: str) -> Field | None:
        """Return the field a posted name names (`verksamheter.0.enhet`); a "*" there names no field."""
        path = FieldPath.from_name(name)
        if path.is_pattern:
            return None
        return self._in_tuple(path) if self._through_tuple(path) else self._fields.get(path.pattern)

    def _through_tuple(self, path: FieldPath) -> bool:
        pattern = path.pattern
        return bool(self._tuples) and any(pattern[:end] in self._tuples for end in range(len(pattern)))

    def _in_tuple(self, path: FieldPath) -> Field | None:
        """Return the field at a path through a tuple, whose positions ("koordinater.0") read as row numbers and
        whose rows after them ("*", 2, 3 …) are its added rows."""
        node = self.root
        for part in path.parts:
            if node.kind == Kind.TUPLE:
                node = node.entry(part) if isinstance(part, int) else node.item if part == "*" else None
            elif node.kind in (Kind.LIST, Kind.PAIRS):
                node = node.item if isinstance(part, int) or part == "*" else None
            else:
                node = next((child for child in node.members() if child.name == part), None)
            if node is None:
                return None
        return node if node is not self.root else None


def load_forms(schema_dir: str | Path) -> dict[str, Form]:
    """Load and check every `*.json` form in `schema_dir`; raise FormDefinitionError listing all problems."""
    forms, problems, _ = read_forms(schema_dir)
    if problems:
        raise FormDefinitionError([str(problem) for problem in problems])
    return forms


def load_form(path: Path) -> Form:
    """Load one schema file into a Form, or raise FormDefinitionError naming the file, line and field."""
    form, problems, _ = read_form(path)
    if problems:
        raise FormDefinitionError([str(problem) for problem in problems])
    return form


def read_form(path: Path) -> tuple[Form | None, list[Problem], list[Problem]]:
    """Return the form in one file (None when it has problems), its problems and its warnings."""
    draft = _Draft.read(path)
    if draft.problems:
        return None, draft.problems, []
    form = draft.form()
    return form, [], form.warnings


def read_forms(schema_dir: str | Path) -> tuple[dict[str, Form], list[Problem], list[Problem]]:
    """Return the good forms of `schema_dir`, and every problem and warning, the forms' own and across forms.

    A form with problems of its own gets no problems across forms: no other form is blamed for it.
    """
    directory = Path(schema_dir)
    if not directory.is_dir():
        message = "mappen med formulär finns inte. Skapa den och lägg ett schema i den."
        return {}, [Problem(str(directory), message=message)], []
    drafts = [_Draft.read(path) for path in sorted(directory.glob("*.json"))]
    good = {draft.id: draft for draft in drafts if not draft.problems}
    problems = [problem for draft in drafts for problem in draft.problems]
    ids: dict[object, Path] = {}
    for draft in good.values():
        declared = draft.schema.get("$id")
        if isinstance(declared, str) and declared in ids:
            message = f'"$id" "{declared}" används redan av {ids[declared]}. Ge formuläret ett eget id.'
            problems.append(draft.source.say(("$id",), message))
        ids.setdefault(declared, draft.path)
        reply = draft.reply_form
        if reply and reply not in good and not (directory / f"{reply}.json").exists():
            problems.append(
                draft.source.say(
                    ("x-formkit", "reply_form"),
                    f'svarsformuläret "{reply}" finns inte i {directory}/.{did_you_mean(reply, list(good))} '
                    f"Rätta namnet eller lägg till {directory}/{reply}.json.",
                )
            )
        if (received := _received_problem(draft, good.get(reply))) is not None:
            problems.append(received)
    # A report whose e-mail links to its answer form makes that form an answer (reply_of): its answers
    # then need the link's token. Worked out before the settings are built, since they are frozen.
    reply_of = {d.reply_form: d.id for d in good.values() if d.reply_form in good and d.settings.get("reply_link")}
    # A form that failed may be the report that links here: then "token" is not this form's fault.
    claimed = {d.reply_form for d in drafts if d.problems and d.settings.get("reply_link")}
    unreadable = any(draft.source is None for draft in drafts)  # broken JSON: what it links to is unknown
    for draft in good.values():
        if draft.uses_token and draft.id not in reply_of and draft.id not in claimed and not unreadable:
            problems.append(
                Problem(
                    str(draft.path),
                    field="x-formkit.mail",
                    label="x-formkit.mail",
                    message=f'"{TOKEN}" betyder adressen i svarslänken, men inget formulär har '
                    f'"reply_form": "{draft.id}" och "reply_link". Lägg till dem i rapportformulärets x-formkit '
                    f'eller ta bort "{TOKEN}".',
                )
            )
    forms = {}
    for form_id, draft in good.items():
        report = good.get(reply_of.get(form_id, ""))
        inherited = report.settings.get("privacy") if report is not None else None
        forms[form_id] = form = draft.form(reply_of.get(form_id, ""), inherited)
        blameless = form_id in claimed or (unreadable and draft.uses_token)  # its report may hold the notice
        if form.settings.privacy is None and collects_personal_data(form) and not blameless:
            form.warnings.append(_privacy_warning(draft))
    warnings = [warning for form in forms.values() for warning in form.warnings]
    return forms, in_order(problems), in_order(warnings)


@dataclass
class _Draft:
    """One form file read and checked on its own, before the forms are linked to each other."""

    id: str
    path: Path
    source: Source | None
    schema: Any
    root: Field | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> _Draft:
        """Parse, check and build one file; its problems and warnings are on the draft."""
        text = path.read_text(encoding="utf-8")
        try:
            source, schema = Source.parse(path, text)
        except json.JSONDecodeError as error:
            return cls(path.stem, path, None, None, problems=[json_syntax(path, text, error)])
        schema = draft07_tuples(schema, source)
        draft = cls(path.stem, path, source, schema)
        if not FORM_ID.match(draft.id):
            message = (
                "filnamnet blir formulärets id och får bara innehålla små bokstäver a–z, siffror och bindestreck. "
                "Byt namn på filen, till exempel till ny-blankett.json."
            )
            draft.problems.append(source.say((), message, line=1))
        draft.problems.extend(check_conventions(source, schema))
        # A file that is no object, or has "properties" but another type, is reported above: nothing to build.
        if isinstance(schema, dict) and ("properties" not in schema or is_object_root(schema)):
            reader = FieldReader(source, schema)
            draft.root = reader.root(draft.id)
            draft.problems.extend(reader.problems)
            draft.problems.extend(setting_problems(source, draft.settings, draft.root))
            declared = schema.get("$id")
            if isinstance(declared, str) and FORM_ID.match(declared) and declared != draft.id:
                message = (
                    f'"$id" är "{declared}" men filen heter {path.name}; formulärets id är filnamnet. '
                    f'Ändra "$id" till "{draft.id}" eller ta bort raden.'
                )
                draft.problems.append(source.say(("$id",), message))
            draft.warnings = in_order(reader.warnings)
        draft.problems = in_order(draft.problems)
        return draft

    @property
    def settings(self) -> dict:
        """Return the raw x-formkit block (empty when it is missing or no object)."""
        raw = self.schema.get("x-formkit") if isinstance(self.schema, dict) else None
        return raw if isinstance(raw, dict) else {}

    @property
    def reply_form(self) -> str:
        reply = self.settings.get("reply_form")
        return reply if isinstance(reply, str) else ""

    @property
    def uses_token(self) -> bool:
        mail = self.settings.get("mail") if isinstance(self.settings.get("mail"), dict) else {}
        return any(TOKEN in entry_list(mail.get(key)) for key in ("to", "cc", "receipt_to"))

    def form(self, reply_of: str = "", privacy: dict | None = None) -> Form:
        """Return the Form of a draft without problems; `privacy`: the report's notice, when it has none."""
        canonical = json.dumps(self.schema, sort_keys=True, ensure_ascii=False).encode()
        version = hashlib.sha256(canonical).hexdigest()[:12]
        settings = form_settings(self.settings, self.id, reply_of, privacy)
        return Form(self.id, self.path, self.schema, self.root, settings, version, self.warnings, self.source)


def collects_personal_data(form: Form) -> bool:
    """Return whether a form asks for details about a person: an e-mail address, a phone number, a name."""
    return any(
        node.kind == Kind.EMAIL or node.widget == "tel" or node.autocomplete in PERSONAL_AUTOCOMPLETE
        for node in form.root.walk()
    )


def _privacy_warning(draft: _Draft) -> Problem:
    message = (
        "formuläret samlar in personuppgifter (e-post, telefon eller namn) men har ingen integritetsinformation. "
        'Lägg till "privacy" i x-formkit med personuppgiftsansvarig, kontakt, dataskyddsombud, ändamål, '
        "rättslig grund, mottagare och lagringstid, och placera [[privacy "
        f"{draft.id}]] på en sida."
    )
    return draft.source.say(("x-formkit",) if "x-formkit" in draft.schema else (), message, severity=WARNING)


def _received_problem(draft: _Draft, reply: _Draft | None) -> Problem | None:
    """Return what is wrong with reply_link.received: it must name a date field of the reply form, outside rows."""
    link = draft.settings.get("reply_link")
    received = link.get("received") if isinstance(link, dict) else None
    if not isinstance(received, str) or reply is None or reply.root is None:
        return None  # absent, or the kit's own schema or the missing reply form is reported already
    dates = [node.place.routing for node in reply.root.walk() if node.kind == Kind.DATE and "*" not in node.path]
    if received.rstrip("/") in dates:
        return None
    example = f', till exempel "{dates[0]}"' if dates else ""
    message = (
        f'"received" ska vara sökvägen till ett datumfält i svarsformuläret {reply.id}{example}: '
        "det fylls i med dagen då rapporten kom in."
    )
    return draft.source.say(("x-formkit", "reply_link", "received"), message)
