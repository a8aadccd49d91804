"""Issue 10's fuzz: 10,000 generated hostile requests against the handler under gunicorn, never a 5xx.

Bounded and deterministic: request number i is generated from random.Random(f"{SEED}:{i}") alone, so the
same requests go out whatever the threads' order. They cover both content types and multipart and odd
ones, every field path of the BUS forms, Unicode edge cases (combining marks, lone surrogates in JSON
escapes, RTL and zero-width marks, full-width digits, NUL, huge numbers, deep nesting, strings near the
body limit), odd headers (wrong or absent Content-Type, charset=latin1, Content-Length mismatches, huge
values, bad chunking) and methods. Asserted: no 5xx, no answer slower than BOUND, no hang, no traceback
in the log, no mail for a refused request, and a valid report still accepted at the end.
"""

from __future__ import annotations

import functools
import http.client
import json
import random
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import hostile
import pytest
from hostile import BODY_LIMIT, ENDPOINT, FORM, JSON, ROOT, Answer, Mailbox, gunicorn_server, nest, raw_request

from handler.forms import load_forms
from support import valid_answers

pytestmark = pytest.mark.slow  # conftest marks the module too; `-m 'not slow'` leaves it out

SEED = 20261110
REQUESTS = 10_000
THREADS = 4  # keep-alive client connections; gunicorn runs 2 workers on this 2-core machine
BOUND = 5.0  # seconds: no answer may take longer (the target, 0.2 s, is bench/slowest.py's)
WALL = 240.0  # seconds: the whole run stops here (a hang, or a server far too slow to finish)
MAX_HANGS = 3  # after this many unanswered requests the run stops: each leaves a worker busy
FORMS = load_forms(ROOT / "schema")
REPLY_FORM = "bus-avvikelse-svar"


# --- what a generated request is -------------------------------------------------------------------------


@dataclass
class Request:
    kind: str
    what: str  # a short description for the failure report (never the whole body)
    method: str = "POST"
    path: str = ENDPOINT
    headers: dict = field(default_factory=dict)
    body: bytes | None = None
    raw: bytes | None = None  # sent as is over a new socket
    half_close: bool = False  # shut our side after sending (a Content-Length larger than the body)
    framing: bool = False  # broken HTTP framing: the server may close without answering

    def __str__(self) -> str:
        size = len(self.raw if self.raw is not None else self.body or b"")
        return f"{self.kind}: {self.method} {self.path[:80]} {self.what} ({size} bytes)"


class Raw(str):
    """A JSON text spliced into a generated body as is (deep nesting, NaN, huge numbers, bad escapes)."""


def dump(value, ascii_only: bool) -> str:
    """Serialise like json.dumps, except that Raw pieces go in as they are."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(f"{json.dumps(str(k), ensure_ascii=ascii_only)}:{dump(v, ascii_only)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(dump(v, ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate becomes bytes that are not UTF-8


# --- the form's fields -----------------------------------------------------------------------------------


def fields_of(form_id: str) -> list:
    return [node for node in FORMS[form_id].root.walk() if node.path]


FIELDS = {form_id: fields_of(form_id) for form_id in FORMS}
LEAVES = {form_id: [n for n in nodes if n.kind not in ("group", "list")] for form_id, nodes in FIELDS.items()}
ALL_PATHS = [(form_id, node) for form_id in sorted(FIELDS) for node in FIELDS[form_id]]


def concrete(path: tuple[str, ...], rng: random.Random, weird: bool = False) -> list[str]:
    """A field's name parts with its rows filled in: 0 or 1, or a hostile row number."""
    rows = ["0", "1", "9"]
    if weird:
        rows += ["²", "١", "１", "-1", "01", "200", "201", "9" * 30, "7" * 5000, "", " 0", "0x1", "1e3", "NaN", "*"]
    return [rng.choice(rows) if part == "*" else part for part in path]


def put(data, parts: list[str], value):
    """Set a value by name parts in a nested JSON object (short ASCII digits are list indices)."""
    node = data
    for part, following in zip(parts, parts[1:] + [None]):
        key = _index(part)
        if isinstance(node, list) and key is None:
            return data  # a name that does not fit the structure: leave it out
        if key is None:
            key = part
        if isinstance(node, list):
            node.extend({} for _ in range(key + 1 - len(node)))
        if following is None:
            node[key] = value
        else:
            wanted = [] if _index(following) is not None else {}
            current = node[key] if isinstance(node, list) else node.get(key)
            if not isinstance(current, type(wanted)):
                node[key] = wanted
            node = node[key]
    return data


def _index(part: str) -> int | None:
    return int(part) if part.isascii() and part.isdigit() and len(part) < 4 else None


# --- values ------------------------------------------------------------------------------------------------

COMBINING = "\u0301\u0316\u0323\u0308\u030a\u0327\u0345"
TEXTS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202eesrever\u202c",
    "\u200f\u200e\u2066x\u2069",
    "zero\u200bwidth\ufeff",
    "line\u2028sep\u2029para\x85nel",
    "tab\tvt\x0bff\x0ccr\rlf\n",
    "\x1b[31mred\x1b[0m",
    "１２３４５６７８９０",
    "８００１０１－１２３４",
    "19800101-1234",
    "800101\u20111234",
    "800101 – 1234",
    "²³¹",
    "٣٤٥",
    "𝟘𝟙𝟚",
    "😀" * 50,
    "漢字" * 40,
    "ﬁ Å Ω ẛ̣",
    "<script>alert(1)</script>",
    "{{7*7}} ${jndi:ldap://x/a} %s%n%x",
    "' OR 1=1 --",
    "x\r\nBcc: victim@evil.example",
    "=cmd|' /C calc'!A0",
    "a" * 199,
    "a" * 201,
    "ä" * 2001,
    "-" * 5001,
    "1e309",
    "NaN",
    "-0",
    "true",
    "null",
]
EMAILS = [
    "rektor@solna.se",
    "chef@example.com",
    "x@gmail.com, y@evil.example",
    "a@b.se\r\nBcc: c@evil.example",
    "ä@ä.se",
    "rektor@solna.se\n",
    "@solna.se",
    "a" * 300 + "@solna.se",
    "\u202erektor@solna.se",
    "rektor＠solna.se",
    "<rektor@solna.se>",
    '"x y"@solna.se',
]
DATES = [
    "2026-11-20",
    "2026-02-30",
    "0000-00-00",
    "9999-12-31",
    "２０２６-１１-２０",
    "2026-11-20T00:00",
    "20261120",
    "-1",
]


def hostile_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return rng.choice(TEXTS)
    if roll < 0.7:
        return "a" + "".join(rng.choice(COMBINING) for _ in range(rng.choice([1, 10, 300, 3000])))
    if roll < 0.8:
        return "a" + "\u0301\u0316" * rng.choice([10, 500, 2000])  # the NFC bomb's pattern, small
    if roll < 0.9:
        return "".join(
            chr(rng.choice([rng.randrange(0x20, 0x7F), rng.randrange(0xA0, 0xD800), rng.randrange(0xE000, 0x110000)]))
            for _ in range(rng.randrange(1, 60))
        )
    return rng.choice(TEXTS) + rng.choice(TEXTS)


def hostile_json_value(rng: random.Random):
    roll = rng.random()
    if roll < 0.5:
        return hostile_text(rng)
    choices = [
        lambda: Raw('"\\ud800"'),
        lambda: Raw('"\\udfff\\ud800"'),
        lambda: Raw('"a\\u0000b"'),
        lambda: Raw("NaN"),
        lambda: Raw("-Infinity"),
        lambda: Raw("1e400"),
        lambda: Raw("9" * rng.choice([20, 400, 4301, 5000])),
        lambda: Raw("-" + "1" * 5000),
        lambda: Raw("0." + "0" * 3000 + "1"),
        lambda: Raw(hostile.nested(rng.choice([5, 13, 100, 600, 900, 1001, 5000]), rng.choice(["array", "object"]))),
        lambda: rng.choice([0, -1, 1.5, 2**64, True, False, None]),
        lambda: [],
        lambda: {},
        lambda: [hostile_text(rng) for _ in range(rng.choice([2, 11, 1000]))],
        lambda: {hostile_text(rng): 1},
        lambda: [{"enhet": "x"}] * rng.choice([11, 500]),
    ]
    return rng.choice(choices)()


def value_for(node, rng: random.Random, hostile_share: float = 0.7):
    """A value for a field: mostly hostile, sometimes one the field accepts."""
    if rng.random() < hostile_share:
        return hostile_text(rng)
    if node.choices:
        return rng.choice(node.choices)[0]
    if node.kind == "email":
        return rng.choice(EMAILS)
    if node.kind == "date":
        return rng.choice(DATES)
    if node.kind == "checkbox":
        return rng.choice(["on", "true", "1", "ja", ""])
    return rng.choice(["Björkskolan", "08-123 456 78", "Text med å, ä och ö", "a"])


# --- encoders ----------------------------------------------------------------------------------------------


def encode_json(data, rng: random.Random) -> bytes:
    text = dump(data, ascii_only=rng.random() < 0.5)
    return utf8(text)


def encode_form(pairs: list[tuple[str, str]], rng: random.Random) -> bytes:
    style = rng.random()
    if style < 0.75:  # what browsers send; each of the few distinct names and values quoted once
        quoted = functools.cache(functools.partial(urllib.parse.quote_plus, errors="surrogatepass"))
        return "&".join(f"{quoted(k)}={quoted(v)}" for k, v in pairs).encode()
    if style < 0.9:  # raw UTF-8, nothing escaped
        return b"&".join(utf8(k) + b"=" + utf8(v) for k, v in pairs)
    # broken escapes and separators
    return b"&".join(
        utf8(k) + rng.choice([b"=", b"==", b"", b"=%", b"=%zz", b"=%FF", b";"]) + utf8(v) for k, v in pairs
    )


def encode_multipart(pairs: list[tuple[str, str]], rng: random.Random) -> tuple[bytes, str]:
    boundary = rng.choice(["formkitboundary", "x" * 70, "----WebKitFormBoundary7MA4YWxkTrZu0gW", "a b", ""])
    parts = []
    for name, value in pairs:
        if rng.random() < 0.15:
            head = (
                f'Content-Disposition: form-data; name="{name}"; filename="../../etc/passwd"\r\n'
                "Content-Type: application/octet-stream"
            )
            parts.append(utf8(head) + b"\r\n\r\n" + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200))))
        else:
            parts.append(utf8(f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'))
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    body += rng.choice(
        [b"--" + boundary.encode() + b"--\r\n", b"", b"--" + boundary.encode() + b"\r\n", b"--wrong--\r\n"]
    )
    content_type = rng.choice(
        [
            f"multipart/form-data; boundary={boundary}",
            "multipart/form-data",
            f'multipart/form-data; boundary="{boundary}"',
            "multipart/mixed; boundary=x",
        ]
    )
    return body, content_type


ACCEPTS = [
    None,
    None,
    JSON,
    JSON,
    "text/html",
    "*/*",
    "application/problem+json",
    "text/html;q=0.1, application/json;q=0.9",
    "garbage;;q=x",
    "text/*",
]
ODD_TYPES = [
    None,
    "text/plain",
    "application/json; charset=latin1",
    "application/json; charset=utf-16",
    "application/JSON",
    "application/json, text/html",
    "application/x-www-form-urlencoded; charset=latin1",
    "application/x-www-form-urlencoded; charset=iso-8859-1",
    "*/*",
    "application/octet-stream",
    "application/merge-patch+json",
    "application/xml",
    "multipart/form-data; boundary=",
    "application/json; boundary=x; charset=utf-8; q=1",
    "a/" + "b" * 3000,
    "\t",
]


def headers_for(rng: random.Random, content_type: str | None, port_host: str) -> dict:
    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    accept = rng.choice(ACCEPTS)
    if accept is not None:
        headers["Accept"] = accept
    if rng.random() < 0.1:
        headers["Origin"] = rng.choice(
            [f"http://{port_host}", "http://evil.example", "null", "http://a b", "http://ä.se", "x"]
        )
    if rng.random() < 0.05:
        headers["Referer"] = rng.choice(["http://evil.example/form", "not a url", f"http://{port_host}/rapportera/"])
    if rng.random() < 0.05:
        headers["X-Forwarded-For"] = rng.choice(["1.2.3.4", "garbage", ", , ,", "1.2.3.4, " * 50])
    return headers


# --- generators, one per kind of request -------------------------------------------------------------------


def gen_mutated_valid(rng: random.Random, index: int, host: str) -> Request:
    """The valid report with one to three fields changed (every field path in turn): mostly refused."""
    answers = dict(valid_answers())
    form_id = hostile.FORM_ID
    node = FIELDS[form_id][index % len(FIELDS[form_id])]
    targets = [node] + [rng.choice(FIELDS[form_id]) for _ in range(rng.randrange(0, 3))]
    what = []
    as_json = rng.random() < 0.5
    data = nest(answers) if as_json else None
    pairs = list(answers.items())
    for target in targets:
        parts = concrete(target.path, rng, weird=rng.random() < 0.2)
        action = rng.random()
        name = ".".join(parts)
        what.append(name[:60])
        if action < 0.1:  # leave it out
            pairs = [(k, v) for k, v in pairs if not k.startswith(name)]
            if as_json and parts and parts[0] in data and len(parts) == 1:
                del data[parts[0]]
            continue
        value = hostile_json_value(rng) if as_json and rng.random() < 0.5 else value_for(target, rng)
        if as_json:
            put(data, parts, value)
        else:
            pairs = [(k, v) for k, v in pairs if k != name] + [(name, value if isinstance(value, str) else str(value))]
    if rng.random() < 0.03:
        what.append("honeypot")
        pairs.append(("_hemsida", "http://spam.example"))
        if as_json:
            data["_hemsida"] = "http://spam.example"
    if as_json:
        body, content_type = encode_json(data, rng), JSON
    elif rng.random() < 0.8:
        body, content_type = encode_form(pairs, rng), FORM
    else:
        body, content_type = encode_multipart(pairs, rng)
    return Request(
        "mutated-valid",
        f"{content_type.split(';')[0]} {' '.join(what)}",
        body=body,
        headers=headers_for(rng, content_type, host),
    )


def gen_one_field(rng: random.Random, index: int, host: str) -> Request:
    """A body holding one field (groups and lists too, with values of the wrong kind), either form."""
    form_id, node = ALL_PATHS[index % len(ALL_PATHS)]
    parts = concrete(node.path, rng, weird=rng.random() < 0.3)
    roll = rng.random()
    if roll < 0.5:
        data = put({}, parts, hostile_json_value(rng))
        body, content_type = encode_json(data, rng), JSON
    elif roll < 0.9:
        body, content_type = encode_form([(".".join(parts), hostile_text(rng))], rng), FORM
    else:
        body, content_type = encode_multipart([(".".join(parts), hostile_text(rng))], rng)
    return Request(
        "one-field",
        f"{content_type.split(';')[0]} {'.'.join(parts)[:60]}",
        path=f"/api/forms/{form_id}",
        body=body,
        headers=headers_for(rng, content_type, host),
    )


def gen_json_structure(rng: random.Random, index: int, host: str) -> Request:
    """Whole JSON bodies of the wrong shape: not an object, deep, duplicate or many keys, bad bytes."""
    depth = rng.choice([13, 100, 600, 900, 1000, 5000, 20000, 100000])
    choices = {
        "top-array": lambda: b"[]",
        "top-string": lambda: b'"x"',
        "top-number": lambda: b"1" * rng.choice([1, 5000]),
        "top-null": lambda: b"null",
        "empty": lambda: b"",
        "bom": lambda: "\ufeff".encode() + hostile.valid_json(),
        "truncated": lambda: hostile.valid_json()[: rng.randrange(1, 200)],
        "nested-top": lambda: ('{"a":' * depth + "1" + "}" * depth).encode(),
        "nested-field": lambda: (
            '{"handelsetyp":' + hostile.nested(depth, rng.choice(["array", "object"])) + "}"
        ).encode(),
        "nested-list": lambda: ('{"verksamheter":[' + hostile.nested(depth) + "]}").encode(),
        "duplicate": lambda: hostile.duplicate_key_body(rng.choice([2, 100, 5000, 20000])),
        "many-keys": lambda: ("{" + ",".join(f'"k{i}":{i}' for i in range(rng.choice([1001, 20000]))) + "}").encode(),
        "long-list": lambda: hostile.long_array_body(rng.choice([11, 1000, 50000, 131000])),
        "many-rows": lambda: hostile.json_body(
            {"verksamheter": [{"enhet": "x", "chef_epost": "a@solna.se"}] * rng.choice([11, 300, 3000])}
        ),
        "surrogate-key": lambda: rng.choice(
            [b'{"\\ud800": 1}', b'{"\\udc00\\ud800": "x"}', b'{"handelsetyp\\ud800": 1}']
        ),
        "cesu-bytes": lambda: b'{"handelsetyp": "' + "\ud800".encode("utf-8", "surrogatepass") + b'"}',
        "latin1-bytes": lambda: '{"handelsetyp": "åäö"}'.encode("latin-1"),
        "utf16": lambda: hostile.valid_json().decode().encode("utf-16"),
        "nul-bytes": lambda: b'{"handelsetyp": "a\x00b"}',
        "constants": lambda: rng.choice([b'{"handelsetyp": NaN}', b'{"handelsetyp": Infinity}', b'{"x": -Infinity}']),
        "huge-number": lambda: b'{"handelsetyp": ' + b"9" * rng.choice([400, 4300, 4301, 100000]) + b"}",
        "float-exp": lambda: b'{"handelsetyp": 1e999999}',
        "trailing": lambda: hostile.valid_json() + rng.choice([b",", b"}", b" x", b"\x00"]),
        "kit-fields": lambda: hostile.json_body(
            {"_version": rng.choice([[], {}, 1, "x" * 1000]), "_token": rng.choice([[], 1, "x"]), "_hemsida": [1]}
        ),
    }
    name = rng.choice(sorted(choices))
    body = choices[name]()[: BODY_LIMIT + 2000]
    return Request("json-structure", name, body=body, headers=headers_for(rng, JSON, host))


def gen_form_structure(rng: random.Random, index: int, host: str) -> Request:
    """Form-encoded bodies with hostile names: odd row numbers, groups, unknown or repeated names, too many."""
    names = [
        "verksamheter.².enhet",
        "verksamheter.١.enhet",
        "verksamheter.１.enhet",
        "verksamheter.-1.enhet",
        "verksamheter." + "9" * rng.choice([4, 30, 4301, 5000]) + ".enhet",
        "verksamheter..enhet",
        "verksamheter.0",
        "verksamheter",
        "beskrivning",
        "beskrivning.chef",
        "a.b.c.d.e.f",
        ".",
        "..",
        "",
        "_version",
        "_token",
        "_hemsida",
        "handelsetyp.0",
        "handelsetyp.x",
        "verksamheter.0.enhet.x",
        "verksamheter.0.0",
        "\x00",
        "ä" * 300,
        "verksamheter.0.enhet\x00",
        "constructor",
        "__proto__",
        "verksamheter.NaN.enhet",
    ]
    count = rng.choice([1, 2, 5, 999, 1001, 5000])
    values = [hostile_text(rng) for _ in range(3)] + ["x"]  # a few values: many pairs stay cheap to build
    pairs = [(rng.choice(names), rng.choice(values)) for _ in range(count)]
    if rng.random() < 0.3:
        pairs = list(valid_answers().items()) + pairs
    accept_html = rng.random() < 0.5
    headers = headers_for(rng, FORM, host)
    if accept_html:
        headers["Accept"] = "text/html"
    return Request(
        "form-structure",
        f"{count} pairs, e.g. {pairs[0][0][:40]!r}",
        body=encode_form(pairs, rng)[: BODY_LIMIT + 2000],
        headers=headers,
    )


def gen_content_type(rng: random.Random, index: int, host: str) -> Request:
    """A real body under an odd, wrong or absent Content-Type."""
    content_type = rng.choice(ODD_TYPES + [JSON, FORM])
    body = rng.choice(
        [hostile.valid_json(), hostile.valid_form(), b"", b"\xff\xfe\x00", "handelsetyp=åäö".encode("latin-1")]
    )
    if content_type and "utf-16" in content_type:
        body = hostile.valid_json().decode().encode("utf-16")
    headers = headers_for(rng, None, host)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return Request("content-type", repr(content_type)[:60], body=body, headers=headers)


def gen_method_path(rng: random.Random, index: int, host: str) -> Request:
    """Every method on the endpoint and on the other addresses: receipts, the answer page, unknown forms."""
    method = rng.choice(["GET", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD", "POST", "TRACE"])
    reference = rng.choice(
        [
            "BUS-20261120-ABCDEF",
            "BUS-20261120-ABCDEF%0A",
            "%00",
            "x" * 300,
            "..%2F..%2Fetc%2Fpasswd",
            "BUS-20261120-ABCDEF%0D%0AX:1",
            "%C2%B2",
        ]
    )
    token = rng.choice(["", "x", "a.b.c", "." * 200, "%00", "eyJ" + "A" * 2000, "%ZZ", "%ud800"])
    path = rng.choice(
        [
            ENDPOINT,
            ENDPOINT + "/",
            f"/api/forms/{hostile.FORM_ID}/kvitto/{reference}",
            f"/api/forms/{REPLY_FORM}/svara?token={token}",
            f"/api/forms/{REPLY_FORM}",
            "/api/forms/ok%C3%A4nt",
            "/api/forms/" + "a" * rng.choice([10, 300, 3000, 5000]),
            "/api/forms/%00",
            "/api/forms/..%2F..%2Fschema",
            "/api/forms/",
            ENDPOINT + "?" + "a=1&" * 500,
        ]
    )
    body = None
    if method in ("POST", "PUT", "PATCH"):
        body = rng.choice([b"", b"{}", hostile.valid_json(), b"handelsetyp=x"])
    content_type = rng.choice([JSON, FORM, None])
    return Request("method-path", "", method=method, path=path, body=body, headers=headers_for(rng, content_type, host))


def gen_framing(rng: random.Random, index: int, host: str) -> Request:
    """Raw requests: Content-Length mismatches, bad chunking, huge or odd header values."""
    body = rng.choice([hostile.valid_json(), b"{}", b'{"handelsetyp": "x"}'])
    content_type = ("Content-Type", rng.choice([JSON, FORM, "application/json; charset=latin1"]))
    roll = rng.choice(
        [
            "longer",
            "shorter",
            "negative",
            "not-a-number",
            "two-lengths",
            "chunked-bad",
            "chunked-ok",
            "chunked-and-length",
            "huge-header",
            "many-headers",
            "crlf-origin",
            "latin1-header",
            "nul-header",
            "expect",
        ]
    )
    half_close = False
    if roll == "longer":
        raw = raw_request(
            "POST",
            ENDPOINT,
            [content_type, ("Content-Length", str(len(body) + rng.choice([1, 100, 10**6])))],
            body,
            content_length=False,
        )
        half_close = True
    elif roll == "shorter":
        raw = raw_request(
            "POST",
            ENDPOINT,
            [content_type, ("Content-Length", str(max(0, len(body) - rng.choice([1, 5, 50]))))],
            body,
            content_length=False,
        )
    elif roll == "negative":
        raw = raw_request("POST", ENDPOINT, [content_type, ("Content-Length", "-1")], body, content_length=False)
        half_close = True
    elif roll == "not-a-number":
        raw = raw_request(
            "POST",
            ENDPOINT,
            [content_type, ("Content-Length", rng.choice(["x", "1e3", "0x10", "", " 12", "9" * 40]))],
            body,
            content_length=False,
        )
        half_close = True
    elif roll == "two-lengths":
        raw = raw_request(
            "POST",
            ENDPOINT,
            [content_type, ("Content-Length", str(len(body))), ("Content-Length", "0")],
            body,
            content_length=False,
        )
    elif roll == "chunked-bad":
        chunks = rng.choice(
            [
                b"zz\r\n{}\r\n0\r\n\r\n",
                b"-1\r\n{}\r\n0\r\n\r\n",
                b"f" * 40 + b"\r\n{}\r\n0\r\n\r\n",
                b"2\r\n{}",
                b"2;" + b"x" * 9000 + b"\r\n{}\r\n0\r\n\r\n",
                b"2\r\n{}0\r\n\r\n",
            ]
        )
        raw = hostile.chunked_request(chunks)
        half_close = True
    elif roll == "chunked-ok":
        size = len(body)
        raw = hostile.chunked_request(f"{size:x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
    elif roll == "chunked-and-length":
        raw = raw_request("POST", ENDPOINT, [content_type, ("Transfer-Encoding", "chunked")], b"2\r\n{}\r\n0\r\n\r\n")
    elif roll == "huge-header":
        raw = raw_request(
            "POST", ENDPOINT, [content_type, ("X-Big", "a" * rng.choice([4000, 8189, 9000, 70000]))], body
        )
    elif roll == "many-headers":
        raw = raw_request(
            "POST", ENDPOINT, [content_type] + [(f"X-H{i}", "v") for i in range(rng.choice([50, 101, 1000]))], body
        )
    elif roll == "crlf-origin":
        raw = raw_request(
            "POST",
            ENDPOINT,
            [content_type, (b"Origin", b"http://evil.example\r\n outcome=accepted reference=BUS-20260101-FRGDXY")],
            body,
        )
    elif roll == "latin1-header":
        raw = raw_request(
            "POST",
            ENDPOINT,
            [content_type, (b"Origin", b"http://\xe5\xe4\xf6.se"), (b"Accept", b"text/html\xff")],
            body,
        )
    elif roll == "nul-header":
        raw = raw_request("POST", ENDPOINT, [content_type, (b"X-Nul", b"a\x00b")], body)
    else:
        raw = raw_request("POST", ENDPOINT, [content_type, ("Expect", "100-continue")], body)
    return Request("framing", roll, raw=raw, half_close=half_close, framing=True)


def gen_near_limit(rng: random.Random, index: int, host: str) -> Request:
    """One long string making the body just under or just over the body limit, in several scripts."""
    alphabet = rng.choice(
        ["x", "ä", "漢", "😀", "\u0301\u0316", "a\u0301", "\u202e", "\u200b", " ", "\\u0000", "\\ud800", "%C3%A4"]
    )
    node = rng.choice(LEAVES[hostile.FORM_ID])
    target = BODY_LIMIT + rng.randrange(-3000, 1500)
    as_json = rng.random() < 0.6
    name = ".".join(concrete(node.path, rng))
    prefix = f'{{"{name.split(".")[0]}": "' if as_json else f"{name}="
    unit = len(alphabet.encode())
    text = alphabet * max(0, (target - len(prefix) - 2) // unit)
    if as_json:
        if len(node.path) > 1:  # a nested field: the long text goes in its own place
            body = utf8(dump(put({}, name.split("."), Raw('"' + text + '"')), True))
        else:
            body = utf8(prefix + text + '"}')
        content_type = JSON
    else:
        body, content_type = utf8(prefix + text), FORM
    return Request(
        "near-limit", f"{content_type} {name} {alphabet!r}", body=body, headers=headers_for(rng, content_type, host)
    )


def gen_valid(rng: random.Random, index: int, host: str) -> Request:
    as_json = rng.random() < 0.5
    body = hostile.valid_json() if as_json else hostile.valid_form()
    return Request(
        "valid",
        "",
        body=body,
        headers={"Content-Type": JSON if as_json else FORM, "Accept": rng.choice([JSON, "text/html"])},
    )


GENERATORS = [
    (gen_mutated_valid, 22),
    (gen_one_field, 25),
    (gen_json_structure, 13),
    (gen_form_structure, 10),
    (gen_content_type, 7),
    (gen_method_path, 8),
    (gen_framing, 9),
    (gen_near_limit, 5),
    (gen_valid, 1),
]


def generate(index: int, host: str) -> Request:
    """Request number `index`, from its own seed alone."""
    rng = random.Random(f"{SEED}:{index}")
    generator = rng.choices([g for g, _ in GENERATORS], weights=[w for _, w in GENERATORS])[0]
    return generator(rng, index, host)


# --- sending -----------------------------------------------------------------------------------------------


class Client:
    """One keep-alive connection per thread (http.client reconnects when the server closes it)."""

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def connection(self) -> http.client.HTTPConnection:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=BOUND)
        return connection

    def drop(self) -> None:
        connection = getattr(self.local, "connection", None)
        if connection is not None:
            connection.close()
        self.local.connection = None

    def send(self, request: Request, server) -> Answer:
        if request.raw is not None:
            return server.raw(request.raw, timeout=BOUND, method=request.method, half_close=request.half_close)
        for _ in range(2):
            connection = self.connection()
            reused = connection.sock is not None
            started = time.monotonic()
            try:
                connection.request(request.method, request.path, body=request.body, headers=request.headers)
                response = connection.getresponse()
                body = response.read()
                answer = Answer(response.status, dict(response.getheaders()), body, time.monotonic() - started)
                if response.will_close:
                    self.drop()
                return answer
            except TimeoutError:
                self.drop()
                return Answer(None, seconds=time.monotonic() - started)
            except (
                ConnectionError,
                http.client.RemoteDisconnected,
                http.client.BadStatusLine,
                http.client.IncompleteRead,
            ):
                self.drop()
                if not reused:  # a new connection closed without an answer
                    return Answer(0, seconds=time.monotonic() - started)
                # a kept-alive connection the server had closed meanwhile: once more on a new one
        raise AssertionError("unreachable")


@dataclass
class Results:
    statuses: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)  # (request, answer) with a 5xx
    slow: list = field(default_factory=list)  # (request, answer) slower than BOUND or unanswered
    closed: list = field(default_factory=list)  # closed without an answer, where HTTP framing was fine
    accepted: set = field(default_factory=set)  # references of accepted reports
    sent: int = 0
    slowest: tuple = (0.0, "")
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def record(self, request: Request, answer: Answer) -> None:
        with self.lock:
            self.sent += 1
            self.statuses[answer.status] += 1
            if answer.seconds > self.slowest[0]:
                self.slowest = (answer.seconds, str(request))
            if answer.timed_out or answer.seconds > BOUND:
                self.slow.append((request, answer))
                if sum(1 for _, a in self.slow if a.timed_out) >= MAX_HANGS:
                    self.stop.set()
            elif answer.status == 0 and not request.framing:
                self.closed.append((request, answer))
            elif answer.status and answer.status >= 500:
                self.errors.append((request, answer))
            elif answer.status in (201, 303) and request.method == "POST":
                self.accepted.add(answer.reference)


def summary(items, limit: int = 12) -> str:
    kinds = Counter(f"{request.kind}/{request.what.split(' ')[0]}" for request, _ in items)
    lines = [f"  by kind: {dict(kinds.most_common(20))}"]
    lines += [f"  {request}  ->  {answer}"[:400] for request, answer in items[:limit]]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def mailbox():
    with Mailbox() as mailbox:
        yield mailbox


@pytest.fixture(scope="module")
def server(tmp_path_factory, mailbox):
    with gunicorn_server(tmp_path_factory.mktemp("fuzz"), mailbox, workers=2) as server:
        yield server


def test_generation_is_deterministic():
    """The same index gives the same request: a failure can be replayed with generate(i, host)."""
    for index in (0, 1, 77, 4242, 9999):
        first, second = generate(index, "127.0.0.1:1"), generate(index, "127.0.0.1:1")
        assert (first.kind, first.what, first.body, first.raw, first.headers) == (
            second.kind,
            second.what,
            second.body,
            second.raw,
            second.headers,
        )


def chosen(index: int):
    """The generator request number `index` uses (generate's first draw), without building the request."""
    rng = random.Random(f"{SEED}:{index}")
    return rng.choices([g for g, _ in GENERATORS], weights=[w for _, w in GENERATORS])[0]


def test_generation_covers_every_field_path_and_kind():
    """Among the REQUESTS, every field path of both BUS forms gets a one-field body, every field of the
    report a mutation of the valid report, and every kind of request is sent."""
    used = [chosen(index) for index in range(REQUESTS)]
    one_field = {
        ALL_PATHS[i % len(ALL_PATHS)][1].path + (ALL_PATHS[i % len(ALL_PATHS)][0],)
        for i, g in enumerate(used)
        if g is gen_one_field
    }
    report = FIELDS[hostile.FORM_ID]
    mutated = {report[i % len(report)].path for i, g in enumerate(used) if g is gen_mutated_valid}
    assert len(one_field) == len(ALL_PATHS)
    assert mutated == {node.path for node in report}
    assert set(used) == {g for g, _ in GENERATORS}
    kinds = {generate(i, "h").kind for i in range(300)}
    assert kinds == {g.__name__.removeprefix("gen_").replace("_", "-") for g, _ in GENERATORS}


def test_ten_thousand_hostile_requests_never_get_a_5xx(server, mailbox):
    host = f"127.0.0.1:{server.port}"
    first = server.post(hostile.valid_json(), accept=JSON, timeout=BOUND)
    assert first.status == 201, f"the valid report is not accepted before the fuzz: {first}"
    mailbox.wait_for(1)
    time.sleep(0.5)
    per_report = mailbox.references().count(first.reference)
    assert per_report >= 1
    mark, mails = server.log_mark(), mailbox.count()

    results = Results()
    client = Client(server.port)
    started = time.monotonic()

    def one(index: int) -> None:
        if results.stop.is_set() or time.monotonic() - started > WALL:
            results.stop.set()
            return
        request = generate(index, host)
        results.record(request, client.send(request, server))

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(one, index) for index in range(REQUESTS)]:
            future.result()
    elapsed = time.monotonic() - started

    mailbox.wait_for(mails + per_report * len(results.accepted), timeout=10)
    time.sleep(1)  # anything mailed late for a refused request arrives in this second
    arrived = mailbox.references(mails)
    unaccounted = [reference for reference in arrived if reference not in results.accepted]
    last = server.post(hostile.valid_json(), accept=JSON, timeout=BOUND)
    alarms = server.alarms(mark)
    statuses = dict(sorted(results.statuses.items(), key=str))
    print(
        f"\nfuzz: {results.sent} requests in {elapsed:.1f} s, statuses {statuses}, {len(results.accepted)} accepted, "
        f"{len(arrived)} messages, slowest {results.slowest[0]:.2f} s ({results.slowest[1]})"
    )

    problems = []
    if results.sent < REQUESTS:
        problems.append(f"only {results.sent} of {REQUESTS} requests sent before the run stopped ({elapsed:.0f} s)")
    if results.errors:
        problems.append(f"{len(results.errors)} answers were 5xx:\n{summary(results.errors)}")
    if results.slow:
        problems.append(
            f"{len(results.slow)} requests took more than {BOUND} s or got no answer:\n{summary(results.slow)}"
        )
    if results.closed:
        problems.append(
            f"{len(results.closed)} well-formed requests were closed without an answer:\n{summary(results.closed)}"
        )
    if alarms:
        problems.append(f"{len(alarms)} traceback/worker lines in the log, e.g. {alarms[:3]}")
    if unaccounted:
        problems.append(f"{len(unaccounted)} messages for requests that were not accepted: {unaccounted[:5]}")
    if len(arrived) > per_report * len(results.accepted):
        problems.append(f"{len(arrived)} messages for {len(results.accepted)} accepted reports ({per_report} each)")
    if last.status != 201:
        problems.append(f"a valid report after the fuzz was not accepted: {last}")
    assert not problems, "\n".join(problems)
