"""The kit's conventions for a form file, and the line in the file where each problem is.

The conventions are data: `formkit-schema.json`, a JSON Schema of the kit's own keywords (the
`x-formkit` block and the field `x-` keywords) on top of draft 2020-12. VS Code uses the same file for
completion and red squiggles (see .vscode/settings.json), so the editor and `formkit check` agree on
which keys exist. This module validates a parsed form against it and says each problem in Swedish
as a `Problem`: the file, the line, the field, what to do and how bad it is. A problem becomes one line
of text only when it is printed (`str(problem)`), or a JSON object for editors' tools (`as_json`).
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from json.decoder import scanstring
from pathlib import Path, PurePath

from jsonschema import Draft202012Validator

KIT_SCHEMA_PATH = Path(__file__).with_name("formkit-schema.json")
KIT_SCHEMA = json.loads(KIT_SCHEMA_PATH.read_text(encoding="utf-8"))
_KEYWORDS = KIT_SCHEMA["$defs"]["keywords"]["properties"]
FIELD_KEYWORDS = tuple(key for key in _KEYWORDS if key.startswith("x-"))
WIDGETS = tuple(_KEYWORDS["x-widget"]["enum"])
FORMATS = tuple(_KEYWORDS["format"]["enum"])
NAME = re.compile(_KEYWORDS["properties"]["propertyNames"]["pattern"])
SETTINGS = tuple(KIT_SCHEMA["$defs"]["settings"]["properties"])
MAIL_SETTINGS = tuple(KIT_SCHEMA["$defs"]["mail"]["properties"])
TYPES = {
    "string": "en text",
    "integer": "ett heltal",
    "number": "ett tal",
    "boolean": "true eller false",
    "object": "ett objekt { }",
    "array": "en lista [ ]",
    "null": "null",
}
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# The format checker makes a broken regular expression in "pattern" a problem, not a crash later.
_kit_validator = Draft202012Validator(KIT_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a form file or a page: where it is, what to do about it, and how bad it is.

    `field` is the dotted name of the field or setting it is in ("kontakt.epost", "x-formkit.mail.to";
    "" for the whole file); `label` is how the printed line names that place ('fältet "kontakt.epost"').
    A `line` or `column` of None is not known.
    """

    file: str
    line: int | None = None
    column: int | None = None
    field: str = ""
    message: str = ""
    severity: str = ERROR
    label: str = ""

    def __str__(self) -> str:
        place = self.file + "".join(f":{number}" for number in (self.line, self.column) if number)
        return f"{place}: {self.label}: {self.message}" if self.label else f"{place}: {self.message}"

    def as_json(self) -> dict:
        """Return the problem as a JSON object for editors' tools and CI."""
        keys = ("file", "line", "column", "field", "message", "severity")
        return {key: getattr(self, key) for key in keys}


def in_order(problems) -> list[Problem]:
    """Return the problems without repeats: form files before pages, each file by line and column."""
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.file.endswith(".md"), PurePath(p.file), p.line or 0, p.column or 0))


@dataclass
class Source:
    """A form file's text, with the offset of every key so a problem can name its line."""

    path: Path
    text: str
    offsets: dict[tuple, int] = field(default_factory=dict)
    duplicates: list[tuple[tuple, int]] = field(default_factory=list)

    @classmethod
    def parse(cls, path: Path, text: str) -> tuple[Source, object]:
        """Return the source with its key offsets, and the parsed value; raise ValueError on bad JSON."""
        value = json.loads(text)
        source = cls(path, text)
        source._walk(_WHITESPACE.match(text, 0).end(), ())
        return source, value

    def _walk(self, index: int, path: tuple) -> int:
        """Record where the value at `index` and everything inside it start; return the index after it."""
        text = self.text
        self.offsets.setdefault(path, index)
        if text[index] == "{":
            index, seen = _WHITESPACE.match(text, index + 1).end(), set()
            while text[index] != "}":
                start = index
                key, index = scanstring(text, index + 1)
                if key in seen:
                    self.duplicates.append((path + (key,), start))
                    for below in [p for p in self.offsets if p[: len(path) + 1] == path + (key,)]:
                        del self.offsets[below]  # the last one counts, as in json.loads
                seen.add(key)
                self.offsets[path + (key,)] = start
                index = _WHITESPACE.match(text, index).end() + 1  # past the colon
                index = self._walk(_WHITESPACE.match(text, index).end(), path + (key,))
                index = _WHITESPACE.match(text, index).end()
                if text[index] == ",":
                    index = _WHITESPACE.match(text, index + 1).end()
            return index + 1
        if text[index] == "[":
            index, position = _WHITESPACE.match(text, index + 1).end(), 0
            while text[index] != "]":
                index = self._walk(index, path + (position,))
                index = _WHITESPACE.match(text, index).end()
                if text[index] == ",":
                    index = _WHITESPACE.match(text, index + 1).end()
                position += 1
            return index + 1
        _, end = json.JSONDecoder().raw_decode(text, index)
        return end

    def line(self, pointer: tuple = ()) -> int:
        """Return the line of the deepest part of `pointer` that the file has (1 for the top)."""
        pointer = tuple(pointer)
        while pointer not in self.offsets and pointer:
            pointer = pointer[:-1]
        return line_at(self.text, self.offsets.get(pointer, 0))

    def say(self, pointer: tuple, message: str, line: int | None = None, severity: str = ERROR) -> Problem:
        """Return the problem at `pointer`: its line, the field the pointer is in, and the message."""
        label, name = place(pointer)
        return Problem(str(self.path), line or self.line(pointer), None, name, _one_line(message), severity, label)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def line_at(text: str, offset: int) -> int:
    """Return the 1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


def place(pointer: tuple) -> tuple[str, str]:
    """Return how a line names what a JSON path points into (a field, a setting or the form), and its name."""
    parts = list(pointer)
    if parts[:1] == ["x-formkit"]:
        name = _one_line(".".join(str(p) for p in parts if not isinstance(p, int)))
        return f'inställningen "{name}"', name
    label, index = [], 0
    if parts[:1] in (["$defs"], ["definitions"]) and len(parts) > 1:  # "definitions": draft-07's "$defs"
        label, index = [str(parts[0]), str(parts[1])], 2
    while index < len(parts):
        if parts[index] == "properties" and index + 1 < len(parts):
            label.append(str(parts[index + 1]))
            index += 2
        elif parts[index] == "items":
            label.append("*")
            index += 1
        elif parts[index] == "prefixItems" and index + 1 < len(parts):  # a tuple's position
            label.append(str(parts[index + 1]))
            index += 2
        elif parts[index] in ("if", "then", "else"):  # a condition's fields are the group's own
            index += 1
        elif parts[index] in ("allOf", "oneOf", "dependentSchemas", "dependencies") and index + 1 < len(parts):
            index += 2
        else:
            break
    if not label:
        return "formuläret", ""
    name = _one_line(".".join(label))
    if label[0] in ("$defs", "definitions"):  # the part by its name and keyword, then the field in it
        part = f'delen "{_one_line(label[1])}" i "{label[0]}"'
        return (f'{part}, fältet "{_one_line(".".join(label[2:]))}"' if label[2:] else part), name
    return f'fältet "{name}"', name


def json_syntax(path: Path, text: str, error: json.JSONDecodeError) -> Problem:
    """Say a JSON syntax error in Swedish with its line, column and the nearest key before it."""
    explain = [
        ("Expecting ',' delimiter", "ett kommatecken saknas mellan två värden (oftast i slutet av raden före)"),
        ("Expecting ':' delimiter", "ett kolon saknas efter nyckeln"),
        ("Expecting property name enclosed in double quotes", _property_name_hint(text, error.pos)),
        ("Expecting value", _value_hint(text, error.pos)),
        ("Unterminated string", "en text saknar sitt avslutande citattecken"),
        ("Invalid control character", "en text innehåller en radbrytning eller tabb; skriv \\n i stället"),
        ("Invalid \\escape", "ett omvänt snedstreck (\\) måste skrivas \\\\"),
        ("Extra data", "det finns tecken efter formulärets sista }"),
    ]
    what = next((swedish for english, swedish in explain if error.msg.startswith(english)), error.msg)
    keys = re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', text[: error.pos])
    near = f' (nära "{keys[-1]}")' if keys else ""
    message = f"ogiltig JSON{near}: {what}. Rätta tecknet på raden och kolumnen."
    return Problem(str(path), error.lineno, error.colno, message=message)


def _property_name_hint(text: str, position: int) -> str:
    before = text[:position].rstrip()
    if before.endswith(","):
        return "ett kommatecken för mycket före }; ta bort det"
    return 'en nyckel ska stå inom dubbla citattecken, till exempel "title"'


def _value_hint(text: str, position: int) -> str:
    before = text[:position].rstrip()
    if before.endswith(",") and text[position : position + 1] in "]}":
        return "ett kommatecken för mycket före ] eller }; ta bort det"
    return 'ett värde saknas eller är felskrivet (text ska stå inom dubbla citattecken, "true"/"false" utan)'


def check(source: Source, schema: object) -> list[Problem]:
    """Return one problem per place where the form breaks the kit's conventions or JSON Schema."""
    found: dict[Problem, None] = {}
    for pointer, key in source.duplicates:
        first, second = line_at(source.text, _first_offset(source, pointer, key)), line_at(source.text, key)
        twice = f"står två gånger (rad {first} och {second}); bara den sista gäller. Ta bort den ena."
        if pointer[-2:-1] == ("properties",):  # a field: name the field itself
            found[source.say(pointer, twice, second)] = None
        else:
            found[source.say(pointer[:-1], f'"{pointer[-1]}" {twice}', second)] = None
    for error in _kit_validator.iter_errors(schema):
        for pointer, message in _explain(error):
            found[source.say(pointer, message)] = None
    return list(found)


def _first_offset(source: Source, pointer: tuple, second: int) -> int:
    quoted = json.dumps(pointer[-1])
    index = source.text.find(quoted, source.offsets.get(pointer[:-1], 0))
    return index if 0 <= index < second else second


def _explain(error) -> list[tuple[tuple, str]]:
    """Turn one error from the kit's schema into (pointer, Swedish message) pairs."""
    pointer = tuple(error.absolute_path)
    hint = error.schema.get("errorMessage", "") if isinstance(error.schema, dict) else ""
    named = [e for e in error.context or [] if "propertyNames" in e.relative_schema_path]
    if error.validator == "anyOf" and named:  # e.g. x-messages: an object whose key is no known rule
        return [_bad_name(pointer, str(named[0].instance), hint)]
    if "propertyNames" in error.absolute_schema_path:
        return [_bad_name(pointer, str(error.instance), hint)]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties", {}))
        return [
            (pointer + (key,), f'okänd inställning "{key}".{did_you_mean(key, known)} {hint}')
            for key in error.instance
            if key not in known
        ]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        return [(pointer, f'"{name}" saknas. {hint or "Lägg till det."}') for name in missing]
    key = _keyword(pointer)
    value = _short(error.instance)
    if not pointer and error.validator == "type":
        return [(pointer, f"filen innehåller inte ett formulär. {KIT_SCHEMA['errorMessage']}")]
    if error.validator == "format" and error.validator_value == "regex":
        return [(pointer, f"{key} är inte ett giltigt mönster ({error.instance}). Rätta mönstret.")]
    if hint:
        return [(pointer, f"{key} kan inte vara{value}. {hint}" if value else f"{key} har fel form. {hint}")]
    return [(pointer, _standard(error, key, value))]


def _bad_name(pointer: tuple, name: str, hint: str) -> tuple[tuple, str]:
    if pointer[-1:] == ("properties",):
        suggestion = ascii_name(name)
        example = f' Till exempel "{suggestion}".' if suggestion and suggestion != name else ""
        return pointer + (name,), f'namnet "{name}" går inte att använda. {hint}{example}'
    if pointer[-1:] == ("x-messages",):
        rules = KIT_SCHEMA["$defs"]["keywords"]["properties"]["x-messages"]["anyOf"][1]["propertyNames"]["enum"]
        return pointer, f'"x-messages" har regeln "{name}" som inte finns.{did_you_mean(name, rules)} {hint}'
    allowed = list(FIELD_KEYWORDS) + (["x-formkit"] if not pointer else [])
    return pointer + (name,), f'okänt nyckelord "{name}".{did_you_mean(name, allowed)} {hint}'


def _standard(error, key: str, value: str) -> str:
    """Say a JSON Schema (draft 2020-12) error in Swedish; the metaschema carries no messages of its own."""
    if key == '"type"' and error.validator in ("anyOf", "enum"):
        return f'typen{value} finns inte. Använd "string", "integer", "number", "boolean", "object" eller "array".'
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        todo = "Skriv värdet utan citattecken." if isinstance(error.instance, str) else "Rätta värdet."
        wanted = " eller ".join(TYPES.get(t, t) for t in wanted)
        return f"{key} ska vara {wanted}{f', inte{value}' if value else ''}. {todo}"
    if error.validator in ("minimum", "exclusiveMinimum"):
        return f"{key} ska vara {error.validator_value} eller mer, inte{value}. Rätta värdet."
    if error.validator == "uniqueItems":
        return f"{key} har samma värde två gånger. Ta bort dubbletten."
    if error.validator == "minItems":
        return f"{key} ska ha minst {error.validator_value} värde. Lägg till ett eller ta bort {key}."
    return f"{key} följer inte JSON Schema 2020-12 ({error.message}). Rätta värdet."


def _keyword(pointer: tuple) -> str:
    names = [p for p in pointer if isinstance(p, str)]
    return f'"{names[-1]}"' if names else "formuläret"


def _short(value) -> str:
    if isinstance(value, dict | list):
        return ""
    text = json.dumps(value, ensure_ascii=False)
    return f" ({text[:60]}…)" if len(text) > 60 else f" {text}"


def did_you_mean(name: str, known: list[str]) -> str:
    """Return ' Menade du "x"?' for the nearest known name, or an empty string."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f' Menade du "{close[0]}"?' if close else ""


def ascii_name(name: str) -> str:
    """Return a name that follows the rule: å, ä, ö become a, a, o; spaces become _; hyphens stay single."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = re.sub(r"-+", "-", re.sub(r"[^A-Za-z0-9_-]+", "_", plain)).strip("_-")
    return plain if plain and plain[0].isalpha() else ""


def humanize(name: str) -> str:
    """Return a label from a property name: `firstName` and `first_name` both become "First name"."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").split()
    text = " ".join(words).lower() if words else name
    return text[:1].upper() + text[1:]
