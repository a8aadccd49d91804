"""Validate a cleaned submission and turn jsonschema's errors into one Swedish message per field.

jsonschema's error objects are kept until `messages`, the one place where they become sentences,
keyed by `error.validator`; a field's own `x-messages` in the schema wins over the defaults.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema import _keywords as keywords

from . import files
from .alternatives import Chosen, members_of, place, settle
from .conditions import hidden_paths
from .errors import Invalid
from .fields import CHOICE, CHOOSE, PAIR_NAME, PAIR_VALUE, PAIRS
from .fields import label as label_of_value
from .forms import Field, Form, Kind
from .paths import is_alternative_key
from .privacy import find_identity_number

format_checker = FormatChecker(formats=())
MAX_ERRORS = 50
PRIVACY_MESSAGE = (
    "Ta bort personnumret. Barnet får inte kunna identifieras i rapporten. "
    "Ange i stället en kontaktperson som kan lämna barnets uppgifter på begäran."
)


@format_checker.checks("email")
def is_email(value) -> bool:
    """Check e-mail syntax properly (no DNS look-ups); jsonschema's own check only wants an "@".

    Only ASCII addresses: an address with å, ä or ö needs SMTPUTF8 all the way to the mailbox, and
    one that a mail server turned away later would be a report lost after its receipt.
    """
    if not isinstance(value, str):
        return True
    if not value.isascii():
        return False
    # The same units' addresses come in report after report, and email_validator checks each character in
    # Python (about 0.04 ms an address); only what fits in an address is kept, so the cache stays small.
    return _valid_address(value) if len(value) <= MAX_ADDRESS else _valid_address.__wrapped__(value)


MAX_ADDRESS = 254  # octets: RFC 5321's limit, which email_validator enforces


@lru_cache(maxsize=1024)
def _valid_address(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@format_checker.checks("date")
def is_date(value) -> bool:
    """Check a strict ISO date, YYYY-MM-DD, that exists in the calendar."""
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


# RFC 3339: a full-time with its offset, and a date-time; RFC 3986: a URI with its scheme. formkit.js has
# the same expressions, so the browser and the server agree.
TIME = re.compile(
    r"([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\.[0-9]+)?([Zz]|([+-])([01][0-9]|2[0-3]):([0-5][0-9]))"
)
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_AUTHORITY = (
    r"(?:(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*@)?"
    r"(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+\]"
    r"|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?"
)
URI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+.\-]*:(?://{_AUTHORITY}(?:/{_PCHAR}*)*|(?!//)(?:{_PCHAR}|/)*)"
    rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
)


@format_checker.checks("time")
def is_time(value) -> bool:
    """Check an RFC 3339 time with its offset ("14:30:00+01:00"); a leap second only at 23:59:60 UTC."""
    if not isinstance(value, str):
        return True
    match = TIME.fullmatch(value)
    if not match:
        return False
    hour, minute, second = int(match[1]), int(match[2]), int(match[3])
    if second == 60:
        sign = -1 if match[6] == "+" else 1
        offset = (int(match[7] or 0) * 60 + int(match[8] or 0)) * sign
        return (hour * 60 + minute + offset) % (24 * 60) == 23 * 60 + 59
    return True


@format_checker.checks("date-time")
def is_datetime(value) -> bool:
    """Check an RFC 3339 date-time ("2026-03-15T14:30:00+01:00"): a real date, "T", and a time with its offset."""
    if not isinstance(value, str):
        return True
    return len(value) > 11 and value[10] in "Tt" and is_date(value[:10]) and is_time(value[11:])


@format_checker.checks("uri")
def is_uri(value) -> bool:
    """Check an absolute URI by RFC 3986: a scheme, then only the characters a URI may have."""
    if not isinstance(value, str):
        return True
    if not URI.fullmatch(value):
        return False
    literal = re.search(r"^[^:]*://(?:[^@/?#]*@)?\[([^\]]*)\]", value)
    if literal and not literal[1].startswith("v"):
        try:
            ipaddress.IPv6Address(literal[1])  # an IPv6 literal, with no leading zeros in an embedded IPv4
        except ValueError:
            return False
    return True


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: its concrete path, its label, where it sits and a Swedish message."""

    path: tuple
    label: str
    message: str
    context: str = ""

    @property
    def name(self) -> str:
        """Return the HTML field name (dotted path)."""
        return ".".join(str(p) for p in self.path)

    @property
    def summary(self) -> str:
        """Return the message as the error summary shows it: with its row ("Verksamhet 2"), which only the row tells.

        A section's name would make each entry two to five lines on a phone; the messages say whose value it is.
        """
        in_row = len(self.path) > 1 and (isinstance(self.path[-2], int) or isinstance(self.path[-1], int))
        return f"{self.message} ({self.context})" if self.context and in_row else self.message


def dependencies(validator, value, instance, schema):
    """Check draft-07 `dependencies`: a list works as dependentRequired, a schema as dependentSchemas."""
    if not validator.is_type(instance, "object") or not isinstance(value, dict):
        return
    for name, rule in value.items():
        if name not in instance:
            continue
        if isinstance(rule, list):
            missing = [needed for needed in rule if needed not in instance]
            if missing:
                yield ValidationError(
                    f"{missing!r} are required by {name!r}", validator="required", validator_value=missing
                )
        else:
            yield from validator.descend(instance, rule, schema_path=name)


def _as_chosen(standard):
    """Return `standard` (oneOf, anyOf) checking a choice between alternatives against the alternative chosen.

    The user chooses explicitly, so answers that would also fit another alternative are not refused, as
    "oneOf" would; with no choice made, an optional choice asks nothing and a required one fails as before.
    """

    def check(validator, branches, instance, schema):
        choice = instance.choice if isinstance(instance, Chosen) else None
        if choice is not None and branches is choice.branches:
            if instance.alternative is not None:
                index = choice.alternatives.index(instance.alternative)
                yield from validator.descend(instance, branches[index], schema_path=index)
                return
            if not choice.required:
                return
        yield from standard(validator, branches, instance, schema)

    return check


Validator = validators.extend(
    Draft202012Validator,
    {"dependencies": dependencies, "oneOf": _as_chosen(keywords.oneOf), "anyOf": _as_chosen(keywords.anyOf)},
)


@lru_cache(maxsize=64)
def _validator(form: Form) -> Draft202012Validator:
    schema, registry = form.answers_schema()
    return Validator(schema, format_checker=format_checker, registry=registry)


@lru_cache(maxsize=64)
def _quick(form: Form) -> Draft202012Validator:
    """Return a validator that accepts exactly what the form's schema accepts, in a fraction of the time.

    A choice is `oneOf` a list of `const`s with titles: jsonschema tries every branch and builds an error
    for each one that fails (27 for the municipality), which was most of a valid report's validation.
    Here such a `oneOf` is the `enum` of its strings, which accepts the same values. The errors of an
    invalid answer still come from the schema as written (`_validator`), so every message stays as it is.
    A form of one question is checked as its answers are, {ANSWER: …}: its own schema may accept any object.
    """
    schema, registry = form.answers_schema()
    keep = {id(node.branches) for node in form.root.walk() if node.kind == Kind.ALTERNATIVES}
    return Validator(_as_enums(schema, keep), format_checker=format_checker, registry=registry)


ANNOTATIONS = {"title", "description", "$comment", "examples", "deprecated"}
VALUES = {"const", "enum", "default", "examples"}  # data, not schemas: copied as they are


def _as_enums(node, keep: set = frozenset()):
    """Return a copy of a schema with each `oneOf` of distinct string `const`s (and annotations) as an `enum`;
    the lists in `keep` (choices between alternatives, known by identity) stay as they are."""
    if isinstance(node, list):
        return node if id(node) in keep else [_as_enums(item, keep) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: value if key in VALUES else _as_enums(value, keep) for key, value in node.items()}
    branches = node.get("oneOf")
    if (
        isinstance(branches, list)
        and branches
        and all(
            isinstance(b, dict)
            and isinstance(b.get("const"), str)
            and all(k == "const" or k in ANNOTATIONS or k.startswith("x-") for k in b)
            for b in branches
        )
    ):
        values = [b["const"] for b in branches]
        if len(set(values)) == len(values):
            del copy["oneOf"]
            copy["allOf"] = [*copy.get("allOf", []), {"enum": values}]
    return copy


def validate(form: Form, data: dict) -> dict:
    """Return `data` when it is valid; otherwise raise Invalid with one FieldError per field in form order.

    At most MAX_ERRORS fields are named: enough to correct a form, and bounded whatever is sent.
    """
    errors: dict[tuple, FieldError] = {}
    data, moved, unpaired = _merge_pairs(form.root, data)
    for path, validator in unpaired.items():
        errors[path] = field_error(form, path, validator)
    # The choices between alternatives out, the answers not chosen dropped; without a choice (JSON), the first
    # alternative the answers fit.
    settled = settle(form.root, data, lambda choice, index, values: _fits(form, choice, index, values))
    data = settled.data
    for path in settled.mixed:
        errors[path] = field_error(form, path, "mixed", answers=data)
    invalid = not _quick(form).is_valid(data)  # the common case, a valid report, without building errors
    for error in sorted(_validator(form).iter_errors(data) if invalid else (), key=_depth_first):
        for path, validator, value in _targets(form, error, settled.chosen):
            path = moved.get(path, path)  # a key from a name–value row: blamed on the row's value
            if path not in errors:
                errors[path] = field_error(form, path, validator, value, answers=data)
    for path in _extra_keys(form.root, data):
        errors.setdefault(path, field_error(form, path, "additionalProperties", answers=data))
    for path, error in _file_errors(form, data):
        errors.setdefault(path, error)
    for path, error in _unticked_errors(form, data):
        errors.setdefault(path, error)
    for path, error in _privacy_errors(form, data):
        errors.setdefault(path, error)
    for path, error in _domain_errors(form, data):
        errors.setdefault(path, error)
    for path, error in _extra_value_errors(form, data):
        errors.setdefault(path, error)
    # A question that does not apply is hidden: never name it. When its controlling question is required and
    # unanswered, jsonschema still evaluates the `if`; that question's own error keeps the answers refused.
    hidden = set(hidden_paths(form.root, data))
    errors = {p: e for p, e in errors.items() if not any(p[:n] in hidden for n in range(1, len(p) + 1))} or errors
    if errors:
        raise Invalid(in_form_order(form, errors.values()))
    return data


def _fits(form: Form, choice: Field, index: int, values: dict) -> bool:
    """Return whether a group's answers fit one of its alternatives (its schema alone)."""
    return next(_validator(form).descend(values, choice.branches[index]), None) is None


def in_form_order(form: Form, errors) -> list[FieldError]:
    """Return the errors sorted as their fields stand in the form, row by row, at most MAX_ERRORS."""
    order = _order(form)
    return sorted(errors, key=lambda e: order(e.path))[:MAX_ERRORS]


def _depth_first(error) -> tuple:
    # Deeper errors are more specific; among equals prefer the keywords that tell the most.
    rank = ["required", "type", "format", "oneOf", "enum", "pattern", "minLength", "maxLength", "minItems", "maxItems"]
    return (-len(error.absolute_path), rank.index(error.validator) if error.validator in rank else len(rank))


def _targets(form: Form, error, chosen: dict):
    """Yield (path, validator, value) triples: a missing field is blamed on itself, not on its parent object;
    alternatives not matched on the chosen alternative's own fields, or on the choice when none is chosen."""
    path = tuple(error.absolute_path)
    alternatives = _alternatives_of(form, error, path)
    if error.validator == "required" and isinstance(error.instance, dict):
        for name in error.validator_value:
            if name not in error.instance:
                yield from ((missing, "required", None) for missing in _missing(form, path + (name,)))
    elif error.validator == "dependentRequired" and isinstance(error.instance, dict):
        for name, needed in error.validator_value.items():
            if name in error.instance:
                yield from ((path + (n,), "required", None) for n in needed if n not in error.instance)
    elif alternatives is not None:
        alternative = chosen.get(path + (CHOICE,))
        if alternative is None:
            yield path + (CHOICE,), "required", None
            return
        index = alternatives.alternatives.index(alternative)
        own = [e for e in error.context or () if e.relative_schema_path and e.relative_schema_path[0] == index]
        if not own:  # the chosen alternative fits, and so does another: "oneOf" wants exactly one
            yield path + (CHOICE,), error.validator, None
        for sub in sorted(own, key=_depth_first):
            yield from _targets(form, sub, chosen)
    elif error.validator in ("oneOf", "anyOf") and _chosen(error):
        for sub in _chosen(error):
            yield from _targets(form, sub, chosen)
    elif error.validator == "minItems" and _is_tuple(form, path) and isinstance(error.instance, list):
        # Too few values in a tuple: its positions below minItems are required, so each missing one is asked for.
        shown = min(error.validator_value, len(form.field_at(path).children))
        missing = [(path + (index,), "required", None) for index in range(len(error.instance), shown)]
        yield from missing or [(path, "minItems", error.validator_value)]  # more than the tuple has: the count
    elif error.validator == "type" and error.instance is None and _in_tuple(form, path):
        yield path, "required", None  # a blank inside a tuple: its later values were given, so this one is asked for
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        for name in error.instance:
            if name not in known:
                yield path + (name,), "additionalProperties", None
    else:
        yield path, error.validator, error.validator_value


def _alternatives_of(form: Form, error, path: tuple) -> Field | None:
    """Return the choice between alternatives a failed oneOf/anyOf is, or None for any other oneOf/anyOf."""
    choice = form.field_at(path + (CHOICE,)) if error.validator in ("oneOf", "anyOf") else None
    if choice is None or choice.kind != Kind.ALTERNATIVES:
        return None
    return choice if error.validator_value is choice.schema.get(error.validator) else None


def _chosen(error) -> list:
    """Return the errors of the one alternative whose discriminating `const`/`enum` matched, or [].

    react-jsonschema-form's schema dependencies are a `oneOf` with one alternative per answer: the errors
    that help are the chosen alternative's ("Ange djurets namn"), not "matches none of the alternatives".
    """
    if not isinstance(error.instance, dict) or not error.context:
        return []
    by_option: dict[int, list] = {}
    for sub in error.context:
        by_option.setdefault(sub.relative_schema_path[0], []).append(sub)
    chosen = [
        errors
        for errors in by_option.values()
        if not any(sub.validator in ("const", "enum") and len(sub.relative_path) == 1 for sub in errors)
    ]
    return chosen[0] if len(chosen) == 1 and len(by_option) > 1 else []


def _missing(form: Form, path: tuple):
    """Yield what a missing field is: a whole group left out is its required fields, each with its message."""
    node = form.field_at(path)
    required = [child for child in node.children if child.required] if node is not None else []
    if not required:  # a field, or a group with nothing required in it
        yield path
    for child in required:  # a tuple's position is a number in the answers' path ("deltagare", 0)
        yield from _missing(form, path + (int(child.name) if node.kind == Kind.TUPLE else child.name,))


def field_error(form: Form, path: tuple, validator: str, value=None, *, message: str = "", answers=None) -> FieldError:
    """Return the error for one field and failed keyword: `message`, else the field's own or the default.

    `answers`: the settled answers `path` is a place in; the error is then on the field as the form shows it,
    the chosen alternative's (alternatives.place).
    """
    if answers is not None:
        path = place(form.root, answers, path)
    node = form.field_at(path) or _pair_value(form, path)
    if node is None:  # a name the form does not have: say so plainly
        return FieldError(path, str(path[-1]), f'Formuläret har inget fält som heter "{path[-1]}". Ta bort det.')
    return FieldError(path, node.title, message or message_for(node, validator, value), _context(form, path))


def _pair_value(form: Form, path: tuple) -> Field | None:
    """Return the value field of the name–value rows that take a key no field has (sent as JSON), if any."""
    parent = form.field_at(path[:-1]) if path else None
    rows = next((c for c in parent.children if c.kind == Kind.PAIRS), None) if parent is not None else None
    return rows.item.children[-1] if rows is not None else None


def message_for(node: Field, validator: str, value=None) -> str:
    """Return the field's message for a keyword: the editor's `x-messages` first, else the default."""
    return node.own_message(validator) or messages(node, validator, value)


def client_messages(node: Field, domains: list[str] | tuple = ()) -> dict[str, str]:
    """Return the messages the browser shows for the checks it can make, identical to the server's.

    `domains`: the form's `allowed_domains`, for the message on e-mail fields.
    """
    if node.kind == Kind.ALTERNATIVES:
        return {"required": message_for(node, "required")}
    checks = {"required": None, "type": None}
    if node.kind in ("email", "date", "time", "date-time", "uri"):
        checks["format"] = None
    limits = {
        "maxLength": node.max_length,
        "minLength": node.min_length,
        "pattern": node.pattern or None,
        "minimum": node.minimum,
        "maximum": node.maximum,
        "exclusiveMinimum": node.exclusive_minimum,
        "exclusiveMaximum": node.exclusive_maximum,
        "multipleOf": node.multiple_of,
    }
    checks.update((keyword, value) for keyword, value in limits.items() if value is not None)
    if node.kind == Kind.FILE:  # "{name}" is the chosen file's name, filled in by formkit.js
        checks.update(fileSize="{name}", fileType="{name}", maxItems=node.max_items if node.multiple else None)
    messages = {keyword: message_for(node, keyword, value) for keyword, value in checks.items()}
    if node.holds_values:  # the browser counts a list of values as the server does
        unique = node.unique_items or None
        counts = {"minItems": node.min_items or None, "maxItems": node.max_items, "uniqueItems": unique}
        messages.update((k, message_for(node, k, v)) for k, v in counts.items() if v is not None)
    if node.kind in ("text", "textarea"):
        messages["privacy"] = PRIVACY_MESSAGE  # used only where the form's privacy guard is on
    if node.kind == "email" and domains:
        messages["allowed_domains"] = message_for(node, "allowed_domains", [d.lower() for d in domains])
    return messages


def _label(node: Field) -> str:
    text = _title(node).rstrip("?:")
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def _title(node: Field) -> str:
    return re.sub(r"^\d+\.\s*", "", node.title).strip()


# A label reads as a noun a sentence can take ("Ange namn", "Välj verksamhetstyp", "Ange last name") when it
# is words alone (letters, digits, hyphens), not too many, and does not open as a sentence or an instruction
# ("Ditt namn" is a noun: "Ange ditt namn"; "Your name" is not Swedish: "Fyll i ”Your name”").
NOUN_LIKE = re.compile(r"[^\W\d_][\w\- ]*", re.UNICODE)
SENTENCE_OPENERS = {
    "jag", "du", "vi", "ni", "ange", "skriv",
    "välj", "fyll", "kryssa", "markera", "har", "är", "kan", "vill", "ska", "please", "enter", "type",
    "select", "choose", "pick", "tick", "check", "your", "my", "i", "we", "you", "the", "a", "an", "do", "does",
    "is", "are", "will", "can", "what", "which", "who", "when", "where", "why", "how", "if",
}  # fmt: skip
MAX_NOUN_WORDS = 10


def noun_like(title: str) -> bool:
    """Return whether a label can follow "Ange" or "Välj" as a noun does; any other label is quoted (”…”)."""
    words = title.split()
    return (
        bool(NOUN_LIKE.fullmatch(title)) and len(words) <= MAX_NOUN_WORDS and words[0].lower() not in SENTENCE_OPENERS
    )


def _number(value) -> str:
    """Return a number as Swedish writes it: a no-break space between thousands, a decimal comma."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.10g}"
    return text.replace(",", "\u00a0").replace(".", ",")


FORMAT_EXAMPLES = {
    "date": "ett riktigt datum, till exempel 2026-03-15",
    "time": "en tid, till exempel 14:30",
    "date-time": "ett riktigt datum och en tid, till exempel 2026-03-15 14:30",
    "uri": "en hel webbadress, till exempel https://www.example.se",
}


def messages(node: Field, validator: str, value) -> str:
    """Return the default Swedish message for a field and a failed JSON Schema keyword.

    A label that is a noun ("Namn", "Antal barn", "Last name") follows "Ange" or "Välj" and opens a sentence
    as it is. A question ("Vilket område gäller avvikelsen?") is asked to be answered, and any other label
    (an instruction, a sentence, punctuation: "Please enter your name", "E-mail (work)") is quoted, with
    the message phrased around it, so that every message reads right whatever the label.
    """
    if node.kind == Kind.ALTERNATIVES:
        if validator == "mixed":
            return "Du har svarat på frågor under flera alternativ. Välj ett av dem."
        if validator in ("oneOf", "anyOf"):
            return "Svaren passar in på flera alternativ. Välj ett och svara bara på frågorna under det."
        group = re.sub(r"^\d+\.\s*", "", node.item_title).strip()
        return f"{CHOOSE} under ”{group}”" if group else CHOOSE
    label, title = _label(node), _title(node)
    question = title.endswith("?")
    plain = not question and noun_like(title)
    quoted = f"frågan ”{title}”" if question else f"”{title}”"
    about = label if plain else quoted  # "Välj ett av alternativen för färg", "… för frågan ”Vad hände?”"
    subject = title if plain else f"Svaret på {quoted}"  # opens a sentence: "Namn måste vara …"
    choose = node.kind in ("select", "radio", "checkboxes", "checkbox")
    number = _number(value)
    if node.kind == "file" and validator in FILE_RULES:
        return _file_message(node, validator, value, label)
    if validator == "required":
        if question:
            return f"Välj ett svar på frågan ”{title}”" if choose else f"Svara på frågan ”{title}”"
        if node.holds_values:  # "ett värde": the item's own noun may be "en" or "ett"
            return f"Ange minst ett värde under {label}"
        if node.kind == "list":
            return f"Lägg till minst en rad under {about}"
        if plain:
            return f"Välj {label}" if choose else f"Ange {label}"
        if node.kind == "checkbox":
            return f"Kryssa i ”{title}”"
        return f"Välj ett svar för ”{title}”" if choose else f"Fyll i ”{title}”"
    if validator == "format" and node.kind == "email":
        return "Ange e-postadressen i rätt format, till exempel namn@kommun.se"
    if validator == "format" and node.kind in FORMAT_EXAMPLES:
        return f"{subject} måste vara {FORMAT_EXAMPLES[node.kind]}"
    if validator in ("oneOf", "enum") or (validator == "type" and node.choice_values == [True, False]):
        return f"Välj ett av alternativen för {about}"  # a yes/no (a boolean in a tuple) is a choice too
    if validator == "const":
        return f"{subject} kan bara vara {label_of_value(value)}"
    if validator == "maxLength":
        return f"{subject} får vara högst {number} tecken. Korta texten."
    if validator == "minLength":
        return f"{subject} måste vara minst {number} tecken"
    if validator == "minItems" and node.holds_values:
        return f"Ange minst {'ett värde' if value == 1 else f'{number} värden'} under {about}"
    if validator == "maxItems" and node.holds_values:
        return f"Du kan ange högst {'ett värde' if value == 1 else f'{number} värden'} under {about}"
    if validator == "minItems":
        rows = "en rad" if value == 1 else f"{number} rader"
        return f"Lägg till minst {rows} under {about}"
    if validator == "maxItems":
        return f"Du kan ange högst {number} rader under {about}"
    if validator in ("items", "additionalItems", "unevaluatedItems") and node.kind == "tuple":
        return f"Du kan ange högst {_number(len(node.children))} värden under {about}. Ta bort de övriga."
    if validator == "uniqueItems":
        return f"Samma värde står flera gånger under {about}. Ta bort dubbletterna."
    if validator == "minimum":
        return f"{subject} måste vara {number} eller mer"
    if validator == "maximum":
        return f"{subject} måste vara {number} eller mindre"
    if validator == "exclusiveMinimum":
        return f"{subject} måste vara mer än {number}"
    if validator == "exclusiveMaximum":
        return f"{subject} måste vara mindre än {number}"
    if validator == "multipleOf":
        twice = _number(value * 2) if isinstance(value, int | float) else number
        return f"{subject} måste vara ett tal i steg om {number}, till exempel {number} eller {twice}"
    if validator == "type":
        if node.kind == "integer":
            return f"{subject} måste vara ett heltal, till exempel 12"
        if node.kind == "number":
            return f"{subject} måste vara ett tal, till exempel 12,5"
        if node.fixed and node.const is None:
            return f"{subject} ska lämnas tomt"
        return f"Ange {label} som text" if plain else f"Svara med text på {quoted}"
    if validator == "pattern":
        return f"{subject} har fel format. Kontrollera det du har skrivit."
    if validator == "allowed_domains":
        return f"Ange en adress i en av domänerna {', '.join(value)}"
    if validator == "uniqueName":
        return "Namnet finns redan i formuläret. Ge uppgiften ett annat namn."
    if validator == "additionalProperties":
        return f'Formuläret har inget fält som heter "{node.name}". Ta bort det.'
    return f"Kontrollera {label}" if plain else f"Kontrollera svaret på {quoted}"


FILE_RULES = ("required", "minItems", "maxItems", "fileSize", "fileType", "fileEncoding", "type", "format")


def _file_message(node: Field, validator: str, value, label: str) -> str:
    """Return a file field's message; `value` is the file's name for the rules about one file."""
    which = f"Filen ”{value}”" if isinstance(value, str) and value else "Filen"
    if validator == "required":
        return f"Bifoga {label}"
    if validator == "minItems":
        return f"Bifoga minst {_number(value)} {'fil' if value == 1 else 'filer'} till {label}"
    if validator == "maxItems":
        return f"Du kan bifoga högst {_number(value)} {'fil' if value == 1 else 'filer'} till {label}"
    if validator == "fileSize":
        return f"{which} är för stor. Den får vara högst {files.size_text(node.max_bytes)}. Välj en mindre fil."
    if validator == "fileType":
        return f"{which} går inte att ta emot här. Välj en {files.types_text(node)}."
    return f"{which} gick inte att läsa. Välj filen igen."


def _context(form: Form, path: tuple) -> str:
    """Name the group or row a field sits in, so repeated labels ("E-post") can be told apart."""
    if len(path) < 2:
        return ""
    parent = form.field_at(path[:-1])
    if parent is not None and isinstance(path[-1], int) and parent.holds_values:
        return f"{parent.item.title} {path[-1] + 1}"  # a row of a list of values: "E-postadress 2"
    if parent is not None and parent.kind == "tuple":
        if isinstance(path[-1], int) and path[-1] >= len(parent.children) and parent.item is not None:
            return f"{parent.item.title} {path[-1] - len(parent.children) + 1}"  # an added row of one value
        return re.sub(r"^\d+\.\s*", "", parent.title)
    if parent is None or parent.kind != "group":
        return ""
    if isinstance(path[-2], int):
        return f"{parent.title} {_row_number(form, path[:-1])}".rstrip()
    return re.sub(r"^\d+\.\s*", "", parent.title)


def _row_number(form: Form, path: tuple) -> str:
    """Return the number a row of groups shows ("Verksamhet 2"): a tuple's position shows none ("" ), and its
    added rows count from 1 after the fixed positions."""
    owner = form.field_at(path[:-1])
    if owner is not None and owner.kind == "tuple":
        fixed = len(owner.children)
        return "" if path[-1] < fixed else str(path[-1] - fixed + 1)
    return str(path[-1] + 1)


def _strings(node: Field, value, path=()):
    return ((at, field, answer) for at, field, answer in _answers(node, value, path) if isinstance(answer, str))


def _answers(node: Field, value, path=()):
    """Yield (path, field, value) for every answer below `node` that is no group, row or tuple of its own."""
    if isinstance(value, dict) and node.kind == "group":
        by_name = members_of(node, value)
        for key, item in value.items():
            if key in by_name:
                yield from _answers(by_name[key], item, path + (key,))
    elif isinstance(value, list) and node.item is not None:
        for index, item in enumerate(value):
            yield from _answers(node.item, item, path + (index,))
    elif isinstance(value, list) and node.kind == "tuple":
        for index, item in enumerate(value):
            if (entry := node.entry(index)) is not None:
                yield from _answers(entry, item, path + (index,))
    else:
        yield path, node, value


def _unticked_errors(form: Form, data: dict):
    """A required checkbox must be ticked: a browser cannot send an unticked box, so `false` is no answer either."""
    for path, node, value in _answers(form.root, data):
        if node.kind == Kind.CHECKBOX and node.required and value is False:
            yield path, field_error(form, path, "required", answers=data)


def _merge_pairs(root: Field, data):
    """Return the answers with each group's name–value rows (Kind.PAIRS) turned into its own keys, as the schema's
    `additionalProperties` expects them; where each key came from (its row's value); and the rows that cannot be:
    a name missing or taken, a value missing."""
    moved: dict[tuple, tuple] = {}
    unpaired: dict[tuple, str] = {}

    def merge(node: Field | None, value, path: tuple):
        if node is not None and node.kind == Kind.GROUP and isinstance(value, dict):
            by_name = members_of(node, value)
            merged = {k: merge(by_name.get(k), v, path + (k,)) for k, v in value.items() if k != PAIRS}
            rows = value.get(PAIRS) if PAIRS in by_name else None
            for index, row in enumerate(rows if isinstance(rows, list) else []):
                row, here = row if isinstance(row, dict) else {}, path + (PAIRS, index)
                name = row.get(PAIR_NAME)
                stray = [key for key in row if key not in (PAIR_NAME, PAIR_VALUE)]
                if stray:  # a row is a name and a value, nothing else may ride along unseen
                    unpaired[here + (stray[0],)] = "additionalProperties"
                elif not isinstance(name, str) or not name:
                    unpaired[here + (PAIR_NAME,)] = "required"
                elif name in merged or name in by_name:
                    unpaired[here + (PAIR_NAME,)] = "uniqueName"
                elif (pattern := by_name[PAIRS].item.children[0].pattern) and not re.search(pattern, name):
                    unpaired[here + (PAIR_NAME,)] = "pattern"  # patternProperties: a name that fits no pattern
                elif PAIR_VALUE not in row:
                    unpaired[here + (PAIR_VALUE,)] = "required"
                else:
                    merged[name], moved[path + (name,)] = row[PAIR_VALUE], here + (PAIR_VALUE,)
            return merged
        if node is not None and node.kind in (Kind.LIST, Kind.TUPLE) and isinstance(value, list):
            return [merge(node.entry(index), item, path + (index,)) for index, item in enumerate(value)]
        return value

    return merge(root, data, ()), moved, unpaired


def _extra_keys(root: Field, data: dict):
    """Yield the path of every key no field of the form has: every group is closed, whatever its schema says,
    since only the form's fields reach the document and the e-mail (an answer accepted and dropped is lost)."""
    stack = [(root, data, ())]
    while stack:
        node, value, path = stack.pop()
        if node.kind == "group" and isinstance(value, dict):
            by_name = members_of(node, value)
            for key, item in value.items():
                if key in by_name:
                    stack.append((by_name[key], item, path + (key,)))
                elif PAIRS not in by_name:  # a group with name–value rows takes other keys: its schema checks them
                    yield path + (key,)
        elif node.kind in ("list", "tuple") and isinstance(value, list):
            entries = ((node.entry(index), item, path + (index,)) for index, item in enumerate(value))
            stack.extend(entry for entry in entries if entry[0] is not None)


def _file_errors(form: Form, data: dict):
    """Yield an error for each file field with a file that is unreadable, too big or of a type it does not take."""
    stack = [(form.root, data, ())]
    while stack:
        node, value, path = stack.pop()
        if node.kind == Kind.FILE:
            for item in value if isinstance(value, list) else [value]:
                if not isinstance(item, str):
                    continue  # jsonschema says what is wrong with it
                try:
                    files.read(node, item)
                except files.FileProblem as problem:
                    yield path, field_error(form, path, problem.rule, problem.name, answers=data)
                    break
        elif node.kind == Kind.GROUP and isinstance(value, dict):
            by_name = members_of(node, value)
            stack.extend((by_name[k], v, path + (k,)) for k, v in value.items() if k in by_name)
        elif node.kind in (Kind.LIST, Kind.TUPLE) and isinstance(value, list):
            entries = ((node.entry(index), item, path + (index,)) for index, item in enumerate(value))
            stack.extend(entry for entry in entries if entry[0] is not None)


def _privacy_errors(form: Form, data: dict):
    if not form.settings.privacy_guard:
        return
    for path, node, text in _strings(form.root, data):
        if node.kind in ("text", "textarea") and find_identity_number(text):
            yield path, field_error(form, path, "privacy", message=PRIVACY_MESSAGE, answers=data)


def _domain_errors(form: Form, data: dict):
    domains = [d.lower() for d in form.settings.allowed_domains]
    if not domains:
        return
    for path, node, text in _strings(form.root, data):
        if node.kind == "email" and "@" in text:
            domain = text.rsplit("@", 1)[1].lower()
            if not any(domain == d or domain.endswith("." + d) for d in domains):
                yield path, field_error(form, path, "allowed_domains", domains, answers=data)


def _order(form: Form):
    """Return a sort key that puts paths in the form's order, row by row; a key no field has comes first, so
    MAX_ERRORS never cuts it off."""
    index = {node.path: i for i, node in enumerate(form.root.walk())}

    def key(path: tuple):  # an alternative's key (`_alternativ2`) is no step: its fields keep the form's order
        pattern = tuple("*" if isinstance(p, int) else p for p in path)
        return tuple(
            p if isinstance(p, int) else index.get(pattern[: i + 1], -1)
            for i, p in enumerate(path)
            if not is_alternative_key(p)
        )

    return key


def _in_tuple(form: Form, path: tuple) -> bool:
    return bool(path) and _is_tuple(form, path[:-1])


def _is_tuple(form: Form, path: tuple) -> bool:
    node = form.field_at(path)
    return node is not None and node.kind == "tuple"


def _tuples(node: Field, value, path=()):
    """Yield (path, tuple field, value) for every tuple answered in `value`."""
    if node.kind == "tuple" and isinstance(value, list):
        yield path, node, value
    if isinstance(value, list) and node.kind in ("list", "tuple"):
        for index, item in enumerate(value):
            if (entry := node.entry(index)) is not None:
                yield from _tuples(entry, item, path + (index,))
    elif isinstance(value, dict) and node.kind == "group":
        by_name = members_of(node, value)
        for key, item in value.items():
            if key in by_name:
                yield from _tuples(by_name[key], item, path + (key,))


def _extra_value_errors(form: Form, data: dict):
    """A tuple takes the values its form shows and no more, even where its schema would let more through."""
    for path, node, value in _tuples(form.root, data):
        if node.item is None and len(value) > len(node.children):
            yield path, field_error(form, path, "items", answers=data)
        elif len(value) > node.max_items:  # the rows the form offers, when the schema sets no "maxItems"
            yield path, field_error(form, path, "maxItems", node.max_items, answers=data)
