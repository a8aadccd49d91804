"""A form's x-formkit block: its frozen typed settings (mail, answer link, privacy, digest) and their checks.

`form_settings` turns a checked x-formkit block into a `FormSettings` with the defaults filled in;
`setting_problems` says what is wrong with where the block points in the form's own fields (routing paths
to e-mail fields, statistics, the answer link's units, the digest's domains). Checks across forms stay
in `forms.py`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from .conventions import FORMATS, Problem, Source
from .fields import Field, Kind

TOKEN = "token"  # a mail routing entry meaning: the address carried by the answer link's token
SUBMIT_LABEL = "Skicka"
DEADLINE_MONTHS = 2  # how long a unit has to answer a report, when reply_link does not say
REMIND_DAYS_BEFORE = 14  # days before the deadline a unit that has not answered is reminded
PRIVACY_PAGE = "/personuppgifter/"  # where a form's privacy notice is published, when its block does not say


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


def form_settings(raw: dict, form_id: str, reply_of: str, inherited: dict | None = None) -> FormSettings:
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
            **{key: tuple(entry_list(mail.get(key))) for key in ("to", "cc", "receipt_to", "reply_to")},
            **{key: mail.get(key, "") for key in ("subject", "body", "receipt_subject", "receipt_body")},
        ),
        receipt=raw.get("receipt", ""),
        receipt_title=raw.get("receipt_title", ""),
        reply_form=raw.get("reply_form", ""),
        reply_link=_reply_link(link) if link else None,
        reply_of=reply_of,
        statistics=tuple(entry_list(raw.get("statistics"))),
        privacy=_privacy(raw.get("privacy") or inherited),
        digest=_digest(raw.get("digest")),
    )


def _digest(raw) -> Digest | None:
    """Return the typed digest of a checked x-formkit.digest block (None when there is none)."""
    if not isinstance(raw, dict):
        return None
    weekday = WEEKDAYS.index(raw["weekday"]) if raw.get("weekday") in WEEKDAYS else 0
    return Digest(tuple(entry_list(raw.get("to"))), weekday, raw.get("hour", DIGEST_HOUR))


def _privacy(raw: dict | None) -> PrivacyNotice | None:
    """Return the typed privacy notice of a checked x-formkit.privacy block (None when there is none)."""
    if not isinstance(raw, dict):
        return None
    lists = {key: tuple(entry_list(raw.get(key))) for key in ("recipients", "data")}
    texts = ("controller", "contact", "data_protection_officer", "purpose", "legal_basis", "retention")
    optional = {key: raw[key] for key in ("email", "rights", "complaint", "page") if key in raw}
    return PrivacyNotice(**{key: raw.get(key, "") for key in texts}, **lists, **optional)


def _reply_link(link: dict) -> ReplyLink:
    units = {key: link.get(key, "") for key in ("units", "unit_name", "unit_address", "received")}
    months, remind = link.get("deadline_months", DEADLINE_MONTHS), link.get("remind_days_before", REMIND_DAYS_BEFORE)
    return ReplyLink(link["answer_to"], months, remind_days_before=remind, **units)


def entry_list(entries) -> list[str]:
    """Return the strings of a setting written as one string or a list of them (anything else is dropped)."""
    return [entries] if isinstance(entries, str) else [e for e in entries or [] if isinstance(e, str)]


def setting_problems(source: Source, settings: dict, root: Field) -> list[Problem]:
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
        fits = cell is not None and (cell.kind == wanted if wanted else not cell.kind.holds_fields)
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
