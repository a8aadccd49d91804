"""A field's place in a form, and every way the kit spells it.

One place has six spellings: the pattern the form defines (`("verksamheter", "*", "enhet")`, "*" for
any row), a concrete path into one submission (`("verksamheter", 0, "enhet")`), the dotted name an
HTML form posts (`verksamheter.0.enhet`), a JSON pointer (`/verksamheter/0/enhet`), a routing pointer
in `x-formkit.mail` (`/verksamheter/*/chef_epost`) and an HTML id (`f-verksamheter-0-enhet`).
`FieldPath` converts between them, so no other module splits or joins a path on its own.

A name may hold a hyphen (`alt-datetime`), and "-" also joins the parts of an id, so an id writes a
name's own hyphen twice: `("alternative", "alt-datetime")` is `f-alternative-alt--datetime`. No part
starts with a hyphen (a name starts with a letter, a row with a digit), so reading "--" as a hyphen and
"-" as a step gives every id back its one place. formkit.js spells ids the same way (`htmlId`).

A field that two alternatives of one choice (oneOf/anyOf of objects) both have is posted under its
alternative's key (`anstallning._alternativ2.titel`), so that a page without JavaScript, which posts
every alternative's fields, names each one apart; its answer sits at the plain place
(`/anstallning/titel`). `in_answers` is that place: the path without alternatives' keys.

Only ASCII digits `0`–`9` make a row number: `"²".isdigit()` is true in Python, and `int("²")` fails.
A number of more than MAX_ROW_DIGITS digits is not parsed at all (`int()` of a 5000-digit name is
slow, then refused by Python); it reads as ROW_LIMIT, beyond any form's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

ROW = "*"  # in a pattern: any row of a repeated group
MAX_ROW_DIGITS = 6
ROW_LIMIT = 10**MAX_ROW_DIGITS  # what a longer row number reads as; larger than any form allows
ID_PREFIX = "f-"
_HYPHEN = "\0"  # a name's own hyphen while an id is split at the others; no id holds a NUL
CHOICE = "_alternativ"  # the name a choice between alternatives posts under; no field name starts with "_"


def alternative_key(number: int) -> str:
    """Return the key an alternative's own fields are posted under: `_alternativ2` for the second."""
    return f"{CHOICE}{number}"


def is_alternative_key(part) -> bool:
    """Return whether a path part is an alternative's key (`_alternativ2`), which is no place in the answers."""
    number = part[len(CHOICE) :] if isinstance(part, str) and part.startswith(CHOICE) else ""
    return number.isascii() and number.isdigit()


def row_index(part) -> int | None:
    """Return the row number a path part stands for (an int, or a string of ASCII digits), else None."""
    if isinstance(part, bool):
        return None
    if isinstance(part, int):
        return part if part >= 0 else None
    if isinstance(part, str) and part.isascii() and part.isdigit():
        return int(part) if len(part) <= MAX_ROW_DIGITS else ROW_LIMIT
    return None


@dataclass(frozen=True, slots=True)
class FieldPath:
    """The place of a field: names of groups and fields, with row numbers (ints) or "*" for any row."""

    parts: tuple[str | int, ...] = ()

    @classmethod
    def of(cls, value) -> FieldPath:
        """Return the path for any spelling: a FieldPath, a tuple or list of parts, a name, a pointer or an id."""
        if isinstance(value, FieldPath):
            return value
        if isinstance(value, str):
            if value.startswith("/") or value == "":
                return cls.from_pointer(value)
            if value.startswith(ID_PREFIX) and "." not in value:  # a one-part name "f-…" reads as an id
                return cls.from_html_id(value)
            return cls.from_name(value)
        return cls(tuple(_part(p) for p in value))

    @classmethod
    def from_name(cls, name: str) -> FieldPath:
        """Return the path of a dotted form name: `verksamheter.0.enhet` or the pattern `verksamheter.*.enhet`."""
        return cls(tuple(_part(p) for p in name.split("."))) if name else cls()

    @classmethod
    def from_pointer(cls, pointer: str) -> FieldPath:
        """Return the path of a JSON pointer (`/verksamheter/0/enhet`) or routing pointer (`/verksamheter/*/x`)."""
        text = pointer.strip("/")
        if not text:
            return cls()
        return cls(tuple(_part(p.replace("~1", "/").replace("~0", "~")) for p in text.split("/")))

    @classmethod
    def from_html_id(cls, html_id: str) -> FieldPath:
        """Return the path of an HTML id made by `html_id`: "--" is a name's own hyphen, "-" a step down."""
        text = html_id.removeprefix(ID_PREFIX)
        return cls(tuple(_part(p.replace(_HYPHEN, "-")) for p in text.replace("--", _HYPHEN).split("-")))

    @property
    def pattern(self) -> tuple[str, ...]:
        """Return the pattern: every row number becomes "*" (the key of a field in its form)."""
        return tuple(ROW if isinstance(p, int) else p for p in self.parts)

    @property
    def rows(self) -> tuple[int, ...]:
        """Return the row numbers in the path, outermost first."""
        return tuple(p for p in self.parts if isinstance(p, int))

    @property
    def is_pattern(self) -> bool:
        """Return whether the path stands for any row somewhere ("*") rather than one place."""
        return ROW in self.parts

    @property
    def name(self) -> str:
        """Return the dotted name an HTML form posts: `verksamheter.0.enhet`."""
        return ".".join(str(p) for p in self.parts)

    @property
    def in_answers(self) -> FieldPath:
        """Return the place of the answer in the submitted object: the path without alternatives' keys."""
        return FieldPath(tuple(p for p in self.parts if not is_alternative_key(p)))

    @property
    def pointer(self) -> str:
        """Return the JSON pointer: `/verksamheter/0/enhet` ("" for the whole form)."""
        return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in self.parts)

    @property
    def routing(self) -> str:
        """Return the routing pointer of `x-formkit.mail`, with "*" for rows: `/verksamheter/*/chef_epost`."""
        return FieldPath(self.pattern).pointer

    @property
    def html_id(self) -> str:
        """Return the HTML id: `f-verksamheter-0-enhet`, a name's own hyphen doubled (`f-alt--datetime`)."""
        return html_id(self.name)

    def at_rows(self, rows) -> FieldPath:
        """Return the concrete path with each "*" replaced by the next of `rows`."""
        numbers = iter(rows)
        return FieldPath(tuple(next(numbers) if p == ROW else p for p in self.parts))

    def child(self, part: str | int) -> FieldPath:
        """Return the path one step further down."""
        return FieldPath(self.parts + (_part(part),))

    def __str__(self) -> str:
        return self.name


def html_id(name: str) -> str:
    """Return the HTML id of a dotted form name (`verksamheter.0.enhet` is `f-verksamheter-0-enhet`)."""
    return ID_PREFIX + name.replace("-", "--").replace(".", "-")


def pattern_of(path) -> tuple[str, ...]:
    """Return the pattern of a path in any spelling (what `Form.field_at` looks up)."""
    return FieldPath.of(path).pattern


def _part(part) -> str | int:
    """Return a path part as it is kept: a row number as an int, anything else as a string."""
    index = row_index(part)
    return index if index is not None else str(part)
