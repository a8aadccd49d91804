"""More types and formats, choices of any value, any root and messages for any label (issue 14, points 2, 6, 7, 9).

Each construct at each layer: the markup, the server's verdict (the JSON and the form-encoded paths agree),
and the DOCX read back. The browser's side is tests/browser/test_types.py.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from handler.app import create_app
from handler.errors import Invalid
from handler.forms import Kind, load_form
from handler.normalise import clean, from_pairs, settle
from handler.reference import TIMEZONE
from handler.render import render_form
from handler.validation import messages, validate
from support import attachment, docx_text

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TYPES = FIXTURES / "typer.json"
URL = "/api/forms/typer"
JSON = {"Accept": "application/json"}
AMSTERDAM = {"name": "Amsterdam", "land": "NL"}
# The same answers as the browser posts them and as a JSON client sends them.
POSTED = [
    ("stad", '{"name":"Amsterdam","land":"NL"}'),
    ("platser", "2"),
    ("mote", "2026-03-15T14:30"),
    ("lunch", "12:15"),
    ("webb", "https://www.example.se/traff?dag=1"),
    ("smeknamn", ""),
    ("kod", "posted-instead"),
    ("losen", "hemligt-123"),
    ("pris", "12,5"),
    ("epost", "ann@solna.se"),
]
SENT = {
    "stad": AMSTERDAM,
    "platser": 2,
    "mote": "2026-03-15T14:30:00+01:00",
    "lunch": "12:15:00+01:00",
    "webb": "https://www.example.se/traff?dag=1",
    "losen": "hemligt-123",
    "pris": 12.5,
    "epost": "ann@solna.se",
}


@pytest.fixture
def form(tmp_path):
    return load_form(shutil.copy(TYPES, tmp_path / "typer.json"))


@pytest.fixture
def client(tmp_path, config):
    folder = tmp_path / "forms" / "schema"
    folder.mkdir(parents=True)
    shutil.copy(TYPES, folder / "typer.json")
    return create_app({**config, "SCHEMA_DIR": str(folder)}).test_client()


def one_form(tmp_path: Path, schema: dict, name: str = "prov"):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    return load_form(path)


def answers(form, pairs):
    """Return the answers the server validates, from form-encoded pairs (with the lunch's offset fixed)."""
    return settle(form, clean(from_pairs(form, pairs)))


def errors_of(form, data) -> dict[str, str]:
    with pytest.raises(Invalid) as raised:
        validate(form, data)
    return {error.name: error.message for error in raised.value.errors}


def winter(data: dict) -> dict:
    """The lunch's offset is Swedish time's on the day it is sent; compare it as winter time."""
    if isinstance(data.get("lunch"), str):
        data["lunch"] = re.sub(r"\+0[12]:00$", "+01:00", data["lunch"])
    return data


# ---- the field model ----


def test_each_construct_becomes_a_typed_field(form):
    node = {n.name: n for n in form.root.walk()}

    assert node["mote"].kind == Kind.DATETIME and node["lunch"].kind == Kind.TIME and node["webb"].kind == Kind.URL
    assert node["stad"].choices == [
        ('{"name":"Amsterdam","land":"NL"}', "Amsterdam"),
        ('{"name":"Oslo","land":"NO"}', "Oslo"),
    ], "a value that is not text posts as compact JSON"
    assert node["stad"].choice_values[0] == AMSTERDAM
    assert node["platser"].choices == [("1", "En plats"), ("2", "Två platser")], "a value not text posts as JSON"
    assert node["smeknamn"].nullable and not node["smeknamn"].required, "null is an answer: it may be left empty"
    assert node["upplysning"].fixed and node["upplysning"].const is None
    assert node["version"].const == "v2" and node["version"].read_only
    assert node["kod"].read_only and node["kod"].default == "A1"
    assert node["losen"].write_only
    assert (node["pris"].minimum, node["pris"].exclusive_maximum, node["pris"].multiple_of) == (0, 1000, 0.5)
    assert node["webb"].placeholder == "https://www.example.se", "the first example is the placeholder"


def test_an_enum_of_objects_without_titles_is_labelled_by_name_else_as_json(tmp_path):
    form = one_form(tmp_path, {"title": "Prov", "properties": {"a": {"title": "A", "enum": [{"x": 1}, [1, 2], 3.5]}}})

    assert form.root.children[0].choices == [('{"x":1}', '{"x": 1}'), ("[1,2]", "[1, 2]"), ("3.5", "3.5")]


# ---- the markup ----


def test_the_markup_has_an_input_of_each_type_and_readable_choices(form):
    html = render_form(form, URL)

    assert 'type="datetime-local" id="f-mote" name="mote"' in html
    assert 'type="time" id="f-lunch" name="lunch"' in html
    assert 'type="url" id="f-webb" name="webb"' in html and 'placeholder="https://www.example.se"' in html
    amsterdam = 'value="{&#34;name&#34;:&#34;Amsterdam&#34;,&#34;land&#34;:&#34;NL&#34;}"'
    assert re.search(rf'name="stad" {amsterdam}[^>]*>\s*<label for="f-stad-1">Amsterdam</label>', html)
    assert "{&#39;name&#39;" not in html and "{'name'" not in html, "no Python dict text"
    assert 'data-exclusive-max="1000"' in html and 'data-multiple-of="0.5"' in html and 'min="0"' in html
    assert re.search(r'<dt class="formkit-label">Kod</dt>\s*<dd>A1</dd>', html), "read-only: shown"
    assert 'name="kod"' not in html and 'name="version"' not in html, "read-only: nothing to edit or post"
    assert 'name="upplysning"' not in html and "Träffen hålls på svenska." in html, "type null: a note"
    assert re.search(r'name="losen"[^>]*autocomplete="off" data-write-only', html)
    assert '>Smeknamn <span class="formkit-optional">(valfritt)</span>' in html


def test_answers_are_shown_back_as_their_controls_take_them_but_never_a_write_only_one(form):
    html = render_form(form, URL, values={**SENT, "stad": {"name": "Oslo", "land": "NO"}}, errors=[])

    assert re.search(r'name="stad" value="{&#34;name&#34;:&#34;Oslo&#34;,&#34;land&#34;:&#34;NO&#34;}" checked', html)
    assert 'value="2026-03-15T14:30"' in html and 'value="12:15"' in html
    assert "hemligt-123" not in html


# ---- the server's verdict ----


def test_the_form_encoded_and_json_paths_deliver_the_same_answers(form):
    from_form = winter(validate(form, answers(form, POSTED)))
    from_json = winter(validate(form, settle(form, clean(dict(SENT)))))

    assert from_form == from_json
    assert from_form["stad"] == AMSTERDAM and from_form["platser"] == 2, "choices come back as their values"
    assert from_form["smeknamn"] is None and from_form["upplysning"] is None, "null delivered, not dropped"
    assert from_form["version"] == "v2", "a const is always sent"
    assert from_form["kod"] == "A1", "a read-only field keeps the schema's default, not what was posted"


def test_a_local_date_and_time_is_swedish_time_with_its_own_offset(form):
    summer = answers(form, [*POSTED[:2], ("mote", "2026-07-01T09:00"), *POSTED[3:]])

    assert summer["mote"] == "2026-07-01T09:00:00+02:00"


@pytest.mark.parametrize(
    ("posted", "sent", "field", "message"),
    [
        (("pris", "1000"), 1000, "pris", "Pris måste vara mindre än 1\u00a0000"),
        (("pris", "12,3"), 12.3, "pris", "Pris måste vara ett tal i steg om 0,5, till exempel 0,5 eller 1"),
        (("pris", "-1"), -1, "pris", "Pris måste vara 0 eller mer"),
        (("mote", "2026-02-30T10:00"), "2026-02-30T10:00:00+01:00", "mote", None),
        (("mote", "i morgon"), "i morgon", "mote", None),
        (("lunch", "25:00"), "25:00:00+01:00", "lunch", "Lunch måste vara en tid, till exempel 14:30"),
        (("webb", "www.example.se"), "www.example.se", "webb", None),
        (("stad", '{"name":"Paris"}'), {"name": "Paris"}, "stad", "Välj ett av alternativen för frågan ”Vilken stad?”"),
        (("smeknamn", "x" * 21), "x" * 21, "smeknamn", "Smeknamn får vara högst 20 tecken. Korta texten."),
    ],
)
def test_both_paths_refuse_the_same_answers_with_the_same_swedish_message(form, posted, sent, field, message):
    pairs = [pair for pair in POSTED if pair[0] != posted[0]] + [posted]
    from_form = errors_of(form, answers(form, pairs))
    from_json = errors_of(form, settle(form, clean({**SENT, field: sent})))

    assert from_form == from_json
    assert list(from_form) == [field]
    if message:
        assert from_form[field] == message


def test_format_messages_say_what_to_write():
    kinds = {"mote": "ett riktigt datum och en tid", "webb": "en hel webbadress, till exempel https://"}
    form = load_form(TYPES)
    for name, needle in kinds.items():
        node = next(n for n in form.root.walk() if n.name == name)
        assert needle in messages(node, "format", None)


def test_a_const_sent_with_another_value_is_refused(form):
    found = errors_of(form, settle(form, clean({**SENT, "version": "v1"})))

    assert found == {"version": "Formulärets version kan bara vara v2"}


def test_a_null_field_takes_nothing_but_null_on_the_json_path(form):
    found = errors_of(form, settle(form, clean({**SENT, "upplysning": "något"})))

    assert found == {"upplysning": "Om träffen ska lämnas tomt"}


def test_a_value_posted_that_no_choice_has_is_refused_not_a_crash(client, smtp_server):
    pairs = [pair for pair in POSTED if pair[0] != "stad"] + [("stad", "{'x'")]
    response = client.post(URL, data=MultiDict(pairs), headers=JSON)

    assert response.status_code == 422
    assert response.json["errors"][0]["name"] == "stad"


# ---- delivered: the DOCX, the e-mail and what is never shown back ----


def test_the_document_shows_labels_and_swedish_times_and_the_receipt_leaves_out_write_only(client, smtp_server):
    response = client.post(URL, data=MultiDict(POSTED), headers=JSON)

    assert response.status_code == 201, response.json
    report, receipt = smtp_server.inbox.wait_for(2)
    text = docx_text(attachment(report)[1])
    for shown in ("Amsterdam", "Två platser", "2026-03-15 14:30", "12:15", "v2", "A1", "12.5", "hemligt-123"):
        assert shown in text, shown
    assert "{'name'" not in text and "posted-instead" not in text
    assert "hemligt-123" not in docx_text(attachment(receipt)[1]), "the sender's copy never echoes write-only"


def test_the_json_path_takes_the_original_values(client, smtp_server):
    response = client.post(URL, data=json.dumps(SENT), content_type="application/json", headers=JSON)

    assert response.status_code == 201, response.json
    text = docx_text(attachment(smtp_server.inbox.wait_for(2)[0])[1])
    assert "Amsterdam" in text and "Två platser" in text


def test_the_no_js_error_page_and_check_page_never_show_a_write_only_answer(client, smtp_server):
    bad = client.post(URL, data=MultiDict([*POSTED[:-1], ("epost", "ann@")]))
    check = client.post(URL, data=MultiDict([*POSTED, ("_step", "kontrollera")]))

    assert bad.status_code == 422 and "hemligt-123" not in bad.text
    assert check.status_code == 200
    visible = re.sub(r"<input[^>]*>", "", check.text)
    assert "hemligt-123" not in visible and "Ifyllt (visas inte här)" in visible
    assert "Amsterdam" in visible and "2026-03-15 14:30" in visible


# ---- any root ----


def test_a_root_that_is_not_an_object_is_a_form_of_one_question(tmp_path, config, smtp_server):
    folder = tmp_path / "forms" / "schema"
    folder.mkdir(parents=True)
    (folder / "namn.json").write_text(json.dumps({"type": "string", "title": "Namn", "minLength": 2}))
    (folder / "tom.json").write_text(json.dumps({"type": "object", "title": "Bara skicka", "properties": {}}))
    app = create_app({**config, "SCHEMA_DIR": str(folder)})
    client, form = app.test_client(), app.extensions["formkit.forms"]["namn"]

    html = render_form(form, "/api/forms/namn")
    by_form = client.post("/api/forms/namn", data={"svar": "Ada"}, headers=JSON)
    by_json = client.post("/api/forms/namn", json={"svar": "Bo"}, headers=JSON)
    short = client.post("/api/forms/namn", data={"svar": "A"}, headers=JSON)
    empty = client.post("/api/forms/namn", data={"svar": ""}, headers=JSON)
    nothing = client.post("/api/forms/tom", data={"_version": ""}, headers=JSON)

    assert '<label class="formkit-label" for="f-svar">Namn</label>' in html and 'name="svar"' in html
    assert by_form.status_code == 201 and by_json.status_code == 201
    assert [(e["name"], e["path"], e["message"]) for e in short.json["errors"]] == [
        ("svar", "/svar", "Namn måste vara minst 2 tecken")
    ]
    assert empty.json["errors"][0]["message"] == "Ange namn"
    assert nothing.status_code == 201, "a form with no questions still sends"
    texts = [docx_text(attachment(m)[1]) for m in smtp_server.inbox.wait_for(3)]
    assert "Ada" in texts[0] and "Namn" in texts[0] and "Bo" in texts[1] and "Bara skicka" in texts[2]


FALLBACK = {"title": "Fallback", "description": 'A field with no JSON Schema "type".'}  # react-jsonschema-form's
ANY = [1234, "x", [1], {"a": 1}, True, 2.5, {}, []]  # every JSON value: delivered as text or compact JSON
SHOWN = ["1234", "x", "[1]", '{"a":1}', "true", "2.5", "{}", "[]"]


@pytest.fixture
def any_value(tmp_path, config):
    """An app with the Fallback form (a root without a type) and a group holding a question without one."""
    folder = tmp_path / "forms" / "schema"
    folder.mkdir(parents=True)
    (folder / "fallback.json").write_text(json.dumps(FALLBACK), encoding="utf-8")
    group = {"title": "Grupp", "type": "object", "properties": {"svar": {"title": "Vad som helst"}}}
    (folder / "grupp.json").write_text(json.dumps(group), encoding="utf-8")
    return create_app({**config, "SCHEMA_DIR": str(folder)})


def test_a_root_without_a_type_that_says_what_it_asks_is_one_question_of_any_value(any_value):
    form = any_value.extensions["formkit.forms"]["fallback"]
    (question,) = form.root.children

    assert form.single and question.name == "svar" and question.kind == Kind.TEXT and question.any_value
    assert any_value.extensions["formkit.forms"]["grupp"].field_at(("svar",)).any_value
    html = render_form(form, "/api/forms/fallback")
    assert 'type="text" id="f-svar" name="svar" required aria-describedby="f-svar-hint">' in html
    assert '<div class="formkit-hint" id="f-svar-hint">A field with no JSON Schema &#34;type&#34;.</div>' in html


def test_typed_text_stays_text_and_a_blank_answer_is_asked_for(any_value):
    form = any_value.extensions["formkit.forms"]["fallback"]

    assert validate(form, clean(from_pairs(form, [("svar", "1234")]), form.root)) == {"svar": "1234"}
    with pytest.raises(Invalid) as blank:
        validate(form, clean(from_pairs(form, [("svar", "  ")]), form.root))
    assert [e.message for e in blank.value.errors] == ["Ange fallback"]


@pytest.mark.parametrize("fid", ["fallback", "grupp"])
def test_no_value_sent_to_a_question_without_a_type_is_accepted_and_dropped(any_value, smtp_server, fid):
    client = any_value.test_client()

    for value, shown in zip(ANY, SHOWN, strict=True):
        before = len(smtp_server.inbox.messages)
        answer = client.post(f"/api/forms/{fid}", json={"svar": value}, headers=JSON)
        if answer.status_code != 201:  # refused, then in Swedish
            assert 400 <= answer.status_code < 500 and answer.json["errors"][0]["message"], value
            continue
        text = docx_text(attachment(smtp_server.inbox.wait_for(before + 1)[before])[1])
        assert shown in text.splitlines(), (value, text)
    typed = client.post(f"/api/forms/{fid}", data={"svar": "1234"}, headers=JSON)
    assert typed.status_code == 201


def test_a_root_of_one_question_is_checked_as_its_answer_not_as_the_whole_object(tmp_path, config):
    folder = tmp_path / "forms" / "schema"
    folder.mkdir(parents=True)
    (folder / "kort.json").write_text(json.dumps({"title": "Kort", "maxLength": 3}), encoding="utf-8")
    client = create_app({**config, "SCHEMA_DIR": str(folder)}).test_client()

    answer = client.post("/api/forms/kort", json={"svar": "för långt"}, headers=JSON)

    assert answer.status_code == 422 and answer.json["errors"][0]["name"] == "svar"


def test_a_root_with_properties_must_still_be_an_object(tmp_path):
    from handler.forms import read_form

    path = tmp_path / "prov.json"
    path.write_text(json.dumps({"type": "array", "title": "Prov", "properties": {"a": {"type": "string"}}}))

    form, problems, _ = read_form(path)

    assert form is None and 'Ett formulär ska ha "type": "object" när det har "properties"' in str(problems[0])


# ---- messages for any label ----


@pytest.mark.parametrize(
    ("title", "kind", "message"),
    [
        ("Namn", "text", "Ange namn"),
        ("Last name", "text", "Ange last name"),
        ("Ditt namn", "text", "Ange ditt namn"),
        ("Please enter your name", "text", "Fyll i ”Please enter your name”"),
        ("E-mail (work)", "text", "Fyll i ”E-mail (work)”"),
        ("Your role", "radio", "Välj ett svar för ”Your role”"),
        ("I agree to the terms", "checkbox", "Kryssa i ”I agree to the terms”"),
        ("Jag godkänner villkoren", "checkbox", "Kryssa i ”Jag godkänner villkoren”"),
        ("Vad hände?", "text", "Svara på frågan ”Vad hände?”"),
    ],
)
def test_a_required_message_reads_right_whatever_the_label(tmp_path, title, kind, message):
    field = {"type": "string", "title": title}
    if kind == "radio":
        field["enum"] = ["a", "b"]
    if kind == "checkbox":
        field = {"type": "boolean", "title": title}
    form = one_form(tmp_path, {"title": "Prov", "required": ["a"], "properties": {"a": field}})

    assert errors_of(form, {}) == {"a": message}


def test_limits_of_an_odd_label_quote_it_and_x_messages_still_win(tmp_path):
    form = one_form(
        tmp_path,
        {
            "title": "Prov",
            "properties": {
                "a": {"type": "string", "title": "Enter a code:", "maxLength": 2},
                "b": {"type": "string", "title": "Enter a code:", "maxLength": 2, "x-messages": {"maxLength": "Kort!"}},
            },
        },
    )

    assert errors_of(form, {"a": "abc", "b": "abc"}) == {
        "a": "Svaret på ”Enter a code:” får vara högst 2 tecken. Korta texten.",
        "b": "Kort!",
    }


# ---- properties: the two paths agree on any number and any moment ----

NUMBERS = st.one_of(
    st.integers(min_value=-5000, max_value=5000),
    st.floats(min_value=-5000, max_value=5000, allow_nan=False).map(lambda x: round(x, 2)),
)


@settings(max_examples=60, deadline=None, database=None)
@given(price=NUMBERS)
def test_any_price_gets_the_same_verdict_typed_in_the_form_and_sent_as_json(tmp_path_factory, price):
    form = load_form(shutil.copy(TYPES, tmp_path_factory.mktemp("typer") / "typer.json"))

    typed = str(price).replace(".", ",")
    by_form = _verdict(form, answers(form, [pair for pair in POSTED if pair[0] != "pris"] + [("pris", typed)]))
    by_json = _verdict(form, settle(form, clean({**SENT, "pris": price})))

    assert by_form == by_json


@settings(max_examples=60, deadline=None, database=None)
@given(moment=st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)))
def test_any_moment_typed_in_swedish_time_is_the_same_instant_as_sent_in_rfc_3339(tmp_path_factory, moment):
    form = load_form(shutil.copy(TYPES, tmp_path_factory.mktemp("typer") / "typer.json"))
    local = moment.replace(microsecond=0, tzinfo=TIMEZONE)
    if local.astimezone(dt.UTC).astimezone(TIMEZONE).replace(tzinfo=None) != local.replace(tzinfo=None):
        return  # an hour skipped when the clocks go forward cannot be typed as it is

    typed = local.replace(tzinfo=None).isoformat(timespec="seconds")
    by_form = validate(form, answers(form, [pair for pair in POSTED if pair[0] != "mote"] + [("mote", typed)]))
    sent = local.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    by_json = validate(form, settle(form, clean({**SENT, "mote": sent})))

    same_instant = dt.datetime.fromisoformat(by_json["mote"].replace("Z", "+00:00"))
    assert dt.datetime.fromisoformat(by_form["mote"]) == same_instant


def _verdict(form, data) -> dict[str, str]:
    try:
        validate(form, data)
    except Invalid as invalid:
        return {error.name: error.message for error in invalid.errors}
    return {}
