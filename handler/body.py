"""Read a request body once into one value: the answers, the form version, the answer link's token, the honeypot.

The kit's own fields start with "_" and never reach validation: `_version` (the form version the page
was built with), `_token` (the answer link's token) and `_hemsida` (a honeypot a person never fills in).
JSON is parsed strictly and with bounded work: UTF-8 only, no duplicate keys, no deep nesting, keys
that can be written back in an answer.
"""

from __future__ import annotations

import io
import json
import urllib.parse
from dataclasses import dataclass, field

from werkzeug.exceptions import HTTPException
from werkzeug.formparser import MultiPartParser
from werkzeug.http import parse_options_header

from . import files
from .errors import BadSubmission, UnsupportedMediaType
from .forms import Form, Kind
from .normalise import from_pairs

HONEYPOT = "_hemsida"
VERSION = "_version"
TOKEN = "_token"
MAX_DEPTH = 12
MAX_FIELDS = 1000
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


@dataclass(frozen=True)
class Body:
    """One submission as read from its request body, before any clean-up."""

    answers: dict
    version: str = ""
    token: str = ""
    honeypot: bool = False
    is_json: bool = False
    pairs: list[tuple[str, str]] = field(default_factory=list)  # form-encoded (name, value) pairs, as sent

    def changed_since_loaded(self, form: Form) -> bool:
        """Return True when the page that sent this was built from another version of the form."""
        return self.version not in ("", form.version)


def read_body(form: Form, content_type: str, raw: bytes) -> Body:
    """Return the body as one value, or raise BadSubmission / UnsupportedMediaType saying what is wrong.

    `content_type` is the request's Content-Type header (a multipart body needs its boundary).
    """
    mimetype, options = parse_options_header(content_type)
    if mimetype == JSON:
        data = decode_json(raw)
        version, token, honeypot = data.pop(VERSION, ""), data.pop(TOKEN, ""), data.pop(HONEYPOT, "")
        return Body(
            data,
            version=version if isinstance(version, str) else "",
            token=token.strip() if isinstance(token, str) else "",
            honeypot=bool(str(honeypot or "").strip()),
            is_json=True,
        )
    if mimetype in (FORM, MULTIPART):
        pairs = decode_pairs(raw) if mimetype == FORM else decode_multipart(raw, options.get("boundary", ""), form)
        own = {name: value for name, value in pairs if name in (VERSION, TOKEN)}
        body = Body(
            {},
            version=own.get(VERSION, ""),
            token=own.get(TOKEN, "").strip(),
            honeypot=any(name == HONEYPOT and value.strip() for name, value in pairs),
            pairs=pairs,
        )
        # A page loaded before the form changed may send fields the form no longer has: drop them.
        answers = from_pairs(form, pairs, lenient=body.changed_since_loaded(form))
        return Body(answers, body.version, body.token, body.honeypot, False, pairs)
    raise UnsupportedMediaType(
        "Skicka formuläret som application/x-www-form-urlencoded, multipart/form-data eller application/json."
    )


def decode_pairs(raw: bytes) -> list[tuple[str, str]]:
    """Parse a form-encoded body strictly: UTF-8 only and at most MAX_FIELDS fields."""
    try:
        return urllib.parse.parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS
        )
    except UnicodeDecodeError:
        raise BadSubmission("Innehållet är inte giltig UTF-8.") from None
    except ValueError:
        raise BadSubmission("Formuläret innehåller för många fält.") from None


def decode_multipart(raw: bytes, boundary: str, form: Form | None = None) -> list[tuple[str, str]]:
    """Parse a multipart/form-data body: its text fields, and its files as their fields' schemas write them.

    A file is read into memory only (never a temporary file: the body's size is bounded already) and becomes
    the answer string its field takes (files.written). A file for a field that takes none is refused.
    """
    if not boundary:
        raise BadSubmission("Innehållet saknar gränsen (boundary) mellan fälten.")
    parser = MultiPartParser(stream_factory=_in_memory, max_form_memory_size=len(raw) + 1, max_form_parts=MAX_FIELDS)
    try:
        fields, uploads = parser.parse(io.BytesIO(raw), boundary.encode("latin-1", "replace"), len(raw))
    except (ValueError, HTTPException):  # a broken part, or more parts than MAX_FIELDS
        raise BadSubmission("Innehållet går inte att läsa som multipart/form-data.") from None
    pairs = list(fields.items(multi=True))
    takes_files = form is not None and any(node.kind == Kind.FILE for node in form.root.walk())
    for name, upload in uploads.items(multi=True):
        data = upload.stream.getvalue()
        if not upload.filename and not data:
            continue  # a file input left empty
        node = form.field_named(name) if takes_files else None
        if node is None or node.kind != Kind.FILE:
            if not takes_files:
                raise BadSubmission("Formuläret tar inte emot filer.")
            raise BadSubmission(f'Fältet "{name[:200]}" tar inte emot filer.')
        pairs.append((name, files.written(node, upload.filename or "", data)))
    return pairs


def _in_memory(*args, **kwargs) -> io.BytesIO:
    return io.BytesIO()


def decode_json(raw: bytes) -> dict:
    """Parse a JSON body strictly: UTF-8 only, no duplicate keys, no deep nesting, an object at the top."""
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_object, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise BadSubmission("Innehållet är inte giltig UTF-8.") from None
    except RecursionError:
        raise BadSubmission("JSON-innehållet är för djupt nästlat.") from None
    except ValueError as error:  # JSONDecodeError and our own hooks
        raise BadSubmission(f"Innehållet är inte giltig JSON: {error}") from None
    if not isinstance(data, dict):
        raise BadSubmission("JSON-innehållet ska vara ett objekt med formulärets fält.")
    if depth(data) > MAX_DEPTH:
        raise BadSubmission("JSON-innehållet är för djupt nästlat.")
    return data


def depth(value) -> int:
    """Return how deeply objects and lists nest in `value`, without recursion (any depth is safe)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(current, dict):
            stack.extend((child, level + 1) for child in current.values())
        elif isinstance(current, list):
            stack.extend((child, level + 1) for child in current)
    return deepest


def _object(pairs: list[tuple[str, object]]) -> dict:
    """Build one JSON object: a key said twice or one that cannot be written back in an answer is refused."""
    data: dict = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f'nyckeln "{_shown(key)}" förekommer flera gånger')
        if not _writable(key):
            raise ValueError(f'nyckeln "{_shown(key)}" innehåller tecken som inte får förekomma')
        data[key] = value
    return data


def _writable(key: str) -> bool:
    """A key with a lone surrogate or a control character could not be named in a UTF-8 answer."""
    return key.isprintable()  # surrogates (Cs) and controls (Cc) are not printable


def _shown(key: str) -> str:
    return key[:80].encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")


def _no_constant(name):
    raise ValueError(f"{name} är inte tillåtet")
