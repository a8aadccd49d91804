"""Alternatives (oneOf/anyOf of objects): the markup, the server's verdict on both kinds of body, the DOCX read
back, the check page, and `formkit check` refusing what cannot work."""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
import lxml.html
import pytest

from handler import review
from handler.app import create_app
from handler.forms import read_form
from handler.render import render_form
from support import attachment, checked_form, client_of, docx_text

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCHEMA = FIXTURES / "alternatives" / "schema" / "kontaktval.json"
URL = "/api/forms/kontaktval"
JSON = {"Accept": "application/json"}
# A valid report that chose "Telefon" at the root and "Med kod" under Identifiering, with JavaScript.
BY_PHONE = {
    "namn": "Eva Ek",
    "identifiering._alternativ": "2",
    "identifiering.kod": "1234",
    "_alternativ": "2",
    "telefon": "08-123 456 78",
    "tid": "Förmiddag",
}


@pytest.fixture
def form():
    return checked_form(SCHEMA)


@pytest.fixture
def client(tmp_path, config):
    return client_of(tmp_path, config, SCHEMA)


def page(form, **kwargs):
    return lxml.html.fromstring(render_form(form, URL, **kwargs))


def fields_under(fieldset, radio_id: str) -> list[str]:
    """Return the names of the fields in the panel the radio controls."""
    radio = fieldset.get_element_by_id(radio_id)
    panel = fieldset.get_element_by_id(radio.get("aria-controls"))
    return [control.get("name") for control in panel.iter("input", "select", "textarea")]


# ---- markup ----


def test_a_choice_between_alternatives_is_a_group_of_radios_labelled_by_their_titles(form):
    html = page(form)
    choice = html.get_element_by_id("f-_alternativ")

    assert choice.tag == "fieldset"
    assert choice.find("legend").text_content().strip() == "Välj ett alternativ"
    radios = choice.xpath(".//input[@type='radio'][@name='_alternativ']")
    assert [(r.get("value"), html.xpath(f"//label[@for='{r.get('id')}']")[0].text) for r in radios] == [
        ("1", "E-post"),
        ("2", "Telefon"),
    ]
    hint = html.get_element_by_id("f-_alternativ-hint")
    assert choice.get("aria-describedby") == "f-_alternativ-hint" and "alternativ du väljer" in hint.text


def test_without_javascript_every_alternatives_fields_stand_under_its_own_radio(form):
    html = page(form)
    choice = html.get_element_by_id("f-_alternativ")

    assert fields_under(choice, "f-_alternativ-1") == ["epost"]
    assert fields_under(choice, "f-_alternativ-2") == ["telefon", "tid", "tid"]
    order = [e.get("id") for e in choice.iter() if e.get("id") in ("f-_alternativ-1", "f-epost", "f-_alternativ-2")]
    assert order == ["f-_alternativ-1", "f-epost", "f-_alternativ-2"]  # each radio, then its fields
    assert not html.xpath("//*[@data-formkit-alternative][@hidden]")  # nothing hidden without JavaScript


def test_a_groups_alternatives_post_under_the_groups_name_and_follow_its_own_fields(form):
    html = page(form)
    group = html.get_element_by_id("f-identifiering")

    names = [c.get("name") for c in group.iter("input")]
    assert names == [
        "identifiering._alternativ",
        "identifiering.fornamn",
        "identifiering.efternamn",
        "identifiering._alternativ",
        "identifiering.kod",
    ]
    # the root's own field comes first, its alternatives after the fields it has of its own
    ids = [e.get("id") for e in html.iter("input") if e.get("id")]
    assert ids.index("f-namn") < ids.index("f-identifiering-_alternativ-1") < ids.index("f-_alternativ-1")


def test_alternatives_without_a_title_are_numbered(tmp_path):
    schema = tmp_path / "numrerat.json"
    schema.write_text(
        json.dumps(
            {
                "title": "Numrerat",
                "type": "object",
                "oneOf": [
                    {"properties": {"lorem": {"type": "string"}}, "required": ["lorem"]},
                    {"properties": {"ipsum": {"type": "string"}}, "required": ["ipsum"]},
                ],
            }
        )
    )
    form, problems, _ = read_form(schema)
    assert problems == []
    html = page(form)

    assert [
        label.text for label in html.xpath("//fieldset[@id='f-_alternativ']//label[starts-with(@for, 'f-_alt')]")
    ] == [
        "Alternativ 1",
        "Alternativ 2",
    ]


def test_after_an_error_the_choice_made_and_every_answer_typed_are_kept(client):
    posted = {**BY_PHONE, "telefon": "", "epost": "typed@solna.se"}

    response = client.post(URL, data=posted)

    assert response.status_code == 422
    html = lxml.html.fromstring(response.get_data(as_text=True))
    assert html.get_element_by_id("f-_alternativ-2").get("checked") is not None
    assert html.get_element_by_id("f-_alternativ-1").get("checked") is None
    assert html.get_element_by_id("f-epost").get("value") == "typed@solna.se"  # kept, though not sent on
    links = [a.get("href") for a in html.xpath("//div[@data-formkit-summary]//a")]
    assert links == ["#f-telefon"]


# ---- the server's verdict: form-encoded and JSON agree ----

CASES = [
    # (form-encoded pairs, the same answers as JSON, the fields named in the 422, or None when accepted)
    (
        BY_PHONE,
        {"namn": "Eva Ek", "identifiering": {"kod": "1234"}, "telefon": "08-123 456 78", "tid": "Förmiddag"},
        None,
    ),
    (
        {
            "namn": "Eva Ek",
            "identifiering._alternativ": "1",
            "identifiering.fornamn": "Eva",
            "_alternativ": "1",
            "epost": "eva@solna.se",
        },
        {"namn": "Eva Ek", "identifiering": {"fornamn": "Eva"}, "epost": "eva@solna.se"},
        None,
    ),
    (
        {"namn": "Eva Ek", "identifiering.kod": "1234"},
        {"namn": "Eva Ek", "identifiering": {"kod": "1234"}},
        ["_alternativ"],
    ),
    (
        {**BY_PHONE, "telefon": ""},
        {"namn": "Eva Ek", "identifiering": {"kod": "1234"}, "tid": "Förmiddag"},
        ["telefon"],
    ),
    (
        {**BY_PHONE, "identifiering.kod": "12"},
        {"namn": "Eva Ek", "identifiering": {"kod": "12"}, "telefon": "08-123 456 78"},
        ["identifiering.kod"],
    ),
    (
        {"namn": "Eva Ek", "identifiering._alternativ": "1"},
        {"namn": "Eva Ek", "identifiering": {}},
        ["identifiering.fornamn", "_alternativ"],
    ),
]


@pytest.mark.parametrize("pairs, answers, named", CASES)
def test_form_encoded_and_json_bodies_get_the_same_verdict(client, pairs, answers, named):
    by_form = client.post(URL, data=pairs, headers=JSON)
    by_json = client.post(URL, json=answers, headers=JSON)

    if named is None:
        assert (by_form.status_code, by_json.status_code) == (201, 201), (by_form.json, by_json.json)
    else:
        assert by_form.status_code == by_json.status_code == 422
        assert [e["name"] for e in by_form.json["errors"]] == named
        assert [e["name"] for e in by_json.json["errors"]] == [
            # JSON makes no choice: with no field of an alternative answered, the choice is what is missing
            "identifiering._alternativ" if name == "identifiering.fornamn" else name
            for name in named
        ]


def test_a_choice_made_without_its_answers_names_the_chosen_alternatives_fields(client):
    response = client.post(URL, data={"namn": "Eva Ek", "_alternativ": "1"}, headers=JSON)

    assert [e["name"] for e in response.json["errors"]] == ["identifiering._alternativ", "epost"]


def test_no_choice_made_is_one_message_on_the_radios(client):
    response = client.post(
        URL, data={"namn": "Eva Ek", "identifiering._alternativ": "2", "identifiering.kod": "1234"}, headers=JSON
    )

    assert response.status_code == 422
    assert [(e["name"], e["message"]) for e in response.json["errors"]] == [("_alternativ", "Välj ett alternativ")]


def test_the_answers_of_alternatives_not_chosen_are_dropped_before_validation(client, smtp_server):
    # Without JavaScript every field is sent: the e-mail address and the code of the alternatives not chosen
    # are not valid, and must neither stop the report nor reach the document.
    posted = {**BY_PHONE, "epost": "inte en adress", "identifiering.fornamn": "Hemlig", "identifiering.efternamn": ""}

    response = client.post(URL, data=posted, headers=JSON)

    assert response.status_code == 201, response.json
    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    assert "inte en adress" not in text and "Hemlig" not in text


def test_a_choice_in_a_group_names_the_group_so_two_choices_can_be_told_apart(client):
    response = client.post(URL, data={"namn": "Eva Ek"}, headers=JSON)

    assert [(e["name"], e["summary"]) for e in response.json["errors"]] == [
        ("identifiering._alternativ", "Välj ett alternativ under ”Identifiering”"),
        ("_alternativ", "Välj ett alternativ"),
    ]


def test_answers_to_two_alternatives_without_a_choice_are_refused_on_the_radios(client):
    answers = {"namn": "Eva Ek", "identifiering": {"kod": "1234"}, "telefon": "08-123 456 78", "epost": "eva@solna.se"}

    response = client.post(URL, json=answers)

    assert response.status_code == 422
    assert [e["name"] for e in response.json["errors"]] == ["_alternativ"]
    assert "flera alternativ" in response.json["errors"][0]["message"]


def test_a_choice_that_names_no_alternative_is_a_clear_400(client):
    response = client.post(URL, data={**BY_PHONE, "_alternativ": "9"}, headers=JSON)

    assert response.status_code == 400
    assert "alternativ" in response.json["detail"]


def test_the_choice_is_no_answer_in_the_delivered_data(form):
    from handler.normalise import clean, from_pairs
    from handler.validation import validate

    data = validate(form, clean(from_pairs(form, list(BY_PHONE.items()))))

    assert data == {"namn": "Eva Ek", "identifiering": {"kod": "1234"}, "telefon": "08-123 456 78", "tid": "Förmiddag"}


# ---- the document, the check page ----


def test_the_document_names_the_chosen_alternatives_and_their_answers_in_the_forms_order(client, smtp_server):
    assert client.post(URL, data=BY_PHONE, headers=JSON).status_code == 201

    document = docx.Document(io.BytesIO(attachment(smtp_server.inbox.wait_for(1)[0])[1]))
    rows = [tuple(c.text for c in row.cells) for table in document.tables for row in table.rows]

    wanted = [
        ("Ditt namn", "Eva Ek"),
        ("Valt alternativ", "Med kod"),
        ("Kod", "1234"),
        ("Valt alternativ", "Telefon"),
        ("Telefonnummer", "08-123 456 78"),
        ("Bästa tid att ringa", "Förmiddag"),
    ]
    assert [row for row in rows if row in wanted] == wanted
    assert not any("E-postadress" in row or "Förnamn" in row for row in rows)


def test_a_json_reports_document_names_the_alternative_its_answers_belong_to(client, smtp_server):
    answers = {"namn": "Eva Ek", "identifiering": {"fornamn": "Eva", "efternamn": "Ek"}, "epost": "eva@solna.se"}
    assert client.post(URL, json=answers).status_code == 201

    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])

    assert "Med namn" in text and "Förnamn" in text and "E-post" in text and "eva@solna.se" in text
    assert "Telefon" not in text and "Med kod" not in text


def test_the_check_page_lists_the_chosen_alternative_before_its_answers(form):
    data = {"namn": "Eva Ek", "identifiering": {"kod": "1234"}, "telefon": "08-123 456 78"}

    answers = [(a.label, a.value, a.target) for s in review.sections(form, data) for a in s.answers]

    assert answers == [
        ("Ditt namn", "Eva Ek", "f-namn"),
        ("Valt alternativ", "Med kod", "f-identifiering-_alternativ-1"),
        ("Kod", "1234", "f-identifiering-kod"),
        ("Valt alternativ", "Telefon", "f-_alternativ-1"),
        ("Telefonnummer", "08-123 456 78", "f-telefon"),
        ("Bästa tid att ringa", "", "f-tid-1"),
    ]


# ---- schemas written for another tool ----

RJSF_ONE_OF = {
    "title": "One Of",
    "type": "object",
    "oneOf": [
        {"properties": {"lorem": {"type": "string"}}, "required": ["lorem"]},
        {"properties": {"ipsum": {"type": "string"}}, "required": ["ipsum"]},
    ],
}
RJSF_ANY_OF = {
    "title": "Any Of",
    "type": "object",
    "properties": {
        "age": {"type": "integer", "title": "Age"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "anyOf": [
                    {"properties": {"foo": {"type": "string"}}},
                    {"properties": {"bar": {"type": "string"}}},
                ],
            },
        },
    },
    "anyOf": [
        {
            "title": "First method of identification",
            "properties": {
                "firstName": {"type": "string", "title": "First name", "default": "Chuck"},
                "lastName": {"type": "string", "title": "Last name"},
            },
        },
        {"title": "Second method of identification", "properties": {"idCode": {"type": "string", "title": "ID code"}}},
    ],
}


def other_tool_client(tmp_path, config, name: str, schema: dict):
    folder = tmp_path / "other" / "schema"
    folder.mkdir(parents=True)
    (folder / f"{name}.json").write_text(json.dumps(schema), encoding="utf-8")
    return create_app({**config, "SCHEMA_DIR": str(folder)}).test_client()


def test_react_jsonschema_forms_one_of_sample_works_with_both_kinds_of_body(tmp_path, config, smtp_server):
    client = other_tool_client(tmp_path, config, "one-of", RJSF_ONE_OF)

    assert (
        client.post("/api/forms/one-of", data={"_alternativ": "2", "ipsum": "x", "lorem": ""}, headers=JSON).status_code
        == 201
    )
    assert client.post("/api/forms/one-of", json={"lorem": "y"}).status_code == 201
    refused = client.post("/api/forms/one-of", data={"_alternativ": "1", "ipsum": "x"}, headers=JSON)
    assert [e["name"] for e in refused.json["errors"]] == ["lorem"]
    texts = [docx_text(attachment(m)[1]) for m in smtp_server.inbox.wait_for(2)]
    assert "Alternativ 2" in texts[0] and "x" in texts[0] and "Alternativ 1" in texts[1]


def test_react_jsonschema_forms_any_of_sample_works_in_rows_too(tmp_path, config, smtp_server):
    client = other_tool_client(tmp_path, config, "any-of", RJSF_ANY_OF)
    posted = {
        "age": "40",
        "_alternativ": "2",
        "firstName": "Chuck",
        "idCode": "A1",
        "items.0._alternativ": "2",
        "items.0.foo": "dropped",
        "items.0.bar": "kept",
    }

    response = client.post("/api/forms/any-of", data=posted, headers=JSON)

    assert response.status_code == 201, response.json
    text = docx_text(attachment(smtp_server.inbox.wait_for(1)[0])[1])
    assert "Second method of identification" in text and "A1" in text and "kept" in text
    assert "Chuck" not in text and "dropped" not in text


# ---- formkit check ----


@pytest.mark.parametrize(
    "alternatives, keyword, field, saying",
    [
        (
            {"oneOf": [{"title": "A", "properties": {"a": {"type": "string", "title": "A"}}}, {"type": "string"}]},
            "oneOf",
            "val",
            "blandar alternativ",
        ),
        (
            {
                "properties": {"x": {"type": "string", "title": "X"}},
                "anyOf": [{"title": "A", "properties": {"x": {"type": "string", "title": "X"}}}],
            },
            "x",
            "val",
            "finns redan i gruppens egna fält",
        ),
        (
            {
                "additionalProperties": False,
                "anyOf": [{"title": "A", "properties": {"a": {"type": "string", "title": "A"}}, "required": ["a"]}],
            },
            "additionalProperties",
            "val",
            "aldrig godtas",
        ),
    ],
)
def test_formkit_check_refuses_alternatives_it_cannot_support_naming_file_line_field_and_keyword(
    tmp_path, alternatives, keyword, field, saying
):
    schema = {
        "title": "Val",
        "type": "object",
        "properties": {"val": {"type": "object", "title": "Val", **alternatives}},
    }
    path = tmp_path / "val.json"
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")

    form, problems, _ = read_form(path)

    assert form is None
    problem = next(p for p in problems if saying in p.message)
    assert problem.file == str(path) and problem.line > 1 and problem.field == field
    assert f'"{keyword}"' in problem.message
    assert f":{problem.line}:" in str(problem) and '"val"' in str(problem)


def test_formkit_check_accepts_the_fixture_and_the_samples(tmp_path):
    for name, schema in (("one-of", RJSF_ONE_OF), ("any-of", RJSF_ANY_OF)):
        (tmp_path / f"{name}.json").write_text(json.dumps(schema, indent=2), encoding="utf-8")
        assert read_form(tmp_path / f"{name}.json")[1] == []
    assert read_form(SCHEMA)[1] == []
