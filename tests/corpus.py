"""The public corpus: 39 form schemas written for another tool, each checked, rendered, posted and read back.

Each file in tests/fixtures/corpus/ is one playground sample of react-jsonschema-form (see its NOTICE):
its `schema`, and its `formData` where it has one. `try_schema` puts the schema in a schema folder of
its own and runs what an editor and a user would: `formkit check` (read_form), the rendered page, and a
post of valid answers on the JSON path and the form-encoded path (names and choice values as the
rendered page offers them), then looks for every posted value in the DOCX that was mailed. The verdict:

- works: accepted, both paths answer 201, every value is in the DOCX;
- refused: `formkit check` refuses it (the first problem is the reason);
- broken: accepted, but the page fails, a valid answer is refused, or a field cannot be posted;
- loses data: accepted with 201, but a posted value is missing from the DOCX.

Used by tests/test_corpus.py and bench/corpus.py.
"""

from __future__ import annotations

import base64
import datetime
import html.parser
import json
import re
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from jsonschema import validators

from support import Inbox, attachment, docx_text, free_port

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
WORKS, REFUSED, BROKEN, LOSES = "works", "refused", "broken", "loses data"
JSON = {"Accept": "application/json"}
FORM = "application/x-www-form-urlencoded"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@dataclass
class Verdict:
    """What happened to one schema: the verdict and, unless it works, why (the problem or what went wrong)."""

    name: str
    verdict: str
    why: str = ""
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """Return the verdict as one line of the bench's output."""
        return f"{self.name:24} {self.verdict:10} {self.why}".rstrip()


def names() -> list[str]:
    """Return the corpus's schema names, sorted."""
    return sorted(path.stem for path in CORPUS.glob("*.json"))


def entry(name: str) -> dict:
    """Return one corpus file: {"sample", "source", "schema", "formData"?}."""
    return json.loads((CORPUS / f"{name}.json").read_text(encoding="utf-8"))


def form_id(name: str) -> str:
    """Return a form id (lower case, hyphens) for a sample name such as additionalProperties."""
    return "corpus-" + re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class Mailer:
    """A real SMTP server on loopback for the posts' mail; `.inbox` holds what arrived."""

    def __enter__(self) -> Mailer:
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.port = self.controller.port
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def try_all(selected: list[str] | None = None) -> list[Verdict]:
    """Return the verdict of every corpus schema (or the `selected` ones), in name order."""
    with Mailer() as mailer:
        return [try_schema(name, entry(name), mailer) for name in (selected or names())]


def try_schema(name: str, sample: dict, mailer: Mailer) -> Verdict:
    """Check, render, post and read back one schema; never raises: a crash is a broken verdict."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            return _try(name, sample, mailer, Path(tmp))
        except Exception as error:  # the verdict of a crash anywhere in the kit
            return Verdict(name, BROKEN, f"crash: {type(error).__name__}: {str(error)[:200]}")


def round_trip(fid: str, schema: dict, answers, mailer: Mailer) -> dict:
    """Post valid `answers` to a form of `schema` as JSON and as a browser would; return each way's outcome
    (None when every value arrived in the DOCX), for the property tests that generate forms."""
    from handler.render import render_form

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "schema"
        folder.mkdir()
        (folder / f"{fid}.json").write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
        app = _app(folder, Path(tmp), mailer, RATELIMIT="")
        offered = Offered.read(render_form(app.extensions["formkit.forms"][fid], f"/api/forms/{fid}"))
        client = app.test_client()
        return {way: _post(client, fid, schema, answers, way, offered, mailer) for way in ("json", "form")}


def _app(folder: Path, tmp: Path, mailer: Mailer, **settings):
    """Return the handler for the forms in `folder`, its files under `tmp`, its mail to `mailer`."""
    from handler.app import create_app

    return create_app(
        {
            "TESTING": True,
            "SCHEMA_DIR": str(folder),
            "OUTBOX_DIR": str(tmp / "outbox"),
            "MAIL_DIR": str(tmp / "mail"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": mailer.port,
            "DEFAULT_TO": "kansliet@example.se",
            "DATABASE_URL": f"sqlite:///{tmp / 'formkit.db'}",
            **settings,
        }
    )


def _try(name: str, sample: dict, mailer: Mailer, tmp: Path) -> Verdict:
    from handler.forms import read_form
    from handler.render import render_form

    folder = tmp / "schema"
    folder.mkdir()
    fid = form_id(name)
    path = folder / f"{fid}.json"
    path.write_text(json.dumps(sample["schema"], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    form, problems, _ = read_form(path)
    if problems:
        said = [str(problem).replace(f"{folder}/", "") for problem in problems]
        return Verdict(name, REFUSED, _short(said[0]), said)
    app = _app(folder, tmp, mailer)
    form = app.extensions["formkit.forms"][fid]
    page = render_form(form, f"/api/forms/{fid}")
    offered = Offered.read(page)
    client = app.test_client()
    losses, broken = [], []
    for label, answers in answer_sets(sample):
        for way in ("json", "form"):
            outcome = _post(client, fid, sample["schema"], answers, way, offered, mailer)
            if outcome is None:
                continue
            kind, text = outcome
            (losses if kind == LOSES else broken).append(f"{way} ({label}): {text}")
    if losses:
        return Verdict(name, LOSES, _short(losses[0]), losses + broken)
    if broken:
        return Verdict(name, BROKEN, _short(broken[0]), broken)
    return Verdict(name, WORKS)


def _post(client, fid: str, schema: dict, answers, way: str, offered: Offered, mailer: Mailer):
    """Post one answer set one way; return None when it arrived whole, else (LOSES or BROKEN, what happened)."""
    from handler.fields import ANSWER, schema_type

    before = len(mailer.inbox.messages)
    if schema_type(schema) != "object" and not _alternatives(schema, Example(schema).resolve(schema))[1:]:
        # A root that is no object is a form of one question, named ANSWER on both paths (README).
        schema, answers = {"type": "object", "properties": {ANSWER: schema}, **_definitions(schema)}, {ANSWER: answers}
    if way == "json":
        if not isinstance(answers, dict):
            return BROKEN, "the answers are not an object, and the JSON path takes only objects"
        response = client.post(f"/api/forms/{fid}", json=answers, headers=JSON)
    else:
        pairs = list(form_pairs(schema, answers, offered))
        missing = [name for name, _ in pairs if not offered.has(name)]
        if missing:
            return BROKEN, f'the page has no field "{missing[0]}" to answer'
        body = urllib.parse.urlencode(pairs)
        response = client.post(f"/api/forms/{fid}", data=body, content_type=FORM, headers=JSON)
    if response.status_code != 201:
        body = response.get_json(silent=True) or {}
        said = "; ".join(f"{e.get('name')}: {e.get('message')}" for e in body.get("errors", [])) or body.get(
            "detail", response.get_data(as_text=True)[:120]
        )
        return BROKEN, f"valid answers got {response.status_code} ({_short(str(said), 140)})"
    message = mailer.inbox.wait_for(before + 1)[before]
    text = docx_text(attachment(message)[1])
    missing = [
        (where, shown)
        for where, expected, shown in leaves(schema, schema, answers, ())
        if not any(candidate in text for candidate in expected) and not (way == "form" and shown is False)
    ]
    lost = [f"{'/'.join(map(str, where)) or '(root)'}={shown!r}" for where, shown in missing]
    python = [line for line, (_, shown) in zip(lost, missing, strict=True) if _as_python(shown, text)]
    if python:  # there, but as Python's text of a dict or list: nobody reads that as an answer
        return BROKEN, "shown as Python text in the DOCX: " + ", ".join(python[:4])
    if lost:
        return LOSES, "not in the DOCX: " + ", ".join(lost[:4]) + (" …" if len(lost) > 4 else "")
    return None


def _as_python(value, text: str) -> bool:
    """Return whether `text` shows a dict or list as Python writes it (in any key order)."""
    if isinstance(value, dict):
        return str(value) in text or str(dict(sorted(value.items()))) in text
    return isinstance(value, list) and str(value) in text


# ---- answers ----


def answer_sets(sample: dict) -> list[tuple[str, object]]:
    """Return the answer sets to post: the sample's formData when it is valid, and answers made for every field."""
    schema = sample["schema"]
    # The kit checks a choice between alternatives against the one chosen (README): "oneOf" of objects as "anyOf".
    checked = _as_chosen(schema, schema)
    validator = validators.validator_for(schema, default=validators.Draft7Validator)(checked)
    sets = []
    if "formData" in sample and sample["formData"] not in ({}, None) and validator.is_valid(sample["formData"]):
        sets.append(("formData", sample["formData"]))
    made = Example(schema).make(schema)
    if made not in (None, {}) and validator.is_valid(made):
        sets.append(("made", made))
    elif (found := generated(schema)) not in (None, {}):
        sets.append(("generated", found))
    return sets or [("formData", sample.get("formData", {}))]


def _as_chosen(root: dict, schema):
    """Return a copy of `schema` with each "oneOf" of objects (alternatives) as "anyOf"."""
    if isinstance(schema, list):
        return [_as_chosen(root, item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: _as_chosen(root, value) for key, value in schema.items()}
    members = schema.get("oneOf")
    if isinstance(members, list) and any(
        isinstance(m, dict) and isinstance(Example(root).resolve(m).get("properties"), dict) for m in members
    ):
        copy["anyOf"] = copy.pop("oneOf")
    return copy


def generated(schema: dict):
    """Return valid answers hypothesis-jsonschema finds, with every top-level field when it can; None if none."""
    import random

    from hypothesis import HealthCheck, find, settings
    from hypothesis.errors import HypothesisException
    from hypothesis_jsonschema import from_schema

    try:
        strategy = from_schema(schema)
    except (HypothesisException, Exception):  # a schema hypothesis-jsonschema cannot read
        return None
    wanted = [k for k in (schema.get("properties") or {}) if isinstance(schema.get("properties"), dict)]
    quiet = settings(database=None, max_examples=300, suppress_health_check=list(HealthCheck), deadline=None)
    for condition in (lambda v: _nice(v) and isinstance(v, dict) and all(k in v for k in wanted), _nice):
        try:
            return find(strategy, condition, settings=quiet, random=random.Random(0))
        except Exception:  # NoSuchExample, Unsatisfiable, or a construct it does not generate
            continue
    return None


def _nice(value) -> bool:
    """Return whether answers could come from a person: text without edge spaces or control characters."""
    from handler.normalise import clean_text

    if isinstance(value, str):
        return value == clean_text(value) and value != ""
    if isinstance(value, dict):
        return all(_nice(k) and _nice(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_nice(v) for v in value)
    return not (isinstance(value, float) and abs(value) > 1e15)


class Example:
    """Distinctive valid answers for every field a schema has (one row per list, the first alternative)."""

    def __init__(self, root: dict):
        self.root = root
        self.counter = 0
        self.choice = 0

    def resolve(self, schema) -> dict:
        depth = 0
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < 20:
            target = _pointer(self.root, schema["$ref"])
            if target is None:
                return {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            depth += 1
        return schema if isinstance(schema, dict) else {}

    def make(self, schema, depth: int = 0):
        schema = self.resolve(schema)
        if depth > 6:
            return None
        for key in ("allOf",):
            for part in schema.get(key, []) if isinstance(schema.get(key), list) else []:
                part = self.resolve(part)
                schema = _merge(schema, {k: v for k, v in part.items() if k not in ("if", "then", "else")})
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            self.choice += 1
            return schema["enum"][self.choice % len(schema["enum"])]
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                consts = [self.resolve(o) for o in options]
                if all("const" in o or "enum" in o for o in consts):
                    self.choice += 1
                    chosen = consts[self.choice % len(consts)]
                    return chosen["const"] if "const" in chosen else chosen["enum"][0]
                rest = {k: v for k, v in schema.items() if k != key}
                return self.make(_merge(rest, self.resolve(options[0])), depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None and isinstance(schema.get("properties"), dict):
            kind = "object"
        if kind == "object":
            value = {}
            for name, sub in (schema.get("properties") or {}).items():
                made = self.make(sub, depth + 1)
                if made is not None:
                    value[name] = made
            return value
        if kind == "array":
            items = schema.get("prefixItems") or schema.get("items")
            if isinstance(items, list):
                return [self.make(item, depth + 1) for item in items]  # a tuple: every place
            rows = max(schema.get("minItems", 0) or 0, 2 if schema.get("maxItems", 2) >= 2 else 1)
            made = [self.make(items or {"type": "string"}, depth + 1) for _ in range(rows)]
            return [item for item in made if item is not None] or None
        if kind == "boolean":
            return True
        if kind in ("integer", "number"):
            return self.number(schema, kind)
        if kind == "string" or (kind is None and schema):
            return self.text(schema)
        return None

    def number(self, schema: dict, kind: str):
        self.counter += 1
        low, high = schema.get("minimum"), schema.get("maximum")
        step = schema.get("multipleOf") or 1
        start = low if isinstance(low, int | float) else 40 + self.counter
        value = int(-(-start // step) * step) if kind == "integer" else start + 0.5
        if isinstance(high, int | float) and value > high:
            value = low if isinstance(low, int | float) else high
        return value

    def text(self, schema: dict):
        self.counter += 1
        n = self.counter
        fmt = schema.get("format")
        formatted = {
            "date": f"2026-03-{n % 28 + 1:02d}",
            "date-time": f"2026-03-{n % 28 + 1:02d}T09:{n % 60:02d}:00Z",
            "time": f"09:{n % 60:02d}:00+01:00",  # RFC 3339 wants the offset on the JSON path
            "email": f"namn{n}@example.se",
            "uri": f"https://example.se/sida-{n}",
        }
        if fmt in formatted:
            return formatted[fmt]
        if fmt == "data-url":  # a file: a small text file, named so the DOCX can show it
            content = base64.b64encode(f"Fil nummer {n}".encode()).decode()
            return f"data:text/plain;name=fil-{n}.txt;base64,{content}"
        low, high = schema.get("minLength", 0) or 0, schema.get("maxLength")
        candidates = [f"Svar nummer {n}", f"{12345 + n:05d}", f"{10000000 + n}", f"svar{n}"]
        pattern = schema.get("pattern")
        for candidate in candidates:
            candidate = candidate + "x" * max(0, low - len(candidate))
            if high is not None:
                candidate = candidate[:high]
            if not pattern or re.search(pattern, candidate):
                return candidate
        return None


def _merge(a: dict, b: dict) -> dict:
    merged = dict(a)
    for key, value in b.items():
        if key == "properties" and isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = {**merged[key], **value}
        elif key == "required" and isinstance(merged.get(key), list) and isinstance(value, list):
            merged[key] = merged[key] + [v for v in value if v not in merged[key]]
        else:
            merged[key] = value
    return merged


def _pointer(root: dict, ref: str):
    if not ref.startswith("#"):
        return None
    target = root
    for part in [p.replace("~1", "/").replace("~0", "~") for p in ref[1:].split("/") if p]:
        target = target.get(part) if isinstance(target, dict) else None
    return target if isinstance(target, dict) else None


# ---- what the DOCX must show ----


def leaves(root: dict, schema, value, where: tuple):
    """Yield (path, texts any of which shows the value, the value) for every answered value in `value`."""
    schema = Example(root).resolve(schema)
    subs = _alternatives(root, schema)
    if isinstance(value, dict) and not _is_choice(root, subs):
        for key, sub_value in value.items():
            yield from leaves(root, _property(root, subs, key), sub_value, where + (key,))
    elif isinstance(value, list) and not _is_choice(root, subs):
        for index, item in enumerate(value):
            yield from leaves(root, _item(root, subs, index), item, where + (index,))
    elif value is None or (isinstance(value, str) and not value.strip()):
        return  # blank: the kit drops it on purpose
    elif schema.get("readOnly") is True:  # the kit keeps the schema's default, never what was posted, on purpose
        if "default" in schema:
            yield where, _texts(root, subs, schema["default"]), schema["default"]
    else:
        yield where, _texts(root, subs, value), value


def _alternatives(root: dict, schema: dict) -> list[dict]:
    """Return the schema and every schema it combines (allOf/anyOf/oneOf, then/else, dependencies)."""
    found, stack = [], [schema]
    while stack and len(found) < 200:
        current = Example(root).resolve(stack.pop())
        found.append(current)
        for key in ("allOf", "anyOf", "oneOf"):
            if isinstance(current.get(key), list):
                stack.extend(reversed(current[key]))  # the first member found first, as the kit chooses it
        for key in ("then", "else"):
            if isinstance(current.get(key), dict):
                stack.append(current[key])
        for key in ("dependencies", "dependentSchemas"):
            if isinstance(current.get(key), dict):
                stack.extend(v for v in current[key].values() if isinstance(v, dict))
    return found


def _is_choice(root: dict, subs: list[dict]) -> bool:
    return any("enum" in s or "const" in s for s in subs)


def _property(root: dict, subs: list[dict], key: str) -> dict:
    for sub in subs:
        if isinstance(sub.get("properties"), dict) and key in sub["properties"]:
            return sub["properties"][key]
    for sub in subs:
        for pattern, pattern_schema in (sub.get("patternProperties") or {}).items():
            if re.search(pattern, key):
                return pattern_schema
    for sub in subs:
        if isinstance(sub.get("additionalProperties"), dict):
            return sub["additionalProperties"]
    return {}


def _item(root: dict, subs: list[dict], index: int) -> dict:
    for sub in subs:
        fixed = sub.get("prefixItems") or (sub.get("items") if isinstance(sub.get("items"), list) else None)
        if fixed is not None:
            if index < len(fixed):
                return fixed[index]
            extra = sub.get("additionalItems") if "prefixItems" not in sub else sub.get("items")
            return extra if isinstance(extra, dict) else {}
        if isinstance(sub.get("items"), dict):
            return sub["items"]
    return {}


def _texts(root: dict, subs: list[dict], value) -> set[str]:
    """Return the texts any of which shows `value` in a document: its choice title, else the value itself."""
    from handler.normalise import clean_text

    texts = set()
    for sub in subs:
        for option in [Example(root).resolve(o) for o in sub.get("oneOf", []) + sub.get("anyOf", [])]:
            if ("const" in option and option["const"] == value) or value in option.get("enum", [None, None]):
                if isinstance(option.get("title"), str):
                    texts.add(option["title"])
    if isinstance(value, bool):
        texts.add("Ja" if value else "Nej")
    elif isinstance(value, int | float):
        texts |= {str(value), str(value).replace(".", ",")}
        if isinstance(value, float) and value.is_integer():
            texts.add(str(int(value)))
    elif isinstance(value, str) and (file := re.match(r"data:[^,;]*;name=([^;,]+)", value)):
        texts.add(urllib.parse.unquote(file.group(1)))  # a file is listed by its name
    elif isinstance(value, str):
        texts.add(clean_text(value))
        formats = {sub.get("format") for sub in subs}
        if "date-time" in formats and (moment := _moment(value)):  # shown in Swedish time (README)
            texts.add(moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M"))
        if "time" in formats and re.match(r"\d\d:\d\d:00", value):  # shown without seconds and offset
            texts.add(value[:5])
    else:
        texts.add(json.dumps(value, ensure_ascii=False))
    if not isinstance(value, str) and not any("type" in sub for sub in subs):  # no type: shown as compact JSON
        texts.add(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return texts


def _moment(value: str) -> datetime.datetime | None:
    """Return an RFC 3339 date-time with its offset, else None."""
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


# ---- the form-encoded path ----


class Offered(html.parser.HTMLParser):
    """The names a rendered page offers, and for each choice field the values of its choices, in order."""

    def __init__(self):
        super().__init__()
        self.names: set[str] = set()
        self.choices: dict[str, list[str]] = {}
        self.checkbox: dict[str, str] = {}
        self._select = ""

    @classmethod
    def read(cls, page: str) -> Offered:
        offered = cls()
        offered.feed(page)
        return offered

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name") or ""
        if tag in ("input", "textarea", "select") and name:
            self.names.add(name)
        if tag == "input" and attributes.get("type") in ("radio", "checkbox") and name:
            self.choices.setdefault(name, []).append(attributes.get("value") or "on")
        if tag == "select":
            self._select = name
        if tag == "option" and self._select and (attributes.get("value") or "") != "":
            self.choices.setdefault(self._select, []).append(attributes["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = ""

    def holds(self, name: str) -> bool:
        """Return whether the page has a field of this name or fields below it (any row number counts)."""
        shown = re.sub(r"\.\d+(?=\.|$)", ".0", name)
        return self.has(name) or any(n.startswith((name + ".", shown + ".")) for n in self.names)

    def has(self, name: str) -> bool:
        """Return whether the page has a field of this name (any row number counts as the page's rows)."""
        return name in self.names or re.sub(r"\.\d+(?=\.|$)", ".0", name) in self.names


def _definitions(schema: dict) -> dict:
    """Return a schema's own definitions, which its `$ref`s still point at once it is wrapped in another."""
    return {key: schema[key] for key in ("$defs", "definitions") if key in schema}


def form_pairs(schema: dict, answers, offered: Offered, where: tuple = (), root: dict | None = None):
    """Yield the (name, value) pairs a browser posts for `answers`, choices by the value the page offers."""
    root = schema if root is None else root
    subs = _alternatives(root, Example(root).resolve(schema))
    name = ".".join(map(str, where))
    choices = _choice_values(root, subs)
    if subs[0].get("readOnly") is True:
        return  # shown, not asked: the page has no input, and the kit keeps the default (`leaves` expects it)
    if choices is not None and not isinstance(answers, list):
        yield name, _offered_value(offered, name, choices, answers)
    elif isinstance(answers, dict):
        known = {key for sub in subs if isinstance(sub.get("properties"), dict) for key in sub["properties"]}
        extras = [sub["additionalProperties"] for sub in subs if isinstance(sub.get("additionalProperties"), dict)]
        extras += [next(iter(sub["patternProperties"].values())) for sub in subs if _one_pattern(sub)]
        extra = extras[0] if extras else None
        row = 0
        # A choice between alternatives whose fields share names: those post under the alternative's key, and the
        # radio is pressed, as it is when no field posts anything (a read-only one); otherwise the answers tell the
        # alternative, as on a page whose radio was not pressed.
        chosen = _chosen_alternative(root, subs, answers, offered, name)
        carried = {
            k for k in answers if chosen and offered.holds(".".join(map(str, where + (f"_alternativ{chosen}", k))))
        }
        pairs = []
        for key, value in answers.items():
            if key in carried:
                at = where + (f"_alternativ{chosen}", key)
                pairs += form_pairs(_property(root, subs, key), value, offered, at, root)
            elif key not in known and extra is not None:  # a key of its own: a name–value row ("_extra.0.namn")
                pairs.append((".".join(map(str, where + ("_extra", row, "namn"))), key))
                pairs += form_pairs(extra, value, offered, where + ("_extra", row, "varde"), root)
                row += 1
            else:
                pairs += form_pairs(_property(root, subs, key), value, offered, where + (key,), root)
        if chosen and (carried or (answers and not pairs)):
            yield (f"{name}." if name else "") + "_alternativ", str(chosen)
        yield from pairs
    elif isinstance(answers, list):
        item_subs = _alternatives(root, Example(root).resolve(_item(root, subs, 0)))
        fixed = any(isinstance(sub.get("prefixItems") or sub.get("items"), list) for sub in subs)
        item_choices = None if fixed else _choice_values(root, item_subs)  # a tuple: each place has its own name
        if item_choices is not None:  # checkboxes (one name per ticked choice), or rows that each hold one
            rows = f"{name}.0" in offered.names
            for index, value in enumerate(answers):
                yield (
                    (f"{name}.{index}" if rows else name),
                    _offered_value(offered, f"{name}.0" if rows else name, item_choices, value),
                )
        elif any(sub.get("format") == "data-url" for sub in item_subs):  # files: one input, once per file
            for value in answers:
                yield name, value
        else:
            for index, value in enumerate(answers):
                yield from form_pairs(_item(root, subs, index), value, offered, where + (index,), root)
    elif isinstance(answers, bool):
        if answers:
            yield name, (offered.choices.get(name) or ["on"])[0]
    elif answers is None:
        yield name, ""
    else:
        yield name, str(answers)


def _chosen_alternative(root: dict, subs: list[dict], answers: dict, offered: Offered, name: str) -> int:
    """Return the number of the alternative (oneOf/anyOf of objects) a browser chooses for `answers`, as the
    server does for JSON: the first whose fields hold every answer and that the answers fit; 0 for no choice."""
    if not offered.has((f"{name}." if name else "") + "_alternativ"):
        return 0
    for sub in subs:
        for key in ("oneOf", "anyOf"):
            options = [Example(root).resolve(o) for o in sub.get(key) or [] if isinstance(o, dict)]
            if not any(isinstance(o.get("properties"), dict) for o in options):
                continue
            holding = [
                number
                for number, option in enumerate(options, 1)
                if set(answers) <= set(option.get("properties") or {}) | set(sub.get("properties") or {})
            ]
            for number in holding:
                option = {**_definitions(root), **options[number - 1]}
                if validators.validator_for(root, default=validators.Draft7Validator)(option).is_valid(answers):
                    return number
            return holding[0] if holding else 0
    return 0


def _one_pattern(schema: dict) -> bool:
    """Return whether a schema's keys of one's own follow one pattern (patternProperties with one entry)."""
    patterns = schema.get("patternProperties")
    return isinstance(patterns, dict) and len(patterns) == 1


def _choice_values(root: dict, subs: list[dict]) -> list | None:
    for sub in subs:
        if isinstance(sub.get("enum"), list):
            return sub["enum"]
        for key in ("oneOf", "anyOf"):
            options = [Example(root).resolve(o) for o in sub.get(key, [])]
            if options and all("const" in o or "enum" in o for o in options):
                return [o["const"] if "const" in o else o["enum"][0] for o in options]
    return None


def _offered_value(offered: Offered, name: str, choices: list, value) -> str:
    """Return what the page posts for `value`: the page's own value of that choice (by position)."""
    values = offered.choices.get(name) or []
    position = next((i for i, c in enumerate(choices) if c == value and type(c) is type(value)), None)
    if position is not None and len(values) == len(choices):
        return values[position]
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _short(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
