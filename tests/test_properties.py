"""Properties: generated submissions, valid and hostile, never give a 500; what is accepted reads back whole."""

import copy
import email
import email.policy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from handler.app import create_app
from handler.document import display
from handler.normalise import clean
from support import attachment, docx_text

ROOT = Path(__file__).resolve().parent.parent
URL = "/api/forms/bus-avvikelse"
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
HOSTILE = st.sampled_from(
    [
        "\x00\x01\x02\x0b\x0c\x1b",
        "\u202eevil\u202c",
        "😀👩‍👩‍👧" * 50,
        "x" * 10_000,
        "\ud800\udfff\ud83d",
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "a\r\nBcc: evil@example.com",
        "{reference}{deadline}{__class__}",
        "%s%n%x",
        "' OR 1=1 --",
        "\ufeff\u200b\u2028\u2029",
        "Ω≈ç√∫˜µ≤≥÷",
        "../../etc/passwd",
        "=cmd|' /C calc'!A0",
        "\t\n\r",
        "null",
        "121212-1212",
    ]
) | st.text(max_size=300)


def resolved_schema(filled: bool = False) -> dict:
    """The BUS schema with its local $refs inlined, for hypothesis-jsonschema.

    `filled`: free text gets at least one visible character, since blank text counts as not given
    (without it nearly every generated submission lacks a required answer).
    """
    schema = json.loads((ROOT / "schema" / "bus-avvikelse.json").read_text())
    defs = schema.pop("$defs", {})

    def inline(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[1]]))
            node = {key: inline(value) for key, value in node.items() if not key.startswith("x-")}
            plain = node.get("type") == "string" and not {"format", "pattern", "oneOf", "enum"} & set(node)
            return {**node, "pattern": r"\S"} if filled and plain else node
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return inline(schema)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("properties")
    return create_app(
        {
            "SCHEMA_DIR": str(ROOT / "schema"),
            "OUTBOX_DIR": str(folder / "outbox"),
            "MAIL_DIR": str(folder / "mail"),
            "SMTP_HOST": "",
            "TESTING": True,
        }
    )


def post(app, body: bytes, content_type="application/json"):
    response = app.test_client().post(URL, data=body, content_type=content_type, headers={"Accept": "application/json"})
    assert response.status_code != 500 and response.status_code < 500, response.get_data(as_text=True)
    return response


def texts(form, data, node=None):
    """Yield (field, value) for every answer, as the document shows it."""
    node = node or form.root
    for child in node.children:
        value = data.get(child.name) if isinstance(data, dict) else None
        if value is None:
            continue
        if child.kind == "group":
            yield from texts(form, value, child)
        elif child.kind == "list":
            for row in value:
                yield from texts(form, row, child.item)
        else:
            yield child, display(child, value)


def assert_document_holds_every_answer(app, reference, data):
    form = app.extensions["formkit.forms"]["bus-avvikelse"]
    mail = Path(app.config["MAIL_DIR"])
    message = next(p for p in mail.glob(f"*{reference}.report*.eml"))
    _, docx = attachment(email.message_from_bytes(message.read_bytes(), policy=email.policy.default))
    text = docx_text(docx)
    for _, shown in texts(form, data):
        for line in shown.split("\n"):
            line = line.strip().lstrip("-•*– ").strip()
            assert line in text, (line, text[:500])


def assert_errors_name_real_fields(app, response):
    form = app.extensions["formkit.forms"]["bus-avvikelse"]
    assert response.mimetype == "application/problem+json"
    for error in response.json["errors"]:
        path = tuple(int(p) if p.isdigit() else p for p in error["name"].split("."))
        assert form.field_at(path) is not None, error


@SETTINGS
@given(submission=from_schema(resolved_schema(filled=True)))
def test_schema_valid_submissions_are_accepted_or_refused_by_field_and_never_crash(app, submission):
    response = post(app, json.dumps(submission).encode())

    assert response.status_code in (201, 422)
    if response.status_code == 201:
        assert_document_holds_every_answer(app, response.json["reference"], clean(submission))
    else:
        assert_errors_name_real_fields(app, response)


@SETTINGS
@given(submission=from_schema(resolved_schema()), hostile=HOSTILE, where=st.integers(min_value=0, max_value=30))
def test_hostile_strings_in_any_field_never_crash_and_are_never_lost(app, submission, hostile, where):
    form = app.extensions["formkit.forms"]["bus-avvikelse"]
    fields = [node for node in form.root.walk() if node.kind in ("text", "textarea", "email", "date", "select")]
    target = fields[where % len(fields)]
    holder = submission
    for part in target.path[:-1]:
        if part == "*":
            continue  # the row itself: the list's first row was taken below
        holder = holder.setdefault(part, {})
        if isinstance(holder, list):
            holder = holder[0] if holder else holder.append({}) or holder[0]
    holder[target.path[-1]] = hostile

    response = post(app, json.dumps(submission).encode())

    assert response.status_code in (201, 400, 413, 422)
    if response.status_code == 201:
        assert_document_holds_every_answer(app, response.json["reference"], clean(submission))
    elif response.status_code == 422:
        assert_errors_name_real_fields(app, response)


@SETTINGS
@given(
    body=st.binary(max_size=2000) | st.text(max_size=500).map(str.encode),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
)
def test_arbitrary_bodies_get_a_clear_answer_never_a_500(app, body, content_type):
    response = post(app, body, content_type)

    assert response.status_code in (400, 413, 415, 422)
    assert response.json["detail"]
