"""Name–value rows: a group whose `additionalProperties` is text or a number takes keys the sender names, as rows
of "Namn" and "Värde"; they are validated by the schema and arrive in the DOCX as name and value."""

from __future__ import annotations

import json
import re

import pytest
from corpus import entry

from handler.app import create_app
from handler.check import check_project
from handler.forms import Kind, load_forms
from handler.render import render_form
from support import docx_text

JSON_ONLY = {"Accept": "application/json"}
SCHEMA = entry("additionalProperties")["schema"]  # react-jsonschema-form's "Additional Properties" sample
NUMBERS = {
    "title": "Mätvärden",
    "type": "object",
    "properties": {
        "plats": {"type": "string", "title": "Plats"},
        "matning": {
            "type": "object",
            "title": "Mätning",
            "properties": {"datum": {"type": "string", "format": "date", "title": "Datum"}},
            "additionalProperties": {"type": "integer", "minimum": 0, "title": "Egna mätvärden"},
        },
    },
}


@pytest.fixture
def schema_dir(tmp_path):
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "registrering.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    (folder / "matvarden.json").write_text(json.dumps(NUMBERS, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture
def forms(schema_dir):
    return load_forms(schema_dir)


@pytest.fixture
def pairs_client(config, schema_dir):
    return create_app({**config, "SCHEMA_DIR": str(schema_dir)}).test_client()


def test_simple_additional_properties_become_name_value_rows_after_the_groups_fields(forms):
    root = forms["registrering"].root
    assert [child.name for child in root.children] == ["firstName", "lastName", "_extra"]
    rows = root.children[-1]
    assert (rows.kind, rows.title, rows.item.title) == (Kind.PAIRS, "Fler uppgifter", "Uppgift")
    assert [(c.name, c.kind, c.title, c.required) for c in rows.item.children] == [
        ("namn", Kind.TEXT, "Namn", True),
        ("varde", Kind.TEXT, "Värde", True),
    ]
    value = forms["matvarden"].field_at(("matning", "_extra", "*", "varde"))
    assert (value.kind, value.minimum) == (Kind.INTEGER, 0)
    assert forms["matvarden"].field_at(("matning", "_extra")).title == "Egna mätvärden"


def test_the_rows_render_as_a_repeated_group_of_two_labelled_inputs(forms):
    html = render_form(forms["registrering"], "/api/forms/registrering")
    assert 'data-formkit-list="_extra"' in html and 'data-item-label="uppgift"' in html
    assert '<legend class="formkit-row-legend">Uppgift 1</legend>' in html
    assert re.search(r'<label class="formkit-label" for="f-_extra-0-namn">Namn</label>', html)
    assert 'name="_extra.0.varde"' in html and 'name="_extra.2.namn"' in html  # blank rows without JavaScript


def test_an_object_or_list_in_additional_properties_is_still_refused_by_check(tmp_path):
    folder = tmp_path / "schema"
    folder.mkdir()
    schema = {**SCHEMA, "additionalProperties": {"type": "object", "properties": {"a": {"type": "string"}}}}
    (folder / "prov.json").write_text(json.dumps(schema, indent=2), encoding="utf-8")
    [problem] = check_project(folder, None).problems
    assert '"additionalProperties"' in problem.message and problem.line == 9


def test_rows_posted_form_encoded_arrive_in_the_docx_as_name_and_value(pairs_client, smtp_server):
    answer = pairs_client.post(
        "/api/forms/registrering",
        data={
            "firstName": "Chuck",
            "lastName": "Norris",
            "_extra.0.namn": "assKickCount",
            "_extra.0.varde": "infinity",
            "_extra.1.namn": "",
            "_extra.1.varde": "",
        },
        headers=JSON_ONLY,
    )
    assert answer.status_code == 201, answer.get_json()
    [message] = smtp_server.inbox.wait_for(1)
    [document] = [p.get_content() for p in message.iter_attachments() if p.get_filename().endswith(".docx")]
    text = docx_text(document)
    assert "assKickCount" in text and "infinity" in text
    assert text.index("Norris") < text.index("assKickCount") < text.index("infinity")


def test_json_posts_the_keys_themselves_and_they_arrive_in_the_docx(pairs_client, smtp_server):
    answer = pairs_client.post(
        "/api/forms/matvarden", json={"plats": "Solna", "matning": {"datum": "2026-12-01", "puls": 72, "vikt": 68}}
    )
    assert answer.status_code == 201, answer.get_json()
    [message] = smtp_server.inbox.wait_for(1)
    [document] = [p.get_content() for p in message.iter_attachments() if p.get_filename().endswith(".docx")]
    text = docx_text(document)
    assert "puls" in text and "72" in text and "vikt" in text and "68" in text


@pytest.mark.parametrize(
    ("fields", "name", "message"),
    [
        ({"matning._extra.0.namn": "puls"}, "matning._extra.0.varde", "Ange värde"),
        ({"matning._extra.0.varde": "7"}, "matning._extra.0.namn", "Ange namn"),
        (
            {"matning._extra.0.namn": "puls", "matning._extra.0.varde": "-1"},
            "matning._extra.0.varde",
            "Värde måste vara 0 eller mer",
        ),
        (
            {"matning._extra.0.namn": "datum", "matning._extra.0.varde": "1"},
            "matning._extra.0.namn",
            "Namnet finns redan i formuläret. Ge uppgiften ett annat namn.",
        ),
    ],
)
def test_a_row_half_filled_or_with_a_bad_value_is_refused_on_its_input(pairs_client, fields, name, message):
    answer = pairs_client.post("/api/forms/matvarden", data={"plats": "Solna", **fields}, headers=JSON_ONLY)
    assert answer.status_code == 422
    assert [(e["name"], e["message"]) for e in answer.json["errors"]] == [(name, message)]


def test_a_json_key_with_a_bad_value_is_said_with_the_rows_message(pairs_client):
    answer = pairs_client.post("/api/forms/matvarden", json={"matning": {"puls": "hög"}})
    assert answer.status_code == 422
    assert [(e["name"], e["message"]) for e in answer.json["errors"]] == [
        ("matning.puls", "Värde måste vara ett heltal, till exempel 12")
    ]


def test_the_check_page_lists_each_row_by_its_name(pairs_client):
    answer = pairs_client.post(
        "/api/forms/registrering",
        data={
            "_step": "kontrollera",
            "firstName": "Chuck",
            "lastName": "Norris",
            "_extra.0.namn": "assKickCount",
            "_extra.0.varde": "infinity",
        },
    )
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert re.search(
        r'<dt class="formkit-answers-key">assKickCount</dt>\s*<dd class="formkit-answers-value">infinity', page
    )
    assert 'formaction="/api/forms/registrering#f-_extra-0-varde"' in page


PATTERNED = entry("patternProperties")["schema"]  # react-jsonschema-form's "Pattern Properties" sample


@pytest.fixture
def patterned_client(config, tmp_path):
    folder = tmp_path / "patterned"
    folder.mkdir()
    (folder / "registrering.json").write_text(json.dumps(PATTERNED), encoding="utf-8")
    return create_app({**config, "SCHEMA_DIR": str(folder)}).test_client()


def test_one_pattern_property_becomes_rows_whose_names_must_match_it(tmp_path):
    folder = tmp_path / "patterned"
    folder.mkdir()
    (folder / "registrering.json").write_text(json.dumps(PATTERNED), encoding="utf-8")
    form = load_forms(folder)["registrering"]
    name = form.field_at(("_extra", "*", "namn"))
    assert (form.field_at(("_extra",)).kind, name.pattern) == (Kind.PAIRS, "^[a-z][a-zA-Z]+$")
    assert 'pattern="^[a-z][a-zA-Z]+$"' in render_form(form, "/api/forms/registrering")


def test_a_name_that_does_not_match_the_pattern_is_refused_and_one_that_does_is_delivered(
    patterned_client, smtp_server
):
    fields = {"firstName": "Chuck", "lastName": "Norris", "_extra.0.varde": "infinity"}
    answer = patterned_client.post(
        "/api/forms/registrering", data={**fields, "_extra.0.namn": "1kick"}, headers=JSON_ONLY
    )
    assert [(e["name"], e["message"]) for e in answer.json["errors"]] == [
        ("_extra.0.namn", "Namn har fel format. Kontrollera det du har skrivit.")
    ]
    answer = patterned_client.post(
        "/api/forms/registrering", data={**fields, "_extra.0.namn": "assKickCount"}, headers=JSON_ONLY
    )
    assert answer.status_code == 201, answer.get_json()
    [message] = smtp_server.inbox.wait_for(1)
    [document] = [p.get_content() for p in message.iter_attachments() if p.get_filename().endswith(".docx")]
    assert "assKickCount" in docx_text(document) and "infinity" in docx_text(document)
