"""Form definitions: the only reader of schema/, shared by the site build and the handler.

A form is one JSON Schema file. `read_forms` reads every file, checks it against the kit's conventions
(`conventions.py`, from formkit-schema.json), builds its Field tree (`fields.py`) and its frozen
`FormSettings`, and links report and answer forms; so the renderer, the validator, the DOCX writer and
the mailer never interpret JSON Schema on their own. Defaults live here and in `fields.py`, once. What
is wrong is a `Problem` naming the file, the line, the field and what to do; a form with problems is not
built, gets no warnings, and no other form is blamed for it.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conventions import FORMATS, WARNING, Problem, Source, did_you_mean, in_order, json_syntax
from .conventions import check as check_conventions
from .errors import FormDefinitionError
from .fields import MAX_ROWS, Field, FieldReader, Kind, schema_type
from .paths import FieldPath, pattern_of

__all__ = [
    "MAX_ROWS",
    "Field",
    "Digest",
    "Form",
    "FormSettings",
    "Kind",
    "MailRouting",
    "PrivacyNotice",
    "ReplyLink",
    "load_form",
    "load_forms",
    "read_form",
    "read_forms",
]

FORM_ID = re.compile(r"^[a-z][a-z0-9-]*$")
TOKEN = "token"  # a mail routing entry meaning: the address carried by the answer link's token
SUBMIT_LABEL = "Skicka"
DEADLINE_MONTHS = 2  # how long a unit has to answer a report, when reply_link does not say
REMIND_DAYS_BEFORE = 14  # days before the deadline a unit that has not answered is reminded
PRIVACY_PAGE = "/personuppgifter/"  # where a form's privacy notice is published, when its block does not say
# Autofill tokens of fields about a person (HTML autocomplete): a form with one collects personal data.
PERSONAL_AUTOCOMPLETE = {"name", "given-name", "family-name", "email", "tel", "street-address", "postal-code", "bday"}


@dataclass(frozen=True)
class ReplyLink:
    """The link to the answer form in a report's e-mail: where the answer goes, and by when."""

    answer_to: str  # routing pointer to the e-mail field of the unit that answers
    deadline_months: int = DEADLINE_MONTHS
    units: str = ""  # routing pointer to the repeated group of receiving units ("/verksamheter"); "" = none
    unit_name: str = ""  # the row's field that names the unit ("enhet")
    unit_address: str = ""  # the row's e-mail field of the unit's manager ("chef_epost")
    remind_days_before: int = REMIND_DAYS_BEFORE  # a unit that has not answered is reminded this long before
    received: str = ""  # routing pointer, in the reply form, of the date filled in with the report's arrival


@dataclass(frozen=True)
class PrivacyNotice:
    """A form's privacy notice (GDPR art. 13), from x-formkit.privacy; "" texts mean the kit's default text."""

    controller: str  # who is responsible for the personal data
    contact: str  # how to reach the controller
    data_protection_officer: str
    purpose: str
    legal_basis: str
    recipients: tuple[str, ...]
    retention: str
    data: tuple[str, ...] = ()  # which personal data the form collects
    email: str = ""  # that the answers travel as e-mail
    rights: str = ""
    complaint: str = ""
    page: str = PRIVACY_PAGE  # the address of the page that publishes the notice


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DIGEST_HOUR = 7  # the weekly digest goes out from this hour (Stockholm) of its day, when the block does not say


@dataclass(frozen=True)
class Digest:
    """The weekly digest to the secretariat (x-formkit.digest): to whom, and from which day and hour of the week."""

    to: tuple[str, ...]
    weekday: int = 0  # 0 = Monday, as datetime.date.weekday()
    hour: int = DIGEST_HOUR


@dataclass(frozen=True)
class MailRouting:
    """Who gets a form's e-mail and what it says; "" texts mean the kit's default text."""

    to: tuple[str, ...] = ()  # fixed addresses, routing pointers ("/a/*/b") or TOKEN
    cc: tuple[str, ...] = ()
    receipt_to: tuple[str, ...] = ()
    reply_to: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    receipt_subject: str = ""
    receipt_body: str = ""


@dataclass(frozen=True)
class FormSettings:
    """A form's x-formkit block, with the defaults filled in."""

    reference_prefix: str
    submit_label: str = SUBMIT_LABEL
    allowed_domains: tuple[str, ...] = ()
    privacy_guard: bool = True
    mail: MailRouting = field(default_factory=MailRouting)
    receipt: str = ""
    receipt_title: str = ""
    reply_form: str = ""  # the id of the form that answers this one
    reply_link: ReplyLink | None = None
    reply_of: str = ""  # the id of the report form this one answers (its e-mail links here)
    statistics: tuple[str, ...] = ()  # routing pointers of the choices the register counts ("/a/*/b")
    privacy: PrivacyNotice | None = None  # an answer form without its own notice has its report's
    digest: Digest | None = None  # the weekly digest of new, answered and overdue reports; None = none


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

    def __post_init__(self):
        object.__setattr__(self, "_fields", {node.path: node for node in self.root.walk()})

    @property
    def title(self) -> str:
        """Return the form's title."""
        return self.root.title

    def field_at(self, path) -> Field | None:
        """Return the field at a concrete or pattern path in any spelling (tuple, FieldPath, name, pointer)."""
        return self._fields.get(pattern_of(path))

    def field_named(self, name: str) -> Field | None:
        """Return the field a posted name names (`verksamheter.0.enhet`); a "*" there names no field."""
        path = FieldPath.from_name(name)
        return None if path.is_pattern else self._fields.get(path.pattern)


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
        draft = cls(path.stem, path, source, schema)
        if not FORM_ID.match(draft.id):
            message = (
                "filnamnet blir formulärets id och får bara innehålla små bokstäver a–z, siffror och bindestreck. "
                "Byt namn på filen, till exempel till ny-blankett.json."
            )
            draft.problems.append(source.say((), message, line=1))
        draft.problems.extend(check_conventions(source, schema))
        if isinstance(schema, dict) and schema_type(schema) == "object":  # else reported above; nothing to build
            reader = FieldReader(source, schema)
            draft.root = reader.root(draft.id)
            draft.problems.extend(reader.problems)
            draft.problems.extend(_setting_problems(source, draft.settings, draft.root))
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
        return any(TOKEN in _entries(mail.get(key)) for key in ("to", "cc", "receipt_to"))

    def form(self, reply_of: str = "", privacy: dict | None = None) -> Form:
        """Return the Form of a draft without problems; `privacy`: the report's notice, when it has none."""
        canonical = json.dumps(self.schema, sort_keys=True, ensure_ascii=False).encode()
        version = hashlib.sha256(canonical).hexdigest()[:12]
        settings = _settings(self.settings, self.id, reply_of, privacy)
        return Form(self.id, self.path, self.schema, self.root, settings, version, self.warnings, self.source)


def _settings(raw: dict, form_id: str, reply_of: str, inherited: dict | None = None) -> FormSettings:
    """Return the typed settings of a checked x-formkit block, with the defaults."""
    mail = raw.get("mail") if isinstance(raw.get("mail"), dict) else {}
    link = raw.get("reply_link")
    prefix = re.sub(r"[^A-Z0-9]", "", form_id.split("-")[0].upper())[:20]
    return FormSettings(
        reference_prefix=raw.get("reference_prefix") or prefix or "FORM",
        submit_label=raw.get("submit_label", SUBMIT_LABEL),
        allowed_domains=tuple(raw.get("allowed_domains") or ()),
        privacy_guard=raw.get("privacy_guard", True),
        mail=MailRouting(
            **{key: tuple(_entries(mail.get(key))) for key in ("to", "cc", "receipt_to", "reply_to")},
            **{key: mail.get(key, "") for key in ("subject", "body", "receipt_subject", "receipt_body")},
        ),
        receipt=raw.get("receipt", ""),
        receipt_title=raw.get("receipt_title", ""),
        reply_form=raw.get("reply_form", ""),
        reply_link=_reply_link(link) if link else None,
        reply_of=reply_of,
        statistics=tuple(_entries(raw.get("statistics"))),
        privacy=_privacy(raw.get("privacy") or inherited),
        digest=_digest(raw.get("digest")),
    )


def _digest(raw) -> Digest | None:
    """Return the typed digest of a checked x-formkit.digest block (None when there is none)."""
    if not isinstance(raw, dict):
        return None
    weekday = WEEKDAYS.index(raw["weekday"]) if raw.get("weekday") in WEEKDAYS else 0
    return Digest(tuple(_entries(raw.get("to"))), weekday, raw.get("hour", DIGEST_HOUR))


def _privacy(raw: dict | None) -> PrivacyNotice | None:
    """Return the typed privacy notice of a checked x-formkit.privacy block (None when there is none)."""
    if not isinstance(raw, dict):
        return None
    lists = {key: tuple(_entries(raw.get(key))) for key in ("recipients", "data")}
    texts = ("controller", "contact", "data_protection_officer", "purpose", "legal_basis", "retention")
    optional = {key: raw[key] for key in ("email", "rights", "complaint", "page") if key in raw}
    return PrivacyNotice(**{key: raw.get(key, "") for key in texts}, **lists, **optional)


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


def _reply_link(link: dict) -> ReplyLink:
    units = {key: link.get(key, "") for key in ("units", "unit_name", "unit_address", "received")}
    months, remind = link.get("deadline_months", DEADLINE_MONTHS), link.get("remind_days_before", REMIND_DAYS_BEFORE)
    return ReplyLink(link["answer_to"], months, remind_days_before=remind, **units)


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


def _entries(entries) -> list[str]:
    return [entries] if isinstance(entries, str) else [e for e in entries or [] if isinstance(e, str)]


def _setting_problems(source: Source, settings: dict, root: Field) -> list[Problem]:
    """Return what is wrong with where x-formkit points: routing paths to e-mail fields, the answer link."""
    problems = []
    mail = settings["mail"] if isinstance(settings.get("mail"), dict) else {}
    email_paths = [node.place.routing for node in root.walk() if node.kind == Kind.EMAIL]
    # A field whose format is misspelt is already reported; do not report its routing path too.
    misspelt = {n.place.routing for n in root.walk() if n.schema.get("format") not in (None, *FORMATS)}
    for key in ("to", "cc", "receipt_to", "reply_to"):
        entries = mail.get(key)
        listed = entries if isinstance(entries, list) else [entries]
        for index, entry in enumerate(listed):
            path = entry.rstrip("/") if isinstance(entry, str) else ""
            if path.startswith("/") and path not in email_paths and path not in misspelt:
                where = ("x-formkit", "mail", key) + ((index,) if isinstance(entries, list) else ())
                problems.append(source.say(where, _routing_message(entry, email_paths)))
    problems.extend(_statistics_problems(source, settings, root))
    problems.extend(_digest_problems(source, settings))
    link, where = settings.get("reply_link"), ("x-formkit", "reply_link")
    if not isinstance(link, dict):
        return problems  # absent, or the kit's own schema already says what it should be
    if not settings.get("reply_form"):
        problems.append(source.say(where, 'kräver "reply_form": namnet på formuläret som svaret fylls i på.'))
    answer_to = link.get("answer_to")
    if not isinstance(answer_to, str) or answer_to.rstrip("/") not in email_paths:
        example = email_paths[0] if email_paths else "/beskrivning/chef/epost"
        message = f'ange sökvägen till e-postfältet dit svaret ska skickas, till exempel "{example}".'
        problems.append(source.say(where + ("answer_to",), message))
    problems.extend(_units_problems(source, link, root))
    return problems


def _digest_problems(source: Source, settings: dict) -> list[Problem]:
    """Return the digest's addresses outside the form's allowed domains: mail goes to those domains only."""
    digest = settings.get("digest")
    listed = digest.get("to") if isinstance(digest, dict) else None
    domains = [d.lower() for d in settings.get("allowed_domains") or [] if isinstance(d, str)]
    if not isinstance(listed, list) or not domains:
        return []  # absent, any domain, or the kit's own schema already says what it should be
    problems = []
    for index, address in enumerate(listed):
        domain = address.rpartition("@")[2].lower() if isinstance(address, str) else ""
        if domain and not any(domain == d or domain.endswith("." + d) for d in domains):
            message = (
                f'adressen "{address}" är inte i formulärets tillåtna domäner ({", ".join(domains)}). '
                'Rätta adressen eller lägg till domänen i "allowed_domains".'
            )
            problems.append(source.say(("x-formkit", "digest", "to", index), message))
    return problems


CHOICES = (Kind.SELECT, Kind.RADIO, Kind.CHECKBOXES, Kind.CHECKBOX)


def _statistics_problems(source: Source, settings: dict, root: Field) -> list[Problem]:
    """Return what is wrong with x-formkit.statistics: each entry must point at a choice, never at free text."""
    entries = settings.get("statistics")
    if not isinstance(entries, list):
        return []  # absent, or the kit's own schema already says what it should be
    fields = {node.place.routing: node for node in root.walk()}
    choices = [routing for routing, node in fields.items() if node.kind in CHOICES]
    problems = []
    for index, entry in enumerate(entries):
        where = ("x-formkit", "statistics", index)
        node = fields.get(entry.rstrip("/")) if isinstance(entry, str) else None
        if node is None:
            close = difflib.get_close_matches(str(entry), choices, n=1, cutoff=0.5)
            hint = f' Menar du "{close[0]}"?' if close else ""
            listed = ", ".join(choices) if choices else "inga"
            message = f'sökvägen "{entry}" pekar inte på något fält.{hint} Formulärets valfält är {listed}.'
            problems.append(source.say(where, message))
        elif node.kind not in CHOICES:
            message = (
                f'fältet "{node.dotted}" ({node.title}) är inte ett val, så det kan inte räknas i statistiken: '
                'där får bara val stå ("enum" eller "oneOf" med "const"), aldrig fritext eller personuppgifter. '
                f'Ta bort "{entry}" ur statistics eller gör fältet till ett val.'
            )
            problems.append(source.say(where, message))
    return problems


def _units_problems(source: Source, link: dict, root: Field) -> list[Problem]:
    """Return what is wrong with reply_link's units: a repeated group, a name field and an e-mail field in its rows."""
    units, where = link.get("units"), ("x-formkit", "reply_link")
    if not isinstance(units, str):
        return []  # no units: one answer link for the whole report
    rows = {node.place.routing: node for node in root.walk() if node.kind == Kind.LIST}
    group = rows.get(units.rstrip("/"))
    if group is None:
        listed = ", ".join(rows) if rows else "inga"
        message = '"units" ska peka på en upprepad grupp (en lista med rader), till exempel "/verksamheter". '
        return [source.say(where + ("units",), message + f"Formulärets upprepade grupper är {listed}.")]
    problems = []
    cells = {child.name: child for child in group.item.children} if group.item else {}
    for key, wanted, what in (("unit_name", None, "ett textfält"), ("unit_address", Kind.EMAIL, "ett e-postfält")):
        name = link.get(key)
        if not isinstance(name, str):
            continue  # missing: the kit's own schema says so
        cell = cells.get(name)
        fits = cell is not None and (cell.kind == wanted if wanted else not cell.kind.is_container)
        if not fits:
            found = [n for n, c in cells.items() if (c.kind == wanted if wanted else c.kind in (Kind.TEXT,))]
            example = f', till exempel "{found[0]}"' if found else ""
            message = f'"{key}" ska vara namnet på {what} i raderna i "{units}"{example}.'
            problems.append(source.say(where + (key,), message))
    return problems


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
